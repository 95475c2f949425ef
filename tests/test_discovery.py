"""Discovery exposure: four meta-tools, filters still apply, reads and writes run by separate executors."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from learnworlds_mcp import discovery
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.registry import model_visible_bytes
from learnworlds_mcp.server import build_server

API = "https://school.example/admin/api"


def server(operations, **selection):
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token="t"), max_retries=0)
    return build_server(select(operations, Selection(**selection)), Runtime(client), exposure="discovery")


def test_the_meta_tools_fit_in_4000_bytes(operations):
    tools = discovery.meta_tools(operations)
    assert [t["name"] for t in tools] == [discovery.SEARCH, discovery.DESCRIBE, discovery.RUN_READ,
                                          discovery.RUN_WRITE]
    assert sum(model_visible_bytes(t) for t in tools) <= 4000
    assert tools[2]["annotations"]["readOnlyHint"] is True and tools[3]["annotations"]["destructiveHint"] is True


@pytest.mark.anyio
async def test_search_describe_and_run_a_read(operations, httpx_mock):
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": [{"id": "r1", "title": "Admin"}]})
    async with Client(server(operations)) as client:
        found = (await client.call_tool(discovery.SEARCH, {"query": "roles", "method": "read"})).structured_content
        assert "list_all_learn_worlds_roles" in [m["name"] for m in found["result"]]
        described = await client.call_tool(discovery.DESCRIBE, {"name": "list_all_learn_worlds_roles"})
        assert described.structured_content["inputSchema"]["type"] == "object"
        ran = await client.call_tool(discovery.RUN_READ, {"name": "list_all_learn_worlds_roles", "arguments": {}})
    assert ran.structured_content["result"] == [{"id": "r1", "title": "Admin"}]


@pytest.mark.anyio
async def test_executors_refuse_the_other_side_and_unselected_tools(operations, httpx_mock):
    async with Client(server(operations)) as client:
        wrong_side = await client.call_tool(discovery.RUN_READ, {"name": "learn_worlds_users_suspend",
                                                                 "arguments": {"id": "u"}})
        assert wrong_side.is_error and discovery.RUN_WRITE in wrong_side.content[0].text
        bad_args = await client.call_tool(discovery.RUN_WRITE, {"name": "learn_worlds_users_suspend",
                                                                "arguments": json.dumps({"idd": "u"})})
        assert bad_args.is_error and "unknown argument(s) 'idd'" in bad_args.content[0].text
    async with Client(server(operations, methods=("read",))) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert discovery.RUN_WRITE not in names
        hidden = await client.call_tool(discovery.RUN_READ, {"name": "learn_worlds_users_suspend"})
        assert hidden.is_error and "not a tool on this server" in hidden.content[0].text
        found = (await client.call_tool(discovery.SEARCH, {"query": "suspend"})).structured_content
        assert "learn_worlds_users_suspend" not in [m["name"] for m in found["result"]]
    assert httpx_mock.get_requests() == []


@pytest.mark.anyio
async def test_prompts_in_discovery_mode_point_at_the_read_executor(operations):
    async with Client(server(operations)) as client:
        rendered = await client.get_prompt("audit_inactive_staff", {})
    text = rendered.messages[0].content.text
    assert text.startswith("On this server, call each tool named below through run_learn_worlds_read_tool")
    assert "list_all_learn_worlds_users" in text
