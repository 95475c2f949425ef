"""The command line: list-tools, filter exit codes, auth login/status/logout, and secrets never printed."""

from __future__ import annotations

import json

import keyring
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
    (["--exposure", "both"], "'tools', 'discovery'"),
])
@pytest.mark.parametrize("command", ["list-tools", "serve"])
def test_bad_filters_exit_2_before_anything_starts(command, args, fragment):
    result = run(command, *args)
    assert result.exit_code == 2
    assert fragment in " ".join(result.output.replace("│", " ").split())


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


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    return tmp_path


def desktop_config(home):
    from learnworlds_mcp.hosts import desktop_config_path

    return desktop_config_path(home=home)


def test_install_claude_desktop_keeps_other_servers_and_is_idempotent(home):
    path = desktop_config(home)
    path.parent.mkdir(parents=True)
    other = {"mcpServers": {"files": {"command": "npx", "args": ["fs"]}}, "theme": "dark"}
    path.write_text(json.dumps(other))
    first = run("install", "claude-desktop", "--methods", "read")
    assert first.exit_code == 0, first.output
    written = json.loads(path.read_text())
    assert written["theme"] == "dark" and written["mcpServers"]["files"] == other["mcpServers"]["files"]
    ours = written["mcpServers"]["learnworlds"]
    assert ours["command"].startswith("/") and ours["args"] == ["serve", "--methods", "read"]
    before = path.read_text()
    second = run("install", "claude-desktop", "--methods", "read")
    assert second.exit_code == 0 and "nothing changed" in second.output and path.read_text() == before


def test_install_claude_desktop_leaves_a_broken_file_untouched(home):
    path = desktop_config(home)
    path.parent.mkdir(parents=True)
    path.write_text('{"mcpServers": {"a": {"command": "x",}}}')
    result = run("install", "claude-desktop")
    assert result.exit_code == 1 and "line 1" in result.output
    assert path.read_text() == '{"mcpServers": {"a": {"command": "x",}}}'


def test_install_checks_serve_filters_and_prints_without_writing(home):
    assert run("install", "claude-desktop", "--tags", "nope").exit_code == 2
    printed = run("install", "claude-desktop", "--print", "--tags", "directory")
    assert printed.exit_code == 0 and '"--tags"' in printed.output and not desktop_config(home).exists()
    code = run("install", "claude-code", "--methods", "read")
    assert code.exit_code == 0 and code.stdout.startswith("claude mcp add learnworlds -- /")


def test_doctor_passes_against_the_sandbox():
    result = run("doctor", "--sandbox", "--methods", "read")
    assert result.exit_code == 0, result.output
    assert result.output.count("\nok ") + result.output.startswith("ok ") == 7


def test_doctor_names_a_wrong_token_and_its_fix():
    from learnworlds_sandbox import SANDBOX_CLIENT_ID, start_sandbox

    with start_sandbox(port=0, users=20) as sandbox:
        result = run("doctor", env={"LEARNWORLDS_API_URL": sandbox.api_url, "LEARNWORLDS_CLIENT_ID": SANDBOX_CLIENT_ID,
                                    "LEARNWORLDS_ACCESS_TOKEN": SECRET})
    assert result.exit_code == 1 and "FAIL  credentials accepted" in result.output and "auth login" in result.output
    assert SECRET not in result.output


def test_doctor_names_a_stopped_server():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("doctor", env={"LEARNWORLDS_API_URL": f"http://127.0.0.1:{port}", "LEARNWORLDS_CLIENT_ID": "c",
                                "LEARNWORLDS_ACCESS_TOKEN": SECRET})
    assert result.exit_code == 1 and "FAIL  API reachable" in result.output and "--api-url" in result.output


def test_doctor_names_a_missing_keyring_backend():
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    profiles.save_profile("default", profiles.Profile(school_url="https://s.example", client_id="c"))
    result = run("doctor")
    assert result.exit_code == 1 and "FAIL  keyring backend" in result.output
    assert "LEARNWORLDS_ACCESS_TOKEN" in result.output


def test_sandbox_command_reports_a_busy_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = run("sandbox", "--port", str(sock.getsockname()[1]), "--users", "20")
    assert result.exit_code == 2 and "pick another port" in result.output


@pytest.mark.parametrize("command", [["call", "list_all_learn_worlds_roles"], ["auth", "status"], ["auth", "logout"]])
def test_a_broken_keyring_gives_the_environment_route_not_a_traceback(command):
    class Broken(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            raise RuntimeError("dbus is gone")

        set_password = delete_password = get_password

    keyring.set_keyring(Broken())
    profiles.save_profile("default", profiles.Profile(school_url="https://s.example", client_id="c"))
    result = run(*command)
    assert result.exit_code == 1 and "LEARNWORLDS_ACCESS_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_login_with_a_broken_keyring_stores_nothing():
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    result = run("auth", "login", "--school-url", "https://s.example", "--client-id", "c", input=SECRET + "\n")
    assert result.exit_code == 1 and "no OS keyring backend" in result.output
    assert not profiles.config_path().exists() and SECRET not in result.output


@pytest.mark.parametrize("url", ["http://[127.0.0.1]", "http://[::1", "https://school.example＃x"])
def test_a_malformed_api_url_is_a_clear_error_and_writes_nothing(isolated, url):
    env = {"LEARNWORLDS_CLIENT_ID": "c", "LEARNWORLDS_ACCESS_TOKEN": SECRET}
    called = run("call", "list_all_learn_worlds_roles", "--api-url", url, env=env)
    assert called.exit_code == 2 and "--api-url" in called.output and "Traceback" not in called.output
    assert called.exception is None or isinstance(called.exception, SystemExit)
    login = run("auth", "login", "--school-url", "https://s.example", "--api-url", url, "--client-id", "c",
                input=SECRET + "\n")
    assert login.exit_code == 2 and "--api-url" in login.output
    assert isolated.store == {} and not profiles.config_path().exists()


@pytest.mark.parametrize("seed", [None, 3])
def test_call_with_sandbox_serves_the_school_of_the_seed(seed):
    from learnworlds_sandbox.seed import build_school

    extra = [] if seed is None else ["--seed", str(seed)]
    result = run("call", "list_all_learn_worlds_roles", "--sandbox", *extra, "--arg", "fields=title")
    assert result.exit_code == 0, result.output
    ids = {role["id"] for role in json.loads(result.stdout)["result"]}
    assert ids == set(build_school(7 if seed is None else seed, 20).roles)  # roles do not depend on the size
    assert ids != set(build_school(8, 20).roles)


def test_serve_passes_the_seed_to_the_sandbox_and_refuses_it_without_one():
    import httpx

    from learnworlds_mcp.cli.serving import school_environment

    with school_environment(None, True, 5) as env:
        health = httpx.get(env["LEARNWORLDS_API_URL"].replace("/admin/api", "/__sandbox/health")).json()
    assert health["seed"] == 5
    refused = run("serve", "--seed", "5")
    assert refused.exit_code == 2 and "--seed" in refused.output and "--sandbox" in refused.output


def test_call_points_the_query_tool_to_its_own_command():
    result = run("call", "query_learn_worlds_data", "--sandbox", "--arg", "sql=SELECT 1")
    assert result.exit_code == 2
    assert 'learnworlds-mcp query "SELECT ..." --sandbox' in " ".join(result.output.replace("│", " ").split())
