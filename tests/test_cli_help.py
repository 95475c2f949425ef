"""The command line a newcomer meets: help that fits 80 columns, and clear errors instead of tracebacks."""

from __future__ import annotations

import click
import pytest
import typer.main
from typer.testing import CliRunner

from learnworlds_mcp.cli import app

runner = CliRunner()


def commands(group: click.Group, path: tuple[str, ...] = ()):
    """Every command path under the CLI, groups included."""
    yield path, group
    for name, command in getattr(group, "commands", {}).items():
        yield from commands(command, (*path, name))


ALL = list(commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) or "learnworlds-mcp" for p, _ in ALL])
def test_help_reads_cleanly_at_80_columns(path, command):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "…" not in text and not [line for line in lines if line.endswith("...") and "Usage:" not in line]
    assert "<" not in text.replace("<=", "").replace(">=", ""), "a Typer `<type>` label; give the option a metavar="
    assert "{" not in lines[0], lines[0]
    for param in command.params:
        if isinstance(param, click.Option):
            for env in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
                if param.show_envvar:
                    assert env in text.split(), f"{env} is cut or missing"
            if not param.is_flag:
                assert param.metavar and f"{param.opts[-1]} {param.metavar}" in text, param.opts


def test_the_call_usage_line_names_the_tool_plainly():
    result = runner.invoke(app, ["call", "--help"], env={"COLUMNS": "80"})
    assert result.output.splitlines()[0] == "Usage: learnworlds-mcp call [OPTIONS] TOOL"


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_an_error_not_a_traceback(port):
    result = runner.invoke(app, ["sandbox", "--port", port])
    assert result.exit_code == 2 and "--port" in result.output and "65535" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_audit_log_that_cannot_be_written_is_an_error_naming_the_flag(tmp_path):
    (tmp_path / "a-file").write_text("")
    for target in (tmp_path, tmp_path / "a-file" / "audit.jsonl"):
        result = runner.invoke(app, ["serve", "--sandbox", "--audit-log", str(target)])
        assert result.exit_code == 2, result.output
        assert f"--audit-log {target}: cannot append to it" in result.output
        assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("args", [["call", "list_all_learnworlds_user"],
                                  ["serve", "--tools", "list_all_learnworlds_user"],
                                  ["list-tools", "--exclude-tools", "list_all_learnworlds_user"]])
def test_an_unknown_tool_offers_the_three_closest_names_not_all_of_them(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "unknown tool 'list_all_learnworlds_user' (closest: list_all_learn_worlds_users, " in result.output
    assert "`learnworlds-mcp list-tools` lists every tool" in result.output
    assert len(result.output) < 400, len(result.output)
