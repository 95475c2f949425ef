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


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.anyio
@pytest.mark.parametrize("name, arguments, fragment", [
    (discovery.SEARCH, {"words": "suspend"}, "unknown argument(s) 'words'; valid arguments: query, tag, method"),
    (discovery.SEARCH, {"query": [1]}, "argument 'query': give text, not an array"),
    (discovery.SEARCH, {"query": {"a": 1}}, "argument 'query': give text, not an object"),
    (discovery.SEARCH, {"method": "delete-all"}, "argument 'method': 'delete-all' is not one of"),
    (discovery.DESCRIBE, {"name": "list_all_learn_worlds_roles", "verbose": True}, "unknown argument(s) 'verbose'"),
    (discovery.DESCRIBE, {}, "'name' is required"),
    (discovery.RUN_READ, {"name": ["list_all_learn_worlds_roles"]}, "argument 'name': give text, not an array"),
    (discovery.RUN_READ, {"name": "list_all_learn_worlds_roles", "arguments": {}, "dry": 1}, "unknown argument(s) 'dry'"),
    (discovery.RUN_READ, {"name": "list_all_learn_worlds_roles", "arguments": _nested(60)}, "nested deeper than 32"),
    (discovery.RUN_READ, {"name": "list_all_learn_worlds_roles", "arguments": "[" * 100_000},
     "give a JSON object of the tool's arguments"),
    (discovery.RUN_READ, {"name": "list_all_learn_worlds_roles", "arguments": json.dumps(_nested(60))},
     "nested deeper than 32"),
])
async def test_meta_tools_refuse_unknown_wrong_and_deep_arguments_like_every_tool(operations, httpx_mock, name,
                                                                                  arguments, fragment):
    async with Client(server(operations)) as client:
        result = await client.call_tool(name, arguments)
    text = result.content[0].text
    assert result.is_error and fragment in text, text
    assert "Internal" not in text and "Error" not in text.split(":")[0]


def test_the_search_schema_names_the_arguments_the_readme_gives(operations):
    from pathlib import Path

    search = discovery.meta_tools(operations)[0]
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    named = ", ".join(f"`{p}`" for p in search["inputSchema"]["properties"])
    assert f"`{discovery.SEARCH}` ({named})" in readme
