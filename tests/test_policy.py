"""Dry-run, the write cap, expiry (server and profile) and the audit log."""

from __future__ import annotations

import json
import stat
import threading
import time

import pytest
from mcp import Client

from learnworlds_mcp import auth, profiles
from learnworlds_mcp.audit import AuditLog
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import CredentialsError
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.policy import Policy, expiry_from, parse_ttl
from learnworlds_mcp.server import build_server
from tests.conftest import SECRET

API = "https://school.example/admin/api"


def make_server(operations, policy, audit=None):
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token=SECRET), max_retries=0)
    return build_server(operations, Runtime(client, policy), audit)


@pytest.mark.anyio
async def test_dry_run_returns_the_exact_request_and_sends_nothing(operations, httpx_mock):
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": [{"id": "r1"}]})
    async with Client(make_server(operations, Policy(dry_run=True))) as client:
        write = await client.call_tool("learn_worlds_users_enroll", {
            "id": "ada@example.com", "productId": "course-101", "productType": "course", "price": 0})
        read = await client.call_tool("list_all_learn_worlds_roles", {})
    assert write.structured_content == {"dry_run": True, "request": {
        "method": "POST", "path": "/v2/users/ada%40example.com/enrollment", "query": {},
        "body": {"productId": "course-101", "productType": "course", "price": 0}}}
    assert not read.is_error and read.structured_content["result"] == [{"id": "r1"}]
    assert [r.url.path for r in httpx_mock.get_requests()] == ["/admin/api/v2/user-roles"]


@pytest.mark.anyio
async def test_max_writes_refuses_after_the_cap(operations, httpx_mock):
    httpx_mock.add_response(method="PUT", json={"success": True}, is_reusable=True)
    async with Client(make_server(operations, Policy(max_writes=2))) as client:
        results = [await client.call_tool("learn_worlds_users_suspend", {"id": f"u{n}"}) for n in range(3)]
    assert [r.is_error for r in results] == [False, False, True]
    assert "allows 2 write(s)" in results[2].content[0].text
    assert len(httpx_mock.get_requests()) == 2


@pytest.mark.anyio
async def test_expired_access_sends_nothing(operations, httpx_mock):
    async with Client(make_server(operations, Policy(expires_at=time.time() - 1))) as client:
        result = await client.call_tool("list_all_learn_worlds_roles", {})
    assert result.is_error and "Access expired" in result.content[0].text
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("8h", 28800), ("2d", 172800), ("45s", 45)])
def test_ttl(text, seconds):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("expires_at, ttl, fragment", [
    ("2020-01-01", None, "already past"), ("tomorrow", None, "ISO 8601"), (None, "8 hours", "duration"),
    ("2999-01-01", "8h", "not both"),
])
def test_bad_expiry_says_how_to_fix_it(expires_at, ttl, fragment):
    with pytest.raises(ValueError, match=fragment):
        expiry_from(expires_at, ttl)


def test_an_expired_profile_loses_its_secret_at_next_use(isolated):
    profiles.save_profile("contractor", profiles.Profile(school_url="https://s.example", client_id="c",
                                                         expires_at=time.time() - 5))
    profiles.store_secret("contractor", SECRET)
    with pytest.raises(CredentialsError, match="expired") as info:
        auth.resolve("contractor", env={})
    assert SECRET not in str(info.value)
    assert isolated.store == {}


def test_a_profile_in_its_time_carries_the_expiry(isolated):
    later = time.time() + 3600
    profiles.save_profile("p", profiles.Profile(school_url="https://s.example", client_id="c", expires_at=later))
    profiles.store_secret("p", SECRET)
    assert auth.resolve("p", env={}).expires_at == later


@pytest.mark.anyio
async def test_audit_log_records_every_call_without_secrets(operations, httpx_mock, tmp_path):
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": []})
    path = tmp_path / "audit" / "calls.jsonl"
    audit = AuditLog(path, secrets=(SECRET,))
    async with Client(make_server(operations, Policy(), audit)) as client:
        await client.call_tool("list_all_learn_worlds_roles", {})
        await client.call_tool("learn_worlds_users_suspend", {"id": ""})
        await client.call_tool("list_all_learn_worlds_users", {"search": SECRET, "password": "hunter2"})
    audit.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert SECRET not in text and "hunter2" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["tool"] for r in records] == ["list_all_learn_worlds_roles", "learn_worlds_users_suspend",
                                            "list_all_learn_worlds_users"]
    assert records[0]["outcome"] == "ok" and records[0]["status"] == 200 and records[0]["requests"] == 1
    assert records[1]["outcome"] == "error" and records[1]["requests"] == 0
    assert {"time", "arguments", "duration_ms"} <= set(records[0])


def test_concurrent_appends_stay_whole_lines(tmp_path):
    audit = AuditLog(tmp_path / "a.jsonl")
    threads = [threading.Thread(target=lambda n=n: [audit.record(tool=f"t{n}", arguments={"x": "y" * 500})
                                                    for _ in range(50)]) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    audit.close()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(lines) == 400 and all(json.loads(line)["arguments"]["x"] == "y" * 500 for line in lines)


@pytest.mark.anyio
async def test_concurrent_calls_each_audit_their_own_requests(operations, httpx_mock, tmp_path):
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": []}, is_reusable=True)
    httpx_mock.add_response(method="POST", url=f"{API}/v2/users", status_code=201, json={"id": "new"})
    audit = AuditLog(tmp_path / "a.jsonl")
    async with Client(make_server(operations, Policy(), audit)) as client:
        import anyio

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(client.call_tool, "list_all_learn_worlds_roles", {})
            group.start_soon(client.call_tool, "create_a_learn_worlds_user", {"email": "a@b.example",
                                                                              "username": "ab"})
    audit.close()
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    records = [r for r in records if r["event"] == "outcome"]  # the create also left its intent record
    assert [r["requests"] for r in records] == [1] * 6
    assert {r["status"] for r in records} == {200, 201}
