"""Print what the tool list costs a model's context: per selection, the tool count, model-visible bytes,
wire bytes of the whole tools/list result, and tokens estimated as bytes/4.

    python benchmarks/context_size.py            # a Markdown table, as in the README
"""

from __future__ import annotations

import platform

import mcp_types as types

from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.registry import load, model_visible_bytes

AREAS = ("directory", "learning", "commerce", "community", "reporting")
SELECTIONS = [("all tools", Selection()), ("--methods read", Selection(methods=("read",))),
              ("--methods read --tags directory", Selection(methods=("read",), tags=("directory",)))]
SELECTIONS += [(f"--tags {area}", Selection(tags=(area,))) for area in AREAS]


def measure(selection: Selection) -> tuple[int, int, int]:
    operations = select(load(), selection)
    tools = [op.tool() for op in operations]
    visible = sum(model_visible_bytes(tool) for tool in tools)
    result = types.ListToolsResult(tools=[types.Tool.model_validate(tool) for tool in tools])
    wire = len(result.model_dump_json(by_alias=True, exclude_none=True).encode())
    return len(tools), visible, wire


def main() -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print("| selection | tools | model-visible bytes | est. tokens | tools/list wire bytes |")
    print("|---|---:|---:|---:|---:|")
    for label, selection in SELECTIONS:
        count, visible, wire = measure(selection)
        print(f"| `{label}` | {count} | {visible:,} | {visible // 4:,} | {wire:,} |")


if __name__ == "__main__":
    main()
