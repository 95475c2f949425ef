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
install_app = typer.Typer(help="Add this server to an MCP host's configuration (never with a secret).",
                          no_args_is_help=True)
app.add_typer(install_app, name="install")
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}

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


DryRun = Annotated[bool, typer.Option(
    "--dry-run", envvar="LEARNWORLDS_DRY_RUN", show_envvar=True,
    help="Write tools return the exact request they would send, and send nothing; reads still work.")]
MaxWrites = Annotated[Optional[int], typer.Option(
    "--max-writes", envvar="LEARNWORLDS_MAX_WRITES", show_envvar=True, min=0,
    help="Refuse further writes after this many in one server run.")]
AuditLogPath = Annotated[Optional[str], typer.Option(
    "--audit-log", envvar="LEARNWORLDS_AUDIT_LOG", show_envvar=True,
    help="Append one JSON line per tool call to this file (created owner-only).")]
ExpiresAt = Annotated[Optional[str], typer.Option(
    "--expires-at", envvar="LEARNWORLDS_EXPIRES_AT", show_envvar=True,
    help="ISO 8601 time after which every tool call is refused (e.g. 2026-12-01T18:00:00Z).")]
Ttl = Annotated[Optional[str], typer.Option(
    "--ttl", envvar="LEARNWORLDS_TTL", show_envvar=True,
    help="Like --expires-at, as a duration from now: 30m, 8h, 2d.")]
MaxResultBytes = Annotated[int, typer.Option(
    "--max-result-bytes", envvar="LEARNWORLDS_MAX_RESULT_BYTES", show_envvar=True, min=2000,
    help="Cut larger results at an item boundary (default about 20,000 tokens).")]
KeepEmpty = Annotated[bool, typer.Option(
    "--keep-empty", envvar="LEARNWORLDS_KEEP_EMPTY", show_envvar=True,
    help="Keep null and empty values in results (they are left out by default to save context).")]


Exposure = Annotated[str, typer.Option(
    "--exposure", envvar="LEARNWORLDS_EXPOSURE", show_envvar=True,
    help="tools: every selected tool is listed; discovery: four meta-tools search, describe and run them "
         "(a few KB of context instead of tens).")]


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
    exposure: Exposure = "tools",
) -> None:
    """List the tools a server with these filters would offer. Needs no credentials."""
    operations = selected_operations(methods, tags, tools, exclude_tools)
    if exposure == "discovery":
        from .discovery import meta_tools
        from .registry import model_visible_bytes

        definitions = meta_tools(operations)
        if as_json:
            typer.echo(json.dumps(definitions, indent=2, ensure_ascii=False))
            return
        for tool in definitions:
            typer.echo(f"{tool['name']:30}  {tool['description']}")
        size = sum(model_visible_bytes(t) for t in definitions)
        typer.echo(f"\n{len(definitions)} meta-tools over {len(operations)} operations, {size:,} model-visible "
                   f"bytes (about {size // 4:,} tokens per turn)")
        return
    if exposure != "tools":
        fail(f"--exposure: {exposure!r} is not one of tools, discovery", code=2)
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
    dry_run: DryRun = False,
    max_writes: MaxWrites = None,
    audit_log: AuditLogPath = None,
    expires_at: ExpiresAt = None,
    ttl: Ttl = None,
    max_result_bytes: MaxResultBytes = 80_000,
    keep_empty: KeepEmpty = False,
    exposure: Exposure = "tools",
) -> None:
    """Run the MCP server over stdio (what Claude Desktop and Claude Code start). Logs go to stderr."""
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        fail(f"--log-level: {log_level!r} is not one of debug, info, warning, error", code=2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if exposure not in ("tools", "discovery"):
        fail(f"--exposure: {exposure!r} is not one of tools, discovery", code=2)
    operations = selected_operations(methods, tags, tools, exclude_tools)
    policy = make_policy(expires_at, ttl, dry_run, max_writes)
    with school_client(profile, api_url, sandbox, rate_limit, max_retries) as client:
        import anyio

        from .audit import AuditLog
        from .executor import Runtime
        from .server import serve_stdio

        if client.credentials.expires_at is not None:
            policy.expires_at = min(filter(None, (policy.expires_at, client.credentials.expires_at)))
        audit = AuditLog(audit_log, secrets=client.credentials.secrets) if audit_log else None
        runtime = Runtime(client, policy, max_result_bytes, keep_empty)
        logging.getLogger("learnworlds_mcp").info("serving %d tools for %s", len(operations),
                                                  client.credentials.api_url)
        try:
            anyio.run(serve_stdio, operations, runtime, audit, exposure)
        finally:
            if audit:
                audit.close()


def make_policy(expires_at: str | None, ttl: str | None, dry_run: bool, max_writes: int | None):
    """The run's Policy, or exit 2 naming the flag when a time is malformed or already past."""
    from .policy import Policy, expiry_from

    try:
        expiry = expiry_from(expires_at, ttl)
    except ValueError as exc:
        fail(f"--expires-at/--ttl: {exc}", code=2)
    return Policy(expires_at=expiry, dry_run=dry_run, max_writes=max_writes)


@contextmanager
def school_client(profile: str, api_url: str | None, sandbox: bool, rate_limit: int, max_retries: int):
    """A LearnWorldsClient for the configured school, or for a sandbox school started in-process."""
    from . import auth
    from .client import RATE_WINDOW_SECONDS, WINDOW_MARGIN, LearnWorldsClient
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
        yield LearnWorldsClient(credentials, limiter=RateLimiter(rate_limit, RATE_WINDOW_SECONDS + WINDOW_MARGIN),
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
    dry_run: DryRun = False,
    max_result_bytes: MaxResultBytes = 80_000,
    keep_empty: KeepEmpty = False,
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

        from .executor import Runtime
        from .server import call_in_memory

        runtime = Runtime(client, make_policy(None, None, dry_run, None), max_result_bytes, keep_empty)
        result = anyio.run(call_in_memory, operations, runtime, tool, arguments)
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
    expires_at: Annotated[Optional[str], typer.Option(
        "--expires-at", help="ISO 8601 time after which the stored secret is deleted at its next use.")] = None,
    ttl: Annotated[Optional[str], typer.Option("--ttl", help="Like --expires-at, as a duration: 30m, 8h, 2d.")] = None,
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
    from .policy import expiry_from

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
        from .policy import iso

        typer.echo(f"Access through this profile ends at {iso(expiry)}.")


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


@app.command()
def doctor(
    methods: Methods = None,
    tags: Tags = None,
    tools: Tools = None,
    exclude_tools: ExcludeTools = None,
    profile: Profile = "default",
    api_url: ApiUrl = None,
    sandbox: Sandbox = False,
) -> None:
    """Check the set-up step by step (versions, keyring, profile, network, credentials, expiry, filters).

    Prints one line per check with a fix for anything wrong; exits 0 only when every check passes.
    """
    import anyio

    from . import doctor as checks
    from .filters import Selection, split_list

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    env = dict(os.environ)
    with ExitStack() as stack:
        if sandbox:
            from .sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

            handle = stack.enter_context(start_sandbox(port=0))
            env.update(LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID, LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
            api_url = handle.api_url
        results = anyio.run(checks.run_checks, profile, env, selection, api_url)
    typer.echo(checks.render(results))
    raise typer.Exit(checks.exit_code(results))


@app.command("sandbox")
def sandbox_command(
    port: Annotated[int, typer.Option("--port", envvar="LEARNWORLDS_SANDBOX_PORT", show_envvar=True,
                                      help="Loopback port to listen on (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated school; the same seed, the same data.")] = 7,
    users: Annotated[int, typer.Option("--users", min=20, help="How many users to generate (at least 20).")] = 2000,
    no_rate_limit: Annotated[bool, typer.Option(
        "--no-rate-limit", help="Turn off the 30-requests-per-10-s limit (on by default, as in a real school).")] = False,
) -> None:
    """Serve a seeded sandbox school that behaves like the LearnWorlds v2 API, on 127.0.0.1."""
    from .sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, run_sandbox

    def ready(handle) -> None:
        typer.echo(f"Sandbox school on {handle.api_url} ({users} users, seed {seed}"
                   f"{', no rate limit' if no_rate_limit else ''}). Ctrl-C stops it.\n"
                   f"  LEARNWORLDS_API_URL={handle.api_url}\n"
                   f"  LEARNWORLDS_CLIENT_ID={SANDBOX_CLIENT_ID}\n"
                   f"  LEARNWORLDS_ACCESS_TOKEN={SANDBOX_ACCESS_TOKEN}\n"
                   f"  (or LEARNWORLDS_CLIENT_SECRET={SANDBOX_CLIENT_SECRET} for the token exchange)\n"
                   "These are the sandbox's fixed, public credentials; they open nothing else.")

    try:
        run_sandbox(port=port, seed=seed, users=users, rate_limit=not no_rate_limit, on_ready=ready)
    except OSError as exc:
        fail(f"--port {port}: cannot listen ({exc.strerror or exc}); pick another port or 0 for a free one", code=2)
    except KeyboardInterrupt:
        pass


ServerName = Annotated[str, typer.Option("--name", help="The server's name in the host's config.")]
Command = Annotated[Optional[str], typer.Option(
    "--command", help="Path of the learnworlds-mcp executable (default: this installation's).")]


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
    profile: Optional[str] = typer.Option(None, "--profile", help="Stored profile the server should use."),
    command: Command = None,
    print_only: Annotated[bool, typer.Option("--print", help="Show the entry; write nothing.")] = False,
) -> None:
    """Add or update one server entry in claude_desktop_config.json; other entries stay as they are.

    Any further arguments are `serve` flags, e.g. `install claude-desktop --methods read`.
    """
    from . import hosts

    try:
        entry = hosts.server_entry(command or hosts.executable_path(), _serve_args(ctx), profile)
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
    profile: Optional[str] = typer.Option(None, "--profile", help="Stored profile the server should use."),
    command: Command = None,
    scope: Annotated[Optional[str], typer.Option("--scope", help="local, project or user.")] = None,
    run_it: Annotated[bool, typer.Option("--run", help="Run `claude mcp add` instead of printing it.")] = False,
) -> None:
    """Print (or run with --run) the `claude mcp add` command for this server.

    Any further arguments are `serve` flags, e.g. `install claude-code --methods read`.
    """
    import subprocess

    from . import hosts

    try:
        argv = hosts.claude_code_command(name, command or hosts.executable_path(), _serve_args(ctx), profile, scope)
        if not run_it:
            typer.echo(hosts.format_command(argv))
            return
        argv[0] = hosts.claude_executable()
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    raise typer.Exit(subprocess.call(argv))


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
