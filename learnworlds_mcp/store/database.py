"""The embedded SQLite store: tables loaded on demand, kept for a TTL, queried read-only.

In memory by default (a shared-cache database that lives as long as the server), or one file per
school under --cache-dir, created owner-only. Loads are tasks owned by the store, not by the call
that needed them: a call waits at most `wait` seconds and then answers with how far loading has
got, while the load goes on. Cancelling the call that started a load stops that load, unless
another call is waiting for the same table; a call that already returned cannot stop anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..policy import iso
from ..sanitize import NOTE as MEMBER_TEXT_NOTE
from ..registry import Operation
from . import safety
from .loader import LoadError, Progress, create_sql, fill, quote
from .progress import DEFAULT_TTL_SECONDS, DEFAULT_WAIT_SECONDS, MAX_ROWS, progress_reporter
from .tables import Table

if TYPE_CHECKING:  # the client (and auth, profiles, pydantic behind it) loads only when a server runs
    from ..client import LearnWorldsClient

log = logging.getLogger("learnworlds_mcp.store")

RESULT_OVERHEAD = 600  # bytes kept free for the wrapper: columns, tables, the truncation note
_LOADS_TABLE = "_learnworlds_loads"

_ids = itertools.count(1)


@dataclass
class Load:
    """One running load of one table, shared by every call that needs the table."""

    task: asyncio.Task | None = None
    progress: Progress = field(default_factory=Progress)
    starter: object | None = None
    waiters: int = 0
    listeners: set[Callable[[], Awaitable[None]]] = field(default_factory=set)


@dataclass
class TableState:
    as_of: float | None = None
    rows: int = 0
    stale: bool = False
    writes: int = 0  # writes seen; a load that overlapped one is stale as soon as it lands
    load: Load | None = None


class Store:
    """The tables of one selection and their rows, for one school."""

    def __init__(self, tables: dict[str, Table], client: LearnWorldsClient, *, ttl: float = DEFAULT_TTL_SECONDS,
                 wait: float = DEFAULT_WAIT_SECONDS, cache_dir: str | os.PathLike | None = None,
                 max_result_bytes: int = 80_000, max_rows: int = MAX_ROWS, clock: Callable[[], float] = time.time):
        self.tables, self.client, self.max_rows = tables, client, max_rows
        self.ttl, self.wait, self.max_result_bytes, self.clock = ttl, wait, max_result_bytes, clock
        self.state = {name: TableState() for name in tables}
        self.path = _file_for(cache_dir, client.credentials.api_url) if cache_dir else None
        if self.path is None:
            uri = f"file:learnworlds-mcp-{os.getpid()}-{next(_ids)}?mode=memory&cache=shared"
            self.writer = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self.reader = sqlite3.connect(uri, uri=True, check_same_thread=False, cached_statements=0)
        else:
            self.writer = sqlite3.connect(self.path, check_same_thread=False)
            self.reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                          cached_statements=0)
        # No statement cache on the reader: the guard records the tables a query reads as SQLite
        # prepares it, and a cached statement would skip that.
        self._prepare()
        self.guard = safety.Guard(tables)
        safety.lock_down(self.reader, self.guard)
        # One user of the connections at a time: a query runs in a worker thread (up to QUERY_SECONDS),
        # so the event loop goes on serving other calls meanwhile, and a load's writes wait for it
        # (SQLite would refuse a table change under a running read of the same shared cache).
        self.lock = asyncio.Lock()

    def _prepare(self) -> None:
        """Create each table empty (so queries compile before any load), keeping valid rows from a cache file."""
        db = self.writer
        db.execute(f"CREATE TABLE IF NOT EXISTS {_LOADS_TABLE} (name TEXT PRIMARY KEY, as_of REAL, rows INTEGER, "
                   "shape TEXT)")
        kept = {name: (as_of, rows, shape) for name, as_of, rows, shape in db.execute(
            f"SELECT name, as_of, rows, shape FROM {_LOADS_TABLE}")}
        existing = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for name in existing - set(self.tables) - {_LOADS_TABLE}:
            db.execute(f"DROP TABLE {quote(name)}")  # staging left by a killed run, or a table no longer selected
        for name, table in self.tables.items():
            saved = kept.get(name)
            if name in existing and saved and saved[2] == create_sql(table, name):
                self.state[name].as_of, self.state[name].rows = saved[0], saved[1]
                continue
            db.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            db.execute(create_sql(table, name))
        db.commit()

    # ---- freshness -------------------------------------------------------------------------------

    def fresh(self, name: str) -> bool:
        state = self.state[name]
        return state.as_of is not None and not state.stale and self.clock() - state.as_of < self.ttl

    def mark_stale(self, operation: Operation) -> list[str]:
        """A write through this server: the tables of its resource (else of its area) must load again."""
        names = [n for n, t in self.tables.items() if t.operation.resource == operation.resource]
        names = names or [n for n, t in self.tables.items() if t.operation.area == operation.area]
        for name in names:
            self.state[name].stale = True
            self.state[name].writes += 1
        return names

    # ---- loading ---------------------------------------------------------------------------------

    def _start(self, name: str, caller: object) -> Load:
        state = self.state[name]
        if state.load is None:
            state.load = Load(starter=caller)
            state.load.task = asyncio.get_running_loop().create_task(self._load(name, state.load),
                                                                    name=f"load {name}")
            state.load.task.add_done_callback(_log_failure)
        return state.load

    async def _load(self, name: str, load: Load) -> None:
        table, state = self.tables[name], self.state[name]
        staging = f"_staging_{name}_{next(_ids)}"
        writes, started = state.writes, self.clock()

        async def on_page(progress: Progress) -> None:
            for listener in list(load.listeners):
                await listener()

        try:
            rows = await fill(table, self.client, self.writer, staging, load.progress, on_page, self.lock)
            db = self.writer
            async with self.lock:
                db.execute("BEGIN IMMEDIATE")  # the swap is one transaction: a query sees old rows or new, never half
                db.execute(f"DROP TABLE IF EXISTS {quote(name)}")
                db.execute(f"ALTER TABLE {quote(staging)} RENAME TO {quote(name)}")
                db.execute(f"INSERT OR REPLACE INTO {_LOADS_TABLE} VALUES (?, ?, ?, ?)",
                           (name, started, rows, create_sql(table, name)))
                db.commit()
            state.as_of, state.rows = started, rows
            state.stale = state.writes != writes
            log.info("loaded %s: %d rows in %d pages", name, rows, load.progress.pages_done)
        except ApiError as exc:
            raise type(exc)(f"Loading the {name} table failed, nothing of it was kept: {exc}", status=exc.status,
                            details=exc.details) from exc
        except sqlite3.Error as exc:
            raise LoadError(f"Loading the {name} table failed: the store could not keep its rows ({exc}).") from exc
        finally:
            state.load = None
            async with self.lock:
                try:
                    if self.writer.in_transaction:
                        self.writer.rollback()
                    self.writer.execute(f"DROP TABLE IF EXISTS {quote(staging)}")
                    self.writer.commit()
                except sqlite3.ProgrammingError:  # closed by aclose while this load was being cancelled
                    pass

    async def _wait_for(self, loads: list[Load], caller: object) -> bool:
        """Wait for the loads up to the deadline; True when all finished. Re-raises a failed load's error."""
        reporter = progress_reporter.get()

        async def report() -> None:
            if reporter is None:
                return
            done = sum(l.progress.pages_done for l in loads)
            total = sum(l.progress.pages_total or 0 for l in loads) or None
            try:
                await reporter(done, total, f"loading tables: {done} of {total or '?'} pages")
            except Exception:  # a client that went away must not stop a load others may need
                log.debug("progress notification failed", exc_info=True)

        for load in loads:
            load.waiters += 1
            load.listeners.add(report)
        try:
            done, _ = await asyncio.wait([l.task for l in loads], timeout=self.wait)
        except asyncio.CancelledError:
            for load in loads:
                if load.starter is caller and load.waiters == 1:
                    load.task.cancel()
            raise
        finally:
            for load in loads:
                load.waiters -= 1
                load.listeners.discard(report)
        for task in done:
            if task.cancelled():
                raise LoadError("Loading was stopped before it finished (the server is shutting down, or the call "
                                "that started it was cancelled); call again to load the tables.")
            if task.exception() is not None:
                raise task.exception()
        return len(done) == len(loads)

    # ---- answering -------------------------------------------------------------------------------

    async def answer(self, sql: str, refresh: bool = False, allowed: frozenset[str] | None = None) -> dict[str, Any]:
        """Rows for one SELECT over the `allowed` tables (default all), loading those it reads first; or how far
        loading has got."""
        import anyio

        allowed = frozenset(self.tables) if allowed is None else allowed
        async with self.lock:
            used = self.tables_read(sql, allowed)  # compiling only: quick
        caller = object()
        loads = [self._start(n, caller) for n in sorted(used)
                 if refresh or not self.fresh(n) or self.state[n].load is not None]
        if loads and not await self._wait_for(loads, caller):
            return self.loading(sorted(used))
        async with self.lock:
            # In a worker thread: the loop keeps answering other calls. A cancelled call still waits for
            # its query (at most QUERY_SECONDS), so the lock is never released under a running read.
            result = await anyio.to_thread.run_sync(self.run, sql, allowed)
        result["tables"] = {n: {"as_of": iso(self.state[n].as_of), "rows": self.state[n].rows} for n in sorted(used)}
        if any(self.tables[n].member_text for n in used):
            result["member_text"] = MEMBER_TEXT_NOTE
        return result

    def loading(self, names: list[str]) -> dict[str, Any]:
        """The answer past the deadline: progress per table and when to ask again."""
        tables, remaining = {}, 0
        for name in names:
            load = self.state[name].load
            if load is None:
                tables[name] = {"as_of": iso(self.state[name].as_of), "rows": self.state[name].rows}
                continue
            tables[name] = load.progress.facts()
            left = (load.progress.pages_total or load.progress.pages_done + 1) - load.progress.pages_done
            remaining += max(left, 0)
        limiter = self.client.limiter
        seconds = max(1, math.ceil(remaining * limiter.window / limiter.limit))
        return {"status": "loading", "tables": tables, "retry_after_seconds": seconds,
                "message": f"Tables are still loading (about {seconds} s left). Call this tool again with the same "
                           "sql to get the answer; loading goes on meanwhile (no need for refresh)."}

    def tables_read(self, sql: str, allowed: frozenset[str]) -> set[str]:
        """The published tables a query reads, found by compiling it under the guard (nothing runs)."""
        if not isinstance(sql, str) or not sql.strip():
            raise safety.SqlError("sql: give one SELECT statement, e.g. SELECT count(*) FROM users")
        if len(sql) > safety.MAX_SQL_CHARS:
            raise safety.SqlError(f"sql: longer than {safety.MAX_SQL_CHARS} characters; write a shorter query.")
        self._execute("EXPLAIN " + sql, sql, allowed).close()
        return set(self.guard.read)

    def _execute(self, statement: str, sql: str, allowed: frozenset[str]) -> sqlite3.Cursor:
        self.guard.reset(allowed)  # at each statement: calls with other grants interleave between awaits
        lift = safety.time_limit(self.reader, safety.QUERY_SECONDS)
        try:
            return self.reader.execute(statement)
        except (sqlite3.Error, sqlite3.Warning, OverflowError) as exc:
            raise safety.explain(exc, self.guard, sql, self.columns(allowed)) from None
        finally:
            lift()

    def run(self, sql: str, allowed: frozenset[str]) -> dict[str, Any]:
        """Run the query under the guard, keeping rows while they fit the row and byte caps."""
        budget = self.max_result_bytes - RESULT_OVERHEAD
        cursor = self._execute(sql, sql, allowed)
        lift = safety.time_limit(self.reader, safety.QUERY_SECONDS)
        rows: list[list[Any]] = []
        used, more, cut = 0, 0, None
        try:
            columns = [d[0] for d in cursor.description or ()]
            used = _size(columns)
            for row in cursor:
                if cut is None:
                    cells = [_cell(v) for v in row]
                    size = _size(cells) + 1
                    if len(rows) >= self.max_rows:
                        cut = f"{self.max_rows} rows"
                    elif used + size > budget:
                        cut = f"{self.max_result_bytes} bytes"
                    else:
                        rows.append(cells)
                        used += size
                        continue
                more += 1
        except sqlite3.Error as exc:
            if str(exc) != "interrupted" or cut is None:
                raise safety.explain(exc, self.guard, sql, self.columns(allowed)) from None
            more = -1  # counting the rest ran out of time
        finally:
            lift()
            cursor.close()
        result: dict[str, Any] = {"columns": columns, "rows": rows, "row_count": len(rows)}
        if cut:
            rest = "more rows" if more < 0 else f"{more} more row{'s' * (more != 1)}"
            result["truncated"] = (f"Showing the first {len(rows)} rows (cap {cut}); the query returned {rest}. "
                                   "Narrow it: add WHERE conditions, aggregate with COUNT or GROUP BY, select fewer "
                                   "columns, or page with LIMIT and OFFSET.")
        return result

    def columns(self, allowed: frozenset[str]) -> dict[str, list[str]]:
        return {name: table.column_names for name, table in sorted(self.tables.items()) if name in allowed}

    def describe(self, which: str, allowed: frozenset[str]) -> dict[str, Any]:
        """Full column lists (and load state) of one table, or of every allowed table for '*'."""
        if which != "*" and which not in allowed:
            raise safety.SqlError(f"tables: no table {which!r}; give '*' or one of {', '.join(sorted(allowed))}")
        out = {}
        for name in sorted(allowed) if which == "*" else [which]:
            table, state = self.tables[name], self.state[name]
            out[name] = {"columns": table.column_names,
                         "json_columns": [c.name for c in table.columns if c.json],
                         "from_tool": table.operation.name}
            if state.as_of is not None:
                out[name].update(as_of=iso(state.as_of), rows=state.rows, fresh=self.fresh(name))
        return {"tables": out}

    async def aclose(self) -> None:
        for state in self.state.values():
            if state.load is not None and state.load.task is not None:
                state.load.task.cancel()
        async with self.lock:  # a query still running in its thread finishes first
            self.reader.close()
            self.writer.close()


def _log_failure(task: asyncio.Task) -> None:
    """Log a load that failed with no call left waiting for it; the next query that needs the table retries."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("%s failed: %s", task.get_name(), task.exception())


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<blob of {len(value)} bytes>"
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def _file_for(cache_dir: str | os.PathLike, api_url: str) -> Path:
    """The school's cache file under `cache_dir`: folder 0700, file 0600, created before SQLite opens it."""
    folder = Path(cache_dir).expanduser()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / f"school-{hashlib.sha256(api_url.encode()).hexdigest()[:16]}.sqlite3"
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    return path
