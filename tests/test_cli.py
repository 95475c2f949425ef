"""The command line: list-tools, filter exit codes, auth login/status/logout, and secrets never printed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from learnworlds_mcp import profiles
from learnworlds_mcp.cli import app
from tests.conftest import SECRET

runner = CliRunner()


def run(*args, input=None, env=None):
    return runner.invoke(app, list(args), input=input, env=env)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("learnworlds-mcp ")


def test_list_tools_needs_no_credentials_and_shows_the_price():
    result = run("list-tools", "--methods", "read", "--tags", "directory")
    assert result.exit_code == 0, result.output
    assert "list_all_learn_worlds_users" in result.output and "create_a_learn_worlds_user" not in result.output
    assert "model-visible bytes" in result.output and "tokens per turn" in result.output


def test_list_tools_json_is_what_the_server_sends_plus_routing_facts(operations):
    result = run("list-tools", "--json", "--tools", "list_all_learn_worlds_users")
    rows = json.loads(result.output)
    users = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    assert rows == [dict(users.tool(), http_method="GET", path="/v2/users", kind="list", tags=list(users.tags))]


def test_filters_read_their_environment_twins():
    result = run("list-tools", "--json", env={"LEARNWORLDS_METHODS": "delete", "LEARNWORLDS_TAGS": "groups"})
    assert [row["name"] for row in json.loads(result.output)] == ["delete_a_learn_worlds_group_by_id"]


@pytest.mark.parametrize("args, fragment", [
    (["--methods", "reed"], "valid methods: create, custom"),
    (["--tags", "nope"], "valid tags:"),
    (["--tools", "nope"], "unknown tool 'nope'"),
    (["--methods", "delete", "--tags", "roles"], "Tools per method:"),
])
@pytest.mark.parametrize("command", ["list-tools", "serve"])
def test_bad_filters_exit_2_before_anything_starts(command, args, fragment):
    result = run(command, *args)
    assert result.exit_code == 2
    assert fragment in result.output


def test_serve_without_credentials_names_the_fix():
    result = run("serve")
    assert result.exit_code == 1 and "learnworlds-mcp auth login" in result.output


def test_login_status_logout_round_trip_never_prints_the_secret(isolated):
    login = run("auth", "login", "--school-url", "myschool.learnworlds.com", "--client-id", "client-1",
                input=SECRET + "\n")
    assert login.exit_code == 0, login.output
    assert isolated.store[("learnworlds-mcp", "default")] == SECRET
    assert SECRET not in profiles.config_path().read_text()
    status = run("auth", "status")
    assert status.exit_code == 0 and "https://myschool.learnworlds.com/admin/api" in status.output
    assert "OS keyring" in status.output
    logout = run("auth", "logout")
    assert logout.exit_code == 0 and isolated.store == {}
    for result in (login, status, logout):
        assert SECRET not in result.output


def test_login_reads_a_client_secret_from_stdin_for_scripts(isolated):
    result = run("auth", "login", "--profile", "ci", "--school-url", "https://s.example", "--client-id", "c",
                 "--use-client-secret", "--secret-stdin", input=SECRET + "\n")
    assert result.exit_code == 0
    assert profiles.read_profile("ci").secret_kind == "client_secret"


def test_login_refuses_plain_http_and_stores_nothing(isolated):
    result = run("auth", "login", "--school-url", "http://school.example", "--client-id", "c", input=SECRET + "\n")
    assert result.exit_code == 2 and "plain http is refused" in result.output
    assert isolated.store == {} and not profiles.config_path().exists()


def test_no_option_takes_a_secret():
    for command in (["serve"], ["auth", "login"]):
        help_text = run(*command, "--help").output
        assert "--token" not in help_text and "--secret " not in help_text and "--access-token" not in help_text
