"""The SQL query tool: tables from filters, loading (progress, cancel, deadline, TTL, staleness), SQLite safety."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time

import anyio
import httpx
import pytest
from mcp import Client

from learnworlds_mcp import discovery
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.limiter import RateLimiter
from learnworlds_mcp.registry import load, model_visible_bytes
from learnworlds_mcp.server import build_server
from learnworlds_mcp.store import QUERY_TOOL, QueryTool, query_tool_present, table_columns
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

USERS = 450  # three pages of 200


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(port=0, users=USERS, rate_limit=False) as handle:
        yield handle


class Counting(httpx.AsyncBaseTransport):
    """The real network transport, counting the requests that reach the school."""

    def __init__(self):
        self.inner, self.requests = httpx.AsyncHTTPTransport(), []

    async def handle_async_request(self, request):
        self.requests.append(request.url)
        return await self.inner.handle_async_request(request)

    async def aclose(self):
        await self.inner.aclose()


def make_client(url, transport=None, limiter=None):
    creds = Credentials(api_url=url, client_id=SANDBOX_CLIENT_ID, access_token=SANDBOX_ACCESS_TOKEN)
    return LearnWorldsClient(creds, transport=transport or Counting(), limiter=limiter)


def make_runtime(sandbox, operations=None, limiter=None, **options):
    operations = operations or load()
    client = make_client(sandbox.api_url, limiter=limiter)
    max_bytes = options.pop("max_result_bytes", 80_000)
    tool = QueryTool.build(operations, client, max_result_bytes=max_bytes, **options)
    return Runtime(client, max_result_bytes=max_bytes, store=tool), operations


async def query(mcp, sql, **extra):
    result = await mcp.call_tool(QUERY_TOOL, {"sql": sql, **extra})
    return result.is_error, (json.loads(result.content[0].text) if result.is_error else result.structured_content)


# ---- which tables exist -----------------------------------------------------------------------------

@pytest.mark.parametrize("selection, tables", [
    (Selection(tags=("groups",)), {"groups"}),
    (Selection(tools=("list_all_learn_worlds_users", "get_single_learn_worlds_user_by_id", QUERY_TOOL)), {"users"}),
    (Selection(tags=("directory",), methods=("read",)), {"groups", "roles", "users", "user_segments"}),
    (Selection(exclude_tools=("list_all_learn_worlds_users",), tags=("users",)), set()),
    (Selection(methods=("write",)), set()),
])
def test_tables_follow_the_filters(selection, tables):
    operations = select(load(), selection)
    assert set(table_columns(operations)) == tables
    assert query_tool_present(operations) == bool(tables)


def test_lists_needing_a_parent_id_or_a_required_filter_are_not_tables():
    tables = table_columns(load())
    assert "users" in tables and "group_users" not in tables and "segment_users" not in tables
    assert "last_login" in tables["users"] and "is_suspended" in tables["users"]


@pytest.mark.anyio
async def test_the_tool_is_listed_only_when_a_table_exists(sandbox):
    for selection, present in ((Selection(tags=("groups",)), True), (Selection(methods=("write",)), False)):
        operations = select(load(), selection)
        client = make_client(sandbox.api_url)
        runtime = Runtime(client, store=QueryTool.build(operations, client))
        async with Client(build_server(operations, runtime)) as mcp:
            names = {t.name for t in (await mcp.list_tools()).tools}
            assert (QUERY_TOOL in names) == present
            if present:
                tool = next(t for t in (await mcp.list_tools()).tools if t.name == QUERY_TOOL)
                assert tool.annotations.read_only_hint is True
                assert "groups(" in tool.description and "users(" not in tool.description


def test_the_definition_fits_3000_model_visible_bytes_with_every_table():
    tool = QueryTool.build(load(), make_client("http://127.0.0.1:9/admin/api"))
    definition = tool.operation.tool()
    assert model_visible_bytes(definition) <= 3000
    assert "last_login" in definition["description"] and "users(" in definition["description"]


# ---- answers --------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_query_loads_its_table_once_and_states_as_of_and_rows(sandbox):
    runtime, operations = make_runtime(sandbox)
    school = sandbox.school
    staff = sum(1 for u in school.users.values() if u["is_admin"] or u["is_instructor"] or u["is_reporter"])
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT count(*), sum(is_suspended) FROM users "
                                         "WHERE is_admin OR is_instructor OR is_reporter")
        assert not error
        assert result["rows"] == [[staff, sum(1 for u in school.users.values() if u["is_suspended"] and
                                              (u["is_admin"] or u["is_instructor"] or u["is_reporter"]))]]
        assert result["tables"]["users"]["rows"] == len(school.users) and result["tables"]["users"]["as_of"]
        sent = len(runtime.client._transport.requests)
        assert sent == 3  # 450 users at the largest page size, 200
        error, result = await query(mcp, "SELECT json_extract(role, '$.level') AS level, count(*) FROM users "
                                         "GROUP BY level ORDER BY level")
        assert not error and sum(r[1] for r in result["rows"]) == len(school.users)
        assert len(runtime.client._transport.requests) == sent  # the second query sends nothing


@pytest.mark.anyio
async def test_the_suspended_flag_is_computed_when_the_api_leaves_it_out():
    suspended = {"u2"}

    def answer(request):
        query = request.url.params
        users = [{"id": f"u{i}", "email": f"u{i}@x.example"} for i in range(1, 5)]
        if query.get("status") == "suspended":
            users = [u for u in users if u["id"] in suspended]
        elif query.get("include_suspended") != "true":
            users = [u for u in users if u["id"] not in suspended]
        return httpx.Response(200, json={"data": users, "meta": {"page": 1, "totalPages": 1}})

    creds = Credentials(api_url="http://school.test/admin/api", client_id="c", access_token="t")
    client = LearnWorldsClient(creds, transport=httpx.MockTransport(answer))
    tool = QueryTool.build(select(load(), Selection(tools=("list_all_learn_worlds_users",))), client)
    result = await tool.call({"sql": "SELECT id, is_suspended FROM users ORDER BY id"})
    assert result["rows"] == [["u1", 0], ["u2", 1], ["u3", 0], ["u4", 0]]
    await tool.aclose()


@pytest.mark.anyio
async def test_unknown_table_and_column_errors_list_the_valid_names(sandbox):
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT * FROM people")
        assert error and "'people'" in result["error"] and "users" in result["error"] and "groups" in result["error"]
        error, result = await query(mcp, "SELECT lastLogin FROM users")
        assert error and "'lastLogin'" in result["error"] and "last_login" in result["error"]
        error, result = await mcp.call_tool(QUERY_TOOL, {"tables": "users"}), None
        assert "signup_approval_status" in json.dumps(error.structured_content)
    assert runtime.client._transport.requests == []  # nothing loads for a query that does not compile


# ---- safety ---------------------------------------------------------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("sql", [
    "INSERT INTO users (id) VALUES ('x')",
    "UPDATE users SET email = 'x'",
    "DELETE FROM users",
    "ATTACH DATABASE '/tmp/learnworlds-attack.db' AS other",
    "PRAGMA query_only = OFF",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = DELETE",
    "SELECT load_extension('/tmp/evil')",
    "CREATE TABLE t (x)",
    "DROP TABLE users",
    "CREATE TEMP VIEW v AS SELECT 1",
    "SELECT * FROM sqlite_master",
    "SELECT count(*) FROM sqlite_master",
    "SELECT count(*) FROM _learnworlds_loads",
    "SELECT 1; DELETE FROM users",
])
async def test_anything_but_reading_is_refused_and_changes_nothing(sandbox, sql):
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        error, before = await query(mcp, "SELECT count(*) FROM users")
        assert not error
        error, result = await query(mcp, sql)
        assert error and result["error"].startswith("sql:")
        error, after = await query(mcp, "SELECT count(*) FROM users")
        assert after["rows"] == before["rows"] == [[USERS]]
    assert not os.path.exists("/tmp/learnworlds-attack.db")


@pytest.mark.anyio
async def test_row_and_byte_caps_say_how_to_narrow_the_query(sandbox):
    runtime, operations = make_runtime(sandbox, max_result_bytes=5_000)
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT * FROM users")
        assert not error and 0 < result["row_count"] < USERS
        assert "WHERE" in result["truncated"] and f"{USERS - result['row_count']} more rows" in result["truncated"]
        assert len(json.dumps(result).encode()) <= 5_000
        error, result = await query(mcp, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                                         "WHERE x < 3000) SELECT count(*) FROM n")
        assert result["rows"] == [[3000]]
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                                         "WHERE x < 3000) SELECT x FROM n")
        assert result["row_count"] == 1000 and "cap 1000 rows" in result["truncated"]


@pytest.mark.anyio
async def test_a_runaway_query_is_stopped_by_the_time_limit(sandbox, monkeypatch):
    from learnworlds_mcp.store import safety

    monkeypatch.setattr(safety, "QUERY_SECONDS", 0.3)
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                                         "SELECT count(*) FROM n")
        assert error and "was stopped" in result["error"]


# ---- long work --------------------------------------------------------------------------------------

def slow():
    return RateLimiter(1, 0.15)  # one page every 0.15 s: slow enough to watch, fast enough to test


@pytest.mark.anyio
async def test_progress_notifications_follow_each_page(sandbox):
    runtime, operations = make_runtime(sandbox)
    seen = []

    async def progress(done, total, message):
        seen.append((done, total))

    async with Client(build_server(operations, runtime)) as mcp:
        result = await mcp.call_tool(QUERY_TOOL, {"sql": "SELECT count(*) FROM users"}, progress_callback=progress)
        assert not result.is_error
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.anyio
async def test_cancelling_the_call_stops_the_load_and_leaves_no_partial_table(sandbox):
    runtime, operations = make_runtime(sandbox, limiter=slow())
    store = runtime.store.store
    async with Client(build_server(operations, runtime)) as mcp:
        with anyio.CancelScope() as scope:
            async def progress(done, total, message):
                scope.cancel()

            await mcp.call_tool(QUERY_TOOL, {"sql": "SELECT count(*) FROM users"}, progress_callback=progress)
        for _ in range(40):  # the server learns of the cancel through notifications/cancelled
            if store.state["users"].load is None:
                break
            await anyio.sleep(0.05)
        assert store.state["users"].load is None and store.state["users"].as_of is None
        sent = len(runtime.client._transport.requests)
        assert sent < 3
        tables = {r[0] for r in store.writer.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not any(name.startswith("_staging") for name in tables)
        assert store.writer.execute("SELECT count(*) FROM users").fetchone() == (0,)
        await anyio.sleep(0.4)
        assert len(runtime.client._transport.requests) == sent  # no page after the cancel
        error, result = await query(mcp, "SELECT count(*) FROM users")
        assert result["rows"] == [[USERS]]


@pytest.mark.anyio
async def test_past_the_deadline_the_answer_reports_progress_and_loading_goes_on(sandbox):
    runtime, operations = make_runtime(sandbox, limiter=slow(), wait=0.2)
    store = runtime.store.store
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT count(*) FROM users")
        assert not error and result["status"] == "loading"
        assert result["tables"]["users"]["pages_total"] == 3 and result["tables"]["users"]["pages_done"] >= 1
        assert result["retry_after_seconds"] >= 1 and "again" in result["message"]
        for _ in range(40):
            if store.state["users"].as_of is not None:
                break
            await anyio.sleep(0.05)
        sent = len(runtime.client._transport.requests)
        error, result = await query(mcp, "SELECT count(*) FROM users")
        assert result["rows"] == [[USERS]] and len(runtime.client._transport.requests) == sent == 3


@pytest.mark.anyio
async def test_concurrent_queries_share_one_load(sandbox):
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        results = await asyncio.gather(*(query(mcp, f"SELECT count(*) + {i} FROM users") for i in range(3)))
    assert [r[1]["rows"] for r in results] == [[[USERS]], [[USERS + 1]], [[USERS + 2]]]
    assert len(runtime.client._transport.requests) == 3


@pytest.mark.anyio
async def test_a_write_through_the_server_marks_its_tables_stale(sandbox):
    runtime, operations = make_runtime(sandbox)
    user_id = next(iter(sandbox.school.users))
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT count(*) FROM groups")
        error, result = await query(mcp, f"SELECT tags FROM users WHERE id = '{user_id}'")
        assert "stale-check" not in result["rows"][0][0]
        sent = len(runtime.client._transport.requests)
        done = await mcp.call_tool("learn_worlds_users_update_tags",
                                   {"id": user_id, "tags": ["stale-check"], "action": "attach"})
        assert not done.is_error, done.content[0].text
        store = runtime.store.store
        assert store.state["users"].stale and not store.state["groups"].stale
        error, result = await query(mcp, f"SELECT tags FROM users WHERE id = '{user_id}'")
        assert "stale-check" in result["rows"][0][0]
        assert len(runtime.client._transport.requests) == sent + 1 + 3  # the write, then users again


@pytest.mark.anyio
async def test_tables_load_again_after_the_ttl_or_on_refresh(sandbox):
    now = [1_800_000_000.0]
    runtime, operations = make_runtime(sandbox, ttl=60)
    runtime.store.store.clock = lambda: now[0]
    requests = runtime.client._transport.requests
    async with Client(build_server(operations, runtime)) as mcp:
        await query(mcp, "SELECT count(*) FROM roles")
        first = len(requests)
        now[0] += 59
        error, result = await query(mcp, "SELECT count(*) FROM roles")
        assert len(requests) == first and result["tables"]["roles"]["as_of"] == "2027-01-15T08:00:00Z"
        now[0] += 2
        error, result = await query(mcp, "SELECT count(*) FROM roles")
        assert len(requests) == 2 * first and result["tables"]["roles"]["as_of"] == "2027-01-15T08:01:01Z"
        error, result = await query(mcp, "SELECT count(*) FROM roles", refresh=True)
        assert len(requests) == 3 * first


@pytest.mark.anyio
async def test_the_cache_file_is_owner_only_and_survives_a_restart(sandbox, tmp_path):
    folder = tmp_path / "cache"
    runtime, operations = make_runtime(sandbox, cache_dir=folder)
    async with Client(build_server(operations, runtime)) as mcp:
        error, result = await query(mcp, "SELECT count(*) FROM users")
    (path,) = folder.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    runtime, operations = make_runtime(sandbox, cache_dir=folder)
    async with Client(build_server(operations, runtime)) as mcp:
        error, again = await query(mcp, "SELECT count(*) FROM users")
    assert again == result and runtime.client._transport.requests == []


@pytest.mark.anyio
async def test_discovery_mode_finds_describes_and_runs_the_query_tool(sandbox):
    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime, exposure="discovery")) as mcp:
        found = (await mcp.call_tool(discovery.SEARCH, {"query": "sql query data"})).structured_content
        assert QUERY_TOOL in [m["name"] for m in found["result"]]
        described = (await mcp.call_tool(discovery.DESCRIBE, {"name": QUERY_TOOL})).structured_content
        assert "sql" in described["inputSchema"]["properties"]
        ran = await mcp.call_tool(discovery.RUN_READ, {"name": QUERY_TOOL,
                                                      "arguments": {"sql": "SELECT count(*) FROM users"}})
        assert ran.structured_content["rows"] == [[USERS]]
        refused = await mcp.call_tool(discovery.RUN_WRITE, {"name": QUERY_TOOL, "arguments": {"sql": "SELECT 1"}})
        assert refused.is_error


@pytest.mark.anyio
async def test_a_narrower_grant_sees_only_its_own_tables_over_the_shared_store(sandbox):
    from learnworlds_mcp.policy import Grant, Policy
    from learnworlds_mcp.server import server_for

    runtime, operations = make_runtime(sandbox)
    grant = Grant("groups-only", Selection(tags=("groups",)), Policy())
    async with Client(server_for(grant, operations, runtime)) as mcp:
        tool = next(t for t in (await mcp.list_tools()).tools if t.name == QUERY_TOOL)
        assert "groups(" in tool.description and "users(" not in tool.description
        error, result = await query(mcp, "SELECT count(*) FROM users")
        assert error and "no table 'users'" in result["error"] and "Tables: groups." in result["error"]
        error, result = await query(mcp, "SELECT count(*) FROM groups")
        assert not error and result["rows"][0][0] == len(sandbox.school.groups)
        described = (await mcp.call_tool(QUERY_TOOL, {"tables": "*"})).structured_content
        assert list(described["tables"]) == ["groups"]


# ---- the query command ----------------------------------------------------------------------------

def test_the_query_command_prints_csv_and_fails_clearly():
    from typer.testing import CliRunner

    from learnworlds_mcp.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["query", "SELECT id, title FROM groups ORDER BY id LIMIT 2", "--sandbox",
                               "--format", "csv"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "id,title" and len(lines) == 3
    done = runner.invoke(app, ["query", "SELECT nope FROM groups", "--sandbox"])
    assert done.exit_code == 1 and "no column 'nope'" in done.output and "title" in done.output
    done = runner.invoke(app, ["query", "SELECT 1", "--format", "xml"])
    assert done.exit_code == 2 and "--format" in done.output
    done = runner.invoke(app, ["query", "SELECT 1", "--methods", "write"])
    assert done.exit_code == 2


@pytest.mark.parametrize("selection, offered", [
    (Selection(tags=("groups",)), True),
    (Selection(tags=("groups",), exclude_tools=(QUERY_TOOL,)), False),
    (Selection(tools=("list_all_learn_worlds_groups",)), False),  # an allow list names every tool it wants
    (Selection(tools=("list_all_learn_worlds_groups", QUERY_TOOL)), True),
    (Selection(tools=(QUERY_TOOL, "create_a_learn_worlds_user")), False),  # no list tool, no table
])
def test_the_query_tool_can_be_excluded_or_named_like_any_tool(sandbox, selection, offered):
    from learnworlds_mcp.policy import Grant, Policy
    from learnworlds_mcp.server import server_for

    runtime, operations = make_runtime(sandbox)

    async def names():
        async with Client(server_for(Grant("g", selection, Policy()), operations, runtime)) as mcp:
            return {t.name for t in (await mcp.list_tools()).tools}

    assert (QUERY_TOOL in anyio.run(names)) == offered
    assert query_tool_present(select(load(), selection), selection) == offered


@pytest.mark.anyio
async def test_a_failed_load_is_a_tool_error_naming_the_table_and_keeps_nothing():
    def answer(request):
        if request.url.params.get("page") == "2":
            return httpx.Response(403, json={"error": "Forbidden"})
        users = [{"id": f"u{i}", "is_suspended": False} for i in range(200)]
        return httpx.Response(200, json={"data": users, "meta": {"page": 1, "totalPages": 3}})

    creds = Credentials(api_url="http://school.test/admin/api", client_id="c", access_token="t")
    client = LearnWorldsClient(creds, transport=httpx.MockTransport(answer))
    runtime = Runtime(client, store=QueryTool.build(load(), client))
    async with Client(build_server(load(), runtime)) as mcp:
        error, result = await query(mcp, "SELECT count(*) FROM users")
        assert error and "Loading the users table failed" in result["error"] and "403" in result["error"]
    store = runtime.store.store
    assert store.state["users"].as_of is None
    assert store.writer.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert [r for r in store.writer.execute("SELECT name FROM sqlite_master") if r[0].startswith("_staging")] == []


def test_an_unusable_cache_file_stops_with_the_flag_and_the_fix(tmp_path):
    import hashlib

    import typer

    from learnworlds_mcp.cli.serving import query_tool

    url = "http://school.test/admin/api"
    tmp_path.joinpath(f"school-{hashlib.sha256(url.encode()).hexdigest()[:16]}.sqlite3").write_bytes(b"not sqlite" * 50)
    creds = Credentials(api_url=url, client_id="c", access_token="t")
    with pytest.raises(typer.Exit) as stopped:
        query_tool(load(), LearnWorldsClient(creds), str(tmp_path), "15m", 45, 80_000)
    assert stopped.value.exit_code == 2
    with pytest.raises(typer.Exit) as stopped:
        query_tool(load(), LearnWorldsClient(creds), None, "15 minutes", 45, 80_000)
    assert stopped.value.exit_code == 2


@pytest.mark.subprocess
@pytest.mark.anyio
async def test_over_real_stdio_progress_arrives_per_page_and_the_answer_follows(sandbox, tmp_path):
    import sys

    from mcp import StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_CONFIG_DIR=str(tmp_path), LEARNWORLDS_API_URL=sandbox.api_url,
               LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID, LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
    server = StdioServerParameters(command=sys.executable, env=env,
                                   args=["-m", "learnworlds_mcp.cli", "serve", "--tags", "users", "--methods", "read"])
    seen = []

    async def progress(done, total, message):
        seen.append((done, total))

    async with Client(server) as mcp:
        result = await mcp.call_tool(QUERY_TOOL, {"sql": "SELECT count(*) FROM users WHERE NOT is_suspended"},
                                     progress_callback=progress)
    expected = sum(1 for u in sandbox.school.users.values() if not u["is_suspended"])
    assert result.structured_content["rows"] == [[expected]]
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.anyio
async def test_member_written_text_is_cleaned_at_load_and_flagged_in_answers(sandbox):
    from learnworlds_sandbox.planted import HIDDEN, VISIBLE

    runtime, operations = make_runtime(sandbox)
    async with Client(build_server(operations, runtime)) as mcp:
        error, posts = await query(mcp, "SELECT text FROM posts")
        error, users = await query(mcp, "SELECT json_extract(fields, '$.bio') FROM users WHERE fields LIKE '%Patras%'")
        error, roles = await query(mcp, "SELECT count(*) FROM groups")
    text = json.dumps([posts["rows"], users["rows"]], ensure_ascii=False)
    assert "Loved the week 3 exercises!" in text and "Maths teacher from Patras." in text
    assert VISIBLE and [h for h in HIDDEN if h in text] == []
    assert "member_text" in posts and "member_text" in users and "member_text" not in roles


@pytest.mark.anyio
async def test_the_store_opens_at_the_first_query_and_grant_views_share_it(sandbox, tmp_path):
    """A server nobody asks a query pays nothing for SQLite; a --cache-dir store opens at once to fail early."""
    runtime, operations = make_runtime(sandbox)
    tool = runtime.store
    narrow = tool.view(select(operations, Selection(tags=("groups",))))
    assert tool._opener.store is None and narrow._opener is tool._opener
    assert tool.mark_stale(next(op for op in operations if op.name == "create_a_learn_worlds_group")) == []
    assert tool._opener.store is None  # a write before any query has nothing to mark
    async with Client(build_server(operations, runtime)) as mcp:
        failed, answer = await query(mcp, "SELECT count(*) AS n FROM groups")
    assert not failed and answer["rows"][0][0] > 0
    assert tool._opener.store is not None and narrow.store is tool.store
    cached = QueryTool.build(operations, make_client(sandbox.api_url), cache_dir=tmp_path / "cache")
    assert cached._opener.store is not None
    await cached.aclose()


SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
            "SELECT count(*) AS n FROM roles, c")


@pytest.mark.parametrize("cached", [False, True], ids=["memory", "cache_dir"])
@pytest.mark.anyio
async def test_a_long_query_leaves_the_server_serving_and_a_reload_waits_its_turn(sandbox, tmp_path, cached):
    """The query runs in a worker thread; a load's writes take turns with it instead of stalling the event loop."""
    runtime, _ = make_runtime(sandbox, **({"cache_dir": tmp_path} if cached else {}))
    store = runtime.store.store
    for sql in ("SELECT count(*) FROM groups", "SELECT count(*) FROM roles"):
        await store.answer(sql)
    gaps, last = [], time.monotonic()

    async def tick():
        nonlocal last
        while True:
            await asyncio.sleep(0.005)
            gaps.append(time.monotonic() - last)
            last = time.monotonic()

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    reload = asyncio.create_task(store.answer("SELECT count(*) AS n FROM groups", refresh=True))
    slow = asyncio.create_task(store.answer(SLOW_SQL))  # starts while the reload's page is on its way
    reloaded, counted = await reload, await slow
    took = time.monotonic() - started
    ticker.cancel()
    await runtime.store.aclose()
    await runtime.client.aclose()
    roles = store.state["roles"].rows
    assert counted["rows"] == [[roles * 3_000_000]] and reloaded["rows"][0][0] == store.state["groups"].rows
    assert took > 0.3, "the query must run long enough to tell a stalled loop from a serving one"
    assert max(gaps) < took / 2, f"the event loop stalled {max(gaps):.2f} s of {took:.2f} s"
