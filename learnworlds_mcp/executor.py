"""One generic path from a tool call to a LearnWorlds request and back to a structured result."""

from __future__ import annotations

from typing import Any

from . import pagination
from .arguments import validate
from .client import LearnWorldsClient, build_path
from .registry import Operation


async def execute(operation: Operation, arguments: dict[str, Any] | None, client: LearnWorldsClient) -> dict[str, Any]:
    """Validate, send, and shape the answer; raises ArgumentError or ApiError."""
    request = validate(operation, arguments)
    path = build_path(operation.path, request.path)
    body = request.body if operation.params.get("body") else None
    safe = operation.read_only or (operation.method in ("PUT", "DELETE") and operation.idempotent)
    if operation.paging:
        filters = {"path": request.path, "query": request.query}
        plan = pagination.plan_page(operation.paging, pagination.fingerprint(operation.name, filters),
                                    request.limit, request.next_cursor)
        query = {**request.query, **pagination.page_query(operation.paging, plan)}
        answer = await client.send(operation.method, path, query, body, retry_safe=safe)
        meta = answer.get("meta") if isinstance(answer, dict) else None
        page = pagination.slice_page(plan, operation.items_of(answer), meta)
        result: dict[str, Any] = {"result": page.items, "next_cursor": page.next_cursor}
        if page.total is not None:
            result["total"] = page.total
        return result
    answer = await client.send(operation.method, path, request.query, body, retry_safe=safe)
    if operation.is_list:
        return {"result": operation.items_of(answer), "next_cursor": None}
    return answer if isinstance(answer, dict) else {"result": answer}
