"""Host installs: config paths per OS, a Claude Desktop merge that keeps everything else, safe writes."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from learnworlds_mcp import hosts
from learnworlds_mcp.errors import LearnWorldsMCPError
from learnworlds_mcp.hosts import (
    HostError,
    apply_install,
    claude_code_command,
    desktop_config_path,
    executable_path,
    plan_desktop_install,
    server_entry,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits and symlinks")

OTHERS = {
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
        "github": {"command": "docker", "args": ["run", "-i", "ghcr.io/github/github-mcp-server"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "theirs"}},
    },
    "preferences": {"theme": "dark"},
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fake home folder, so nothing here can reach the real one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    return home


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "venv" / "bin" / "learnworlds-mcp"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\n")
    return str(path)


@pytest.fixture
def config(home):
    path = desktop_config_path("Darwin", {}, home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(OTHERS, indent=4))
    return path


def backups(path):
    return sorted(path.parent.glob(path.name + ".bak-*"))


@pytest.mark.parametrize("system, env, expected", [
    ("Darwin", {}, "Library/Application Support/Claude/claude_desktop_config.json"),
    ("Windows", {"APPDATA": "{home}/Roaming"}, "Roaming/Claude/claude_desktop_config.json"),
    ("Windows", {}, "AppData/Roaming/Claude/claude_desktop_config.json"),
    ("Linux", {}, ".config/Claude/claude_desktop_config.json"),
    ("Linux", {"XDG_CONFIG_HOME": "{home}/xdg"}, "xdg/Claude/claude_desktop_config.json"),
    ("Linux", {"XDG_CONFIG_HOME": "relative/xdg"}, ".config/Claude/claude_desktop_config.json"),
])
def test_desktop_config_path_per_os(home, system, env, expected):
    env = {key: value.format(home=home) for key, value in env.items()}
    assert desktop_config_path(system, env, home) == home / expected


def test_desktop_config_path_defaults_to_this_platform(home, monkeypatch):
    monkeypatch.setattr(hosts.platform, "system", lambda: "Darwin")
    assert desktop_config_path(env={}) == home / "Library/Application Support/Claude/claude_desktop_config.json"


def test_executable_prefers_the_script_beside_the_interpreter(script):
    python = os.path.join(os.path.dirname(script), "python")
    assert executable_path(python=python, which=lambda name: "/elsewhere/learnworlds-mcp", system="Linux") == script


def test_executable_finds_windows_scripts_folder(tmp_path):
    exe = tmp_path / "Python311" / "Scripts" / "learnworlds-mcp.exe"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    python = str(tmp_path / "Python311" / "python.exe")
    assert executable_path(python=python, which=lambda name: None, system="Windows") == str(exe)


def test_executable_falls_back_to_path_then_explains(tmp_path):
    python = str(tmp_path / "python")
    assert executable_path(python=python, which=lambda name: "/usr/local/bin/learnworlds-mcp") == \
        "/usr/local/bin/learnworlds-mcp"
    with pytest.raises(HostError) as info:
        executable_path(python=python, which=lambda name: None)
    assert "pip install learnworlds-mcp" in str(info.value) and "--command" in str(info.value)
    assert isinstance(info.value, LearnWorldsMCPError)


@pytest.mark.parametrize("profile, tail", [
    (None, []),
    ("default", []),
    ("school2", ["--profile", "school2"]),
])
def test_server_entry_shape(script, profile, tail):
    entry = server_entry(script, ["--methods", "read"], profile, env={})
    assert entry == {"command": script, "args": ["serve", "--methods", "read", *tail]}


SECRET = "lw-secret-TOKEN-0xC0FFEE"


@pytest.mark.parametrize("serve_args", [
    ["--access-token", SECRET],
    [f"--client-secret={SECRET}"],
    ["--token", SECRET],
    ["--api-key", SECRET],
    [f"LEARNWORLDS_ACCESS_TOKEN={SECRET}"],
    ["--tools", f"x{SECRET}x"],  # the value of a secret variable, wherever it hides
])
def test_server_entry_refuses_secrets_and_never_repeats_them(script, serve_args):
    with pytest.raises(HostError) as info:
        server_entry(script, serve_args, None, env={"LEARNWORLDS_CLIENT_SECRET": SECRET})
    assert SECRET not in str(info.value) and "auth login" in str(info.value)


def test_server_entry_never_has_env_even_when_secrets_are_set(script):
    env = {"LEARNWORLDS_ACCESS_TOKEN": SECRET, "LEARNWORLDS_CLIENT_SECRET": SECRET}
    entry = server_entry(script, ["--tags", "users", "--rate-limit", "20"], "school2", env=env)
    assert "env" not in entry and SECRET not in json.dumps(entry)


def test_server_entry_refuses_two_profiles_and_relative_unknown_commands(script):
    with pytest.raises(HostError, match="twice"):
        server_entry(script, ["--profile=a"], "b", env={})
    with pytest.raises(HostError, match="absolute path"):
        server_entry("no-such-learnworlds-script", [], None, env={})


def test_install_keeps_other_servers_and_keys(config, script):
    plan = plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={}))
    assert plan.changed and plan.old_text == config.read_text() and plan.new_text.endswith("}\n")
    backup = apply_install(plan)
    written = json.loads(config.read_text())
    assert {k: v for k, v in written.items() if k != "mcpServers"} == \
        {k: v for k, v in OTHERS.items() if k != "mcpServers"}
    assert {k: v for k, v in written["mcpServers"].items() if k != "learnworlds"} == OTHERS["mcpServers"]
    assert os.path.isabs(written["mcpServers"]["learnworlds"]["command"])
    assert written["mcpServers"]["learnworlds"]["args"] == ["serve"]
    assert backup is not None and backup.read_text() == json.dumps(OTHERS, indent=4)


def test_second_identical_run_changes_nothing(config, script):
    entry = server_entry(script, ["--methods", "read"], None, env={})
    apply_install(plan_desktop_install(config, "learnworlds", entry))
    before, made = config.read_bytes(), backups(config)
    again = plan_desktop_install(config, "learnworlds", entry)
    assert not again.changed and again.new_text == again.old_text
    assert apply_install(again) is None
    assert config.read_bytes() == before and backups(config) == made


def test_update_replaces_only_our_entry_and_backs_up_the_old_text(config, script):
    apply_install(plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={})))
    old_text = config.read_text()
    plan = plan_desktop_install(config, "learnworlds", server_entry(script, ["--methods", "read"], "s2", env={}))
    assert plan.previous == {"command": script, "args": ["serve"]}
    backup = apply_install(plan)
    assert backup.read_text() == old_text and len(backups(config)) == 2
    servers = json.loads(config.read_text())["mcpServers"]
    assert servers["learnworlds"]["args"] == ["serve", "--methods", "read", "--profile", "s2"]
    assert servers["github"] == OTHERS["mcpServers"]["github"]


def test_missing_file_starts_fresh_in_new_folders(home, script):
    path = desktop_config_path("Linux", {}, home)
    plan = plan_desktop_install(path, "learnworlds", server_entry(script, [], None, env={}))
    assert plan.old_text is None and apply_install(plan) is None
    assert json.loads(path.read_text()) == {"mcpServers": {"learnworlds": {"command": script, "args": ["serve"]}}}
    assert backups(path) == []


@pytest.mark.parametrize("text, where", [
    ('{\n  "mcpServers": {\n    "a": {"command": "x"},\n  }\n}\n', "line 4, column 3"),
    ('{"mcpServers": {}', "line 1, column 18"),
])
def test_broken_json_names_line_and_column_and_writes_nothing(config, script, text, where):
    config.write_text(text)
    before = config.read_bytes()
    with pytest.raises(HostError) as info:
        plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={}))
    message = str(info.value)
    assert str(config) in message and where in message and "by hand" in message
    assert config.read_bytes() == before and backups(config) == []


@pytest.mark.parametrize("data", [{"mcpServers": []}, {"mcpServers": "none"}, ["mcpServers"]])
def test_non_object_config_is_refused(config, script, data):
    config.write_text(json.dumps(data))
    with pytest.raises(HostError, match="not an object"):
        plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={}))


@posix_only
def test_permissions_are_preserved_and_new_files_are_private(config, home, script):
    os.chmod(config, 0o640)
    apply_install(plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={})))
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    fresh = desktop_config_path("Linux", {}, home)
    apply_install(plan_desktop_install(fresh, "learnworlds", server_entry(script, [], None, env={})))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert not list(config.parent.glob(".*.tmp"))


@posix_only
def test_symlinked_config_stays_a_symlink(config, script):
    real = config.with_name("real.json")
    config.rename(real)
    config.symlink_to(real)
    apply_install(plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={})))
    assert config.is_symlink() and "learnworlds" in json.loads(real.read_text())["mcpServers"]


def test_a_file_changed_after_planning_is_not_overwritten(config, script):
    plan = plan_desktop_install(config, "learnworlds", server_entry(script, [], None, env={}))
    config.write_text('{"mcpServers": {}, "edited": true}')
    with pytest.raises(HostError, match="changed since"):
        apply_install(plan)
    assert json.loads(config.read_text()) == {"mcpServers": {}, "edited": True}


def test_dropped_env_names_the_variables_of_a_replaced_entry(config, script):
    plan = plan_desktop_install(config, "github", server_entry(script, [], None, env={}))
    assert plan.dropped_env == ("GITHUB_PERSONAL_ACCESS_TOKEN",)


@pytest.mark.parametrize("scope, profile, expected", [
    (None, None, ["claude", "mcp", "add", "learnworlds", "--", "{s}", "serve", "--methods", "read"]),
    ("user", None, ["claude", "mcp", "add", "--scope", "user", "learnworlds", "--", "{s}", "serve",
                    "--methods", "read"]),
    ("project", "s2", ["claude", "mcp", "add", "--scope", "project", "learnworlds", "--", "{s}", "serve",
                       "--methods", "read", "--profile", "s2"]),
])
def test_claude_code_command(script, monkeypatch, scope, profile, expected):
    for name in hosts.SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    argv = claude_code_command("learnworlds", script, ["--methods", "read"], profile, scope)
    assert argv == [script if part == "{s}" else part for part in expected]


@pytest.mark.parametrize("name, scope, match", [
    ("learnworlds", "global", "scope"),
    ("--learnworlds", None, "server name"),
    ("", None, "server name"),
])
def test_claude_code_command_refuses_bad_names_and_scopes(script, name, scope, match):
    with pytest.raises(HostError, match=match):
        claude_code_command(name, script, [], None, scope)


def test_format_command_quotes_for_the_shell():
    argv = ["claude", "mcp", "add", "lw", "--", "/Apps/My Tools/learnworlds-mcp", "serve"]
    assert hosts.format_command(argv, "Linux") == "claude mcp add lw -- '/Apps/My Tools/learnworlds-mcp' serve"
    assert '"/Apps/My Tools/learnworlds-mcp"' in hosts.format_command(argv, "Windows")
