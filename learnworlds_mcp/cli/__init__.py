"""The `learnworlds-mcp` command: flags and environment in, values out; the only place that prints or exits.

Heavy modules (the MCP SDK, jsonschema, httpx) are imported inside the commands that need them,
so `--help`, `auth` and `list-tools` answer quickly.
"""

from typing import Annotated

import typer

from .. import __version__
from .help import HELP, Group

app = typer.Typer(
    name="learnworlds-mcp",
    help="A LearnWorlds school as MCP tools for Claude and other MCP clients.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Group,
    **HELP,
)
auth_app = typer.Typer(help="Store, show and remove LearnWorlds credentials (secret in the OS keyring).",
                       no_args_is_help=True, cls=Group, **HELP)
app.add_typer(auth_app, name="auth")
install_app = typer.Typer(help="Add this server to an MCP host's configuration (never with a secret).",
                          no_args_is_help=True, cls=Group, **HELP)
app.add_typer(install_app, name="install")
grant_app = typer.Typer(help="Bearer tokens for `serve --transport http`: each names the tools, expiry and write cap "
                             "its holder gets.", no_args_is_help=True, cls=Group, **HELP)
app.add_typer(grant_app, name="grant")
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"learnworlds-mcp {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                         help="Print the version and exit.")] = False,
) -> None:
    """Serve a LearnWorlds school to MCP clients over stdio, with filters that limit what they can do."""


from . import bundle, credentials, grant, install, query, serving  # noqa: E402,F401 - each registers its commands on `app`


def run() -> None:
    """Console-script entry point."""
    app()

