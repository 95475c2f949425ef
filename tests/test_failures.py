"""Failures mapped to ApiError by one table; a write whose answer was lost says its outcome is unknown."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import Client

from learnworlds_mcp.audit import AuditLog
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.policy import Policy
from learnworlds_mcp.server import build_server
from tests.conftest import SECRET
from tests.test_body import Upstream, head

API = "https://school.example/admin/api"
NEW_USER = {"email": "ada@example.com", "username": "ada"}


def mcp_for(operations, api_url, audit=None):
    client = LearnWorldsClient(Credentials(api_url=api_url, client_id="c", access_token=SECRET), max_retries=2)
    return Client(build_server(operations, Runtime(client, Policy()), audit))


async def create_user(operations, api_url, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with mcp_for(operations, api_url, audit) as session:
        result = await session.call_tool("create_a_learn_worlds_user", NEW_USER)
    audit.close()
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    return result, records


def assert_unknown_outcome(result, records, sent: int, requests: int):
    text = result.content[0].text
    payload = json.loads(text)
    assert result.is_error and payload["outcome"] == "unknown"
    assert "unknown" in text and "duplicate" in text and "try again shortly" not in text
    assert "list_all_learn_worlds_users" in text and "ada@example.com" in text  # how to check first
    assert [r["event"] for r in records] == ["intent", "outcome"] and records[1]["outcome"] == "unknown"
    assert sent == requests == 1  # never resent


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.anyio
async def test_a_create_answered_by_a_gateway_timeout_has_an_unknown_outcome(httpx_mock, operations, tmp_path,
                                                                             status):
    httpx_mock.add_response(method="POST", url=f"{API}/v2/users", status_code=status, text="<html>gateway</html>")
    result, records = await create_user(operations, API, tmp_path)
    assert_unknown_outcome(result, records, len(httpx_mock.get_requests()), records[1]["requests"])


@pytest.mark.anyio
async def test_a_create_whose_connection_drops_after_sending_has_an_unknown_outcome(operations, tmp_path):
    async def answer(writer):
        return  # read the request, then hang up without a word

    async with Upstream(answer) as upstream:
        result, records = await create_user(operations, upstream.api_url, tmp_path)
    assert_unknown_outcome(result, records, upstream.requests, records[1]["requests"])


@pytest.mark.anyio
async def test_a_create_whose_200_is_cut_off_has_an_unknown_outcome(operations, tmp_path):
    async def answer(writer):
        writer.write(head(201, Content_Length="200") + b'{"id": "new-us')
        await writer.drain()

    async with Upstream(answer) as upstream:
        result, records = await create_user(operations, upstream.api_url, tmp_path)
    assert_unknown_outcome(result, records, upstream.requests, records[1]["requests"])


@pytest.mark.anyio
async def test_a_create_with_a_garbled_success_body_has_an_unknown_outcome(httpx_mock, operations, tmp_path):
    httpx_mock.add_response(method="POST", url=f"{API}/v2/users", status_code=200, text='{"id": "new-us')
    result, records = await create_user(operations, API, tmp_path)
    assert_unknown_outcome(result, records, len(httpx_mock.get_requests()), records[1]["requests"])


@pytest.mark.anyio
async def test_a_create_that_never_connected_says_nothing_was_sent(operations, tmp_path, httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    result, records = await create_user(operations, API, tmp_path)
    text = result.content[0].text
    assert result.is_error and "Could not reach LearnWorlds" in text and "unknown" not in text
    assert records[-1]["outcome"] == "error"


@pytest.mark.anyio
async def test_a_read_with_a_lost_answer_is_retried_not_reported_unknown(httpx_mock, monkeypatch):
    from learnworlds_mcp import client as client_module

    async def no_wait(seconds):
        return None

    monkeypatch.setattr(client_module, "sleep", no_wait)
    httpx_mock.add_response(status_code=504)
    httpx_mock.add_response(json={"data": []})
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token=SECRET))
    assert await client.send("GET", "/v2/users") == {"data": []}


@pytest.mark.anyio
async def test_api_errors_record_the_method_and_path(httpx_mock):
    httpx_mock.add_response(status_code=404, json={"error": "User not found"})
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token=SECRET), max_retries=0)
    with pytest.raises(ApiError) as info:
        await client.send("DELETE", "/v2/users/u1")
    assert (info.value.method, info.value.path) == ("DELETE", "/v2/users/u1")


@pytest.mark.parametrize("write, read", [
    ("create_a_learn_worlds_user", "list_all_learn_worlds_users"),
    ("create_a_learn_worlds_affiliate", "list_all_learn_worlds_affiliates"),
    ("learn_worlds_promotion_coupons_bulk_create", "list_all_learn_worlds_promotion_coupons"),
    ("learn_worlds_users_enroll", "list_all_learn_worlds_user_courses"),
    ("create_a_learn_worlds_course_section", "get_single_learn_worlds_course_by_id"),
])
def test_the_check_for_a_lost_write_comes_from_the_registry(operations, write, read):
    from learnworlds_mcp import recovery

    by_name = {op.name: op for op in operations}
    assert recovery.check_operation(by_name[write], operations).name == read


def test_the_check_names_the_filters_the_list_takes_and_what_to_look_for(operations):
    from learnworlds_mcp import recovery

    enroll = next(op for op in operations if op.name == "learn_worlds_users_enroll")
    hint = recovery.check_hint(enroll, {"path": {"id": "ada@example.com"}, "body": {"productId": "c1", "price": 0}},
                               operations)
    assert hint == "To check: call list_all_learn_worlds_user_courses(id='ada@example.com') and look for productId='c1'."
