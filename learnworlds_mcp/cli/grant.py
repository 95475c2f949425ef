"""`grant create/list/revoke`: bearer tokens for the HTTP server, and serving them (`serve --transport http`)."""

import json
import shlex
from typing import Annotated, Optional

import typer

from ..errors import LearnWorldsMCPError
from . import grant_app
from .help import Command
from .options import StateDir, expiry_from_flags, fail, selected_operations

GrantName = Annotated[str, typer.Argument(metavar="NAME", help="A name for the grant (who or what it is for), e.g. alice or reports-bot.")]
DEFAULT_URL = "http://127.0.0.1:8766/mcp"


def open_store(folder: str | None = None):
    """The grant store in --state-dir, else LEARNWORLDS_STATE_DIR, else the config folder."""
    from pathlib import Path

    from ..grants import GrantStore
    from ..profiles import state_dir

    try:
        return GrantStore((Path(folder).expanduser() if folder else state_dir()) / "grants.db")
    except LearnWorldsMCPError as exc:
        fail(str(exc))


def _filters(record) -> str:
    return record.selection.describe()


@grant_app.command("create", cls=Command)
def grant_create(
    name: GrantName,
    methods: Annotated[Optional[str], typer.Option(
        "--methods", metavar="LIST", help="Comma list: read, write, or kinds list,get,create,update,delete,custom.")] = None,
    tags: Annotated[Optional[str], typer.Option("--tags", metavar="LIST", help="Comma list of tags; a tool with any of them passes.")] = None,
    tools: Annotated[Optional[str], typer.Option("--tools", metavar="NAMES", help="Comma list of tool names to allow.")] = None,
    ttl: Annotated[Optional[str], typer.Option("--ttl", metavar="DURATION", help="How long the grant lasts: 30m, 8h, 2d.")] = None,
    expires_at: Annotated[Optional[str], typer.Option(
        "--expires-at", metavar="TIME", help="ISO 8601 time the grant ends (e.g. 2026-12-01T18:00:00Z); instead of --ttl.")] = None,
    max_writes: Annotated[Optional[int], typer.Option(
        "--max-writes", metavar="N", min=0, help="Writes allowed in all, across every session of this grant (default: no cap).")] = None,
    max_concurrency: Annotated[int, typer.Option(
        "--max-concurrency", metavar="N", min=1, max=64, help="Calls of this grant that may run at once; more wait their turn.")] = 4,
    url: Annotated[str, typer.Option(
        "--url", metavar="URL", envvar="LEARNWORLDS_SERVER_URL", show_envvar=True,
        help="The URL clients will use to reach the server, for the printed client set-up.")] = DEFAULT_URL,
    state_dir: StateDir = None,
) -> None:
    """Create a grant and print its bearer token once (only a hash of it is stored), with client set-up lines."""
    from ..filters import Selection, split_list

    selection = Selection(split_list(methods), split_list(tags), split_list(tools))
    chosen = selected_operations(methods, tags, tools, None)
    expiry = expiry_from_flags(expires_at, ttl)
    store = open_store(state_dir)
    try:
        record, token = store.create(name, selection, expiry, max_writes, max_concurrency)
    except LearnWorldsMCPError as exc:
        fail(str(exc), code=2)
    finally:
        store.close()
    reads = sum(op.read_only for op in chosen)
    writes = "no cap" if max_writes is None else f"at most {max_writes}"
    header = f"Authorization: Bearer {token}"
    server = f"learnworlds-{name}"
    typer.echo(f"Created grant {name!r}: {len(chosen)} tools ({reads} read, {len(chosen) - reads} write; "
               f"{selection.describe()}), expires {record.describe_expiry()}, writes {writes}.")
    typer.echo("\nToken (shown only now; the server keeps only its hash):\n  " + token)
    typer.echo(f"\nClaude Code:\n  claude mcp add --transport http {server} {shlex.quote(url)} --header \"{header}\"")
    entry = {server: {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}}
    typer.echo("\nCursor (mcpServers), VS Code (servers) and Claude Code (.mcp.json) entry:\n"
               + json.dumps(entry, indent=2))
    typer.echo("\nHand the token over privately; `learnworlds-mcp grant revoke " + name + "` ends it at once.")


@grant_app.command("list")
def grant_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per grant.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Show every live grant: name, filters, expiry, last use and writes; never a token."""
    from ..policy import iso

    store = open_store(state_dir)
    try:
        records = list(store.live())
    except LearnWorldsMCPError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        for r in records:
            typer.echo(json.dumps({"name": r.name, "methods": r.methods, "tags": r.tags, "tools": r.tools,
                                   "expires_at": r.expires_at and iso(r.expires_at), "expired": r.expired(),
                                   "last_used": r.last_used and iso(r.last_used), "writes": r.writes,
                                   "max_writes": r.max_writes, "max_concurrency": r.max_concurrency}))
        return
    if not records:
        typer.echo("No grants. Create one with `learnworlds-mcp grant create NAME --methods read --ttl 8h`.")
        return
    width = max(4, *(len(r.name) for r in records))
    typer.echo(f"{'NAME':{width}}  {'EXPIRES':22}  {'LAST USE':20}  {'WRITES':9}  FILTERS")
    for r in records:
        expires = r.describe_expiry() + (" (expired)" if r.expired() else "")
        used = iso(r.last_used) if r.last_used else "never"
        writes = f"{r.writes}/{r.max_writes}" if r.max_writes is not None else str(r.writes)
        typer.echo(f"{r.name:{width}}  {expires:22}  {used:20}  {writes:9}  {_filters(r)}")


@grant_app.command("revoke", cls=Command)
def grant_revoke(name: GrantName, state_dir: StateDir = None) -> None:
    """End a grant: its next request gets 401, with no restart of the server."""
    store = open_store(state_dir)
    try:
        done = store.revoke(name)
    finally:
        store.close()
    if not done:
        fail(f"no live grant named {name!r}; `learnworlds-mcp grant list` shows them", code=1)
    typer.echo(f"Revoked grant {name!r}; its token is refused from the next request on.")


def serve_grants(operations, runtime, audit, exposure: str, binding, state_dir: str | None = None) -> None:
    """Serve over HTTP until interrupted, each request under the grant its token stands for."""
    import anyio

    from ..http import PATH, gate_for, serve_http

    store = open_store(state_dir)
    if not any(True for _ in store.live()):
        typer.echo("Warning: no grants yet, so every request will get 401; create one with "
                   "`learnworlds-mcp grant create NAME`.", err=True)
    host = f"[{binding.host}]" if ":" in binding.host else binding.host
    typer.echo(f"Serving {len(operations)} tools at {binding.scheme}://{host}:{binding.port}{PATH} "
               f"(grants in {store.path}). Ctrl-C stops it.", err=True)
    gate = gate_for(store, operations, runtime, audit, exposure, binding)

    async def main() -> None:
        try:
            await serve_http(gate, binding)
        finally:
            await runtime.client.aclose()

    try:
        anyio.run(main)
    finally:
        store.close()
