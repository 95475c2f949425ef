"""Answer shapes shared by all routes: pages, unpaged lists, the several error bodies, bodies in."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from learnworlds_mcp.registry import MAX_ITEMS_PER_PAGE, Paging, load

_PLACEHOLDER = re.compile(r"\{[^{}]+\}")


class ReplyError(Exception):
    """A finished error answer raised from deep inside a handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def not_found(what: str = "This resource is not found") -> ReplyError:
    """404 in the statusCode/error shape."""
    return ReplyError(JSONResponse({"statusCode": 404, "error": what}, status_code=404))


def bad_request(context: str, message: str, code: int = 400, status: int = 400) -> ReplyError:
    """400 in the errors-list shape with success false."""
    body = {"errors": [{"code": code, "context": context, "message": message}], "success": False}
    return ReplyError(JSONResponse(body, status_code=status))


def invalid(fields: dict[str, str]) -> ReplyError:
    """422 in the validation shape: one message list per offending field."""
    body = {
        "statusCode": 422,
        "error": "Validation Failed",
        "message": "Some fields of the request did not validate.",
        "errors": {name: [text] for name, text in fields.items()},
    }
    return ReplyError(JSONResponse(body, status_code=422))


def malformed() -> ReplyError:
    """400 for a body that is not a JSON object."""
    return ReplyError(JSONResponse({"statusCode": 400, "error": "Bad Request"}, status_code=400))


async def body_of(request: Request) -> dict:
    """The request's JSON object body; empty when there is none."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise malformed() from None
    if not isinstance(data, dict):
        raise malformed()
    return data


def require(body: dict, *names: str) -> None:
    """Raise the 422 validation answer naming every required field the body lacks."""
    missing = {name: f"The {name} field is required." for name in names
               if body.get(name) is None or body.get(name) == ""}
    if missing:
        raise invalid(missing)


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid({name: f"The {name} must be an integer."}) from None


@lru_cache(maxsize=1)
def _paging_by_route() -> dict[tuple[str, str], Paging]:
    """Page size and items_per_page of each paged operation, keyed by method and path shape."""
    return {(op.method, _PLACEHOLDER.sub("{}", op.path)): op.paging for op in load() if op.paging}


def paging_of(request: Request) -> Paging:
    """How the operation behind this route pages, read from the bundled operation files."""
    path = "/v2" + request.scope["route"].path
    key = (request.method, _PLACEHOLDER.sub("{}", path))
    try:
        return _paging_by_route()[key]
    except KeyError:
        raise LookupError(f"no paged operation for {request.method} {path} in the operation files") from None


def paginate(request: Request, items: Sequence, paging: Paging | None = None) -> tuple[list, dict]:
    """The rows and meta of the requested page; past the end the last page comes back again.

    The page size comes from the operation files; `paging` is only for a page nested in another
    answer, which the files describe as a plain `page` argument.
    """
    paging = paging or paging_of(request)
    size = paging.page_size
    if paging.items_per_page:
        size = _positive_int(request, "items_per_page", size)
        if not 1 <= size <= MAX_ITEMS_PER_PAGE:
            raise invalid({"items_per_page": "The items_per_page must be between 1 and 200."})
    number = max(1, _positive_int(request, "page", 1))
    total = len(items)
    pages = math.ceil(total / size)
    number = min(number, max(pages, 1))
    start = (number - 1) * size
    meta = {"page": number, "totalItems": total, "totalPages": pages, "itemsPerPage": size}
    return list(items[start:start + size]), meta


def page(request: Request, items: Sequence) -> JSONResponse:
    """One page of `items` as {"data", "meta"}, sized as the operation files say."""
    rows, meta = paginate(request, items)
    return JSONResponse({"data": rows, "meta": meta})


def unpaged(items: Sequence) -> JSONResponse:
    """A list without meta, as the few unpaged endpoints answer."""
    return JSONResponse({"data": list(items)})


def split(value: str | None) -> list[str]:
    """Comma-separated query value as a clean list."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def number(request: Request, name: str) -> float | None:
    """A numeric query parameter, or None when absent."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise invalid({name: f"The {name} must be a number."}) from None
