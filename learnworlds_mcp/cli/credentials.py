"""`auth login/status/logout`: settings to the config file, the secret to the OS keyring."""

import sys
from typing import Annotated, Optional

import typer

from ..errors import CredentialsError, LearnWorldsMCPError
from . import auth_app
from .options import Profile, expiry_from_flags, fail, fail_with

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
    methods: Annotated[Optional[str], typer.Option(
        "--methods", metavar="LIST", help="Restrict every command using this profile to these methods (e.g. read); flags can "
        "narrow this later, never widen it.")] = None,
    tags: Annotated[Optional[str], typer.Option("--tags", metavar="LIST", help="Restrict the profile to tools with any of these tags.")] = None,
    tools: Annotated[Optional[str], typer.Option("--tools", metavar="NAMES", help="Restrict the profile to these tool names.")] = None,
    unrestricted: Annotated[bool, typer.Option(
        "--unrestricted", help="Drop the restrictions stored with an existing profile (they are kept otherwise).")] = False,
) -> None:
    """Store a school's settings in the config file and its secret in the OS keyring.

    --methods/--tags/--tools and --ttl/--expires-at are stored with the profile, and serve, call and query
    apply them. They guard against a model's mistakes, not against whoever holds the credentials (that
    person can edit the config or read the keyring); to give access that cannot be widened, run
    `serve --transport http` yourself and hand out a grant.
    """
    from .. import auth, profiles
    from ..filters import Selection, split_list
    from .options import selected_operations

    try:
        existing = profiles.read_profile(profile)  # a broken config stops here, before anything is written
    except CredentialsError as exc:
        fail(str(exc), code=2)
    restriction = Selection(split_list(methods), split_list(tags), split_list(tools))
    if restriction.describe() != "no filters":
        selected_operations(methods, tags, tools, None)  # unknown names or an empty selection exit 2 now
    elif existing is not None and not unrestricted:
        restriction = existing.restriction

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
                                                        secret_kind=kind, api_url=api_url, expires_at=expiry,
                                                        methods=restriction.methods, tags=restriction.tags,
                                                        tools=restriction.tools))
    except LearnWorldsMCPError as exc:
        fail_with(exc)
    typer.echo(f"Saved profile {profile!r}: settings in {profiles.config_path()}, "
               f"{label.lower()} in the OS keyring.")
    if expiry:
        from ..policy import iso

        typer.echo(f"Access through this profile ends at {iso(expiry)}.")
    if restriction.describe() != "no filters":
        typer.echo(f"Every command using this profile is limited to {restriction.describe()}. This guards against "
                   "a model's mistakes, not against whoever holds this profile; for that, use a team server grant.")


@auth_app.command("status")
def auth_status(profile: Profile = "default") -> None:
    """Show the settings in use and where each comes from; never the secret."""
    from .. import auth, profiles

    try:
        credentials = auth.resolve(profile)
    except CredentialsError:
        raise typer.Exit(_partial_status(profile))
    try:
        stored = profiles.read_profile(profile)
    except CredentialsError as exc:
        fail_with(exc)
    typer.echo(f"profile:    {profile}")
    typer.echo(f"api_url:    {credentials.api_url}  [{credentials.sources.get('api_url', 'school_url')}]")
    typer.echo(f"client_id:  {credentials.client_id}  [{credentials.sources['client_id']}]")
    kind = "access token" if credentials.access_token else "client secret"
    typer.echo(f"secret:     {kind}, set  [{credentials.sources['secret']}]")
    if stored is not None and stored.restricted:
        typer.echo(f"limited to: {stored.restriction.describe()}  [profile; flags can only narrow it]")
    if credentials.expires_at is not None:
        from ..policy import iso

        typer.echo(f"expires:    {iso(credentials.expires_at)}")


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
    except LearnWorldsMCPError as exc:
        fail_with(exc)
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
        profiles.read_config()  # a broken config stops here, before the secret is deleted
        had_secret = profiles.delete_secret(profile)
        had_profile = profiles.delete_profile(profile)
    except LearnWorldsMCPError as exc:
        fail_with(exc)
    if not (had_secret or had_profile):
        typer.echo(f"Nothing stored for profile {profile!r}.")
        return
    typer.echo(f"Removed profile {profile!r}.")


