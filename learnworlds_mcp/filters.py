"""Which tools a server exposes.

How the filters combine: `methods`, `tags` and `tools` each narrow the selection, and an
operation must pass all three (AND). Within one filter the values are alternatives (OR):
`--methods read,create` keeps GETs and creates; `--tags users,groups` keeps either. An empty
filter passes everything. `exclude_tools` then removes names. Unknown values fail fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .errors import SelectionError
from .registry import KINDS, QUERY_TOOL, Operation

METHOD_GROUPS = ("read", "write")
METHOD_VALUES = METHOD_GROUPS + KINDS


def split_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """'a, b,,c' or ['a,b', 'c'] -> ('a', 'b', 'c')."""
    if value is None:
        return ()
    parts = [value] if isinstance(value, str) else list(value)
    return tuple(p.strip() for part in parts for p in part.split(",") if p.strip())


@dataclass(frozen=True)
class Selection:
    """The filters given on the command line or in the environment."""

    methods: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    exclude_tools: tuple[str, ...] = ()

    def matches(self, op: Operation) -> bool:
        return (self._method_ok(op)
                and (not self.tags or bool(set(self.tags) & set(op.tags)))
                and (not self.tools or op.name in self.tools)
                and op.name not in self.exclude_tools)

    def _method_ok(self, op: Operation) -> bool:
        if not self.methods:
            return True
        wanted = set(self.methods)
        return (op.kind in wanted or ("read" in wanted and op.read_only)
                or ("write" in wanted and not op.read_only))

    def offers_query_tool(self) -> bool:
        """The SQL query tool follows the list tools it reads, unless excluded or left out of a --tools list."""
        return QUERY_TOOL not in self.exclude_tools and (not self.tools or QUERY_TOOL in self.tools)

    def describe(self) -> str:
        parts = [f"--{flag.replace('_', '-')} {','.join(values)}" for flag, values in
                 (("methods", self.methods), ("tags", self.tags), ("tools", self.tools),
                  ("exclude_tools", self.exclude_tools)) if values]
        return " ".join(parts) or "no filters"


def _unknown(label: str, given: Iterable[str], valid: Iterable[str]) -> str | None:
    valid = sorted(set(valid))
    bad = [v for v in given if v not in valid]
    if not bad:
        return None
    return f"unknown {label} {', '.join(map(repr, bad))}; valid {label}s: {', '.join(valid)}"


def _unknown_tools(given: Iterable[str], names: Iterable[str]) -> str | None:
    """Too many tools to list them all: the three closest names to each unknown one, and where to see the rest."""
    import difflib

    names = sorted(set(names))
    parts = []
    for bad in (name for name in given if name not in names):
        close = difflib.get_close_matches(bad, names, n=3, cutoff=0.5)
        parts.append(f"unknown tool {bad!r}" + (f" (closest: {', '.join(close)})" if close else ""))
    if not parts:
        return None
    return "; ".join(parts) + "; `learnworlds-mcp list-tools` lists every tool"


def select(operations: list[Operation], selection: Selection) -> list[Operation]:
    """The operations the selection keeps; SelectionError for unknown names or an empty result."""
    names = [op.name for op in operations] + [QUERY_TOOL]
    tags = {t for op in operations for t in op.tags}
    problems = [p for p in (
        _unknown("method", selection.methods, METHOD_VALUES),
        _unknown("tag", selection.tags, tags),
        _unknown_tools(selection.tools, names),
        _unknown_tools(selection.exclude_tools, names),
    ) if p]
    if problems:
        raise SelectionError("; ".join(problems))
    chosen = [op for op in operations if selection.matches(op)]
    if not chosen:
        raise SelectionError(f"the filters ({selection.describe()}) leave no tool. " + counts(operations))
    return chosen


def counts(operations: list[Operation]) -> str:
    """Tool counts per method kind and per tag, to help pick filters that select something."""
    kinds = Counter(op.kind for op in operations)
    reads = sum(op.read_only for op in operations)
    tags = Counter(t for op in operations for t in op.tags)
    by_kind = ", ".join(f"{k} {kinds[k]}" for k in KINDS if kinds[k])
    by_tag = ", ".join(f"{t} {n}" for t, n in sorted(tags.items()))
    return (f"Tools per method: read {reads}, write {len(operations) - reads}, {by_kind}. "
            f"Tools per tag: {by_tag}.")
