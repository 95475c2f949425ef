"""The team server over real HTTP: grants decide tools, expiry, revocation and writes; one budget; no secret leaks."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared._httpx_utils import create_mcp_http_client
from typer.testing import CliRunner

from learnworlds_mcp import registry
from learnworlds_mcp.audit import AuditLog
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.cli import app
from learnworlds_mcp.client import RATE_WINDOW_SECONDS, WINDOW_MARGIN, LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.filters import Selection
from learnworlds_mcp.grants import GrantStore
from learnworlds_mcp.http import LOG_CONFIG, PATH, Binding, build_app, gate_for
from learnworlds_mcp.limiter import RateLimiter
from learnworlds_mcp.policy import Policy
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

pytestmark = pytest.mark.anyio
READ_TOOL = "list_all_learn_worlds_users"
WRITE_TOOL = "learn_worlds_users_suspend"


@dataclass
class Team:
    url: str
    port: int
    store: GrantStore
    school: object
    audit_path: Path

    def grant(self, name: str, expires_at: float | None = None, max_writes: int | None = None, **filters) -> str:
        selection = Selection(**{k: tuple(v.split(",")) for k, v in filters.items()})
        return self.store.create(name, selection, expires_at, max_writes)[1]

    def audit(self) -> list[dict]:
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


@contextmanager
def team_server(tmp_path: Path, rate_limit: bool = False, budget: tuple[int, float] = (30, RATE_WINDOW_SECONDS + WINDOW_MARGIN)):
    """The HTTP server in a thread of its own (as `serve --transport http` runs it), before a sandbox school."""
    import uvicorn

    with start_sandbox(port=0, users=60, rate_limit=rate_limit) as sandbox:
        credentials = Credentials(api_url=sandbox.api_url, client_id=SANDBOX_CLIENT_ID,
                                  access_token=SANDBOX_ACCESS_TOKEN)
        client = LearnWorldsClient(credentials, limiter=RateLimiter(*budget))
        store = GrantStore(tmp_path / "state" / "grants.db")
        audit_path = tmp_path / "audit.jsonl"
        audit = AuditLog(audit_path, secrets=credentials.secrets)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        from learnworlds_mcp.store import QueryTool

        operations = registry.load()
        runtime = Runtime(client, Policy(), store=QueryTool.build(operations, client, cache_dir=tmp_path / "cache"))
        gate = gate_for(store, operations, runtime, audit, "tools", Binding(port=port))
        server = uvicorn.Server(uvicorn.Config(build_app(gate), log_config=LOG_CONFIG, access_log=False,
                                               timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the HTTP server did not start"
            time.sleep(0.02)
        try:
            yield Team(f"http://127.0.0.1:{port}{PATH}", port, store, sandbox.school, audit_path)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            audit.close()


@pytest.fixture
def team(tmp_path):
    with team_server(tmp_path) as served:
        yield served


@asynccontextmanager
async def connect(url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


def initialize_body() -> dict:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def raw_post(team: Team, token: str | None, **headers) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(team.url, json=initialize_body(), headers=headers, timeout=10)


async def test_a_read_grant_lists_no_write_tool_and_cannot_call_one(team):
    token = team.grant("reader", methods="read", tags="users")
    async with connect(team.url, token) as client:
        tools = (await client.list_tools()).tools
        assert READ_TOOL in {t.name for t in tools}
        assert tools and all(t.annotations.read_only_hint for t in tools)
        listed = await client.call_tool(READ_TOOL, {"limit": 2})
        assert not listed.is_error and len(listed.structured_content["result"]) == 2
        with pytest.raises(MCPError, match="does not offer"):
            await client.call_tool(WRITE_TOOL, {"id": "someone@example.com"})
    assert team.school.stats["paths"].keys() == {"/admin/api/v2/users"}


async def test_the_sql_tool_of_a_grant_reads_only_its_own_tables(team):
    token = team.grant("roles-only", tags="roles")
    async with connect(team.url, token) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "query_learn_worlds_data" in names and READ_TOOL not in names
        own = await client.call_tool("query_learn_worlds_data", {"sql": "SELECT count(*) AS n FROM roles"})
        other = await client.call_tool("query_learn_worlds_data", {"sql": "SELECT count(*) AS n FROM users"})
    assert not own.is_error, own.content[0].text
    assert other.is_error and "users" in other.content[0].text
    assert "/admin/api/v2/users" not in team.school.stats["paths"]


async def test_expiry_mid_session_stops_the_next_call(team):
    token = team.grant("brief", expires_at=time.time() + 1.5)
    async with connect(team.url, token) as client:
        first = await client.call_tool(READ_TOOL, {"limit": 1})
        assert not first.is_error
        await anyio.sleep(1.6)
        with pytest.raises(MCPError, match="error response"):
            await client.call_tool(READ_TOOL, {"limit": 1})
    assert team.school.stats["total"] == 1
    answer = raw_post(team, token)
    assert answer.status_code == 401 and "www-authenticate" in answer.headers


async def test_a_grant_expiring_while_its_call_waits_for_the_budget_sends_nothing(tmp_path):
    # Room for the handshake under load: the grant ends 3 s in, while the third call waits out a 6 s window.
    with team_server(tmp_path, budget=(2, 6.0)) as team:
        token = team.grant("brief", expires_at=time.time() + 3.0)
        async with connect(team.url, token) as client:
            await client.list_tools()  # the client checks results against these; after expiry it could not list
            results = await asyncio.gather(*(client.call_tool(READ_TOOL, {"limit": 1}) for _ in range(3)))
        assert sorted(r.is_error for r in results) == [False, False, True]
        refused = next(r for r in results if r.is_error).content[0].text
        assert "expired" in refused and "not sent" in refused
        assert team.school.stats["total"] == 2
        assert [r["grant"] for r in team.audit()] == ["brief"] * 3


async def test_a_grant_revoked_while_its_call_waits_for_the_budget_sends_nothing(tmp_path):
    with team_server(tmp_path, budget=(2, 6.0)) as team:
        token = team.grant("temp")
        async with connect(team.url, token) as client:
            await client.list_tools()
            calls = asyncio.gather(*(client.call_tool(READ_TOOL, {"limit": 1}) for _ in range(3)))
            waiting = asyncio.ensure_future(calls)
            while team.school.stats["total"] < 2:  # two sent; the third waits out the 6 s window
                await anyio.sleep(0.05)
            assert team.store.revoke("temp")
            results = await waiting
        assert sorted(r.is_error for r in results) == [False, False, True]
        refused = next(r for r in results if r.is_error).content[0].text
        assert "revoked" in refused and "not sent" in refused
        assert team.school.stats["total"] == 2


async def test_revocation_takes_effect_on_the_next_request_without_restart(team):
    token = team.grant("temp")
    async with connect(team.url, token) as client:
        assert not (await client.call_tool(READ_TOOL, {"limit": 1})).is_error
        assert team.store.revoke("temp")
        with pytest.raises(MCPError, match="error response"):
            await client.call_tool(READ_TOOL, {"limit": 1})
    assert team.school.stats["total"] == 1
    assert raw_post(team, token).status_code == 401


@pytest.mark.parametrize("token", [None, "lwm_000000000000_wrong", "not-a-grant-token", "x" * 5000, "expired"])
def test_a_missing_wrong_or_expired_token_gets_401_and_no_tool_list(team, token):
    if token == "expired":
        token = team.grant("old", expires_at=time.time() - 1)
    team.grant("real")
    answer = raw_post(team, token)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer realm="learnworlds-mcp"')
    assert "tools" not in answer.text and "learn_worlds" not in answer.text


def test_a_host_or_origin_that_is_not_ours_is_refused(team):
    token = team.grant("h")
    assert raw_post(team, token, Host="evil.example").status_code == 421
    assert raw_post(team, token, Host=f"evil.example:{team.port}").status_code == 421
    assert raw_post(team, token, Origin="https://evil.example").status_code == 403
    ok = raw_post(team, token, Host=f"localhost:{team.port}", Origin=f"http://localhost:{team.port}")
    assert ok.status_code == 200


def test_an_oversized_body_is_refused(team):
    token = team.grant("big")
    answer = httpx.post(team.url, content=b"{" + b" " * (2 * 1024 * 1024) + b"}", timeout=10,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                 "Accept": "application/json, text/event-stream"})
    assert answer.status_code == 413


async def test_the_write_cap_counts_across_all_sessions_of_a_grant(team):
    token = team.grant("writer", max_writes=2, tools=WRITE_TOOL)
    results = []

    async def session(ids):
        async with connect(team.url, token) as client:
            for user in ids:
                results.append(await client.call_tool(WRITE_TOOL, {"id": user}))

    emails = [f"nobody{n}@example.com" for n in range(6)]
    async with anyio.create_task_group() as group:
        group.start_soon(session, emails[:3])
        group.start_soon(session, emails[3:])
    refused = [r for r in results if r.is_error and "allows 2 write(s)" in r.content[0].text]
    assert len(refused) == 4
    assert next(team.store.live()).writes == 2
    assert team.school.stats["total"] == 2


async def test_audit_records_name_the_grant(team):
    alice, bob = team.grant("alice", methods="read"), team.grant("bob", tags="roles")
    async with connect(team.url, alice) as client:
        await client.call_tool(READ_TOOL, {"limit": 1})
    async with connect(team.url, bob) as client:
        await client.call_tool("list_all_learn_worlds_roles", {})
    assert [(r["grant"], r["tool"]) for r in team.audit()] == [("alice", READ_TOOL),
                                                               ("bob", "list_all_learn_worlds_roles")]


async def test_two_grants_at_once_share_one_budget_and_no_secret_leaks(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with team_server(tmp_path, rate_limit=True) as team:
        tokens = [team.grant("one", methods="read"), team.grant("two", tags="users")]
        seen: list[str] = []

        async def work(token):
            async with connect(team.url, token) as client:
                seen.append((await client.list_tools()).model_dump_json())
                for _ in range(20):
                    result = await client.call_tool(READ_TOOL, {"limit": 1})
                    assert not result.is_error, result.content[0].text
                    seen.append(result.model_dump_json())
                bad = await client.call_tool(READ_TOOL, {"limit": 0})
                seen.append(bad.model_dump_json())

        async with anyio.create_task_group() as group:
            for token in tokens:
                group.start_soon(work, token)
        seen.append(raw_post(team, "lwm_000000000000_wrong").text)
        assert team.school.stats["rate_limited"] == 0
        assert team.school.stats["total"] == 40
        audit = team.audit_path.read_text()
    text = "\n".join(seen) + audit + caplog.text
    for secret in [SANDBOX_ACCESS_TOKEN, *tokens]:
        assert secret not in text


def test_plain_http_on_a_non_loopback_host_is_refused_unless_allowed(tmp_path):
    with pytest.raises(ValueError, match="--tls-cert"):
        Binding(host="0.0.0.0").check()
    assert "unencrypted" in Binding(host="0.0.0.0", allow_plain_http=True).check()
    assert Binding(host="0.0.0.0", tls_cert="c.pem", tls_key="k.pem").check() is None
    assert Binding(host="::1").check() is None
    refused = CliRunner().invoke(app, ["serve", "--transport", "http", "--host", "10.1.2.3", "--sandbox"])
    assert refused.exit_code == 2 and "--allow-plain-http" in refused.output


def test_grant_create_prints_the_token_once_and_list_never_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNWORLDS_STATE_DIR", str(tmp_path / "state"))
    runner = CliRunner()
    made = runner.invoke(app, ["grant", "create", "carol", "--methods", "read", "--ttl", "8h",
                               "--url", "https://mcp.example.com/mcp"])
    assert made.exit_code == 0, made.output
    token = made.output.split("Token (shown only now; the server keeps only its hash):\n  ")[1].split()[0]
    assert (f'claude mcp add --transport http learnworlds-carol https://mcp.example.com/mcp '
            f'--header "Authorization: Bearer {token}"') in made.output
    entry = json.loads(made.output[made.output.index("{"):made.output.rindex("}") + 1])
    assert entry == {"learnworlds-carol": {"type": "http", "url": "https://mcp.example.com/mcp",
                                           "headers": {"Authorization": f"Bearer {token}"}}}
    store_bytes = (tmp_path / "state" / "grants.db").read_bytes()
    assert token.encode() not in store_bytes
    listed = runner.invoke(app, ["grant", "list"])
    assert "carol" in listed.output and "--methods read" in listed.output and token not in listed.output
    assert runner.invoke(app, ["grant", "create", "carol"]).exit_code == 2
    assert runner.invoke(app, ["grant", "create", "bad name"]).exit_code == 2
    assert runner.invoke(app, ["grant", "revoke", "carol"]).exit_code == 0
    assert runner.invoke(app, ["grant", "revoke", "carol"]).exit_code == 1
    assert "No grants" in runner.invoke(app, ["grant", "list"]).output


def test_the_server_hands_the_sdk_each_tools_input_schema_without_listing_every_tool(operations):
    from learnworlds_mcp.auth import Credentials as Creds
    from learnworlds_mcp.server import build_server

    client = LearnWorldsClient(Creds(api_url="https://s.example/admin/api", client_id="c", access_token="t" * 12))
    server = build_server([op for op in operations if op.name == READ_TOOL], client)
    assert server.get_tool_input_schema(READ_TOOL)["properties"]["limit"]
    assert server.get_tool_input_schema(WRITE_TOOL) is None
