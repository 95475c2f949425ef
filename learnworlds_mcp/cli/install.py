"""`install claude-desktop` and `install claude-code`: our entry in a host's configuration."""

import json
from typing import Annotated, Optional

import typer

from ..errors import LearnWorldsMCPError
from . import PASS_THROUGH, install_app
from .options import fail, selected_operations

ServerName = Annotated[str, typer.Option("--name", metavar="NAME", help="The server's name in the host's config.")]
Command = Annotated[Optional[str], typer.Option(
    "--command", metavar="PATH", help="Path of the learnworlds-mcp executable (default: this installation's).")]


def _warn_without_credentials(serve_args: list[str]) -> None:
    """Hosts start the server without this shell's environment, so check the stored profile it will use."""
    from .. import auth
    from ..errors import CredentialsError

    if "--sandbox" in serve_args:
        return
    profile = "default"
    for index, arg in enumerate(serve_args):
        if arg == "--profile" and index + 1 < len(serve_args):
            profile = serve_args[index + 1]
        elif arg.startswith("--profile="):
            profile = arg.split("=", 1)[1]
    try:
        auth.resolve(profile, env={})
    except CredentialsError as exc:
        flag = "" if profile == "default" else f" --profile {profile}"
        problem = str(exc).replace(f"; {auth.LOGIN_HINT}", "")
        typer.echo(f"Warning: profile {profile!r} has no stored credentials ({problem}). The server will start, "
                   f"but every tool call will answer with how to set them up; store them now with "
                   f"`learnworlds-mcp auth login{flag}`.", err=True)


def _serve_args(ctx: typer.Context) -> list[str]:
    """The extra arguments are `serve` flags; check their filters now rather than in the host."""
    args = list(ctx.args)
    values = {flag: args[i + 1] for i, flag in enumerate(args[:-1])
              if flag in ("--methods", "--tags", "--tools", "--exclude-tools")}
    selected_operations(values.get("--methods"), values.get("--tags"), values.get("--tools"),
                        values.get("--exclude-tools"))
    return args


@install_app.command("claude-desktop", context_settings=PASS_THROUGH)
def install_claude_desktop(
    ctx: typer.Context,
    name: ServerName = "learnworlds",
    profile: Optional[str] = typer.Option(None, "--profile", metavar="NAME", help="Stored profile the server should use."),
    command: Command = None,
    print_only: Annotated[bool, typer.Option("--print", help="Show the entry; write nothing.")] = False,
) -> None:
    """Add or update one server entry in claude_desktop_config.json; other entries stay as they are.

    Any further arguments are `serve` flags, e.g. `install claude-desktop --methods read`.
    """
    from .. import hosts

    try:
        entry = hosts.server_entry(command or hosts.executable_path(), _serve_args(ctx), profile)
        _warn_without_credentials(entry["args"])
        if print_only:
            typer.echo(json.dumps({"mcpServers": {name: entry}}, indent=2))
            return
        plan = hosts.plan_desktop_install(hosts.desktop_config_path(), name, entry)
        backup = hosts.apply_install(plan)
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    if not plan.changed:
        typer.echo(f"{plan.path} already has this {name!r} entry; nothing changed.")
        return
    typer.echo(f"Wrote the {name!r} entry to {plan.path}" + (f" (backup: {backup})" if backup else "") + ".")
    if plan.dropped_env:
        typer.echo(f"Note: the old entry's env ({', '.join(plan.dropped_env)}) was dropped; keep secrets in the "
                   "keyring with `learnworlds-mcp auth login`.")
    typer.echo("Restart Claude Desktop to load it.")


@install_app.command("claude-code", context_settings=PASS_THROUGH)
def install_claude_code(
    ctx: typer.Context,
    name: ServerName = "learnworlds",
    profile: Optional[str] = typer.Option(None, "--profile", metavar="NAME", help="Stored profile the server should use."),
    command: Command = None,
    scope: Annotated[Optional[str], typer.Option("--scope", metavar="SCOPE", help="local, project or user.")] = None,
    run_it: Annotated[bool, typer.Option("--run", help="Run `claude mcp add` instead of printing it.")] = False,
) -> None:
    """Print (or run with --run) the `claude mcp add` command for this server.

    With --run a second run updates the entry in place, or changes nothing when it matches.
    Any further arguments are `serve` flags, e.g. `install claude-code --methods read`.
    """
    from .. import hosts

    try:
        argv = hosts.claude_code_command(name, command or hosts.executable_path(), _serve_args(ctx), profile, scope)
        _warn_without_credentials(argv[argv.index("--") + 2:])
        if not run_it:
            typer.echo(hosts.format_command(argv))
            return
        argv[0] = hosts.claude_executable()
        outcome = hosts.sync_claude_code(argv, scope)
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    if outcome == "unchanged":
        typer.echo(f"Claude Code already has this {name!r} entry; nothing changed.")
        return
    typer.echo(f"{'Updated' if outcome == 'updated' else 'Added'} the {name!r} server in Claude Code"
               f"{f' ({scope} scope)' if scope else ''}; start a new `claude` session to load it.")


