"""End to end against the sandbox school, with clients we did not write: the MCP Inspector CLI and the
SDK's stdio client replaying the two administrator workflows.

The truth they are checked against comes through raw HTTP from a standalone sandbox (plain httpx,
page by page, none of our client, pagination or shaping code), never from the objects the routes
serve nor from the MCP results under test.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.limiter import RateLimiter
from learnworlds_mcp.registry import load
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox
from learnworlds_mcp.server import build_server
from tests import strict
from tests.tooling import INSPECTOR, inspector_missing, unavailable

pytestmark = pytest.mark.subprocess
ROOT = Path(__file__).parent.parent
SINCE = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()


@pytest.fixture(scope="module")
def standalone():
    """A sandbox school on a loopback port of its own (seed 7, 2000 users), limit off so the truth is quick."""
    with start_sandbox(port=0, seed=7, users=2000, rate_limit=False) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def raw(standalone):
    """Plain httpx against the standalone sandbox: where the truth comes from."""
    headers = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
    with httpx.Client(base_url=standalone.api_url, headers=headers, timeout=30) as http:
        yield http


def raw_pages(http, path, **params):
    """Every item of a LearnWorlds list, page by page until meta.totalPages."""
    items, page = [], 1
    while True:
        body = http.get(path, params={**params, "page": page}).raise_for_status().json()
        items += body["data"]
        if page >= body["meta"]["totalPages"]:
            return items
        page += 1


def dormant_staff_truth(http):
    """(email, role title) of every admin and instructor not seen since SINCE, by raw HTTP."""
    titles = {role["access_level"]: role["title"] for role in http.get("/v2/user-roles").json()["data"]
              if not role["custom_role"]}
    users = raw_pages(http, "/v2/users", items_per_page=200, include_suspended="true")
    return sorted((u["email"], titles[u["role"]["level"]]) for u in users
                  if u["role"]["level"] in ("admin", "instructor") and (u.get("last_login") or 0) < SINCE), len(users)


def server_command(*extra):
    return [sys.executable, "-m", "learnworlds_mcp.cli", "serve", "--sandbox", *extra]


def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env["LEARNWORLDS_CONFIG_DIR"] = str(tmp_path)
    return env


def standalone_server(tmp_path, sandbox, *extra):
    """`serve` pointed at the standalone sandbox, as at a real school: the same data the truth reads."""
    env = dict(clean_env(tmp_path), LEARNWORLDS_API_URL=sandbox.api_url, LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID,
               LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
    return Client(StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve", *extra],
                                        env=env))


def inspector(tmp_path, *args):
    reason = inspector_missing()
    if reason:
        unavailable(reason)
    command = [str(INSPECTOR), "--cli", *server_command(), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=clean_env(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.node
def test_inspector_lists_pages_to_the_end_and_gets_a_tool_error(tmp_path, raw):
    tools = inspector(tmp_path, "--method", "tools/list")["tools"]
    assert len(tools) == len(load()) + 1  # every operation, and the query tool
    assert all(t["inputSchema"]["type"] == "object" for t in tools)

    seen, cursor, calls = [], None, 0
    while True:
        args = ["--tool-arg", "limit=20", "--tool-arg", "fields=title"]
        if cursor:
            args += ["--tool-arg", f"next_cursor={cursor}"]
        result = inspector(tmp_path, "--method", "tools/call", "--tool-name", "list_all_learn_worlds_groups", *args)
        assert not result.get("isError")
        page = result["structuredContent"]
        seen += [group["id"] for group in page["result"]]
        cursor, calls = page["next_cursor"], calls + 1
        if cursor is None:
            break
    # `serve --sandbox` seeds the same school (seed 7) as the standalone one the truth is read from.
    truth = [group["id"] for group in raw_pages(raw, "/v2/user_groups")]
    assert sorted(seen) == sorted(truth) and calls == -(-len(truth) // 20)

    bad = inspector(tmp_path, "--method", "tools/call", "--tool-name", "list_all_learn_worlds_groups",
                    "--tool-arg", "limit=0")
    assert bad["isError"] is True and "'limit'" in bad["content"][0]["text"]


async def every_page(client, tool, **arguments):
    items, cursor = [], None
    while True:
        result = await client.call_tool(tool, dict(arguments, **({"next_cursor": cursor} if cursor else {})))
        assert not result.is_error, result.content[0].text
        items += result.structured_content["result"]
        cursor = result.structured_content["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.anyio
async def test_audit_workflow_finds_dormant_admins_and_instructors(tmp_path, standalone, raw):
    async with standalone_server(tmp_path, standalone) as client:
        roles = (await client.call_tool("list_all_learn_worlds_roles", {})).structured_content["result"]
        users = await every_page(client, "list_all_learn_worlds_users", limit=200, include_suspended=True,
                                 fields="email,first_name,last_name,role,last_login")
    titles = {role["access_level"]: role["title"] for role in roles if not role.get("custom_role")}
    found = sorted((u["email"], titles[u["role"]["level"]]) for u in users
                   if u["role"]["level"] in ("admin", "instructor") and (u.get("last_login") or 0) < SINCE)
    truth, everyone = dormant_staff_truth(raw)
    assert len(users) == everyone
    by_name = {op.name: op for op in load()}
    assert strict.result_errors(by_name["list_all_learn_worlds_users"], {"result": users, "next_cursor": None}) == []
    assert strict.result_errors(by_name["list_all_learn_worlds_roles"], {"result": roles, "next_cursor": None}) == []
    assert found == truth and len(truth) >= 2


@pytest.mark.anyio
async def test_cohort_workflow_builds_the_manager_table(tmp_path, standalone, raw):
    async with standalone_server(tmp_path, standalone) as client:
        groups = await every_page(client, "list_all_learn_worlds_groups", limit=20)
        rows = []
        for group in (g for g in groups if g.get("enroll_users_on_courses")):
            for listed in group.get("group_managers", []):
                result = await client.call_tool("get_single_learn_worlds_user_by_id",
                                                {"id": listed["id"], "fields": "email,nps_score,is_instructor",
                                                 "include_suspended": True})
                assert not result.is_error, result.content[0].text
                manager = result.structured_content
                rows.append((group["title"], manager["email"], manager.get("nps_score"), manager["is_instructor"]))
    truth = []
    for group in raw_pages(raw, "/v2/user_groups"):
        for listed in group["group_managers"] if group["enroll_users_on_courses"] else []:
            manager = raw.get(f"/v2/users/{listed['id']}", params={"include_suspended": "true"}).raise_for_status().json()
            truth.append((group["title"], manager["email"], manager["nps_score"], manager["is_instructor"]))
    assert sorted(rows, key=str) == sorted(truth, key=str) and len(truth) >= 3


@pytest.mark.anyio
async def test_the_sandbox_429_reaches_the_model_with_the_wait_time(operations):
    with start_sandbox(port=0, users=50, rate_limit=True) as sandbox:
        creds = Credentials(api_url=sandbox.api_url, client_id=SANDBOX_CLIENT_ID, access_token=SANDBOX_ACCESS_TOKEN)
        # Our own limiter is opened wide and retries are off, so the school's limit is what bites.
        client = LearnWorldsClient(creds, limiter=RateLimiter(1000, 10.0), max_retries=0)
        async with Client(build_server(operations, Runtime(client))) as mcp:
            results = await asyncio.gather(*(mcp.call_tool("list_all_learn_worlds_roles", {}) for _ in range(40)))
    errors = [json.loads(r.content[0].text) for r in results if r.is_error]
    assert len(results) - len(errors) == 30 and len(errors) == 10
    for error in errors:
        assert error["status"] == 429 and "Too many requests" in error["error"]
        assert error["rate_limit"]["retry_after_seconds"] >= 1
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(error["rate_limit"])


def test_readme_first_command_prints_sandbox_users(tmp_path):
    done = subprocess.run([sys.executable, "-m", "learnworlds_mcp.cli", "call", "list_all_learn_worlds_users",
                           "--sandbox", "--arg", "limit=3"], capture_output=True, text=True, timeout=120,
                          env=clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["result"]) == 3 and all("@" in user["email"] for user in result["result"])
    assert "pip install . && learnworlds-mcp call list_all_learn_worlds_users --sandbox --arg limit=3" in \
        (ROOT / "README.md").read_text()


@pytest.mark.node
def test_inspector_lists_and_renders_the_prompts(tmp_path):
    prompts = inspector(tmp_path, "--method", "prompts/list")["prompts"]
    assert {p["name"] for p in prompts} == {"audit_inactive_staff", "cohort_report"}
    rendered = inspector(tmp_path, "--method", "prompts/get", "--prompt-name", "audit_inactive_staff",
                         "--prompt-args", "since=2023-06-01", "roles=admin")
    text = rendered["messages"][0]["content"]["text"]
    assert "2023-06-01" in text and str(int(datetime(2023, 6, 1, tzinfo=timezone.utc).timestamp())) in text
    assert "query_learn_worlds_data" in text and "FROM users" in text  # one query call, not the list walk


@pytest.mark.anyio
async def test_audit_workflow_through_discovery_mode_alone(tmp_path, standalone, raw):
    async with standalone_server(tmp_path, standalone, "--exposure", "discovery", "--tags", "directory") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"search_learn_worlds_tools", "describe_learn_worlds_tool", "run_learn_worlds_read_tool",
                         "run_learn_worlds_write_tool"}
        found = (await client.call_tool("search_learn_worlds_tools", {"query": "users", "method": "list"}))
        listed = [m["name"] for m in found.structured_content["result"]]
        assert "list_all_learn_worlds_users" in listed
        schema = (await client.call_tool("describe_learn_worlds_tool", {"name": "list_all_learn_worlds_users"}))
        assert "next_cursor" in schema.structured_content["inputSchema"]["properties"]

        async def run(name, arguments):
            result = await client.call_tool("run_learn_worlds_read_tool", {"name": name, "arguments": arguments})
            assert not result.is_error, result.content[0].text
            return result.structured_content

        roles = (await run("list_all_learn_worlds_roles", {}))["result"]
        users, cursor = [], None
        while True:
            page = await run("list_all_learn_worlds_users", {"limit": 200, "include_suspended": True,
                                                             "fields": "email,role,last_login",
                                                             **({"next_cursor": cursor} if cursor else {})})
            users += page["result"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    titles = {role["access_level"]: role["title"] for role in roles if not role.get("custom_role")}
    found = sorted((u["email"], titles[u["role"]["level"]]) for u in users
                   if u["role"]["level"] in ("admin", "instructor") and (u.get("last_login") or 0) < SINCE)
    truth, _ = dormant_staff_truth(raw)
    assert found == truth and truth
