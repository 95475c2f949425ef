"""No credentials must not look like a dead server: it starts, lists its tools, and every call says how to fix it."""

from __future__ import annotations

import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

from learnworlds_mcp import discovery, profiles
from learnworlds_mcp.cli import app

runner = CliRunner()


def bare_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env["LEARNWORLDS_CONFIG_DIR"] = str(tmp_path / "config")
    # A keyring backend that holds nothing, so the child never touches the machine's keyring.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


@pytest.mark.subprocess
@pytest.mark.anyio
async def test_serve_without_credentials_lists_tools_and_answers_each_call_with_the_fix(tmp_path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve", "--tags",
                                                                  "roles", "--profile", "school2"],
                                   env=bare_env(tmp_path))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "list_all_learn_worlds_roles" in names
        for name in sorted(names)[:3]:
            result = await client.call_tool(name, {"id": "r1"} if "by_id" in name else {})
            text = json.loads(result.content[0].text)["error"]
            assert result.is_error
            assert "learnworlds-mcp auth login --profile school2 --school-url" in text
            assert '"env": {"LEARNWORLDS_SCHOOL_URL"' in text and "LEARNWORLDS_ACCESS_TOKEN" in text


@pytest.mark.anyio
async def test_discovery_executors_without_credentials_answer_with_the_fix(operations):
    from learnworlds_mcp.executor import Runtime
    from learnworlds_mcp.server import build_server
    from learnworlds_mcp.unconfigured import UnconfiguredClient, setup_message

    client = UnconfiguredClient(setup_message("no credentials"))
    async with Client(build_server(operations, Runtime(client), exposure="discovery")) as session:
        found = await session.call_tool(discovery.SEARCH, {"query": "roles"})
        assert not found.is_error  # searching needs no school
        ran = await session.call_tool(discovery.RUN_READ, {"name": "list_all_learn_worlds_roles"})
    assert ran.is_error and "learnworlds-mcp auth login --school-url" in ran.content[0].text


@pytest.mark.parametrize("host", [["install", "claude-desktop", "--print"], ["install", "claude-code"]])
def test_install_warns_when_the_profile_has_no_credentials(host, isolated):
    result = runner.invoke(app, [*host, "--profile", "school2"])
    assert result.exit_code == 0, result.output
    assert "Warning: profile 'school2' has no stored credentials" in result.output
    assert "learnworlds-mcp auth login --profile school2" in result.output
    profiles.save_profile("school2", profiles.Profile(school_url="https://s.example", client_id="c"))
    isolated.store[("learnworlds-mcp", "school2")] = "a-stored-token"
    assert "Warning" not in runner.invoke(app, [*host, "--profile", "school2"]).output


def test_install_of_a_sandbox_entry_needs_no_credentials():
    result = runner.invoke(app, ["install", "claude-code", "--sandbox"])
    assert result.exit_code == 0 and "Warning" not in result.output
