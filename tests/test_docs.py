"""Docs that cannot drift: README's generated sections, and --help naming every flag and its env twin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from learnworlds_mcp.cli import app

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT / "scripts"))
import readme_sections as docs  # noqa: E402  (a script, not part of the installed package)


def test_readme_generated_sections_are_current():
    text = README.read_text(encoding="utf-8")
    assert docs.rewrite(text) == text, "README is out of date: run `python scripts/readme_sections.py`"


def test_readme_lists_every_tool(operations):
    text = README.read_text(encoding="utf-8")
    missing = [op.name for op in operations if f"`{op.name}`" not in text]
    assert missing == []


def _options(command):
    # Typer ships its own copy of click, so options are recognised by what they are, not their class.
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option"]


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


COMMANDS = list(_commands(typer.main.get_command(app)))
assert len(COMMANDS) >= 8


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_mentions_every_flag_and_its_environment_twin(path, command):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"})
    assert result.exit_code == 0
    options = _options(command)
    assert options
    for param in options:
        assert any(opt in result.output for opt in param.opts), f"{' '.join(path)}: {param.opts}"
        if param.envvar:
            assert param.envvar in result.output, f"{' '.join(path)}: {param.envvar}"


def test_readme_documents_every_environment_variable():
    text = README.read_text(encoding="utf-8")
    variables = {p.envvar for _, c in COMMANDS for p in _options(c) if p.envvar}
    assert variables and sorted(v for v in variables if v not in text) == []
