"""The `learnworlds-mcp` command: flags and environment in, values out; the only place that prints or exits.

Heavy modules (the MCP SDK, jsonschema, httpx) are imported inside the commands that need them,
so `--help`, `auth` and `list-tools` answer quickly.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import ExitStack, contextmanager
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import CredentialsError, LearnWorldsMCPError, SelectionError

app = typer.Typer(
    name="learnworlds-mcp",
    help="A LearnWorlds school as MCP tools for Claude and other MCP clients.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
auth_app = typer.Typer(help="Store, show and remove LearnWorlds credentials (secret in the OS keyring).",
                       no_args_is_help=True)
app.add_typer(auth_app, name="auth")

Methods = Annotated[Optional[str], typer.Option(
    "--methods", envvar="LEARNWORLDS_METHODS", show_envvar=True,
    help="Comma list: read (every GET), write (every other verb), or kinds list,get,create,update,delete,custom.")]
Tags = Annotated[Optional[str], typer.Option(
    "--tags", envvar="LEARNWORLDS_TAGS", show_envvar=True,
    help="Comma list of tags; a tool with any of them passes (e.g. directory, commerce, users).")]
Tools = Annotated[Optional[str], typer.Option(
    "--tools", envvar="LEARNWORLDS_TOOLS", show_envvar=True, help="Comma list of tool names to allow (allow list).")]
ExcludeTools = Annotated[Optional[str], typer.Option(
    "--exclude-tools", envvar="LEARNWORLDS_EXCLUDE_TOOLS", show_envvar=True,
    help="Comma list of tool names to remove.")]
Profile = Annotated[str, typer.Option(
    "--profile", envvar="LEARNWORLDS_PROFILE", show_envvar=True, help="Stored profile (one per school).")]


ApiUrl = Annotated[Optional[str], typer.Option(
    "--api-url", envvar="LEARNWORLDS_API_URL", show_envvar=True,
    help="API base, default {school URL}/admin/api. Plain http only for loopback hosts.")]
RateLimit = Annotated[int, typer.Option(
    "--rate-limit", envvar="LEARNWORLDS_RATE_LIMIT", show_envvar=True, min=1,
    help="Requests per 10 s this process may send (the school's budget is 30).")]
MaxRetries = Annotated[int, typer.Option(
    "--max-retries", envvar="LEARNWORLDS_MAX_RETRIES", show_envvar=True, min=0,
    help="Retries after a 429, or after network errors and 502/503/504 on reads and idempotent writes; "
         "0 hands every failure straight to the model. Creates are never retried.")]
Sandbox = Annotated[bool, typer.Option(
    "--sandbox", envvar="LEARNWORLDS_SANDBOX", show_envvar=True,
    help="Use a seeded sandbox school started in-process on a free loopback port: no account, no credentials.")]


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def selected_operations(methods: str | None, tags: str | None, tools: str | None, exclude_tools: str | None):
    """Load the registry and apply the filters, or exit 2 with the valid values."""
    from .filters import Selection, select, split_list
    from .registry import load

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    try:
        return select(load(), selection)
    except SelectionError as exc:
        fail(str(exc), code=2)


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


@app.command("list-tools")
def list_tools(
    methods: Methods = None,
    tags: Tags = None,
    tools: Tools = None,
    exclude_tools: ExcludeTools = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tool definitions as the server sends them.")] = False,
) -> None:
    """List the tools a server with these filters would offer. Needs no credentials."""
    operations = selected_operations(methods, tags, tools, exclude_tools)
    if as_json:
        rows = [dict(op.tool(), http_method=op.method, path=op.path, kind=op.kind, tags=list(op.tags))
                for op in operations]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from .registry import model_visible_bytes

    width = max(len(op.name) for op in operations)
    typer.echo(f"{'TOOL':{width}}  {'KIND':6}  {'TAGS':24}  DESCRIPTION")
    for op in operations:
        first = op.description.split(". ")[0].rstrip(".")
        line = first if len(first) <= 70 else first[:67] + "..."
        typer.echo(f"{op.name:{width}}  {op.kind:6}  {','.join(op.tags):24}  {line}")
    size = sum(model_visible_bytes(op.tool()) for op in operations)
    typer.echo(f"\n{len(operations)} tools, {size:,} model-visible bytes (about {size // 4:,} tokens per turn)")


@app.command()
def serve(
    methods: Methods = None,
    tags: Tags = None,
    tools: Tools = None,
    exclude_tools: ExcludeTools = None,
    profile: Profile = "default",
    api_url: ApiUrl = None,
    sandbox: Sandbox = False,
    log_level: Annotated[str, typer.Option(
        "--log-level", envvar="LEARNWORLDS_LOG_LEVEL", show_envvar=True,
        help="Log level for stderr: debug, info, warning, error.")] = "warning",
    rate_limit: RateLimit = 30,
    max_retries: MaxRetries = 2,
) -> None:
    """Run the MCP server over stdio (what Claude Desktop and Claude Code start). Logs go to stderr."""
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        fail(f"--log-level: {log_level!r} is not one of debug, info, warning, error", code=2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    operations = selected_operations(methods, tags, tools, exclude_tools)
    with school_client(profile, api_url, sandbox, rate_limit, max_retries) as client:
        import anyio

        from .server import serve_stdio

        logging.getLogger("learnworlds_mcp").info("serving %d tools for %s", len(operations),
                                                  client.credentials.api_url)
        anyio.run(serve_stdio, operations, client)


@contextmanager
def school_client(profile: str, api_url: str | None, sandbox: bool, rate_limit: int, max_retries: int):
    """A LearnWorldsClient for the configured school, or for a sandbox school started in-process."""
    from . import auth
    from .client import RATE_WINDOW_SECONDS, LearnWorldsClient
    from .limiter import RateLimiter

    with ExitStack() as stack:
        if sandbox:
            from .sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

            handle = stack.enter_context(start_sandbox(port=0))
            credentials = auth.Credentials(api_url=handle.api_url, client_id=SANDBOX_CLIENT_ID,
                                           access_token=SANDBOX_ACCESS_TOKEN, sources={"api_url": "sandbox"})
        else:
            env = dict(os.environ)
            if api_url:
                env["LEARNWORLDS_API_URL"] = api_url
            try:
                credentials = auth.resolve(profile, env)
            except CredentialsError as exc:
                fail(str(exc))
        yield LearnWorldsClient(credentials, limiter=RateLimiter(rate_limit, RATE_WINDOW_SECONDS),
                                max_retries=max_retries)


def parse_arguments(pairs: list[str], as_json: str | None) -> dict:
    """--json '{...}' then each --arg key=value on top; a value is read as JSON where it parses."""
    arguments: dict = {}
    if as_json:
        try:
            arguments = json.loads(as_json)
        except ValueError as exc:
            fail(f"--json: not valid JSON ({exc}); give an object such as '{{\"limit\": 5}}'", code=2)
        if not isinstance(arguments, dict):
            fail("--json: give a JSON object such as '{\"limit\": 5}'", code=2)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"--arg {pair!r}: write it as key=value, e.g. --arg limit=5", code=2)
        try:
            arguments[key] = json.loads(raw)
        except ValueError:
            arguments[key] = raw
    return arguments


@app.command()
def call(
    tool: Annotated[str, typer.Argument(help="Tool name, as listed by `learnworlds-mcp list-tools`.")],
    arg: Annotated[Optional[list[str]], typer.Option(
        "--arg", help="key=value; the value is read as JSON where it parses (limit=5 is a number). Repeatable.")] = None,
    as_json: Annotated[Optional[str], typer.Option("--json", help="All arguments as one JSON object.")] = None,
    sandbox: Sandbox = False,
    profile: Profile = "default",
    api_url: ApiUrl = None,
    rate_limit: RateLimit = 30,
    max_retries: MaxRetries = 2,
) -> None:
    """Run one tool through the server code (an in-memory MCP client) and print its result as JSON."""
    from .filters import Selection, select
    from .registry import load

    arguments = parse_arguments(arg or [], as_json)
    try:
        operations = select(load(), Selection(tools=(tool,)))
    except SelectionError as exc:
        fail(str(exc), code=2)
    with school_client(profile, api_url, sandbox, rate_limit, max_retries) as client:
        import anyio

        from .server import call_in_memory

        result = anyio.run(call_in_memory, operations, client, tool, arguments)
    text = result.content[0].text if result.content else "{}"
    if result.is_error:
        typer.echo(json.dumps(json.loads(text), indent=2, ensure_ascii=False), err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(result.structured_content, indent=2, ensure_ascii=False))


@auth_app.command("login")
def auth_login(
    profile: Profile = "default",
    school_url: Annotated[Optional[str], typer.Option("--school-url", help="e.g. https://myschool.learnworlds.com")] = None,
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="Client id from Settings > Developers > API.")] = None,
    use_client_secret: Annotated[bool, typer.Option(
        "--use-client-secret", help="The secret you enter is a client secret (tokens are then obtained and "
        "refreshed automatically), not an access token.")] = False,
    secret_stdin: Annotated[bool, typer.Option(
        "--secret-stdin", help="Read the secret from standard input instead of a hidden prompt (for scripts).")] = False,
    api_url: Annotated[Optional[str], typer.Option("--api-url", help="Override the API base (rarely needed).")] = None,
) -> None:
    """Store a school's settings in the config file and its secret in the OS keyring."""
    from . import auth, profiles

    school_url = school_url or typer.prompt("School URL (e.g. https://myschool.learnworlds.com)")
    client_id = client_id or typer.prompt("Client id")
    try:
        school_url = auth.normalize_url(school_url, "--school-url")
        api_url = auth.normalize_url(api_url, "--api-url") if api_url else None
    except CredentialsError as exc:
        fail(str(exc), code=2)
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
                                                        secret_kind=kind, api_url=api_url))
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    typer.echo(f"Saved profile {profile!r}: settings in {profiles.config_path()}, "
               f"{label.lower()} in the OS keyring.")


@auth_app.command("status")
def auth_status(profile: Profile = "default") -> None:
    """Show the settings in use and where each comes from; never the secret."""
    from . import auth

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
    from . import profiles

    try:
        had_secret = profiles.delete_secret(profile)
        had_profile = profiles.delete_profile(profile)
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    if not (had_secret or had_profile):
        typer.echo(f"Nothing stored for profile {profile!r}.")
        return
    typer.echo(f"Removed profile {profile!r}.")


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
