"""Under load, faults and hostile ids, against the sandbox school: every failure is a clear tool error,
the server keeps serving, and no 429 reaches the model when the limiter does its job."""

from __future__ import annotations

import asyncio
import json

import pytest
from mcp import Client

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox
from learnworlds_mcp.server import build_server


def mcp_for(operations, api_url, **client_options):
    creds = Credentials(api_url=api_url, client_id=SANDBOX_CLIENT_ID, access_token=SANDBOX_ACCESS_TOKEN)
    return Client(build_server(operations, Runtime(LearnWorldsClient(creds, **client_options))))


@pytest.mark.anyio
async def test_100_parallel_calls_all_succeed_without_a_429(operations):
    with start_sandbox(port=0, users=50, rate_limit=True) as sandbox:
        async with mcp_for(operations, sandbox.api_url) as client:  # default limiter: 30 per 10 s
            results = await asyncio.gather(*(client.call_tool("list_all_learn_worlds_roles", {})
                                             for _ in range(100)))
        stats = sandbox.school.stats
    assert [r.is_error for r in results] == [False] * 100
    assert stats["rate_limited"] == 0 and stats["total"] == 100


FAULTS = [
    ("500", "HTTP 500"),
    ("502_html", "HTTP 502"),
    ("timeout", "did not answer in time"),
    ("drop", "broke off mid-answer"),
    ("bad_json", "not JSON"),
    ("success_false", "HTTP 200"),
]


@pytest.mark.parametrize("kind, fragment", FAULTS, ids=[k for k, _ in FAULTS])
@pytest.mark.anyio
async def test_each_fault_is_a_clear_tool_error_and_the_next_call_works(operations, kind, fragment):
    with start_sandbox(port=0, users=20, rate_limit=False) as sandbox:
        sandbox.school.inject_fault(kind, count=1, seconds=5 if kind == "timeout" else None)
        async with mcp_for(operations, sandbox.api_url, timeout=1.0, max_retries=0) as client:
            failed = await client.call_tool("list_all_learn_worlds_roles", {})
            after = await client.call_tool("list_all_learn_worlds_roles", {})
    assert failed.is_error and fragment in failed.content[0].text
    assert "Internal error" not in failed.content[0].text
    assert not after.is_error and after.structured_content["result"]


@pytest.mark.anyio
async def test_a_gateway_fault_on_a_read_is_retried_away(operations):
    with start_sandbox(port=0, users=20, rate_limit=False) as sandbox:
        sandbox.school.inject_fault("502_html", count=1)
        async with mcp_for(operations, sandbox.api_url, max_retries=2) as client:
            result = await client.call_tool("list_all_learn_worlds_roles", {})
        assert not result.is_error and sandbox.school.stats["faulted"] == 1


@pytest.mark.parametrize("hostile", ["../../v2/users", "%2F", "..", "a/b", "x?y=1#z"])
@pytest.mark.anyio
async def test_hostile_ids_stay_one_path_segment(operations, hostile):
    with start_sandbox(port=0, users=20, rate_limit=False) as sandbox:
        async with mcp_for(operations, sandbox.api_url, max_retries=0) as client:
            result = await client.call_tool("get_single_learn_worlds_user_by_id", {"id": hostile})
        paths = list(sandbox.school.stats["paths"])
    assert result.is_error and json.loads(result.content[0].text)["status"] == 404
    # The school decoded exactly one segment back to the whole hostile id: no traversal, no new query.
    assert paths == ["/admin/api/v2/users/" + hostile]


@pytest.mark.anyio
async def test_an_email_works_as_a_user_id(operations):
    with start_sandbox(port=0, users=20, rate_limit=False) as sandbox:
        user = next(iter(sandbox.school.users.values()))
        async with mcp_for(operations, sandbox.api_url) as client:
            result = await client.call_tool("get_single_learn_worlds_user_by_id",
                                            {"id": user["email"], "fields": "email"})
    assert result.structured_content == {"id": user["id"], "email": user["email"]}
