"""Prompt argument completion: the school's own values (role names, group titles) for hosts that ask.

Values are read through the list tools' operations on the executor's path, so the server's filters,
policy and rate budget apply: a list tool the filters removed gives no values. They are cached for a
few minutes, filtered by what the user has typed, capped at the protocol's 100, and a failure of any
kind gives an empty answer, never an error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import anyio
import mcp_types as types

from .runtime import Runtime
from .prompts import GROUPS_TOOL, ROLES_TOOL
from .registry import Operation

log = logging.getLogger("learnworlds_mcp")

MAX_VALUES = 100            # the most values one completion answer may carry (MCP)
CACHE_SECONDS = 300.0       # how long fetched values serve later keystrokes
RETRY_SECONDS = 30.0        # how long a failed fetch stays an empty answer before it is tried again
FETCH_SECONDS = 10.0        # a completion is interactive: give up on a slow school
MAX_PAGES = 10              # at most this many list pages per source
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class Source:
    """Where one prompt argument's values come from: a list tool and the item field it offers."""

    tool: str
    field: str
    comma_list: bool = False  # the argument takes several values; complete the last one
    contains: bool = False    # also offer values that merely contain the typed text


SOURCES = {
    ("audit_inactive_staff", "roles"): Source(ROLES_TOOL, "title", comma_list=True),
    ("cohort_report", "group_title_contains"): Source(GROUPS_TOOL, "title", contains=True),
}


def matching(candidates: list[str], typed: str, contains: bool = False) -> list[str]:
    """Candidates that start with `typed` (any case), then, if asked, those that merely contain it."""
    needle = typed.strip().lower()
    starts = [c for c in candidates if c.lower().startswith(needle)]
    if not contains:
        return starts
    return starts + [c for c in candidates if needle in c.lower() and not c.lower().startswith(needle)]


class Completer:
    """Answers completion/complete for the prompts, over the operations this server selected."""

    def __init__(self, operations: list[Operation], runtime: Runtime,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.operations = {op.name: op for op in operations}
        self.runtime = runtime
        self.clock = clock
        self._cache: dict[str, tuple[float, list[str] | None]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def values(self, tool: str, field: str) -> list[str] | None:
        """Distinct `field` values of every item `tool` lists (cached); None when unavailable."""
        operation = self.operations.get(tool)
        if operation is None or not operation.is_list:
            return None
        key = f"{tool}:{field}"
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:  # one fetch serves the keystrokes that arrive while it runs
            cached = self._cache.get(key)
            if cached is not None and cached[0] > self.clock():
                return cached[1]
            try:
                with anyio.fail_after(FETCH_SECONDS):
                    found: list[str] | None = await self._fetch(operation, field)
            except Exception as exc:  # completion is a convenience: any failure is an empty answer
                log.info("completion values from %s unavailable: %s", tool, type(exc).__name__)
                found = None
            lifetime = CACHE_SECONDS if found is not None else RETRY_SECONDS
            self._cache[key] = (self.clock() + lifetime, found)
            return found

    async def _fetch(self, operation: Operation, field: str) -> list[str]:
        from .executor import execute  # loaded at the first use, not at start-up

        found: dict[str, None] = {}
        cursor = None
        for _ in range(MAX_PAGES):
            arguments: dict[str, Any] = {"fields": field} if operation.shapeable else {}
            if operation.paging:
                arguments["limit"] = operation.paging.max_limit
                if cursor:
                    arguments["next_cursor"] = cursor
            page = await execute(operation, arguments, self.runtime)
            for item in page.get("result") or []:
                value = item.get(field) if isinstance(item, dict) else None
                if isinstance(value, str) and value.strip() and len(value) <= MAX_VALUE_CHARS:
                    found[value.strip()] = None
            cursor = page.get("next_cursor")
            if not cursor or not operation.paging:
                break
        return sorted(found, key=str.lower)

    async def complete(self, ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        """The MCP handler: values for a prompt argument, or none (never an error)."""
        try:
            values, total = await self._complete(params)
        except Exception:  # a bug here must not reach the client either
            log.exception("completion failed")
            values, total = [], 0
        return types.CompleteResult(completion=types.Completion(
            values=values, total=total, has_more=total > len(values)))

    async def _complete(self, params: types.CompleteRequestParams) -> tuple[list[str], int]:
        ref = params.ref
        if not isinstance(ref, types.PromptReference):
            return [], 0
        source = SOURCES.get((ref.name, params.argument.name))
        if source is None:
            return [], 0
        candidates = await self.values(source.tool, source.field)
        if not candidates:
            return [], 0
        typed, before = params.argument.value or "", ""
        if source.comma_list and "," in typed:
            head, _, typed = typed.rpartition(",")
            before = head + ","
            taken = {part.strip().lower() for part in head.split(",")}
            candidates = [c for c in candidates if c.lower() not in taken]
        found = [before + value for value in matching(candidates, typed, source.contains)]
        return found[:MAX_VALUES], len(found)
