"""Generated README sections: the tool list and the context-cost table, both read from the registry.

    python scripts/readme_sections.py         # rewrite them in README.md
A test fails when README.md differs from what this would write, so the docs cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from learnworlds_mcp.filters import Selection, select
from learnworlds_mcp.registry import Operation, load, model_visible_bytes
from learnworlds_mcp.store import with_query_tool

AREAS = ("directory", "learning", "commerce", "community", "reporting")
SELECTIONS = [("all tools", Selection()), ("--methods read", Selection(methods=("read",))),
              ("--methods read --tags directory", Selection(methods=("read",), tags=("directory",)))]
SELECTIONS += [(f"--tags {area}", Selection(tags=(area,))) for area in AREAS]
MARKERS = {"tools": ("<!-- tools:start -->", "<!-- tools:end -->"),
           "cost": ("<!-- cost:start -->", "<!-- cost:end -->")}


def tools_table(operations: list[Operation] | None = None) -> str:
    rows = ["| tool | kind | tags | what it does |", "|---|---|---|---|"]
    for op in operations or with_query_tool(load()):
        rows.append(f"| `{op.name}` | {op.kind} | {', '.join(op.tags)} | {op.summary.replace('|', '/')} |")
    return "\n".join(rows)


def measure(selection: Selection) -> tuple[int, int, int]:
    """(tools, model-visible bytes, wire bytes of the whole tools/list result) for a selection."""
    import mcp_types as types

    tools = [op.tool() for op in with_query_tool(select(load(), selection))]
    visible = sum(model_visible_bytes(tool) for tool in tools)
    result = types.ListToolsResult(tools=[types.Tool.model_validate(tool) for tool in tools])
    return len(tools), visible, len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


def cost_table() -> str:
    rows = ["| selection | tools | model-visible bytes | est. tokens | tools/list wire bytes |",
            "|---|---:|---:|---:|---:|"]
    for label, selection in SELECTIONS:
        count, visible, wire = measure(selection)
        rows.append(f"| `{label}` | {count} | {visible:,} | {visible // 4:,} | {wire:,} |")
    return "\n".join(rows)


def rewrite(text: str) -> str:
    """README text with every generated section replaced by its current content."""
    for key, body in (("tools", tools_table), ("cost", cost_table)):
        start, end = MARKERS[key]
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"README.md lacks the marker {start}")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"README.md lacks the marker {end}")
        text = f"{head}{start}\n{body()}\n{end}{tail}"
    return text


def main(path: str = "README.md") -> None:
    readme = Path(path)
    readme.write_text(rewrite(readme.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stderr.write(f"updated {readme}\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
