"""Filling one table: page its list operation at the largest page size, through the shared client, into a staging table.

One pager serves tools and tables: the page query comes from `pagination.page_query`, and the
requests go through `LearnWorldsClient.send` (the shared rate limiter and its safe retries).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import pagination, sanitize
from ..errors import ApiError
from .tables import SWITCH_PREFIX, Table

if TYPE_CHECKING:  # the client (and auth, profiles, pydantic behind it) loads only when a server runs
    from ..client import LearnWorldsClient

MAX_PAGES = 5_000  # an upstream that claims more pages than this is not answered whole
MAX_ROWS = 1_000_000


class LoadError(ApiError):
    """A table could not be loaded whole; nothing of it was kept."""


@dataclass
class Progress:
    """How far one load has got, as the loading answer and progress notifications report it."""

    pages_done: int = 0
    pages_total: int | None = None
    rows_loaded: int = 0

    def facts(self) -> dict[str, Any]:
        return {"pages_done": self.pages_done, "pages_total": self.pages_total, "rows_loaded": self.rows_loaded}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_sql(table: Table, name: str) -> str:
    types = {"integer": "INTEGER", "real": "REAL", "boolean": "INTEGER", "text": "TEXT", "json": "TEXT"}
    columns = ", ".join(f"{quote(c.name)} {types[c.kind]}" for c in table.columns)
    return f"CREATE TABLE {quote(name)} ({columns})"


def _cell(value: Any, json_column: bool) -> Any:
    if value is None:
        return None
    if json_column or isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def _rows(table: Table, items: list[Any], seen: set[Any]) -> list[tuple]:
    rows = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if table.member_text:  # cleaned once at load, so no query can read what a person would not see
            item = sanitize.clean_record(table.operation, item)
        key = item.get("id")
        if key is not None:
            if key in seen:  # a list that shifted between pages repeats an item; keep the first
                continue
            seen.add(key)
        rows.append(tuple(_cell(item.get(c.name), c.json) for c in table.columns))
    return rows


OnPage = Callable[[Progress], Awaitable[None]]


async def _pages(table: Table, client: LearnWorldsClient, query: dict[str, Any],
                 progress: Progress | None, on_page: OnPage | None):
    """Each page's items in turn, stopping at meta.totalPages (past the end LearnWorlds repeats its last page)."""
    operation, paging = table.operation, table.operation.paging
    page = 1
    while True:
        sent = dict(query)
        if paging:
            plan = pagination.PagePlan(page=page, per_page=paging.max_limit, offset=0, limit=paging.max_limit,
                                       fingerprint="")
            sent.update(pagination.page_query(paging, plan))
        answer = await client.send(operation.method, operation.path, sent, None, retry_safe=True)
        meta = answer.get("meta") if isinstance(answer, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        answered, total = _int(meta.get("page")), _int(meta.get("totalPages"))
        if answered is not None and answered < page:
            return
        yield operation.items_of(answer)
        if progress is not None:
            progress.pages_done = page
            progress.pages_total = max(total or page, page)
            if on_page is not None:
                await on_page(progress)
        if not paging or total is None or page >= total:
            return
        page += 1
        if page > MAX_PAGES:
            raise LoadError(f"{table.name}: LearnWorlds reports more than {MAX_PAGES} pages; the table is too large "
                            "to load whole. Use the list tool with filters instead.")


async def fill(table: Table, client: LearnWorldsClient, db: sqlite3.Connection, staging: str,
               progress: Progress, on_page: OnPage | None = None, lock: Any = None) -> int:
    """Load every row of `table` into the (new) staging table; the number of rows loaded.

    `lock` (an asyncio.Lock) is held for each write, never across a request: queries and writes take turns.
    """
    lock = lock or contextlib.nullcontext()
    async with lock:
        db.execute(create_sql(table, staging))
        db.commit()
    names = table.column_names
    insert = f"INSERT INTO {quote(staging)} VALUES ({', '.join('?' * len(names))})"
    query = {switch: True for switch in table.switches}
    seen: set[Any] = set()
    async for items in _pages(table, client, query, progress, on_page):
        rows = _rows(table, items, seen)
        async with lock:
            with db:
                db.executemany(insert, rows)
        progress.rows_loaded += len(rows)
        if progress.rows_loaded > MAX_ROWS:
            raise LoadError(f"{table.name}: more than {MAX_ROWS} rows; too large to load whole. Use the list tool "
                            "with filters instead.")
    for switch in table.switches:
        await _mark_flag(table, switch, client, db, staging, lock)
    return progress.rows_loaded


async def _mark_flag(table: Table, switch: str, client: LearnWorldsClient, db: sqlite3.Connection,
                     staging: str, lock: Any) -> None:
    """Set the switch's flag column (is_suspended) where the API left it out, from the list's own status filter.

    Costs requests only when some rows lack the flag: one filtered paging, usually short. Without such
    a filter the flag stays NULL rather than guessed.
    """
    flag = quote(table.flag_column(switch))
    async with lock:
        missing = db.execute(f"SELECT count(*) FROM {quote(staging)} WHERE {flag} IS NULL").fetchone()[0]
    if not missing:
        return
    word = switch[len(SWITCH_PREFIX):]
    query_params = table.operation.params.get("query", {}).get("properties", {})
    selector = next((n for n, s in query_params.items() if word in (s.get("enum") or [])), None)
    if selector is not None:
        ids: set[Any] = set()
        async for items in _pages(table, client, {selector: word}, None, None):
            ids.update(i.get("id") for i in items if isinstance(i, dict) and i.get("id") is not None)
        async with lock:
            with db:
                db.executemany(f"UPDATE {quote(staging)} SET {flag} = 1 WHERE id = ?", [(i,) for i in ids])
                db.execute(f"UPDATE {quote(staging)} SET {flag} = 0 WHERE {flag} IS NULL")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
