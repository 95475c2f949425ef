"""`install claude-code --run` behaves the same way twice: added, then nothing changed, then updated in place."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from learnworlds_mcp import hosts
from learnworlds_mcp.cli import app

# What Claude Code 2.1 prints for `claude mcp get NAME` (its health check line included).
GET_OUTPUT = """lw:
  Scope: Local config (private to you in this project)
  Status: ✘ Failed to connect
  Type: stdio
  Command: /opt/bin/learnworlds-mcp
  Args: serve --methods read
  Environment:

To remove this server, run: claude mcp remove lw -s local
"""

FAKE_CLAUDE = r'''
import json, sys
store_path, log_path = {store!r}, {log!r}
args = sys.argv[1:]
with open(log_path, "a") as log:
    log.write(json.dumps(args) + "\n")
try:
    store = json.load(open(store_path))
except FileNotFoundError:
    store = {{}}
if args[:2] == ["mcp", "get"]:
    entry = store.get(args[2])
    if not entry:
        sys.stderr.write('No MCP server named "%s".\n' % args[2]); sys.exit(1)
    print("%s:\n  Scope: %s config\n  Status: ✓ Connected\n  Type: stdio\n  Command: %s\n  Args: %s\n"
          "  Environment:\n\nTo remove this server, run: claude mcp remove %s -s %s"
          % (args[2], entry["scope"].title(), entry["command"], " ".join(entry["args"]), args[2], entry["scope"]))
elif args[:2] == ["mcp", "remove"]:
    store.pop(args[2], None)
elif args[:2] == ["mcp", "add"]:
    rest, scope = args[2:], "local"
    if rest[0] == "--scope":
        scope, rest = rest[1], rest[2:]
    name, command = rest[0], rest[2:]
    if name in store:
        sys.stderr.write("MCP server %s already exists in %s config\n" % (name, scope)); sys.exit(1)
    store[name] = {{"scope": scope, "command": command[0], "args": command[1:]}}
    print("Added stdio MCP server %s" % name)
json.dump(store, open(store_path, "w"))
'''


@pytest.fixture
def fake_claude(tmp_path, monkeypatch):
    """A `claude` on PATH that keeps its servers in a JSON file and logs every call."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "claude"
    store, log = tmp_path / "claude.json", tmp_path / "calls.log"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_CLAUDE).format(store=str(store), log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return store, log


def test_the_real_get_output_is_read():
    entry = hosts.parse_claude_code_entry(GET_OUTPUT)
    assert entry == hosts.ClaudeCodeEntry("local", "/opt/bin/learnworlds-mcp", "serve --methods read")
    assert hosts.parse_claude_code_entry('No MCP server named "lw". Configured servers: x') is None


def test_run_twice_changes_nothing_the_second_time_and_updates_in_place_when_flags_change(fake_claude):
    store, log = fake_claude
    runner = CliRunner()
    first = runner.invoke(app, ["install", "claude-code", "--run", "--sandbox"])
    assert first.exit_code == 0 and "Added the 'learnworlds' server" in first.output, first.output
    second = runner.invoke(app, ["install", "claude-code", "--run", "--sandbox"])
    assert second.exit_code == 0 and "nothing changed" in second.output, second.output
    adds = [line for line in log.read_text().splitlines() if json.loads(line)[:2] == ["mcp", "add"]]
    assert len(adds) == 1
    third = runner.invoke(app, ["install", "claude-code", "--run", "--sandbox", "--methods", "read"])
    assert third.exit_code == 0 and "Updated the 'learnworlds' server" in third.output, third.output
    entry = json.loads(store.read_text())["learnworlds"]
    assert entry["args"] == ["serve", "--sandbox", "--methods", "read"] and os.path.isabs(entry["command"])
