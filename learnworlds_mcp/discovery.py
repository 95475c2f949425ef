"""Discovery exposure: a few meta-tools to search, describe and run the selected operations.

For clients whose context cannot afford every definition. Reads and writes have separate
executors so a host can auto-approve the first and always confirm the second; both refuse any
tool outside the server's selection.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

from .errors import ArgumentError
from .registry import Operation



class Exposure(str, enum.Enum):
    """How the selected operations reach the model: each as a tool, or through the meta-tools."""

    TOOLS = "tools"
    DISCOVERY = "discovery"


SEARCH, DESCRIBE, RUN_READ, RUN_WRITE = ("search_learn_worlds_tools", "describe_learn_worlds_tool",
                                         "run_learn_worlds_read_tool", "run_learn_worlds_write_tool")
MAX_MATCHES = 12
MAX_DEPTH = 32  # deeper arguments are refused before anything walks them (no RecursionError)
MAX_JSON_TEXT = 1_000_000  # `arguments` sent as JSON text: bound what json.loads is given
# An object argument may arrive as JSON text (a known client habit); `target` parses it.
_JSON_TYPES = {"string": (str,), "object": (dict, str)}
_RUN_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "tool name from search"},
        "arguments": {"type": "object", "description": "as its input schema says"},
    },
    "required": ["name"],
}


def meta_tools(operations: list[Operation]) -> list[dict[str, Any]]:
    """The meta-tool definitions (wire form) for a selection; an executor only if it has tools to run."""
    tags = sorted({t for op in operations for t in op.tags})
    tools = [
        {"name": SEARCH, "title": "Search LearnWorlds tools",
         "description": "Find LearnWorlds operations by words, tag or method; returns names and one-line "
                        "summaries. Then describe one and run it.",
         "inputSchema": {"type": "object", "properties": {
             "query": {"type": "string", "description": "words, e.g. 'suspend user'"},
             "tag": {"type": "string", "enum": tags},
             "method": {"type": "string", "enum": ["read", "write", "list", "get", "create", "update", "delete",
                                                   "custom"]}}},
         "annotations": {"readOnlyHint": True, "idempotentHint": True}},
        {"name": DESCRIBE, "title": "Describe a LearnWorlds tool",
         "description": "Full description and input schema of one tool found by search.",
         "inputSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
         "annotations": {"readOnlyHint": True, "idempotentHint": True}},
    ]
    if any(op.read_only for op in operations):
        tools.append({"name": RUN_READ, "title": "Run a LearnWorlds read tool",
                      "description": "Run a read-only tool (list or get) with its arguments.",
                      "inputSchema": _RUN_SCHEMA,
                      "annotations": {"readOnlyHint": True, "idempotentHint": True}})
    if any(not op.read_only for op in operations):
        tools.append({"name": RUN_WRITE, "title": "Run a LearnWorlds write tool",
                      "description": "Run a tool that changes the school (create, update, delete, actions). "
                                     "Describe it first; changes are real.",
                      "inputSchema": _RUN_SCHEMA,
                      "annotations": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False}})
    return tools


def check_arguments(definition: dict[str, Any], arguments: Any) -> dict[str, Any]:
    """A meta-tool's arguments held to its input schema as strictly as any tool's; ArgumentError names the field."""
    if not isinstance(arguments, dict):
        raise ArgumentError("Invalid arguments: give a JSON object")
    schema = definition["inputSchema"]
    properties = schema["properties"]
    problems = []
    extra = [name for name in arguments if name not in properties]
    if extra:
        problems.append(f"unknown argument(s) {', '.join(map(repr, extra))}; valid arguments: {', '.join(properties)}")
    for name in schema.get("required", ()):
        if name not in arguments:
            problems.append(f"{name!r} is required; add it and call again")
    for name, value in arguments.items():
        spec = properties.get(name)
        if spec is None:
            continue
        if not isinstance(value, _JSON_TYPES[spec["type"]]):
            wanted = "a JSON object" if spec["type"] == "object" else "text"
            problems.append(f"argument {name!r}: give {wanted}, not {_json_type(value)}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"argument {name!r}: {value!r} is not one of {', '.join(map(repr, spec['enum']))}")
        elif _depth(value) > MAX_DEPTH:
            problems.append(f"argument {name!r}: nested deeper than {MAX_DEPTH} levels")
    if problems:
        raise ArgumentError("Invalid arguments: " + "; ".join(problems[:5]))
    return arguments


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "an array",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _depth(value: Any) -> int:
    """How deeply a JSON value nests, walked without recursion and stopping past MAX_DEPTH."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def search(operations: list[Operation], query: str | None, tag: str | None, method: str | None) -> dict[str, Any]:
    """Operations matching every given criterion, best word matches first."""
    words = [w for w in re.split(r"[^a-z0-9]+", (query or "").lower()) if w]
    found = []
    for op in operations:
        if tag and tag not in op.tags:
            continue
        if method and not (op.kind == method or (method == "read") == op.read_only and method in ("read", "write")):
            continue
        text = f"{op.name} {op.title} {op.description} {' '.join(op.tags)}".lower()
        score = sum(text.count(w) + 3 * (w in op.name) for w in words)
        if words and score == 0:
            continue
        found.append((score, op))
    found.sort(key=lambda pair: -pair[0])
    matches = [{"name": op.name, "kind": op.kind, "read_only": op.read_only,
                "summary": op.summary} for _, op in found[:MAX_MATCHES]]
    return {"result": matches, "more": max(0, len(found) - MAX_MATCHES)}


def describe(by_name: dict[str, Operation], name: str) -> dict[str, Any]:
    op = lookup(by_name, name)
    return {"name": op.name, "kind": op.kind, "read_only": op.read_only, "description": op.description,
            "inputSchema": op.input_schema, "annotations": op.annotations()}


def lookup(by_name: dict[str, Operation], name: Any) -> Operation:
    if not isinstance(name, str):
        raise ArgumentError(f"name: give a tool name as text; use {SEARCH} to find one")
    op = by_name.get(name)
    if op is None:
        raise ArgumentError(f"name: {name[:100]!r} is not a tool on this server; use {SEARCH} to find one")
    return op


def target(by_name: dict[str, Operation], executor: str, arguments: dict[str, Any]) -> tuple[Operation, dict]:
    """The operation an executor call names, checked against the executor's side (read or write)."""
    op = lookup(by_name, arguments.get("name"))
    wants_read = executor == RUN_READ
    if op.read_only != wants_read:
        other = RUN_WRITE if wants_read else RUN_READ
        raise ArgumentError(f"name: {op.name} {'changes' if wants_read else 'only reads'} the school; run it "
                            f"with {other}")
    inner = arguments.get("arguments") or {}
    if isinstance(inner, str):
        if len(inner) > MAX_JSON_TEXT:
            raise ArgumentError(f"arguments: JSON text longer than {MAX_JSON_TEXT:,} characters")
        try:
            inner = json.loads(inner)
        except (ValueError, RecursionError):
            raise ArgumentError("arguments: give a JSON object of the tool's arguments") from None
        if _depth(inner) > MAX_DEPTH:
            raise ArgumentError(f"arguments: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(inner, dict):
        raise ArgumentError("arguments: give a JSON object of the tool's arguments")
    return op, inner
