"""What to tell the model when a write's answer was lost: which read would show whether it happened.

Derived from the registry alone: a read of the same resource (the list of the same collection
when there is one), with the call's own values for the filters that list accepts and
the identifying fields to look for.
"""

from __future__ import annotations

import re
from typing import Any

from .registry import Operation

# Body fields that usually tell one record from another, in the order worth naming.
_IDENTIFYING = ("email", "username", "code", "title", "name", "titleId", "prefix", "productId", "uids")
_MAX_VALUE = 80


def _names(operation: Operation, where: str) -> list[str]:
    schema = operation.params.get(where)
    return list(schema.get("properties") or {}) if isinstance(schema, dict) else []


def check_operation(write: Operation, operations: list[Operation]) -> Operation | None:
    """The read that would show a lost write's record, among the reads of the same resource: the list of the
    same collection, else a list beside it named alike (coupons-bulk: coupons), else the record the write
    hangs under, else any list beside it, else any list."""
    reads = [op for op in operations if op.method == "GET" and op.resource == write.resource]
    lists = [op for op in reads if op.kind == "list"]
    parent = write.path.rsplit("/", 1)[0]
    # POST /v2/users lists at /v2/users; POST /v2/affiliates/{id} too, at /v2/affiliates.
    collection = parent if write.path.endswith("}") else write.path
    same_collection = [op for op in lists if op.path == collection]
    the_parent = [op for op in reads if op.path == parent and "{" in parent]
    beside = [op for op in lists if op.path.startswith(parent + "/")]
    words = set(re.split(r"[-_]", write.path.rsplit("/", 1)[1]))
    named_alike = [op for op in beside if words & set(re.split(r"[-_]", op.path.rsplit("/", 1)[1]))]
    for group in (same_collection, named_alike, the_parent, beside, lists):
        if group:
            return group[0]
    return None


def check_hint(write: Operation, arguments: dict[str, Any], operations: list[Operation]) -> str:
    """One sentence naming the tool to call and what to look for in its answer."""
    read = check_operation(write, operations)
    if read is None:
        return "Read the affected record back with the matching get or list tool before calling again."
    given = {**arguments.get("body", {}), **arguments.get("query", {}), **arguments.get("path", {})}
    accepted = set(_names(read, "path")) | set(_names(read, "query"))
    filters = {k: v for k, v in given.items() if k in accepted and _short(v)}
    look_for = {k: given[k] for k in _IDENTIFYING if k in given and _short(given[k]) and k not in filters}
    call = f"{read.name}({', '.join(f'{k}={v!r}' for k, v in filters.items())})"
    target = f" and look for {', '.join(f'{k}={v!r}' for k, v in list(look_for.items())[:3])}" if look_for else ""
    return f"To check: call {call}{target}."


def _short(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) <= _MAX_VALUE
