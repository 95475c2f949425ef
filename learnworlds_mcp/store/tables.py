"""Which list operations are SQL tables, and their columns, read from the registry (never by hand)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import sanitize
from ..registry import Operation, tool_name

_LIST_PREFIX = tool_name("list", "")
# A boolean query argument named like this makes the list show what it hides by default
# (users: include_suspended); a table loads with it on, so queries can include or exclude those rows.
SWITCH_PREFIX = "include_"


@dataclass(frozen=True)
class Column:
    """One column: its name, and whether it holds JSON text (nested objects and lists)."""

    name: str
    json: bool
    kind: str  # "text", "integer", "real", "boolean" or "json"


@dataclass(frozen=True)
class Table:
    """One list operation seen as a table: its name (the operation's noun), columns and load switches."""

    name: str
    operation: Operation
    columns: tuple[Column, ...]
    switches: tuple[str, ...]
    member_text: bool = False  # some fields hold text written by school members (x-member-text)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def flag_column(self, switch: str) -> str:
        """The column that says a row is one the switch brought in: include_suspended -> is_suspended."""
        return "is_" + switch[len(SWITCH_PREFIX):]


def noun_of(operation: Operation) -> str:
    """The noun of a list operation, read back from its name (the one naming rule made it)."""
    return operation.name[len(_LIST_PREFIX):]


def is_table(operation: Operation) -> bool:
    """A read list that needs no path argument and no required query argument."""
    if not (operation.is_list and operation.read_only and operation.name.startswith(_LIST_PREFIX)):
        return False
    if operation.params.get("path", {}).get("properties"):
        return False
    return not operation.params.get("query", {}).get("required")


def _kind(schema: dict[str, Any]) -> str:
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    if any(t in ("object", "array") for t in types) or not types:
        return "json"
    for name in ("boolean", "integer", "number"):
        if name in types:
            return {"number": "real"}.get(name, name)
    return "text"


def table_of(operation: Operation) -> Table:
    """The table a list operation becomes: one column per item field of its response schema."""
    properties = operation.record_schema.get("properties") or {}
    columns = [Column(name, _kind(s) == "json", _kind(s)) for name, s in properties.items() if isinstance(s, dict)]
    query = operation.params.get("query", {}).get("properties", {})
    switches = tuple(n for n, s in query.items()
                     if n.startswith(SWITCH_PREFIX) and s.get("type") == "boolean")
    names = {c.name for c in columns}
    for switch in switches:  # the column that says so exists even when the response schema lacks it
        flag = "is_" + switch[len(SWITCH_PREFIX):]
        if flag not in names:
            columns.append(Column(flag, False, "boolean"))
    if not columns:
        columns = [Column("id", False, "text")]
    member = sanitize.marks(operation.record_schema)
    return Table(noun_of(operation), operation, tuple(columns), switches, member)


def tables_of(operations: list[Operation]) -> dict[str, Table]:
    """The tables a selection of operations yields, by name; empty when no list tool qualifies."""
    tables: dict[str, Table] = {}
    for operation in operations:
        if is_table(operation):
            table = table_of(operation)
            tables.setdefault(table.name, table)
    return tables
