"""`auth login/status/logout`: settings to the config file, the secret to the OS keyring."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..errors import CredentialsError, LearnWorldsMCPError
from . import auth_app
from .options import Profile, expiry_from_flags, fail

@auth_app.command("login")
def auth_login(
    profile: Profile = "default",
    school_url: Annotated[Optional[str], typer.Option("--school-url", metavar="URL", help="e.g. https://myschool.learnworlds.com")] = None,
    client_id: Annotated[Optional[str], typer.Option("--client-id", metavar="ID", help="Client id from Settings > Developers > API.")] = None,
    use_client_secret: Annotated[bool, typer.Option(
        "--use-client-secret", help="The secret you enter is a client secret (tokens are then obtained and "
        "refreshed automatically), not an access token.")] = False,
    secret_stdin: Annotated[bool, typer.Option(
        "--secret-stdin", help="Read the secret from standard input instead of a hidden prompt (for scripts).")] = False,
    api_url: Annotated[Optional[str], typer.Option("--api-url", metavar="URL", help="Override the API base (rarely needed).")] = None,
    expires_at: Annotated[Optional[str], typer.Option(
        "--expires-at", metavar="TIME", help="ISO 8601 time after which the stored secret is deleted at its next use.")] = None,
    ttl: Annotated[Optional[str], typer.Option("--ttl", metavar="DURATION", help="Like --expires-at, as a duration: 30m, 8h, 2d.")] = None,
) -> None:
    """Store a school's settings in the config file and its secret in the OS keyring."""
    from .. import auth, profiles

    missing = [flag for flag, value in (("--school-url", school_url), ("--client-id", client_id)) if not value]
    if secret_stdin and missing:  # a prompt would read the piped secret as the school URL
        fail(f"--secret-stdin reads only the secret from standard input; give {' and '.join(missing)} on the "
             "command line too", code=2)
    try:  # check every given value, then the keyring, before asking for anything
        for flag, value in (("--school-url", school_url), ("--api-url", api_url)):
            if value:
                auth.normalize_url(value, flag)
    except CredentialsError as exc:
        fail(str(exc), code=2)
    try:
        profiles.read_secret(profile)
    except CredentialsError as exc:
        fail(str(exc))
    school_url = school_url or typer.prompt("School URL (e.g. https://myschool.learnworlds.com)")
    client_id = client_id or typer.prompt("Client id")
    try:
        school_url = auth.normalize_url(school_url, "--school-url")
        api_url = auth.normalize_url(api_url, "--api-url") if api_url else None
    except CredentialsError as exc:
        fail(str(exc), code=2)
    expiry = expiry_from_flags(expires_at, ttl)
    kind = "client_secret" if use_client_secret else "access_token"
    label = "Client secret" if use_client_secret else "Access token"
    if secret_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = typer.prompt(f"{label} (input hidden)", hide_input=True).strip()
    if not secret:
        fail(f"the {label.lower()} is empty; nothing was stored", code=2)
    try:
        profiles.store_secret(profile, secret)
        profiles.save_profile(profile, profiles.Profile(school_url=school_url, client_id=client_id.strip(),
                                                        secret_kind=kind, api_url=api_url,
                                                        expires_at=expiry))
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    typer.echo(f"Saved profile {profile!r}: settings in {profiles.config_path()}, "
               f"{label.lower()} in the OS keyring.")
    if expiry:
        from ..policy import iso

        typer.echo(f"Access through this profile ends at {iso(expiry)}.")


@auth_app.command("status")
def auth_status(profile: Profile = "default") -> None:
    """Show the settings in use and where each comes from; never the secret."""
    from .. import auth

    try:
        credentials = auth.resolve(profile)
    except CredentialsError:
        raise typer.Exit(_partial_status(profile))
    typer.echo(f"profile:    {profile}")
    typer.echo(f"api_url:    {credentials.api_url}  [{credentials.sources.get('api_url', 'school_url')}]")
    typer.echo(f"client_id:  {credentials.client_id}  [{credentials.sources['client_id']}]")
    kind = "access token" if credentials.access_token else "client secret"
    typer.echo(f"secret:     {kind}, set  [{credentials.sources['secret']}]")


# Where each setting can come from: its environment variable, then the `auth login` flag that stores it.
_WHERE = {
    "school_url": "LEARNWORLDS_SCHOOL_URL, or `auth login --school-url`",
    "client_id": "LEARNWORLDS_CLIENT_ID, or `auth login --client-id`",
    "api_url": "LEARNWORLDS_API_URL, or `auth login --api-url`; default {school URL}/admin/api",
    "secret": "LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET, or `auth login` (OS keyring)",
}


def _partial_status(profile: str) -> int:
    """Every setting, set or unset, and where an unset one could come from; 1 only if the keyring fails."""
    import os

    from .. import profiles

    try:
        stored = profiles.read_profile(profile)
    except CredentialsError as exc:
        fail(str(exc))
    values = {"school_url": ("LEARNWORLDS_SCHOOL_URL", stored and stored.school_url),
              "client_id": ("LEARNWORLDS_CLIENT_ID", stored and stored.client_id),
              "api_url": ("LEARNWORLDS_API_URL", stored and stored.api_url)}
    typer.echo(f"profile:    {profile}  (config file: {profiles.config_path()})")
    for name, (variable, stored_value) in values.items():
        if os.environ.get(variable):
            shown = f"{os.environ[variable]}  [environment ({variable})]"
        elif stored_value:
            shown = f"{stored_value}  [profile {profile!r}]"
        else:
            shown = f"unset  [{_WHERE[name]}]"
        typer.echo(f"{name + ':':11} {shown}")
    code = 0
    secret_variable = next((v for v in ("LEARNWORLDS_ACCESS_TOKEN", "LEARNWORLDS_CLIENT_SECRET")
                            if os.environ.get(v)), None)
    if secret_variable:
        shown = f"set  [environment ({secret_variable})]"
    else:
        import keyring.errors

        try:
            shown = "set  [OS keyring]" if profiles.read_secret(profile) else f"unset  [{_WHERE['secret']}]"
        except CredentialsError as exc:
            if isinstance(exc.__cause__, keyring.errors.NoKeyringError):  # a headless machine: nothing stored
                shown = ("unset  [LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET; this machine has no "
                         "OS keyring backend to store one]")
            else:
                shown, code = f"unknown: {exc}", 1
    typer.echo(f"secret:     {shown}")
    return code


@auth_app.command("logout")
def auth_logout(profile: Profile = "default") -> None:
    """Remove a profile's settings and its secret from the keyring."""
    from .. import profiles

    try:
        had_secret = profiles.delete_secret(profile)
        had_profile = profiles.delete_profile(profile)
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    if not (had_secret or had_profile):
        typer.echo(f"Nothing stored for profile {profile!r}.")
        return
    typer.echo(f"Removed profile {profile!r}.")


