"""MCP round trips in memory: listing, calling, validation before any request, errors as tool results."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.server import build_server
from tests.conftest import SECRET

API = "https://school.example/admin/api"


def server_for(operations, **selection):
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token=SECRET), max_retries=0)
    return build_server(select(operations, Selection(**selection)), client)


@pytest.mark.anyio
async def test_tools_are_listed_with_titles_annotations_and_schemas(operations):
    async with Client(server_for(operations)) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) == len(operations)
    users = next(t for t in tools if t.name == "list_all_learn_worlds_users")
    assert users.title and users.annotations.read_only_hint is True
    assert {"limit", "next_cursor"} <= set(users.input_schema["properties"])
    assert users.output_schema["properties"]["result"]["type"] == "array"
    suspend = next(t for t in tools if t.name == "learn_worlds_users_suspend")
    assert suspend.annotations.read_only_hint is False and suspend.annotations.destructive_hint is not None


@pytest.mark.anyio
async def test_a_call_becomes_one_request_and_a_structured_result(operations, httpx_mock):
    httpx_mock.add_response(url=f"{API}/v2/users/ada%40example.com",
                            json={"id": "u1", "email": "ada@example.com", "created": 1587639230.08, "nps_score": None})
    async with Client(server_for(operations)) as client:
        result = await client.call_tool("get_single_learn_worlds_user_by_id", {"id": "ada@example.com"})
    assert not result.is_error
    assert result.structured_content["email"] == "ada@example.com"
    assert json.loads(result.content[0].text) == result.structured_content
    assert "\n" not in result.content[0].text and ", " not in result.content[0].text  # compact JSON


@pytest.mark.anyio
async def test_flat_arguments_are_split_into_path_query_and_body(operations, httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{API}/v2/users/u1/enrollment", json={"success": True})
    async with Client(server_for(operations)) as client:
        result = await client.call_tool("learn_worlds_users_enroll", {
            "id": "u1", "productId": "course-101", "productType": "course", "price": 0})
    assert not result.is_error, result.content[0].text
    request = httpx_mock.get_request()
    assert json.loads(request.content) == {"productId": "course-101", "productType": "course", "price": 0}
    assert request.url.query == b""


@pytest.mark.parametrize("arguments, fragments", [
    ({"id": "u1", "productType": "course", "price": 0}, ["'productId' is required (body)"]),
    ({"id": "u1", "productId": "c", "productType": "video", "price": 0}, ["productType", "one of 'course'"]),
    ({"id": "u1", "productId": "c", "productType": "course", "price": "free"}, ["'price'", "number"]),
    ({"id": "u1", "productId": "c", "productType": "course", "price": 0, "user_id": "x"},
     ["unknown argument(s) 'user_id'", "valid arguments: id, "]),
])
@pytest.mark.anyio
async def test_invalid_arguments_name_the_field_and_send_nothing(operations, httpx_mock, arguments, fragments):
    async with Client(server_for(operations)) as client:
        result = await client.call_tool("learn_worlds_users_enroll", arguments)
    assert result.is_error
    for fragment in fragments:
        assert fragment in result.content[0].text
    assert httpx_mock.get_requests() == []


@pytest.mark.anyio
async def test_object_and_array_arguments_sent_as_json_text_are_parsed(operations, httpx_mock):
    httpx_mock.add_response(method="PUT", url=f"{API}/v2/users/u1/tags", json={"success": True})
    tags_tool = next(op for op in operations if op.name == "learn_worlds_users_update_tags")
    array_arg = next(n for n, p in tags_tool.input_schema["properties"].items() if p.get("type") == "array")
    async with Client(server_for(operations)) as client:
        result = await client.call_tool("learn_worlds_users_update_tags",
                                        {"id": "u1", array_arg: '["vip", "beta"]', "action": "attach"})
    assert not result.is_error, result.content[0].text
    assert json.loads(httpx_mock.get_request().content)[array_arg] == ["vip", "beta"]


@pytest.mark.anyio
async def test_a_filtered_out_tool_cannot_be_called(operations, httpx_mock):
    async with Client(server_for(operations, methods=("read",))) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "learn_worlds_users_suspend" not in names
        with pytest.raises(MCPError, match="does not offer it"):
            await client.call_tool("learn_worlds_users_suspend", {"id": "u1"})
    assert httpx_mock.get_requests() == []


@pytest.mark.anyio
async def test_api_errors_are_tool_results_not_exceptions(operations, httpx_mock):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    async with Client(server_for(operations)) as client:
        result = await client.call_tool("list_all_learn_worlds_roles", {})
    assert result.is_error
    payload = json.loads(result.content[0].text)
    assert payload["status"] == 429 and payload["rate_limit"]["ratelimit-limit"] == 30
    assert SECRET not in result.content[0].text
