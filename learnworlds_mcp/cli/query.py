"""The `query` command: one SQL query over the school's tables, printed as a table, JSON or CSV."""

import csv
import json
import sys
from typing import Annotated, Optional

import typer

from . import app
from .help import Command
from .options import (ApiUrl, CacheDir, CacheTtl, ExcludeTools, MaxResultBytes, MaxRetries, Methods, Profile,
                      RateLimit, Sandbox, Seed, Tags, Tools, fail, query_tool_allowed, selected_operations)
from .serving import make_policy, query_tool, school_client

FORMATS = ("table", "json", "csv")
WAIT_SECONDS = 24 * 3600.0  # the shell waits for the load to finish; the bar shows how far it is
MAX_CELL = 60


@app.command(cls=Command)
def query(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="One SELECT (or WITH ... SELECT) in SQLite's dialect; "
                                            "`--tables` lists the tables instead.")] = "",
    output: Annotated[str, typer.Option("--format", metavar="table|json|csv", help="table, json or csv.")] = "table",
    tables: Annotated[Optional[str], typer.Option(
        "--tables", metavar="TABLE", help="Print the columns of this table ('*' for every table) instead of running SQL.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Reload the tables the query reads first.")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", metavar="N", min=1, help="Print at most this many rows.")] = 1000,
    methods: Methods = None,
    tags: Tags = None,
    tools: Tools = None,
    exclude_tools: ExcludeTools = None,
    sandbox: Sandbox = False,
    seed: Seed = None,
    profile: Profile = "default",
    api_url: ApiUrl = None,
    rate_limit: RateLimit = 30,
    max_retries: MaxRetries = 2,
    cache_dir: CacheDir = None,
    cache_ttl: CacheTtl = "15m",
    max_result_bytes: MaxResultBytes = 10_000_000,
) -> None:
    """Answer one SQL question over the whole school (tables load first, with a progress bar on stderr)."""
    if output not in FORMATS:
        fail(f"--format: {output!r} is not one of {', '.join(FORMATS)}", code=2)
    if not sql.strip() and not tables:
        fail("give a query, e.g. learnworlds-mcp query \"SELECT count(*) FROM users\" --sandbox, "
             "or --tables '*' to see the tables", code=2)
    operations = selected_operations(methods, tags, tools, exclude_tools, None if sandbox else profile)
    from ..filters import Selection, split_list
    from ..store import QUERY_TOOL, query_tool_present

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    if not query_tool_present(operations, selection):
        fail("the filters leave out the query tool, or every list tool it reads (use --tags or --tools with a "
             "list tool such as list_all_learn_worlds_users, and no --methods write)", code=2)
    if not query_tool_allowed(None if sandbox else profile):
        fail(f"profile {profile!r} is restricted to tools that do not include {QUERY_TOOL}; log in again with "
             f"--tools naming it too (or --unrestricted) to use this command with that profile", code=2)
    arguments = {"tables": tables} if tables else {"sql": sql, "refresh": refresh}
    with school_client(profile, api_url, sandbox, rate_limit, max_retries, seed) as client:
        import anyio

        from ..runtime import Runtime

        tool = query_tool(operations, client, cache_dir, cache_ttl, WAIT_SECONDS, max_result_bytes)
        tool.store.max_rows = max_rows
        policy = make_policy(None, None, False, None)
        policy.expires_at = client.credentials.expires_at  # the profile's expiry, as in serve and call
        runtime = Runtime(client, policy, max_result_bytes, store=tool)
        result = anyio.run(_run, operations, runtime, arguments)
    text = result.content[0].text if result.content else "{}"
    if result.is_error:
        typer.echo(f"Error: {json.loads(text).get('error', text)}", err=True)
        raise typer.Exit(1)
    answer = result.structured_content or {}
    if tables or output == "json":
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    if output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(answer["columns"])
        writer.writerows(answer["rows"])
    else:
        typer.echo(_table(answer["columns"], answer["rows"]))
    facts = ", ".join(f"{name} as of {t['as_of']} ({t['rows']} rows)" for name, t in answer.get("tables", {}).items())
    typer.echo(f"{answer['row_count']} row(s){'; ' + facts if facts else ''}", err=True)
    if answer.get("truncated"):
        typer.echo(answer["truncated"], err=True)


async def _run(operations, runtime, arguments):
    """The call through the real server over the in-memory client, drawing progress on stderr."""
    from mcp import Client
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..server import build_server
    from ..store import QUERY_TOOL

    bar = Progress(TextColumn("loading tables"), BarColumn(), MofNCompleteColumn(), TextColumn("pages"),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = None

    async def progress(done: float, total: float | None, message: str | None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("load", total=total)
        bar.update(task, completed=done, total=total)

    try:
        async with Client(build_server(operations, runtime)) as session:
            return await session.call_tool(QUERY_TOOL, arguments, progress_callback=progress)
    finally:
        bar.stop()
        await runtime.store.aclose()
        await runtime.client.aclose()


def _text(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def _table(columns: list[str], rows: list[list]) -> str:
    cells = [[_text(c) for c in columns]] + [[_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
