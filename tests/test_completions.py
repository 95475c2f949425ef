"""Prompt argument completion over the in-memory client, against a sandbox school served through ASGI."""

from __future__ import annotations

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from learnworlds_mcp import completions
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.completions import Completer
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.server import build_server
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, create_app

API = "http://sandbox.test/admin/api"
AUDIT = types.PromptReference(name="audit_inactive_staff")
COHORT = types.PromptReference(name="cohort_report")


@pytest.fixture(scope="module")
def app():
    return create_app(seed=7, users=200, rate_limit=False)


@pytest.fixture
def school(app):
    app.state.school.reset_stats()
    return app.state.school


def runtime_for(app) -> Runtime:
    credentials = Credentials(api_url=API, client_id=SANDBOX_CLIENT_ID, access_token=SANDBOX_ACCESS_TOKEN)
    return Runtime(LearnWorldsClient(credentials, transport=httpx.ASGITransport(app=app), max_retries=0))


def server_for(app, operations, **selection):
    return build_server(select(operations, Selection(**selection)), runtime_for(app))


def titles(records) -> list[str]:
    return sorted((r["title"] for r in records), key=str.lower)


@pytest.mark.anyio
async def test_roles_complete_with_the_schools_role_names_and_are_cached(app, school, operations):
    async with Client(server_for(app, operations)) as client:
        everything = await client.complete(AUDIT, {"name": "roles", "value": ""})
        typed = await client.complete(AUDIT, {"name": "roles", "value": "su"})
        later = await client.complete(AUDIT, {"name": "roles", "value": "admin,Te"})
    assert everything.completion.values == titles(school.roles.values())
    assert typed.completion.values == ["Support admin"]
    assert later.completion.values == ["admin,Teaching assistant", "admin,Team lead"]
    assert school.stats["paths"] == {"/admin/api/v2/user-roles": 1}  # one read served all three


@pytest.mark.anyio
async def test_group_titles_come_from_every_page_first_by_prefix_then_by_contains(app, school, operations):
    async with Client(server_for(app, operations)) as client:
        everything = await client.complete(COHORT, {"name": "group_title_contains", "value": ""})
        sales = await client.complete(COHORT, {"name": "group_title_contains", "value": "sales"})
    assert everything.completion.values == titles(school.groups.values())
    assert len(school.groups) > 20  # more than one page of groups
    assert school.stats["paths"]["/admin/api/v2/user_groups"] == -(-len(school.groups) // 20)
    expected = sorted((g["title"] for g in school.groups.values() if "sales" in g["title"].lower()), key=str.lower)
    assert not any(t.lower().startswith("sales") for t in expected)  # so every match is by "contains"
    assert sales.completion.values == expected and expected


@pytest.mark.anyio
async def test_values_are_capped_at_the_protocol_limit_with_the_total():
    class Many(Completer):
        async def values(self, tool, field):
            return [f"Group {n:03d}" for n in range(250)]

    completer = Many([], None)
    params = types.CompleteRequestParams(ref=COHORT, argument=types.CompletionArgument(name="group_title_contains",
                                                                                         value="Group"))
    result = await completer.complete(None, params)
    assert len(result.completion.values) == completions.MAX_VALUES == 100
    assert result.completion.total == 250 and result.completion.has_more is True


@pytest.mark.anyio
async def test_a_filtered_out_list_tool_gives_no_values_and_sends_nothing(app, school, operations):
    server = server_for(app, operations, exclude_tools=("list_all_learn_worlds_groups", "list_all_learn_worlds_roles"))
    async with Client(server) as client:
        groups = await client.complete(COHORT, {"name": "group_title_contains", "value": ""})
        roles = await client.complete(AUDIT, {"name": "roles", "value": ""})
    assert groups.completion.values == [] and roles.completion.values == []
    assert school.stats["total"] == 0


@pytest.mark.anyio
async def test_upstream_failures_and_unknown_arguments_give_an_empty_answer(operations):
    def broken(request):
        return httpx.Response(500, json={"error": "Server error"})

    credentials = Credentials(api_url=API, client_id="c", access_token="t")
    client = LearnWorldsClient(credentials, transport=httpx.MockTransport(broken), max_retries=0)
    async with Client(build_server(operations, Runtime(client))) as mcp:
        failed = await mcp.complete(COHORT, {"name": "group_title_contains", "value": "a"})
        unknown = await mcp.complete(COHORT, {"name": "no_such_argument", "value": "a"})
        since = await mcp.complete(AUDIT, {"name": "since", "value": "2024"})
        template = await mcp.complete(types.ResourceTemplateReference(uri="x://{id}"), {"name": "id", "value": ""})
    for answer in (failed, unknown, since, template):
        assert answer.completion.values == []


@pytest.mark.anyio
async def test_a_failed_fetch_is_retried_only_after_a_pause(app, school, operations):
    now = [0.0]
    completer = Completer(operations, runtime_for(app), clock=lambda: now[0])
    calls = []
    real = completer._fetch

    async def flaky(operation, field):
        calls.append(now[0])
        if len(calls) == 1:
            raise httpx.ConnectError("down")
        return await real(operation, field)

    completer._fetch = flaky
    assert await completer.values("list_all_learn_worlds_roles", "title") is None
    assert await completer.values("list_all_learn_worlds_roles", "title") is None  # within the pause
    now[0] = completions.RETRY_SECONDS + 1
    assert await completer.values("list_all_learn_worlds_roles", "title") == titles(school.roles.values())
    now[0] += completions.CACHE_SECONDS - 1
    await completer.values("list_all_learn_worlds_roles", "title")
    now[0] += 2
    await completer.values("list_all_learn_worlds_roles", "title")
    assert len(calls) == 3  # the failure, the first success, and one refresh after the cache expired


@pytest.mark.anyio
async def test_a_prompt_takes_role_names_checked_against_the_school(app, school, operations):
    async with Client(server_for(app, operations)) as client:
        named = await client.get_prompt("audit_inactive_staff", {"roles": "admin, teaching ASSISTANT"})
        with pytest.raises(MCPError, match=r"'roles'.*role names of this school: Admin, .*Teaching assistant"):
            await client.get_prompt("audit_inactive_staff", {"roles": "admin,Owner"})
    text = named.messages[0].content.text
    assert "role.name is one of Teaching assistant" in text and "role.level is one of admin" in text


@pytest.mark.anyio
async def test_without_the_roles_tool_only_access_levels_pass(app, school, operations):
    server = server_for(app, operations, exclude_tools=("list_all_learn_worlds_roles",))
    async with Client(server) as client:
        with pytest.raises(MCPError, match="role names are taken when the server offers list_all_learn_worlds_roles"):
            await client.get_prompt("audit_inactive_staff", {"roles": "Teaching assistant"})
    assert school.stats["total"] == 0
