"""What a test does when a Node tool or the spec fixture is missing: skip on a laptop, fail under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSPECTOR = REPO / "node_modules" / ".bin" / "mcp-inspector"


def under_ci() -> bool:
    """True when the `CI` variable is set to anything but an empty, 0 or false value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip the test for `reason`, or fail it when running under CI, where nothing may be left out."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so a missing tool fails the run instead of skipping)", pytrace=False)
    pytest.skip(reason)


def inspector_missing() -> str | None:
    """Why the MCP Inspector CLI cannot run here (None when it can)."""
    if not INSPECTOR.exists():
        return f"{INSPECTOR.relative_to(REPO)} is missing; run `npm ci` in {REPO} (Node.js 20 or later)"
    return None
