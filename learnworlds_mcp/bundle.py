"""The Claude Desktop extension: an MCP Bundle (.mcpb) whose manifest asks for the settings `serve` reads.

The bundle uses the manifest's `uv` server type: it carries our source and a pyproject.toml, and the
host installs Python and the dependencies itself. Its `mcp_config` starts `serve` through a small
launcher and hands the user's settings over as LEARNWORLDS_* variables, so an access token typed
into Claude Desktop (kept in the OS keychain, being marked sensitive) reaches the server the way the
environment always does, and an empty field falls back to the profile stored by `auth login`.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import metadata
from pathlib import Path

from . import __version__
from .filters import METHOD_VALUES

MANIFEST_VERSION = "0.4"  # the first with the `uv` server type; @anthropic-ai/mcpb 2.1 validates it
FILENAME = "learnworlds-mcp.mcpb"
PACKAGES = ("learnworlds_mcp", "learnworlds_sandbox")
LAUNCHER = "server/main.py"
# Fixed entry times make two builds of one version byte-identical.
EPOCH = (2020, 1, 1, 0, 0, 0)

METHOD_CHOICES = ", ".join(METHOD_VALUES)

# setting -> (the environment variable `serve` reads, its user_config entry)
SETTINGS: dict[str, tuple[str, dict]] = {
    "school_url": ("LEARNWORLDS_SCHOOL_URL", {
        "type": "string", "title": "School URL",
        "description": "Your school's address, e.g. https://myschool.learnworlds.com. Leave empty to use the "
                       "profile stored by `learnworlds-mcp auth login`, or with sandbox mode.",
        "required": False, "default": ""}),
    "client_id": ("LEARNWORLDS_CLIENT_ID", {
        "type": "string", "title": "Client id",
        "description": "From the school's admin: Settings > Developers > API.",
        "required": False, "default": ""}),
    "access_token": ("LEARNWORLDS_ACCESS_TOKEN", {
        "type": "string", "title": "Access token",
        "description": "From Settings > Developers > API. Kept in the OS keychain by Claude Desktop.",
        "required": False, "sensitive": True, "default": ""}),
    "methods": ("LEARNWORLDS_METHODS", {
        "type": "string", "title": "Methods",
        "description": f"Which tools to offer, a comma list of: {METHOD_CHOICES}. 'read' cannot change "
                       "anything; empty offers every tool.",
        "required": False, "default": "read"}),
    "tags": ("LEARNWORLDS_TAGS", {
        "type": "string", "title": "Tags",
        "description": "Only tools with one of these tags, a comma list of: directory, learning, commerce, "
                       "community, reporting, or resources such as users, groups, payments. Empty: no limit.",
        "required": False, "default": ""}),
    "sandbox": ("LEARNWORLDS_SANDBOX", {
        "type": "boolean", "title": "Sandbox mode",
        "description": "Use a seeded stand-in school started inside the server: no account or token needed.",
        "required": False, "default": False}),
}

LAUNCHER_SOURCE = '''"""The extension's entry point: `learnworlds-mcp serve`, set up by the extension's settings (LEARNWORLDS_*)."""

import sys
from pathlib import Path

# The bundled package comes first, whatever the environment around it holds.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from learnworlds_mcp.cli import app  # noqa: E402

app(["serve", *sys.argv[1:]], prog_name="learnworlds-mcp")
'''


def dependencies() -> list[str]:
    """The package's runtime requirements, as installed (extras such as `test` left out)."""
    try:
        required = metadata.requires("learnworlds-mcp") or []
    except metadata.PackageNotFoundError:  # running from a bare checkout
        required = []
    return [r for r in required if "extra ==" not in r]


def pyproject() -> str:
    """A pyproject.toml for the bundle alone: what uv needs to install the dependencies and our packages."""
    deps = "".join(f"    {json.dumps(d)},\n" for d in dependencies())
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "learnworlds-mcp"
version = "{__version__}"
description = "A LearnWorlds school as MCP tools (Claude Desktop extension)."
requires-python = ">=3.11"
dependencies = [
{deps}]

[project.scripts]
learnworlds-mcp = "learnworlds_mcp.cli:run"

[tool.setuptools.packages.find]
include = ["learnworlds_mcp*", "learnworlds_sandbox*"]

[tool.setuptools.package-data]
learnworlds_mcp = ["schemas/*.json", "meta_schema.json"]
"""


def manifest() -> dict:
    """The bundle's manifest.json."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": "learnworlds-mcp",
        "display_name": "LearnWorlds",
        "version": __version__,
        "description": "A LearnWorlds school (users, courses, groups, payments, community) as tools for Claude.",
        "long_description": "Tools generated from the LearnWorlds v2 API. The Methods and Tags settings limit "
                            "what Claude may do: 'read' offers only tools that cannot change the school. "
                            "Sandbox mode tries everything on a seeded stand-in school.",
        "author": {"name": "learnworlds-mcp contributors"},
        "license": "MIT",
        "keywords": ["learnworlds", "lms", "education", "courses", "mcp"],
        "server": {
            "type": "uv",
            "entry_point": LAUNCHER,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--quiet", "--directory", "${__dirname}", LAUNCHER],
                "env": {variable: f"${{user_config.{key}}}" for key, (variable, _) in SETTINGS.items()},
            },
        },
        "tools_generated": True,
        "prompts_generated": True,
        "compatibility": {"platforms": ["darwin", "win32", "linux"], "runtimes": {"python": ">=3.11"}},
        "user_config": {key: entry for key, (_, entry) in SETTINGS.items()},
    }


def files() -> dict[str, bytes]:
    """Every file of the bundle by its path inside it: manifest, pyproject, launcher and our two packages."""
    root = Path(__file__).resolve().parent.parent
    found = {
        "manifest.json": (json.dumps(manifest(), indent=2) + "\n").encode(),
        "pyproject.toml": pyproject().encode(),
        LAUNCHER: LAUNCHER_SOURCE.encode(),
    }
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def build(output: Path) -> Path:
    """Write the .mcpb (a zip) to `output`, atomically; the same version always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files().items()):
            entry = zipfile.ZipInfo(name, date_time=EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(output)
    return output
