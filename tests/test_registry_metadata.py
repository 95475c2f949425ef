"""server.json, the MCP Registry's description of this server: current format, and in step with the package."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer.main

from learnworlds_mcp import __version__
from learnworlds_mcp.cli import app

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = re.compile(r"https://static\.modelcontextprotocol\.io/schemas/\d{4}-\d{2}-\d{2}/server\.schema\.json")


def server_json() -> dict:
    return json.loads((ROOT / "server.json").read_text(encoding="utf-8"))


def test_versions_match_the_package():
    data = server_json()
    assert data["version"] == __version__
    assert [p["version"] for p in data["packages"]] == [__version__]


def test_the_shape_the_registry_accepts():
    data = server_json()
    assert SCHEMA.fullmatch(data["$schema"]) and data["$schema"] >= "https://static.modelcontextprotocol.io/schemas/2025-12-11"
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", data["name"]) and len(data["name"]) <= 200
    assert 1 <= len(data["description"]) <= 100 and 1 <= len(data["title"]) <= 100
    [package] = data["packages"]
    assert package["registryType"] == "pypi" and package["identifier"] == "learnworlds-mcp"
    assert package["transport"] == {"type": "stdio"} and package["version"] not in ("", "latest")
    assert re.fullmatch(r"\d+(\.\d+)*[a-z0-9.+-]*", package["version"]), "an exact version, not a range"
    assert package["packageArguments"] == [{"type": "positional", "value": "serve"}]
    for variable in package["environmentVariables"]:
        assert set(variable) <= {"name", "description", "format", "isRequired", "isSecret", "default", "choices",
                                 "placeholder", "value", "variables"}
        assert variable["format"] in ("string", "number", "boolean", "filepath")
        assert all(isinstance(variable.get(k, False), bool) for k in ("isRequired", "isSecret"))


def test_environment_variables_are_ones_serve_reads_and_only_the_token_is_secret():
    serve = typer.main.get_command(app).commands["serve"]
    read = {p.envvar for p in serve.params} | {"LEARNWORLDS_SCHOOL_URL", "LEARNWORLDS_CLIENT_ID",
                                               "LEARNWORLDS_ACCESS_TOKEN", "LEARNWORLDS_CLIENT_SECRET"}
    [package] = server_json()["packages"]
    names = {v["name"] for v in package["environmentVariables"]}
    assert names <= read, names - read
    assert {v["name"] for v in package["environmentVariables"] if v.get("isSecret")} == {"LEARNWORLDS_ACCESS_TOKEN"}


def test_the_readme_carries_the_pypi_ownership_marker():
    # The registry checks that the PyPI package's description names the server.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"mcp-name: {server_json()['name']}" in readme
