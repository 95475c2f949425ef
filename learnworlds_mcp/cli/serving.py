"""Commands that talk to a school: list-tools, serve, call, doctor and the sandbox."""

import json
import logging
import os
import sys
from contextlib import ExitStack, contextmanager
from typing import Annotated, Optional

import typer

from ..errors import CredentialsError
from . import app
from .help import Command
from .options import (AllowedHosts, AllowPlainHttp, ApiUrl, AuditLogPath, CacheDir, CacheTtl, DryRun, ExcludeTools, ExpiresAt, Exposure,
                      ExposureChoice, Host, KeepEmpty, MaxResultBytes, MaxRetries, MaxWrites, Methods, Port, Profile,
                      QueryWait, RateLimit, Sandbox, Seed, StateDir, Tags, TlsCert, TlsKey, Tools, Transport,
                      TransportChoice, Ttl, expiry_from_flags, fail, fail_with, query_tool_allowed,
                      selected_operations)
from .quickstart import collection_paused


@app.command("list-tools")
def list_tools(
    methods: Methods = None,
    tags: Tags = None,
    tools: Tools = None,
    exclude_tools: ExcludeTools = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tool definitions as the server sends them.")] = False,
    exposure: Exposure = ExposureChoice.TOOLS,
) -> None:
    """List the tools a server with these filters would offer. Needs no credentials."""
    operations = selected_operations(methods, tags, tools, exclude_tools)
    from ..filters import Selection, split_list
    from ..store import with_query_tool

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    operations = with_query_tool(operations, selection)  # the server lists the SQL query tool beside them
    if exposure is ExposureChoice.DISCOVERY:
        from ..discovery import meta_tools
        from ..registry import model_visible_bytes

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
    if as_json:
        rows = [dict(op.tool(), http_method=op.method, path=op.path, kind=op.kind, tags=list(op.tags))
                for op in operations]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from ..registry import model_visible_bytes

    width = max(len(op.name) for op in operations)
    typer.echo(f"{'TOOL':{width}}  {'KIND':6}  {'TAGS':24}  DESCRIPTION")
    for op in operations:
        first = op.summary
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
    seed: Seed = None,
    log_level: Annotated[str, typer.Option(
        "--log-level", metavar="LEVEL", envvar="LEARNWORLDS_LOG_LEVEL", show_envvar=True,
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
    exposure: Exposure = ExposureChoice.TOOLS,
    transport: Transport = TransportChoice.STDIO,
    host: Host = "127.0.0.1",
    port: Port = 8766,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    allow_plain_http: AllowPlainHttp = False,
    allowed_hosts: AllowedHosts = None,
    state_dir: StateDir = None,
    cache_dir: CacheDir = None,
    cache_ttl: CacheTtl = "15m",
    query_wait: QueryWait = 45.0,
) -> None:
    """Run the MCP server over stdio (what Claude Desktop and Claude Code start), or over HTTP for a team.

    Over HTTP every request needs a grant token (`learnworlds-mcp grant create`); the grant decides the
    tools, expiry and write cap, within this command's own filters, --dry-run and expiry. Logs go to stderr.

    Over stdio, filters, expiry, the write cap and the audit log guard against a model's mistakes, not
    against whoever runs this command; to give others access they cannot widen, serve them over HTTP.
    """
    with collection_paused(freeze=True) as ready:  # until the server is built: see quickstart.py
        level = getattr(logging, log_level.upper(), None)
        if not isinstance(level, int):
            fail(f"--log-level: {log_level!r} is not one of debug, info, warning, error", code=2)
        logging.basicConfig(stream=sys.stderr, level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if state_dir:  # one place for all state (grants, the shared budget): profiles.state_dir() reads it
            os.environ["LEARNWORLDS_STATE_DIR"] = state_dir
        binding = None
        if transport is TransportChoice.HTTP:
            binding = http_binding(host, port, tls_cert, tls_key, allow_plain_http, allowed_hosts)
        operations = selected_operations(methods, tags, tools, exclude_tools, None if sandbox else profile)
        policy = make_policy(expires_at, ttl, dry_run, max_writes)
        with school_client(profile, api_url, sandbox, rate_limit, max_retries, seed,
                           unconfigured_ok=binding is None) as client:  # a team server fails fast instead
            import anyio

            from ..audit import AuditLog
            from ..auth import SecretFilter
            from ..runtime import Runtime
            from ..server import serve_stdio

            if client.credentials.expires_at is not None:
                policy.expires_at = min(filter(None, (policy.expires_at, client.credentials.expires_at)))
            try:
                audit = AuditLog(audit_log, secrets=lambda: client.credentials.secrets) if audit_log else None
            except OSError as exc:
                fail(f"--audit-log {audit_log}: cannot append to it ({exc.strerror or exc}); give the path of a "
                     "file in a folder you can write to", code=2)
            for handler in logging.getLogger().handlers:  # obtained tokens too, as they come
                handler.addFilter(SecretFilter(client.credentials))
            # No query tool where the profile's restrictions leave it out; the flags' own choice is the grant's.
            store = (query_tool(operations, client, cache_dir, cache_ttl, query_wait, max_result_bytes)
                     if query_tool_allowed(None if sandbox else profile) else None)
            runtime = Runtime(client, policy, max_result_bytes, keep_empty, store)
            logging.getLogger("learnworlds_mcp").info("serving %d tools for %s", len(operations),
                                                      client.credentials.api_url)
            try:
                if binding is not None:
                    from .grant import serve_grants

                    ready()
                    serve_grants(operations, runtime, audit, exposure, binding, state_dir)
                else:
                    from ..filters import Selection, split_list
                    from ..policy import Grant
                    from .terminal import guard

                    guard({c.name or c.callback.__name__ for c in app.registered_commands},
                          audit.close if audit else lambda: None)

                    selection = Selection(split_list(methods), split_list(tags), split_list(tools),
                                          split_list(exclude_tools))
                    ready()
                    anyio.run(serve_stdio, operations, runtime, audit, exposure, Grant("stdio", selection, policy))
            finally:
                if audit:
                    audit.close()


def query_tool(operations, client, cache_dir: str | None, cache_ttl: str, query_wait: float, max_result_bytes: int):
    """The SQL query tool over the selection's tables (None when it has none), or exit 2 naming the bad flag."""
    import sqlite3

    from ..policy import parse_ttl
    from ..store import QueryTool

    try:
        ttl = parse_ttl(cache_ttl)
    except ValueError as exc:
        fail(f"--cache-ttl: {exc}", code=2)
    try:
        return QueryTool.build(operations, client, ttl=ttl, wait=query_wait, cache_dir=cache_dir,
                               max_result_bytes=max_result_bytes)
    except OSError as exc:
        fail(f"--cache-dir {cache_dir}: cannot create the cache there ({exc.strerror or exc}); pick a folder you "
             "can write to, or leave it out to keep tables in memory", code=2)
    except sqlite3.Error as exc:
        fail(f"--cache-dir {cache_dir}: the school's cache file there is not usable ({exc}); delete the "
             "school-*.sqlite3 file in it, or leave --cache-dir out to keep tables in memory", code=2)


def http_binding(host: str, port: int, tls_cert: str | None, tls_key: str | None, allow_plain_http: bool,
                 allowed_hosts: str | None):
    """Where to listen over HTTP, or exit 2 when it would be unsafe; warns on stderr about allowed plain HTTP."""
    from ..filters import split_list
    from ..http import Binding

    binding = Binding(host.strip(), port, tls_cert, tls_key, allow_plain_http, split_list(allowed_hosts))
    try:
        warning = binding.check()
    except ValueError as exc:
        fail(str(exc), code=2)
    if warning:
        typer.echo(f"Warning: {warning}", err=True)
    return binding


def make_policy(expires_at: str | None, ttl: str | None, dry_run: bool, max_writes: int | None):
    """The run's Policy, or exit 2 naming the flag when a time is malformed or already past."""
    from ..policy import Policy

    return Policy(expires_at=expiry_from_flags(expires_at, ttl), dry_run=dry_run, max_writes=max_writes)


@contextmanager
def school_environment(api_url: str | None, sandbox: bool, seed: int | None = None):
    """The environment credentials resolve from: the process's own, plus --api-url, or a sandbox school
    started in-process (its fixed, public credentials, the school `seed` makes), so both go through the
    same lookup. A seed without --sandbox is refused rather than ignored."""
    if seed is not None and not sandbox:
        fail("--seed / LEARNWORLDS_SANDBOX_SEED only applies with --sandbox; add --sandbox or drop the seed", code=2)
    env = dict(os.environ)
    with ExitStack() as stack:
        if sandbox:
            from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

            handle = stack.enter_context(start_sandbox(port=0, **({} if seed is None else {"seed": seed})))
            env.pop("LEARNWORLDS_CLIENT_SECRET", None)
            env.update(LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID, LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
            api_url = handle.api_url
        if api_url:
            from ..auth import normalize_url

            try:  # a malformed flag is a usage error (exit 2), before any credentials are looked up
                env["LEARNWORLDS_API_URL"] = normalize_url(api_url, "--api-url")
            except CredentialsError as exc:
                fail(str(exc), code=2)
        yield env


def origin_of(sandbox: bool) -> str:
    """How credential sources are named: the sandbox's settings are not the user's environment."""
    return "--sandbox school" if sandbox else "environment"


@contextmanager
def school_client(profile: str, api_url: str | None, sandbox: bool, rate_limit: int, max_retries: int,
                  seed: int | None = None, unconfigured_ok: bool = False):
    """A LearnWorldsClient for the configured school, or for a sandbox school started in-process.

    Without credentials, `serve` (unconfigured_ok) still starts: its client answers every call with
    how to set them up, where a host would otherwise only show "failed to connect".
    """
    from .. import auth
    from ..budget import budget_for
    from ..client import RATE_WINDOW_SECONDS, WINDOW_MARGIN, LearnWorldsClient

    with school_environment(api_url, sandbox, seed) as env:
        try:
            credentials = auth.resolve(profile, env, origin_of(sandbox))
        except CredentialsError as exc:
            if not unconfigured_ok:
                fail_with(exc)
            from ..unconfigured import UnconfiguredClient, setup_message

            message = setup_message(str(exc), profile)
            logging.getLogger("learnworlds_mcp").warning("%s", message)
            yield UnconfiguredClient(message, max_retries=max_retries)
            return
        # One budget per school, shared with every other process on this machine that calls it.
        budget = budget_for(credentials.api_url, credentials.client_id, rate_limit, RATE_WINDOW_SECONDS + WINDOW_MARGIN)
        yield LearnWorldsClient(credentials, limiter=budget, max_retries=max_retries)


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


@app.command(cls=Command)
def call(
    tool: Annotated[str, typer.Argument(metavar="TOOL", help="Tool name, as listed by `learnworlds-mcp list-tools`.")],
    arg: Annotated[Optional[list[str]], typer.Option(
        "--arg", metavar="KEY=VALUE", help="key=value; the value is read as JSON where it parses (limit=5 is a number). Repeatable.")] = None,
    as_json: Annotated[Optional[str], typer.Option("--json", metavar="OBJECT", help="All arguments as one JSON object.")] = None,
    sandbox: Sandbox = False,
    seed: Seed = None,
    profile: Profile = "default",
    api_url: ApiUrl = None,
    rate_limit: RateLimit = 30,
    max_retries: MaxRetries = 2,
    dry_run: DryRun = False,
    max_result_bytes: MaxResultBytes = 80_000,
    keep_empty: KeepEmpty = False,
) -> None:
    """Run one tool through the server code (an in-memory MCP client) and print its result as JSON."""
    from ..registry import QUERY_TOOL

    if tool == QUERY_TOOL:  # it reads tables that other tools fill, so it has a command of its own
        fail(f'{QUERY_TOOL} runs through its own command: learnworlds-mcp query "SELECT ..."'
             f'{" --sandbox" if sandbox else ""} (see learnworlds-mcp query --help)', code=2)
    arguments = parse_arguments(arg or [], as_json)
    operations = selected_operations(None, None, tool, None, None if sandbox else profile)
    with collection_paused(), school_client(profile, api_url, sandbox, rate_limit, max_retries, seed) as client:
        import anyio

        from ..runtime import Runtime
        from ..server import call_in_memory

        policy = make_policy(None, None, dry_run, None)
        policy.expires_at = client.credentials.expires_at  # the profile's expiry holds for this call's requests too
        runtime = Runtime(client, policy, max_result_bytes, keep_empty)
        result = anyio.run(call_in_memory, operations, runtime, tool, arguments)
    text = result.content[0].text if result.content else "{}"
    if result.is_error:
        typer.echo(json.dumps(json.loads(text), indent=2, ensure_ascii=False), err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(result.structured_content, indent=2, ensure_ascii=False))


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

    from .. import doctor as checks
    from ..filters import Selection, split_list

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    with school_environment(api_url, sandbox) as env:
        results = anyio.run(checks.run_checks, profile, env, selection, env.get("LEARNWORLDS_API_URL"), None,
                            origin_of(sandbox))
    typer.echo(checks.render(results))
    raise typer.Exit(checks.exit_code(results))


@app.command("sandbox")
def sandbox_command(
    port: Annotated[int, typer.Option("--port", metavar="PORT", envvar="LEARNWORLDS_SANDBOX_PORT", show_envvar=True,
                                      help="Loopback port to listen on (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the generated school; the same seed, the same data.")] = 7,
    users: Annotated[int, typer.Option("--users", metavar="N", min=20, help="How many users to generate (at least 20).")] = 2000,
    no_rate_limit: Annotated[bool, typer.Option(
        "--no-rate-limit", help="Turn off the 30-requests-per-10-s limit (on by default, as in a real school).")] = False,
) -> None:
    """Serve a seeded sandbox school that behaves like the LearnWorlds v2 API, on 127.0.0.1."""
    from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, run_sandbox

    if not 0 <= port <= 65535:
        fail(f"--port {port}: give a port from 1 to 65535, or 0 for a free one", code=2)

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


