"""`auth login/status/logout`: settings to the config file, the secret to the OS keyring."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..errors import CredentialsError, LearnWorldsMCPError
from . import auth_app
from .options import Profile, fail

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

    school_url = school_url or typer.prompt("School URL (e.g. https://myschool.learnworlds.com)")
    client_id = client_id or typer.prompt("Client id")
    try:
        school_url = auth.normalize_url(school_url, "--school-url")
        api_url = auth.normalize_url(api_url, "--api-url") if api_url else None
    except CredentialsError as exc:
        fail(str(exc), code=2)
    from ..policy import expiry_from

    try:
        expiry = expiry_from(expires_at, ttl)
    except ValueError as exc:
        fail(f"--expires-at/--ttl: {exc}", code=2)
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
    except CredentialsError as exc:
        fail(str(exc))
    typer.echo(f"profile:    {profile}")
    typer.echo(f"api_url:    {credentials.api_url}  [{credentials.sources.get('api_url', 'school_url')}]")
    typer.echo(f"client_id:  {credentials.client_id}  [{credentials.sources['client_id']}]")
    kind = "access token" if credentials.access_token else "client secret"
    typer.echo(f"secret:     {kind}, set  [{credentials.sources['secret']}]")


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


