"""Print what the tool list costs a model's context: per selection, the tool count, model-visible bytes,
wire bytes of the whole tools/list result, and tokens estimated as bytes/4.

    python benchmarks/context_size.py            # a Markdown table, as in the README
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from learnworlds_mcp.discovery import meta_tools
from learnworlds_mcp.registry import load, model_visible_bytes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from readme_sections import cost_table  # noqa: E402


def main() -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(cost_table())
    discovery = sum(model_visible_bytes(t) for t in meta_tools(load()))
    print(f"\n`--exposure discovery` (all 94 reachable): 4 tools, {discovery:,} model-visible bytes")


if __name__ == "__main__":
    main()
