"""Read-only by construction: what SQLite lets a query do, how long it may run, and errors a model can act on.

The guard is SQLite's own: an authorizer that allows selects, reads of the published tables and
functions, `query_only`, no extension loading, tight length limits and a time limit through the
progress handler. Nothing here parses SQL to decide what is safe.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable

from ..errors import ArgumentError

QUERY_SECONDS = 10.0
MAX_SQL_CHARS = 20_000
MAX_VALUE_BYTES = 1_000_000  # the longest text or blob a query may build
# Table-valued JSON functions read like tables.
BUILTIN_READS = frozenset({"json_each", "json_tree"})
# When first set up they read the schema table's row ids (and nothing else of it).
SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema"})
DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "fts3_tokenizer"})
_ALLOWED = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                      sqlite3.SQLITE_RECURSIVE})


class SqlError(ArgumentError):
    """A query SQLite refused or could not run; the message names the fix."""


class Guard:
    """The authorizer of the query connection; it also records which published tables a query reads."""

    def __init__(self, tables: Iterable[str]):
        self.tables = self.every = frozenset(tables)
        self.read: set[str] = set()
        self.denied: list[str] = []
        self.hidden: list[str] = []  # tables that exist in the file but are not published to this caller

    def _real(self, name: str | None) -> bool:
        """A table of the file (published to someone, or the store's own), as opposed to a CTE name."""
        return name is None or name in self.every or name.startswith(("_", "sqlite_"))

    def reset(self, tables: frozenset[str]) -> None:
        self.tables = tables
        self.read.clear()
        self.denied.clear()
        self.hidden.clear()

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        if action == sqlite3.SQLITE_READ:
            if arg1 in self.tables:
                self.read.add(arg1)
                return sqlite3.SQLITE_OK
            if arg1 in BUILTIN_READS or (arg1 in SCHEMA_TABLES and arg2 == "ROWID"):
                return sqlite3.SQLITE_OK
            if db is None and not arg2 and not self._real(arg1):  # a CTE or subquery read back
                return sqlite3.SQLITE_OK
            self.hidden.append(arg1)
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
            self.denied.append(f"the function {arg2}")
            return sqlite3.SQLITE_DENY
        if action in _ALLOWED:
            return sqlite3.SQLITE_OK
        # json_each and json_tree declare their columns through the schema table when first used.
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and source is None:
            return sqlite3.SQLITE_OK
        self.denied.append(_ACTIONS.get(action, f"action {action}"))
        return sqlite3.SQLITE_DENY


_ACTIONS = {getattr(sqlite3, n): n.removeprefix("SQLITE_").lower().replace("_", " ")
            for n in ("SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_PRAGMA", "SQLITE_ATTACH",
                      "SQLITE_DETACH", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_INDEX", "SQLITE_CREATE_VIEW",
                      "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_VIEW",
                      "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_VTABLE",
                      "SQLITE_DROP_TABLE", "SQLITE_DROP_INDEX", "SQLITE_DROP_VIEW", "SQLITE_DROP_TRIGGER",
                      "SQLITE_DROP_VTABLE", "SQLITE_ALTER_TABLE", "SQLITE_REINDEX", "SQLITE_ANALYZE",
                      "SQLITE_TRANSACTION", "SQLITE_SAVEPOINT")
            if hasattr(sqlite3, n)}


def lock_down(connection: sqlite3.Connection, guard: Guard) -> None:
    """Make a connection fit for model-written SQL: read-only, no extensions, bounded lengths."""
    connection.enable_load_extension(False) if hasattr(connection, "enable_load_extension") else None
    connection.execute("PRAGMA query_only=ON")
    connection.execute("PRAGMA trusted_schema=OFF")
    if hasattr(connection, "setlimit"):
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_CHARS * 4)
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 200)
        connection.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 50)
    connection.set_authorizer(guard)


def time_limit(connection: sqlite3.Connection, seconds: float) -> Callable[[], None]:
    """Interrupt the running statement after `seconds`; returns the function that lifts the limit."""
    deadline = time.monotonic() + seconds
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 20_000)
    return lambda: connection.set_progress_handler(None, 0)


_NO_TABLE = re.compile(r"no such table: (?:\w+\.)?(\S+)")
_NO_COLUMN = re.compile(r"no such column: (\S+)")


def explain(exc: sqlite3.Error, guard: Guard, sql: str, columns: dict[str, list[str]]) -> SqlError:
    """A tool error for a failed query, naming the bad table or column and listing the valid ones."""
    text = str(exc)
    tables = ", ".join(sorted(columns))
    if guard.hidden and not guard.denied:
        return SqlError(f"sql: no table {guard.hidden[0]!r}. Tables: {tables}.")
    if guard.denied:
        return SqlError(f"sql: refused ({guard.denied[0]}): this tool only reads the published tables. Write one "
                        f"SELECT (or WITH ... SELECT); tables='*' lists the tables and their columns.")
    if "one statement at a time" in text:
        return SqlError("sql: give exactly one statement (one SELECT or WITH ... SELECT, no ';' between two).")
    if text == "interrupted":
        return SqlError(f"sql: the query ran past {QUERY_SECONDS:.0f} s and was stopped; filter earlier with "
                        "WHERE, avoid joins without a condition, or aggregate with GROUP BY.")
    match = _NO_TABLE.search(text)
    if match:
        return SqlError(f"sql: no table {match.group(1)!r}. Tables: {tables}.")
    match = _NO_COLUMN.search(text)
    if match:
        bad = match.group(1)
        named = [t for t in columns if re.search(rf"\b{re.escape(t)}\b", sql, re.IGNORECASE)] or list(columns)
        listing = "; ".join(f"{t}: {', '.join(columns[t])}" for t in named)
        return SqlError(f"sql: no column {bad!r}. Columns of {listing}. Nested objects and lists are JSON text: "
                        "use json_extract(col, '$.key') or json_each(col).")
    return SqlError(f"sql: {text}. Write one SELECT over the tables {tables}.")
