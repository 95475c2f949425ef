"""Tool arguments: repair the habits of LLM clients, validate against the schema, split by location."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ArgumentError
from .registry import Operation

PAGING_ARGUMENTS = ("limit", "next_cursor")
# Bounds on what a call may carry, far above any real LearnWorlds value (a course description is
# tens of kilobytes), so hostile or runaway input gets a clear error before any parsing or recursion.
MAX_STRING_CHARS = 200_000
MAX_ARGUMENTS_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_LISTED = 120  # declared field names shown in a `fields` error
_CONTAINERS = {"object": dict, "array": list}


@dataclass
class Request:
    """Validated arguments, split into where they go."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    next_cursor: str | None = None
    fields: list[str] | None = None  # parsed from the comma list


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    return set(declared) if isinstance(declared, list) else {declared} if declared else set()


def bound(name: str, value: Any) -> None:
    """Refuse a value nested too deep, with too long a string, or with a non-finite number (walked without recursion)."""
    stack = [(value, name, 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ArgumentError(f"argument {where!r} is nested deeper than {MAX_DEPTH} levels; send a flatter value")
        if isinstance(node, str) and len(node) > MAX_STRING_CHARS:
            raise ArgumentError(f"argument {where!r} is {len(node):,} characters; the limit is "
                                f"{MAX_STRING_CHARS:,}; send shorter text")
        elif isinstance(node, float) and not math.isfinite(node):
            raise ArgumentError(f"argument {where!r} is {node}; send a finite number")
        elif isinstance(node, dict):
            stack += [(v, f"{where}.{k}", depth + 1) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node)]


def _bound_all(arguments: dict[str, Any]) -> None:
    for name, value in arguments.items():
        bound(name, value)
    total = len(json.dumps(arguments, ensure_ascii=False, default=str).encode())
    if total > MAX_ARGUMENTS_BYTES:
        raise ArgumentError(f"arguments are {total:,} bytes; the limit is {MAX_ARGUMENTS_BYTES:,}; "
                            "send less in one call")


def _integral(value: Any, schema: Any) -> Any:
    """5.0 -> 5 where the schema wants an integer, so no float reaches a LearnWorlds integer field."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, float) and value.is_integer() and "integer" in _types(schema) \
            and "number" not in _types(schema):
        return int(value)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        return {k: _integral(v, schema["properties"].get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_integral(v, schema["items"]) for v in value]
    return value


def repair(operation: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
    """Parse object and array arguments that arrived as JSON text, a known client habit."""
    properties = operation.input_schema["properties"]
    repaired = dict(arguments)
    for name, value in arguments.items():
        wanted = _types(properties.get(name, {})) & _CONTAINERS.keys()
        if not wanted or not isinstance(value, str):
            continue
        try:
            parsed = json.loads(value)
        except RecursionError:
            raise ArgumentError(f"argument {name!r} is nested deeper than {MAX_DEPTH} levels; "
                                "send a flatter value") from None
        except ValueError:
            continue
        bound(name, parsed)
        if any(isinstance(parsed, _CONTAINERS[t]) for t in wanted):
            repaired[name] = parsed
    return repaired


_validators: dict[str, Any] = {}


def _validator(operation: Operation) -> Any:
    validator = _validators.get(operation.name)
    if validator is None:
        from jsonschema import Draft202012Validator  # heavy; only the serving path needs it

        strict = dict(operation.validation_schema, additionalProperties=False)
        validator = _validators[operation.name] = Draft202012Validator(strict)
    return validator


def _describe(error: Any, operation: Operation) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(operation.input_schema["properties"]))
        valid = ", ".join(operation.input_schema["properties"]) or "none"
        return f"unknown argument(s) {', '.join(map(repr, extra))}; valid arguments: {valid}"
    if error.validator == "anyOf" and not error.absolute_path:  # required groups: "issued or form"
        groups = " or ".join(" and ".join(map(repr, g.get("required", []))) for g in error.validator_value)
        return f"give at least {groups}; none was given"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        where = operation.location_of(missing) or "argument"
        return f"{missing!r} is required ({where}); add it and call again"
    name = ".".join(str(p) for p in error.absolute_path) or "arguments"
    return f"argument {name!r}: {error.message}{_expected(error.schema)}"


def _expected(schema: Any) -> str:
    """' (expected integer from 1 to 200)' and the like, from the schema that failed."""
    if not isinstance(schema, dict):
        return ""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(repr, schema["enum"])))
    elif "type" in schema:
        declared = schema["type"]
        parts.append(" or ".join(declared) if isinstance(declared, list) else declared)
    if "minimum" in schema and "maximum" in schema:
        parts.append(f"from {schema['minimum']} to {schema['maximum']}")
    return f" (expected {' '.join(parts)})" if parts else ""


def _check_fields(operation: Operation, fields: list[str]) -> None:
    """Refuse a `fields` name the answer does not declare: ignoring it would silently drop the data asked for."""
    from difflib import get_close_matches

    from .shaping import declared_paths, undeclared

    bad = undeclared(fields, operation.record_schema)
    if not bad:
        return
    valid = declared_paths(operation.record_schema)
    hints = []
    for path in bad:
        close = get_close_matches(path, valid, n=1, cutoff=0.6) or get_close_matches(
            path.lower().replace("-", "_"), valid, n=1, cutoff=0.6)
        hints.append(f"{path!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    listed = ", ".join(valid[:MAX_LISTED]) + (", ..." if len(valid) > MAX_LISTED else "")
    raise ArgumentError(f"Invalid arguments: 'fields' names {', '.join(hints)}, which this tool's results do "
                        f"not have; fields takes a comma list of: {listed} (name.* : any key below name).")


def validate(operation: Operation, arguments: dict[str, Any] | None) -> Request:
    """Check arguments against the tool's schema and split them; ArgumentError names each bad field."""
    _bound_all(arguments or {})
    arguments = repair(operation, arguments or {})
    properties = operation.input_schema["properties"]
    arguments = {k: _integral(v, properties.get(k)) for k, v in arguments.items()}
    errors = sorted(_validator(operation).iter_errors(arguments), key=lambda e: list(e.absolute_path))
    if errors:
        raise ArgumentError("Invalid arguments: " + "; ".join(_describe(e, operation) for e in errors[:5]))
    request = Request(limit=arguments.get("limit"), next_cursor=arguments.get("next_cursor"))
    for name, value in arguments.items():
        if name in PAGING_ARGUMENTS and operation.paging:
            continue
        if name == "fields" and operation.shapeable:
            request.fields = [f.strip() for f in value.split(",") if f.strip()] or None
            _check_fields(operation, request.fields or [])
            continue
        location = operation.location_of(name)
        sent = getattr(request, location)
        rule = operation.params[location]["properties"][name]
        if "x-prefix-map" in rule:  # {"skill": "python"} -> cf_skill=python
            sent.update({rule["x-prefix-map"] + key: item for key, item in value.items()})
        elif "x-join" in rule:  # ["admin", "instructor"] -> "admin,instructor"
            sent[name] = rule["x-join"].join(map(str, value))
        else:
            sent[name] = value
    return request
