"""The query tool as the server lists it: its definition (description within budget) and its arguments."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..errors import ArgumentError
from ..registry import QUERY_TOOL, Operation, model_visible_bytes
from .tables import Table
MAX_DEFINITION_BYTES = 3_000

INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "sql": {"type": "string", "description": "one SELECT or WITH ... SELECT (SQLite)"},
        "refresh": {"type": "boolean", "description": "reload the tables it reads first"},
        "tables": {"type": "string", "description": "a table name or '*': full columns instead of sql"},
    },
}

_INTRO = ("Answer a question over the whole school with one read-only SQLite query. Tables load from the list "
          "tools on first use and are kept for a while; each answer gives as_of and rows per table. If loading "
          "takes long you get status=loading: call again with the same sql. Dates are Unix seconds "
          "(datetime(col,'unixepoch')). Columns marked * hold JSON: json_extract(col,'$.key'), json_each(col).{extra}"
          " Tables (main columns; tables='*' lists all):")


@dataclass(frozen=True)
class QueryOperation(Operation):
    """The query tool in the shape of an Operation, so listing, discovery and prompts treat it like any tool."""

    tables: tuple[Table, ...] = ()

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        return INPUT_SCHEMA

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {
            "columns": {}, "rows": {}, "row_count": {}, "tables": {}, "truncated": {},
            "member_text": {}, "status": {}, "retry_after_seconds": {}, "message": {}}}


def _listing(table: Table, limit: int) -> str:
    names = [c.name + ("*" if c.json else "") for c in table.columns]
    shown = names[:limit]
    return f"{table.name}({','.join(shown)}{',...' if len(names) > limit else ''})"


def description(tables: list[Table]) -> str:
    """The tool description: how to use it, then each table with as many columns as the byte budget allows."""
    extra = ""
    switched = [f"{t.name} includes rows its list hides by default ({', '.join(t.flag_column(s) for s in t.switches)} "
                "says which)" for t in tables if t.switches]
    if switched:
        extra = " " + "; ".join(switched) + "."
    intro = _INTRO.format(extra=extra)
    for limit in range(30, 0, -1):
        # The first table (users, when selected) is the one most questions start from: listed whole.
        text = intro + " " + "; ".join(_listing(t, 99 if i == 0 else limit) for i, t in enumerate(tables))
        probe = {"name": QUERY_TOOL, "description": text, "inputSchema": INPUT_SCHEMA}
        if model_visible_bytes(probe) <= MAX_DEFINITION_BYTES:
            return text
    return intro + " " + ", ".join(t.name for t in tables)


def operation_for(tables: dict[str, Table]) -> QueryOperation:
    """The query tool's definition for these tables."""
    ordered = sorted(tables.values(), key=lambda t: (t.name != "users", t.name))
    return QueryOperation(
        name=QUERY_TOOL, kind="custom", method="GET", path="", resource="data", area="reporting",
        tags=("reporting",), title="Query LearnWorlds data with SQL", description=description(ordered),
        params={}, response={}, idempotent=True, tables=tuple(ordered))


def parse(arguments: dict[str, Any] | None) -> tuple[str | None, bool, str | None]:
    """(sql, refresh, tables) from the call's arguments; ArgumentError naming the field otherwise."""
    arguments = arguments or {}
    unknown = sorted(set(arguments) - set(INPUT_SCHEMA["properties"]))
    if unknown:
        raise ArgumentError(f"{unknown[0]}: not an argument of {QUERY_TOOL}; it takes sql, refresh and tables")
    sql, refresh, tables = arguments.get("sql"), arguments.get("refresh", False), arguments.get("tables")
    if sql is not None and not isinstance(sql, str):
        raise ArgumentError("sql: give the query as a string, e.g. SELECT count(*) FROM users")
    if not isinstance(refresh, bool):
        raise ArgumentError("refresh: give true or false")
    if tables is not None and not isinstance(tables, str):
        raise ArgumentError("tables: give one table name, or '*' for every table")
    if not sql and not tables:
        raise ArgumentError("sql: give one SELECT statement (or tables='*' to see every table's columns)")
    return sql, refresh, tables
