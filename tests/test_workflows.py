"""The two workflow prompts end to end: the real command over stdio against a standalone sandbox, each job in
one query-tool call, checked against ground truth read from the sandbox over raw HTTP; and the list-tool
path, in memory, when the filters leave the query tool without the tables it needs."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timezone

import httpx
import pytest
from mcp import Client, StdioServerParameters

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.prompts import GROUPS_TOOL, QUERY_TOOL, USER_TOOL
from learnworlds_mcp.server import build_server
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, create_app, start_sandbox, truth

pytestmark = pytest.mark.subprocess
SEED = 11  # not the default school, so nothing here leans on seed 7's particulars
SINCE = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
MAX_ANSWER_BYTES = 5_000


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(port=0, seed=SEED, users=2000, rate_limit=True) as handle:
        yield handle


@pytest.fixture(scope="module")
def raw(sandbox):
    """What the school holds, read over plain HTTP (not through learnworlds_mcp)."""
    return {"users": truth.all_users(sandbox.api_url), "groups": truth.every_item(sandbox.api_url, "/v2/user_groups")}


def stdio_server(sandbox, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_CONFIG_DIR=str(tmp_path), LEARNWORLDS_API_URL=sandbox.api_url,
               LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID, LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
    return Client(StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve"], env=env))


def the_sql(prompt) -> str:
    text = prompt.messages[0].content.text
    found = re.search(r"```sql\n(.*?)\n```", text, re.S)
    assert found and QUERY_TOOL in text, text
    return found.group(1)


async def one_query(client, sql):
    """Call the query tool as the prompt says (again only while it reports loading); (answer, calls, bytes)."""
    calls = 0
    while True:
        result = await client.call_tool(QUERY_TOOL, {"sql": sql})
        calls += 1
        assert not result.is_error, result.content[0].text
        answer = result.structured_content
        if answer.get("status") != "loading":
            return answer, calls, len(result.content[0].text.encode())
        assert calls < 3, answer


def records(answer) -> list[dict]:
    return [dict(zip(answer["columns"], row)) for row in answer["rows"]]


@pytest.mark.anyio
async def test_audit_prompt_answers_in_one_query_call_equal_to_the_raw_http_truth(sandbox, raw, tmp_path):
    async with stdio_server(sandbox, tmp_path) as client:
        sql = the_sql(await client.get_prompt("audit_inactive_staff", {"since": "2024-01-01"}))
        answer, calls, size = await one_query(client, sql)
    expected = truth.inactive_staff(raw["users"], SINCE)
    got = [{"email": r["email"], "role": r["role"], "last_login": r["last_login"], "suspended": r["suspended"] == "yes"}
           for r in records(answer)]
    assert sorted(got, key=str) == sorted(expected, key=str) and len(expected) >= 3
    assert [r["last_login"] for r in got] == sorted((r["last_login"] for r in got),
                                                    key=lambda day: (day != "never", day))  # never first, then oldest
    staff = [u for u in raw["users"] if u["role"]["level"] in ("admin", "instructor")]
    assert {r["staff_checked"] for r in records(answer)} == {len(staff)}
    assert answer["tables"]["users"]["rows"] == len(raw["users"])
    assert calls == 1 and size <= MAX_ANSWER_BYTES


@pytest.mark.anyio
async def test_cohort_prompt_answers_in_one_query_call_equal_to_the_raw_http_truth(sandbox, raw, tmp_path):
    async with stdio_server(sandbox, tmp_path) as client:
        sql = the_sql(await client.get_prompt("cohort_report", {}))
        answer, calls, size = await one_query(client, sql)
    expected = truth.cohort_rows(raw["groups"], raw["users"])
    got = [{"group": r["group_title"], "email": r["manager_email"], "nps_score": r["nps_score"],
            "instructor": None if r["instructor"] is None else r["instructor"] == "yes",
            "suspended": None if r["manager_email"] is None else r["suspended"] == "yes"}
           for r in records(answer)]
    assert sorted(got, key=str) == sorted(expected, key=str)
    # The seeded school makes every column able to catch a wrong answer.
    assert {r["instructor"] for r in expected} >= {True, False}
    assert any(r["suspended"] for r in expected) and any(r["nps_score"] is not None for r in expected)
    assert calls == 1 and size <= MAX_ANSWER_BYTES


@pytest.mark.anyio
async def test_a_title_filter_narrows_the_cohort_query(sandbox, raw, tmp_path):
    word = raw["groups"][0]["title"].split(" - ")[0]
    async with stdio_server(sandbox, tmp_path) as client:
        sql = the_sql(await client.get_prompt("cohort_report", {"group_title_contains": word.upper()}))
        answer, _, _ = await one_query(client, sql)
    expected = [r for r in truth.cohort_rows(raw["groups"], raw["users"]) if word.lower() in r["group"].lower()]
    assert sorted(r["group_title"] for r in records(answer)) == sorted(r["group"] for r in expected)


# -- without the tables the query needs, the prompt walks the list tools --------------------------------


@pytest.fixture(scope="module")
def app():
    return create_app(seed=SEED, users=200, rate_limit=False)


@pytest.mark.anyio
async def test_the_list_tool_path_reads_suspended_managers(app, operations):
    school = app.state.school
    credentials = Credentials(api_url="http://sandbox.test/admin/api", client_id=SANDBOX_CLIENT_ID,
                              access_token=SANDBOX_ACCESS_TOKEN)
    client = LearnWorldsClient(credentials, transport=httpx.ASGITransport(app=app), max_retries=0)
    chosen = select(operations, Selection(tools=(GROUPS_TOOL, USER_TOOL)))  # no users table: no one-query plan
    locked = next(uid for g in school.groups.values() if g["enroll_users_on_courses"]
                  for uid in g["group_managers"] if school.users[uid]["is_suspended"])
    async with Client(build_server(chosen, Runtime(client))) as mcp:
        text = (await mcp.get_prompt("cohort_report", {})).messages[0].content.text
        assert QUERY_TOOL not in text and f"Call {USER_TOOL} once per distinct manager" in text
        named = dict(re.findall(r'(\w+)=("[^"]*"|true)', text.split(USER_TOOL, 1)[1].split(". ")[0]))
        arguments = {key: json.loads(value) for key, value in named.items()}
        assert arguments["include_suspended"] is True
        found = await mcp.call_tool(USER_TOOL, {"id": locked, **arguments})
        lost = await mcp.call_tool(USER_TOOL, {"id": locked, "fields": arguments["fields"]})
    assert not found.is_error and found.structured_content["is_suspended"] is True
    assert "nps_score" in arguments["fields"] and "is_instructor" in arguments["fields"]
    assert lost.is_error and '"status":404' in lost.content[0].text  # the trap the prompt avoids


@pytest.mark.anyio
async def test_in_discovery_mode_the_one_query_runs_through_the_read_executor(app, operations):
    from learnworlds_mcp.discovery import RUN_READ
    from learnworlds_mcp.store import QueryTool

    credentials = Credentials(api_url="http://sandbox.test/admin/api", client_id=SANDBOX_CLIENT_ID,
                              access_token=SANDBOX_ACCESS_TOKEN)
    client = LearnWorldsClient(credentials, transport=httpx.ASGITransport(app=app), max_retries=0)
    runtime = Runtime(client, store=QueryTool.build(operations, client))
    async with Client(build_server(operations, runtime, exposure="discovery")) as mcp:
        prompt = await mcp.get_prompt("audit_inactive_staff", {})
        result = await mcp.call_tool(RUN_READ, {"name": QUERY_TOOL, "arguments": {"sql": the_sql(prompt)}})
    assert RUN_READ in prompt.messages[0].content.text
    assert not result.is_error, result.content[0].text
    school = app.state.school
    expected = {u["email"] for u in school.users.values() if u["role"]["level"] in ("admin", "instructor")
                and (u["last_login"] is None or u["last_login"] < SINCE)}
    assert {dict(zip(result.structured_content["columns"], row))["email"]
            for row in result.structured_content["rows"]} == expected and expected
