"""Load every bundled operation file and print each tool's model-visible size (for people editing them).

    python scripts/tool_sizes.py
"""

from __future__ import annotations

from learnworlds_mcp.registry import load, model_visible_bytes


def main() -> None:
    total = 0
    for op in load():
        size = model_visible_bytes(op.tool())
        total += size
        print(f"{size:6d}  {op.name:50s} {op.method:6s} {op.path}  [{','.join(op.tags)}]")
    print(f"{total:6d}  total model-visible bytes, {len(load())} tools")


if __name__ == "__main__":
    main()
