"""One generic path from a tool call to a LearnWorlds request and back to a structured result."""

from __future__ import annotations

from typing import Any

from . import pagination, recovery, registry, sanitize, shaping
from .arguments import Request, validate
from .client import build_path
from .errors import ApiError
from .registry import Operation
from .runtime import DEFAULT_MAX_RESULT_BYTES, Runtime

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "Runtime", "execute"]


async def execute(operation: Operation, arguments: dict[str, Any] | None, runtime: Runtime) -> dict[str, Any]:
    """Validate, check the policy, send, and shape the answer; raises ArgumentError, PolicyError or ApiError."""
    if runtime.store is not None and operation is runtime.store.operation:
        runtime.policy.admit(operation)  # an expired grant reads no cached rows either
        return await runtime.store.call(arguments)
    request = validate(operation, arguments)
    path = build_path(operation.path, request.path)
    body = request.body if operation.params.get("body") else None
    runtime.policy.admit(operation)
    if runtime.policy.dry_run and not operation.read_only:
        return shaping.cap({"dry_run": True, "request": {"method": operation.method, "path": path,
                                                         "query": request.query, "body": body}},
                           runtime.max_result_bytes)
    if runtime.store is not None and not operation.read_only:
        runtime.store.mark_stale(operation)  # before sending: a write that fails midway may still have landed
    safe = operation.read_only or (operation.method in ("PUT", "DELETE") and operation.idempotent)
    send = _with_hints(operation, _with_check(operation, request, body, runtime.client.send))
    if not operation.paging:
        answer = await send(operation.method, path, request.query, body, retry_safe=safe)
        if operation.is_list:
            items, member = _shape(operation.items_of(answer), request, runtime, _items(operation))
            return _fit_list(items, None, runtime, member=member)
        value, member = _shape(answer if isinstance(answer, dict) else {"result": answer}, request, runtime,
                               operation.response if isinstance(answer, dict) else {})
        return _fit_object(value, runtime, member)
    filters = {"path": request.path, "query": request.query}
    plan = pagination.plan_page(operation.paging, pagination.fingerprint(operation.name, filters),
                                request.limit, request.next_cursor)
    query = {**request.query, **pagination.page_query(operation.paging, plan)}
    answer = await send(operation.method, path, query, body, retry_safe=safe)
    meta = answer.get("meta") if isinstance(answer, dict) else None
    page = pagination.slice_page(plan, operation.items_of(answer), meta)
    items, member = _shape(page.items, request, runtime, _items(operation))
    result = _fit_list(items, plan, runtime, page.next_cursor, member)
    if page.total is not None:
        result["total"] = page.total
    return result


def _with_hints(operation: Operation, send: Any) -> Any:
    """`send`, with the operation's own reading of an error status added to the message (its `hints`)."""
    if not operation.hints:
        return send

    async def sending(*args: Any, **kwargs: Any) -> Any:
        try:
            return await send(*args, **kwargs)
        except ApiError as exc:
            hint = operation.hints.get(str(exc.status))
            if hint is None:
                raise
            raise ApiError(f"{exc} {hint}", status=exc.status, details=exc.details, method=exc.method,
                           path=exc.path) from None

    return sending


def _with_check(operation: Operation, request: Request, body: dict[str, Any] | None, send: Any) -> Any:
    """`send`, naming the read that shows whether a write happened when its answer was lost."""
    if operation.read_only:
        return send

    async def sending(*args: Any, **kwargs: Any) -> Any:
        try:
            return await send(*args, **kwargs)
        except ApiError as exc:
            if exc.outcome_unknown:
                given = {"path": request.path, "query": request.query, "body": body or {}}
                exc.args = (f"{exc} {recovery.check_hint(operation, given, registry.load())}",)
            raise

    return sending


def _items(operation: Operation) -> dict[str, Any]:
    return {"type": "array", "items": operation.record_schema}


def _shape(value: Any, request: Request, runtime: Runtime, schema: dict[str, Any]) -> tuple[Any, bool]:
    """Picked fields, empty values dropped, member-written text cleaned; True when such text remains."""
    if request.fields:
        value = shaping.pick(value, shaping.field_tree(request.fields))
    value = value if runtime.keep_empty else shaping.drop_empty(value)
    return sanitize.clean(schema, value)


def _fit_list(items: list[Any], plan: pagination.PagePlan | None, runtime: Runtime,
              next_cursor: str | None = None, member: bool = False) -> dict[str, Any]:
    """{result, next_cursor}, cut at an item boundary when it would exceed the byte budget."""
    member_note = {"member_text": sanitize.NOTE} if member else {}

    def wrap(kept: list[Any]) -> dict[str, Any]:
        return {"result": kept, "next_cursor": "x" * 64, "truncated": "x" * 300, **member_note}

    kept = shaping.fit_items(items, runtime.max_result_bytes, wrap)
    if kept == 1 and shaping.size(wrap(items[:1])) > runtime.max_result_bytes:
        # one item alone is over the budget: cut the long text inside it
        items = shaping.cap(items[:1], runtime.max_result_bytes - shaping.size(wrap([]))) + items[1:]
        if len(items) == 1:
            note = (f"Cut long text inside the item to fit {runtime.max_result_bytes} bytes; each cut is marked. "
                    "Ask for fewer fields to see the rest.")
            return {"result": items, "next_cursor": next_cursor, "truncated": note, **member_note}
    if kept == len(items):
        return {"result": items, "next_cursor": next_cursor, **member_note}
    if plan is not None:
        cursor = pagination.encode_cursor(plan.page, plan.offset + kept, plan.per_page, plan.fingerprint)
        note = (f"Cut to {kept} of {len(items)} items to fit {runtime.max_result_bytes} bytes; next_cursor "
                "continues right after them. Ask for a smaller limit, or fewer fields, to avoid cuts.")
        return {"result": items[:kept], "next_cursor": cursor, "truncated": note, **member_note}
    note = (f"Cut to {kept} of {len(items)} items to fit {runtime.max_result_bytes} bytes; this list has no "
            "paging, so narrow it with filters or ask for fewer fields to see the rest.")
    return {"result": items[:kept], "next_cursor": None, "truncated": note, **member_note}


def _fit_object(value: dict[str, Any], runtime: Runtime, member: bool = False) -> dict[str, Any]:
    kept = shaping.cap(value, runtime.max_result_bytes - 400 - (len(sanitize.NOTE) + 20) * member)
    if kept is not value:
        kept = kept if isinstance(kept, dict) else {"result": kept}
        kept["truncated"] = (f"Cut to fit {runtime.max_result_bytes} bytes: each cut is marked where it was "
                             "made; ask for fewer fields to see the rest.")
    if member:
        kept = {**kept, "member_text": sanitize.NOTE}
    return kept
