"""The per-call context: expiry checked as each request leaves, and the audit's intent record before a write."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from mcp import Client

from learnworlds_mcp import calls
from learnworlds_mcp.audit import AuditLog
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.calls import open_call
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import PolicyError
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.limiter import RateLimiter
from learnworlds_mcp.policy import Policy
from learnworlds_mcp.server import build_server
from tests.conftest import SECRET

API = "https://school.example/admin/api"
CREDS = Credentials(api_url=API, client_id="c", access_token=SECRET)


@pytest.mark.anyio
async def test_a_request_that_waited_in_the_limiter_past_expiry_is_not_sent(httpx_mock):
    httpx_mock.add_response(json={"data": []}, is_reusable=True)
    client = LearnWorldsClient(CREDS, limiter=RateLimiter(1, 0.6), max_retries=0)
    open_call(expires_at=time.time() + 0.3)
    await client.send("GET", "/v2/users")
    with pytest.raises(PolicyError, match="expired"):
        await client.send("GET", "/v2/users")  # waits ~0.6 s for the slot; the call expired meanwhile
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_expiry_is_checked_again_before_a_retry(httpx_mock, monkeypatch):
    from learnworlds_mcp import client as client_module

    httpx_mock.add_response(status_code=502, json={"error": "bad gateway"})
    now = [time.time()]
    monkeypatch.setattr(calls, "clock", lambda: now[0])

    async def sleep(seconds):  # the backoff carries the call past its expiry
        now[0] += 60

    monkeypatch.setattr(client_module, "sleep", sleep)
    client = LearnWorldsClient(CREDS, max_retries=2)
    open_call(expires_at=now[0] + 30)
    with pytest.raises(PolicyError, match="expired"):
        await client.send("GET", "/v2/users")
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_each_call_keeps_its_own_expiry_on_one_shared_client(httpx_mock):
    httpx_mock.add_response(json={"data": []}, is_reusable=True)
    client = LearnWorldsClient(CREDS, max_retries=0)

    async def one(expires_at):
        open_call(expires_at=expires_at)
        return await client.send("GET", "/v2/users")

    results = await asyncio.gather(one(time.time() + 60), one(time.time() - 1), return_exceptions=True)
    assert results[0] == {"data": []} and isinstance(results[1], PolicyError)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_the_server_checks_expiry_between_pages_of_its_own_call(httpx_mock, operations):
    """Policy.admit passes at the start; the request itself leaves after expiry and is refused."""
    httpx_mock.add_response(json={"data": []}, is_reusable=True)
    client = LearnWorldsClient(CREDS, limiter=RateLimiter(1, 0.6), max_retries=0)
    policy = Policy()
    async with Client(build_server(operations, Runtime(client, policy))) as session:
        policy.expires_at = time.time() + 0.3  # from here: the handshake may be slow on a loaded machine
        first, second = await asyncio.gather(session.call_tool("list_all_learn_worlds_roles", {}),
                                             session.call_tool("list_all_learn_worlds_roles", {}))
    assert [first.is_error, second.is_error].count(True) == 1
    refused = first if first.is_error else second
    assert "expired" in refused.content[0].text
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_a_write_has_its_intent_on_disk_before_it_reaches_the_school(httpx_mock, operations, tmp_path):
    path = tmp_path / "audit.jsonl"
    seen_at_send: list[list[dict]] = []

    def school(request: httpx.Request) -> httpx.Response:
        seen_at_send.append([json.loads(line) for line in path.read_text().splitlines()])
        return httpx.Response(200, json={"success": True})

    httpx_mock.add_callback(school, method="PUT")
    audit = AuditLog(path, secrets=(SECRET,))
    client = LearnWorldsClient(CREDS, max_retries=0)
    async with Client(build_server(operations, Runtime(client, Policy()), audit)) as session:
        result = await session.call_tool("learn_worlds_users_suspend", {"id": "u1"})
    audit.close()
    assert not result.is_error
    [before] = seen_at_send
    assert [r["event"] for r in before] == ["intent"]
    assert before[0]["tool"] == "learn_worlds_users_suspend" and before[0]["request"] == "PUT /v2/users/u1/suspend"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["event"] for r in records] == ["intent", "outcome"]
    assert records[0]["call_id"] == records[1]["call_id"] and records[1]["outcome"] == "ok"


@pytest.mark.anyio
async def test_reads_and_refused_writes_leave_no_intent_record(httpx_mock, operations, tmp_path):
    httpx_mock.add_response(json={"data": []})
    audit = AuditLog(tmp_path / "a.jsonl")
    client = LearnWorldsClient(CREDS, max_retries=0)
    async with Client(build_server(operations, Runtime(client, Policy(max_writes=0)), audit)) as session:
        await session.call_tool("list_all_learn_worlds_roles", {})
        await session.call_tool("learn_worlds_users_suspend", {"id": "u1"})
    audit.close()
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r["event"] for r in records] == ["outcome", "outcome"]
    assert [r["outcome"] for r in records] == ["ok", "refused"]
