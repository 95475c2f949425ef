"""config.json as validated models: clear errors that change nothing, and restrictions stored with a profile."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from learnworlds_mcp import profiles
from learnworlds_mcp.cli import app
from learnworlds_mcp.errors import ConfigError
from tests.conftest import SECRET

GOOD = {"school_url": "https://s.example", "client_id": "c"}
API = "https://s.example/admin/api"


def login(*flags: str, profile: str = "default"):
    return CliRunner().invoke(app, ["auth", "login", "--profile", profile, "--school-url", "https://s.example",
                                    "--client-id", "c", "--secret-stdin", *flags], input=SECRET + "\n")


@pytest.mark.parametrize("content, fragments", [
    ({"profiles": [GOOD]}, ["profiles:", "object mapping profile names"]),
    ({"profiles": {"default": {**GOOD, "colour": "red"}}}, ["profiles.default.colour", "remove it", "valid fields"]),
    ({"profiles": {"default": {"school_url": "https://s.example"}}}, ["profiles.default.client_id", "add it"]),
    ({"profiles": {"default": {**GOOD, "expires_at": "2026-12-01T00:00:00Z"}}},
     ["profiles.default.expires_at", "Unix seconds"]),
    ({"profiles": {"default": {**GOOD, "secret_kind": "password"}}}, ["profiles.default.secret_kind"]),
    ({"profile": {}}, ["profile:", "remove it"]),
    ("{not json", ["not valid JSON"]),
    ("[" * 100_000, ["not valid JSON"]),
    ("DIRECTORY", ["is a folder"]),
])
@pytest.mark.parametrize("command", [
    ["auth", "status"], ["auth", "logout"], ["auth", "login", "--school-url", "https://s.example", "--client-id", "c",
                                             "--secret-stdin"],
    ["call", "list_all_learn_worlds_roles"], ["serve"],
])
def test_a_bad_config_exits_2_naming_the_field_and_writes_nothing(isolated, content, fragments, command):
    path = profiles.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "DIRECTORY":
        path.mkdir()
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    before = None if path.is_dir() else path.read_bytes()
    isolated.store[("learnworlds-mcp", "default")] = "kept"
    result = CliRunner().invoke(app, command, input=SECRET + "\n")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError)
    for fragment in fragments:
        assert fragment in result.output
    assert (path.is_dir() if before is None else path.read_bytes() == before)
    assert isolated.store == {("learnworlds-mcp", "default"): "kept"}


def test_read_config_raises_config_error_not_a_traceback():
    profiles.config_path().parent.mkdir(parents=True, exist_ok=True)
    profiles.config_path().write_text(json.dumps({"profiles": {"p": {**GOOD, "expires_at": "soon"}}}))
    with pytest.raises(ConfigError, match=r"profiles\.p\.expires_at"):
        profiles.read_profile("p")


def test_login_stores_restrictions_and_commands_apply_them(httpx_mock):
    assert login("--methods", "read", "--tags", "users", "--ttl", "8h").exit_code == 0
    stored = profiles.read_profile("default")
    assert stored.methods == ("read",) and stored.tags == ("users",) and stored.expires_at is not None
    runner = CliRunner()
    listed = runner.invoke(app, ["call", "learn_worlds_users_suspend", "--arg", "id=u1"])
    assert listed.exit_code == 2 and "restricted to --methods read --tags users" in listed.output
    widened = runner.invoke(app, ["serve", "--methods", "write"])
    assert widened.exit_code == 2 and "restricted to" in widened.output
    other_tag = runner.invoke(app, ["serve", "--tags", "commerce"])
    assert other_tag.exit_code == 2
    httpx_mock.add_response(url=f"{API}/v2/users?page=1&items_per_page=1", json={"data": [], "meta": {}})
    inside = runner.invoke(app, ["call", "list_all_learn_worlds_users", "--arg", "limit=1"])
    assert inside.exit_code == 0, inside.output
    status = runner.invoke(app, ["auth", "status"])
    assert "limited to: --methods read --tags users" in status.output and "expires:" in status.output


def test_the_restriction_narrows_the_selection_flags_make():
    from learnworlds_mcp.cli.options import selected_operations

    assert login("--methods", "read").exit_code == 0
    everything = selected_operations(None, None, None, None)
    within = selected_operations(None, None, None, None, "default")
    narrower = selected_operations(None, "users", None, None, "default")
    assert len(narrower) < len(within) < len(everything)
    assert all(op.read_only for op in within) and all(op.read_only for op in narrower)
    assert selected_operations(None, None, None, None, "no-such-profile") == everything


def test_login_again_keeps_restrictions_unless_told_to_drop_them():
    assert login("--methods", "read").exit_code == 0
    again = login()
    assert again.exit_code == 0 and profiles.read_profile("default").methods == ("read",)
    assert login("--unrestricted").exit_code == 0 and profiles.read_profile("default").methods == ()


def test_login_with_an_unknown_restriction_stores_nothing(isolated):
    result = login("--tags", "nope")
    assert result.exit_code == 2 and "unknown tag 'nope'" in result.output
    assert isolated.store == {} and not profiles.config_path().exists()


def test_the_config_folder_comes_from_typer_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("LEARNWORLDS_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    import typer

    assert profiles.config_dir() == __import__("pathlib").Path(typer.get_app_dir("learnworlds-mcp"))


def test_a_profile_limited_to_some_tools_gets_no_query_tool_unless_it_names_it():
    from learnworlds_mcp.cli.options import query_tool_allowed

    assert login("--tools", "list_all_learn_worlds_users").exit_code == 0
    assert not query_tool_allowed("default")
    refused = CliRunner().invoke(app, ["query", "SELECT count(*) FROM users"])
    assert refused.exit_code == 2 and "query_learn_worlds_data" in refused.output
    assert "Traceback" not in refused.output
    assert login("--tools", "list_all_learn_worlds_users,query_learn_worlds_data").exit_code == 0
    assert query_tool_allowed("default")
    assert login("--unrestricted", "--methods", "read").exit_code == 0
    assert query_tool_allowed("default")  # restricted by method only: the query tool follows the list tools
