"""The SQL query tool: tables derived from the selected list operations, loaded into SQLite on demand.

Public surface for the server, the CLI and prompts:
    query_tool_present(operations)  whether a selection offers the query tool
    with_query_tool(operations)     the selection as a server lists it (the query tool last)
    table_columns(operations)       its tables and their columns
    QueryTool.build(...)            the tool and its store for one server run (None when there are no tables)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from ..filters import Selection
from ..registry import Operation
from .progress import DEFAULT_TTL_SECONDS, DEFAULT_WAIT_SECONDS, MAX_ROWS, progress_reporter
from .tables import Table, tables_of
from .tool import QUERY_TOOL, QueryOperation, operation_for, parse

if TYPE_CHECKING:  # the client (and auth, profiles, pydantic behind it) loads only when a server runs
    from ..client import LearnWorldsClient
    from .database import Store

__all__ = ["QUERY_TOOL", "QueryOperation", "QueryTool", "Store", "progress_reporter", "query_tool_present",
           "table_columns", "with_query_tool", "DEFAULT_TTL_SECONDS", "DEFAULT_WAIT_SECONDS"]


def __getattr__(name: str) -> Any:
    if name == "Store":  # SQLite and the loader load with the first query, not with the server
        from .database import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def query_tool_present(operations: list[Operation], selection: Selection | None = None) -> bool:
    """True when the selected operations include a list tool that can be a table (and `selection`, if
    given, does not exclude the query tool or leave it out of its --tools list)."""
    return bool(tables_of(operations)) and (selection is None or selection.offers_query_tool())


def with_query_tool(operations: list[Operation], selection: Selection | None = None) -> list[Operation]:
    """The operations a server lists for this selection: the selected ones, then the query tool if offered."""
    if not query_tool_present(operations, selection):
        return list(operations)
    return [*operations, operation_for(tables_of(operations))]


def table_columns(operations: list[Operation]) -> dict[str, list[str]]:
    """{table name: column names} for the tables a selection yields."""
    return {name: table.column_names for name, table in sorted(tables_of(operations).items())}


class QueryTool:
    """The query tool of one selection: its definition and the store behind it (shared by every view).

    The store (SQLite, the loader) is opened at the first call that needs it, so a server that is
    never asked a query does not pay for it at start-up; a --cache-dir store is opened at once, so a
    folder that cannot hold it stops the server with a clear error instead of failing the first query.
    """

    def __init__(self, tables: dict[str, Table], opener: _Opener):
        self.tables, self._opener = tables, opener
        self.allowed = frozenset(tables)
        self.operation = operation_for(tables)

    @property
    def store(self) -> Store:
        return self._opener.open()

    def view(self, operations: list[Operation]) -> QueryTool | None:
        """The tool as a narrower selection (a grant) sees it: only its tables, over the same store and loads."""
        names = set(tables_of(operations)) & set(self.tables)
        if names == set(self.tables):
            return self
        return QueryTool({n: self.tables[n] for n in names}, self._opener) if names else None

    @classmethod
    def build(cls, operations: list[Operation], client: LearnWorldsClient, *, ttl: float = DEFAULT_TTL_SECONDS,
              wait: float = DEFAULT_WAIT_SECONDS, cache_dir: str | os.PathLike | None = None,
              max_result_bytes: int = 80_000, max_rows: int = MAX_ROWS) -> QueryTool | None:
        """The tool for a selection, or None when the filters leave no table."""
        tables = tables_of(operations)
        if not tables:
            return None

        def make() -> Store:
            from .database import Store

            return Store(tables, client, ttl=ttl, wait=wait, cache_dir=cache_dir, max_result_bytes=max_result_bytes,
                         max_rows=max_rows)

        opener = _Opener(make)
        if cache_dir is not None:
            opener.open()
        return cls(tables, opener)

    async def call(self, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Run the tool: column lists for `tables`, else the query's rows (or the loading status)."""
        sql, refresh, which = parse(arguments)
        if which:
            return self.store.describe(which, self.allowed)
        return await self.store.answer(sql, refresh, self.allowed)

    def mark_stale(self, operation: Operation) -> list[str]:
        if self._opener.store is None:
            return []  # nothing loaded yet, so nothing to mark
        return self.store.mark_stale(operation)

    async def aclose(self) -> None:
        if self._opener.store is not None:
            await self._opener.store.aclose()


class _Opener:
    """Opens the one Store of a server run on first use; the root tool and all its views share it."""

    def __init__(self, make: Callable[[], Store]) -> None:
        self.make, self.store = make, None

    def open(self) -> Store:
        if self.store is None:
            self.store = self.make()
        return self.store
