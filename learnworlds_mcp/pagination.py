"""limit/next_cursor for the model <-> page/items_per_page/meta for LearnWorlds (pure, no I/O).

The cursor is opaque to the model. It remembers the page, the offset inside that page and the
page size in use, so `limit` works on endpoints whose page size is fixed, and a fingerprint of
the tool and its filters, so a cursor cannot be replayed against a different query.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .errors import ArgumentError
from .registry import Paging

_VERSION = 1
MAX_CURSOR_CHARS = 256  # a real cursor is about 60 characters
MAX_PAGE = 1_000_000  # far past any school's last page; refuses page=10**12 and the like
MAX_OFFSET = 1_000_000  # items inside one answer


@dataclass(frozen=True)
class PagePlan:
    """Which LearnWorlds page to fetch and which slice of it to return."""

    page: int
    per_page: int
    offset: int
    limit: int
    fingerprint: str


@dataclass(frozen=True)
class PageSlice:
    """What one list call returns: the items, the next cursor (or None) and the total."""

    items: list[Any]
    next_cursor: str | None
    total: int | None


def fingerprint(tool: str, filters: dict[str, Any]) -> str:
    """A short digest of the tool and every argument that shapes the result set."""
    text = json.dumps([tool, filters], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(page: int, offset: int, per_page: int, print_: str) -> str:
    raw = json.dumps([_VERSION, page, offset, per_page, print_], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> ArgumentError:
    return ArgumentError(
        "next_cursor: not a cursor this server handed out; pass the next_cursor value of the "
        "previous result unchanged, or omit it to start from the first page"
    )


def _cursor_model() -> Any:
    """The decoded cursor as a strict pydantic model (built on first use: pydantic is a heavy import)."""
    global _Cursor
    if _Cursor is None:
        from pydantic import BaseModel, ConfigDict, Field

        class Cursor(BaseModel):
            model_config = ConfigDict(strict=True, frozen=True)
            version: int = Field(ge=_VERSION, le=_VERSION)
            page: int = Field(ge=1, le=MAX_PAGE)
            # An answer without page data is the whole list as one page, so the offset is
            # bounded by the largest answer we accept rather than by per_page.
            offset: int = Field(ge=0, lt=MAX_OFFSET)
            per_page: int = Field(ge=1)
            fingerprint: str = Field(max_length=64)

        _Cursor = Cursor
    return _Cursor


_Cursor: Any = None


def decode_cursor(token: str, expected_print: str, paging: Paging | None = None) -> tuple[int, int, int]:
    """(page, offset, per_page) from a cursor this query handed out; ArgumentError otherwise."""
    if not isinstance(token, str) or len(token) > MAX_CURSOR_CHARS:
        raise _bad_cursor()
    from pydantic import ValidationError

    try:
        padded = token + "=" * (-len(token) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded))
        names = ("version", "page", "offset", "per_page", "fingerprint")
        if not isinstance(fields, list) or len(fields) != len(names):
            raise ValueError("not a five-field cursor")
        cursor = _cursor_model()(**dict(zip(names, fields)))
    except (ValueError, TypeError, RecursionError, ValidationError):
        raise _bad_cursor() from None
    if paging is not None and not (cursor.per_page <= paging.max_limit if paging.items_per_page
                                   else cursor.per_page == paging.page_size):
        raise _bad_cursor()
    if cursor.fingerprint != expected_print:
        raise ArgumentError(
            "next_cursor: it belongs to a different tool or different filters; repeat the call "
            "with the same filters as the call that returned it, or omit it to start again"
        )
    return cursor.page, cursor.offset, cursor.per_page


def plan_page(paging: Paging, print_: str, limit: int | None, cursor: str | None) -> PagePlan:
    """Decide the request for one list call from the model's limit and cursor."""
    limit = min(limit or paging.page_size, paging.max_limit)
    if cursor is None:
        per_page = limit if paging.items_per_page else paging.page_size
        return PagePlan(page=1, per_page=per_page, offset=0, limit=limit, fingerprint=print_)
    page, offset, per_page = decode_cursor(cursor, print_, paging)
    start = (page - 1) * per_page
    if paging.items_per_page and offset == 0 and start % limit == 0:
        # Aligned: switch to the new page size without skipping or repeating an item.
        page, per_page = start // limit + 1, limit
    return PagePlan(page=page, per_page=per_page, offset=offset, limit=limit, fingerprint=print_)


def page_query(paging: Paging, plan: PagePlan) -> dict[str, int]:
    """The LearnWorlds query parameters that fetch the planned page."""
    query = {"page": plan.page}
    if paging.items_per_page:
        query["items_per_page"] = plan.per_page
    return query


def slice_page(plan: PagePlan, data: list[Any], meta: Any) -> PageSlice:
    """Cut the planned slice out of one LearnWorlds page and work out the next cursor."""
    if not isinstance(meta, dict):
        # No page data: the answer is the whole list, so the rest of it is reached through this same page.
        end = plan.offset + plan.limit
        rest = encode_cursor(plan.page, end, plan.per_page, plan.fingerprint) if end < len(data) else None
        return PageSlice(items=data[plan.offset : end], next_cursor=rest, total=len(data))
    total_pages = _int(meta.get("totalPages"))
    total = _int(meta.get("totalItems"))
    answered_page = _int(meta.get("page"))
    if answered_page is not None and answered_page < plan.page:
        # Past the end LearnWorlds repeats its last page; those items were already returned.
        return PageSlice(items=[], next_cursor=None, total=total)
    end = plan.offset + plan.limit
    items = data[plan.offset : end]
    if end < len(data):
        next_cursor = encode_cursor(plan.page, end, plan.per_page, plan.fingerprint)
    elif total_pages is not None and plan.page < total_pages:
        next_cursor = encode_cursor(plan.page + 1, 0, plan.per_page, plan.fingerprint)
    else:
        next_cursor = None
    return PageSlice(items=items, next_cursor=next_cursor, total=total)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
