"""The Claude Desktop extension: our manifest passes the official mcpb CLI, and the server it describes starts.

The mcpb tests need `npm ci` (the pinned @anthropic-ai/mcpb); the start-up test needs `uv`. By default
uv runs offline against a throwaway environment that sees this one's packages (UV_NO_SYNC), so no
test touches the network; LEARNWORLDS_TEST_UV_SYNC=1 lets uv install everything from PyPI instead,
as Claude Desktop does.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import typer.main
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

from learnworlds_mcp import __version__, bundle
from learnworlds_mcp.cli import app
from tests.tooling import unavailable

ROOT = Path(__file__).resolve().parent.parent
MCPB = ROOT / "node_modules" / ".bin" / "mcpb"


@pytest.fixture
def built(tmp_path):
    """`learnworlds-mcp bundle` run as a user would, and its archive unpacked."""
    result = CliRunner().invoke(app, ["bundle", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    archive = tmp_path / bundle.FILENAME
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacked)
    return archive, unpacked


def mcpb(*args: str, cwd: Path) -> str:
    done = subprocess.run([str(MCPB), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_manifest_asks_for_each_setting_serve_reads(built):
    _, unpacked = built
    manifest = json.loads((unpacked / "manifest.json").read_text())
    assert manifest["version"] == __version__ and manifest["server"]["type"] == "uv"
    config = manifest["user_config"]
    assert config["access_token"]["sensitive"] is True and config["sandbox"]["type"] == "boolean"
    assert set(config) == {"school_url", "client_id", "access_token", "methods", "tags", "sandbox"}
    serve = typer.main.get_command(app).commands["serve"]
    env_of = {p.envvar for p in serve.params} | {"LEARNWORLDS_SCHOOL_URL", "LEARNWORLDS_CLIENT_ID",
                                                 "LEARNWORLDS_ACCESS_TOKEN"}
    for variable, value in manifest["server"]["mcp_config"]["env"].items():
        assert variable in env_of, f"{variable} is not a setting serve reads"
        assert value.removeprefix("${user_config.").removesuffix("}") in config
    assert (unpacked / manifest["server"]["entry_point"]).is_file()
    assert (unpacked / "learnworlds_mcp" / "schemas").is_dir() and (unpacked / "pyproject.toml").is_file()


def test_settings_typed_into_claude_desktop_count_as_the_environment(built):
    from learnworlds_mcp import auth

    _, unpacked = built
    manifest = json.loads((unpacked / "manifest.json").read_text())
    typed = {"school_url": "https://myschool.learnworlds.com", "client_id": "client-7", "access_token": "tok-123456789"}
    env = {k: substitute(v, unpacked, typed) for k, v in manifest["server"]["mcp_config"]["env"].items()
           if "${" not in substitute(v, unpacked, typed)}
    credentials = auth.resolve("default", env)
    assert credentials.api_url == "https://myschool.learnworlds.com/admin/api"
    assert credentials.access_token == "tok-123456789" and credentials.client_id == "client-7"
    assert credentials.sources["secret"] == "environment (LEARNWORLDS_ACCESS_TOKEN)"


def test_two_builds_are_byte_identical(tmp_path):
    assert bundle.build(tmp_path / "a.mcpb").read_bytes() == bundle.build(tmp_path / "b.mcpb").read_bytes()


@pytest.mark.node
def test_the_official_mcpb_cli_validates_packs_and_reads_the_bundle(built, tmp_path):
    if not MCPB.exists():
        unavailable(f"{MCPB.relative_to(ROOT)} is missing; run `npm ci` (the pinned @anthropic-ai/mcpb)")
    archive, unpacked = built
    assert "passes" in mcpb("validate", "manifest.json", cwd=unpacked)
    packed = mcpb("pack", str(unpacked), str(tmp_path / "packed.mcpb"), cwd=tmp_path)
    assert f"version: {__version__}" in packed and "name: learnworlds-mcp" in packed
    for file in (archive, tmp_path / "packed.mcpb"):
        info = mcpb("info", str(file), cwd=tmp_path)
        assert f"File: {file.name}" in info and "Size:" in info


def offline_environment(folder: Path) -> Path:
    """A throwaway venv that sees this one's packages, for uv to run in without installing anything."""
    venv.EnvBuilder(with_pip=False).create(folder)
    lib = next(folder.glob("lib/python*/site-packages"), None) or folder / "Lib" / "site-packages"
    (lib / "parent.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return folder


def substitute(value: str, dirname: Path, user_config: dict[str, str]) -> str:
    value = value.replace("${__dirname}", str(dirname))
    for key, setting in user_config.items():
        value = value.replace(f"${{user_config.{key}}}", setting)
    return value


@pytest.mark.subprocess
@pytest.mark.anyio
async def test_the_bundled_server_starts_as_the_manifest_says_and_lists_tools(built, tmp_path):
    if shutil.which("uv") is None:
        unavailable("uv is missing; `pip install '.[test]'` brings it")
    _, unpacked = built
    manifest = json.loads((unpacked / "manifest.json").read_text())
    defaults = {key: str(entry["default"]).lower() if isinstance(entry["default"], bool) else entry["default"]
                for key, entry in manifest["user_config"].items()}
    user_config = dict(defaults, sandbox="true", tags="roles")  # the sandbox switch on, as a user would
    config = manifest["server"]["mcp_config"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNWORLDS_", "VIRTUAL_ENV", "UV_"))}
    env.update({k: substitute(v, unpacked, user_config) for k, v in config["env"].items()})
    env["LEARNWORLDS_CONFIG_DIR"] = str(tmp_path / "config")
    if os.environ.get("LEARNWORLDS_TEST_UV_SYNC") != "1":
        env.update(UV_PROJECT_ENVIRONMENT=str(offline_environment(tmp_path / "env")), UV_NO_SYNC="1",
                   UV_OFFLINE="1", UV_PYTHON=sys.executable)
    params = StdioServerParameters(command=shutil.which(config["command"]),
                                   args=[substitute(a, unpacked, user_config) for a in config["args"]], env=env)
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        roles = await client.call_tool("list_all_learn_worlds_roles", {})
    assert {"list_all_learn_worlds_roles", "get_single_learn_worlds_user_role_by_id"} <= {t.name for t in tools}
    assert not any("user" in t.name and "role" not in t.name for t in tools)  # the tags setting: roles only
    assert all(t.annotations.read_only_hint for t in tools)  # the default methods setting is 'read'
    assert not roles.is_error and roles.structured_content["result"]
