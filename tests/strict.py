"""Strict checks of answers and results against the official response schemas in the spec fixture.

The published outputSchema of a tool stays permissive, since LearnWorlds breaks its own types and a
client drops a result that fails its schema. Tests check strictly instead: every object may carry
only the field names the official schema declares, each with a type the official schema declares
or the official examples show, and nothing else but the known deviations below. This is the one
place they are listed.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from tests import prism

# Known deviations of real LearnWorlds answers, which the official examples show too.
NULL_FOR_STRINGS = True  # null where a string is declared
FRACTIONAL_SECONDS = True  # a fractional number where an integer is declared (Unix seconds)
CUSTOM_FIELD_KEYS = r"^cf_[A-Za-z0-9_]+$"  # a user's custom fields ride along as cf_<name> keys
# Where the sandbox school answers differently from the official schemas and examples, and why.
_PRODUCTS = ("payments carry `products`, every product of an order: the 2025 API sends it beside `product`, "
             "the export's Payment schema does not declare it")
SANDBOX_DEVIATIONS: dict[str, str] = {
    "list_all_learn_worlds_payments": _PRODUCTS,
    "get_single_learn_worlds_payment_by_id": _PRODUCTS,
    "list_all_learn_worlds_affiliate_payments": _PRODUCTS,
}
SUCCESS = re.compile(r"^2\d\d$")
SCHEMA_KEYS = ("items", "additionalProperties", "not", "contains")
LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")


@lru_cache(maxsize=None)
def spec() -> dict[str, Any]:
    return json.loads(prism.SPEC.read_text(encoding="utf-8"))


def resolve(node: Any) -> Any:
    """Follow the fixture's local $refs until a real node."""
    for _ in range(20):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    raise ValueError("a $ref chain longer than 20")


def _types(declared: Any) -> list[str]:
    kinds = set(declared if isinstance(declared, list) else [declared])
    if NULL_FOR_STRINGS and "string" in kinds:
        kinds.add("null")
    if FRACTIONAL_SECONDS and "integer" in kinds:
        kinds.add("number")
    return sorted(kinds)


def strictify(schema: Any, depth: int = 0) -> Any:
    """A self-contained strict copy of an official schema: refs inlined, undeclared fields refused."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > 12:
        return {}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("examples", "example", "x-examples", "title", "deprecated", "format"):
            continue
        if key == "properties":
            out[key] = {name: strictify(child, depth + 1) for name, child in value.items()}
        elif key in SCHEMA_KEYS and isinstance(value, dict):
            out[key] = strictify(value, depth + 1)
        elif key in LIST_KEYS:
            out[key] = [strictify(child, depth + 1) for child in value]
        elif key == "type":
            out[key] = _types(value)
        elif key == "enum" and NULL_FOR_STRINGS and all(isinstance(v, str) for v in value):
            out[key] = list(value) + [None]
        elif key == "required":
            continue  # shaping drops empty values, and a field may be absent from a real answer
        else:
            out[key] = copy.deepcopy(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
        out["patternProperties"] = {CUSTOM_FIELD_KEYS: {}}
    # A schema's own examples (the 3.1 list, the single one, the editor's) are official too.
    own = list(schema.get("examples") or []) + ([schema["example"]] if "example" in schema else [])
    own += list((schema.get("x-examples") or {}).values())
    return widen(out, own) if own else out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def widen(schema: dict[str, Any], examples: list[Any]) -> dict[str, Any]:
    """`schema` extended by what the official examples show: their field names, types and enum values.

    The export's examples and schemas disagree in places (an id string where an object is declared, an
    enum value missing); an example is as official as a schema, so both are allowed, and nothing more.
    """
    for example in examples:
        for _ in range(200):
            error = next(Draft202012Validator(schema).iter_errors(example), None)
            if error is None:
                break
            *where, keyword = error.schema_path
            node: Any = schema
            for step in where:
                node = node[step]
            if keyword == "type":
                node["type"] = sorted(set(node["type"]) | {_json_type(error.instance)})
            elif keyword == "enum":
                node["enum"].append(error.instance)
            elif keyword == "additionalProperties":
                for name in set(error.instance) - set(node.get("properties", {})):
                    node.setdefault("properties", {})[name] = {}
            else:  # a keyword we do not widen: give up on this example rather than loop
                break
    return schema


def _operation_node(method: str, path: str) -> dict[str, Any]:
    shape = re.sub(r"\{[^}]+\}", "{}", path)
    for documented, item in spec()["paths"].items():
        if re.sub(r"\{[^}]+\}", "{}", documented) == shape:
            return item[method.lower()]
    raise KeyError(f"{method} {path} is not in the spec fixture")


@lru_cache(maxsize=None)
def _official(method: str, path: str) -> tuple[dict[str, Any], list[Any]]:
    schema, examples = _documented(method, path)
    return widen(schema, examples), examples


def official_response(method: str, path: str) -> tuple[dict[str, Any], list[Any]]:
    """The strict schema of a successful JSON answer (widened by the official examples) and those examples."""
    schema, examples = _official(method, path)
    return copy.deepcopy(schema), copy.deepcopy(examples)


def _documented(method: str, path: str) -> tuple[dict[str, Any], list[Any]]:
    responses = _operation_node(method, path)["responses"]
    code = next((c for c in responses if SUCCESS.match(c)), None)
    media = resolve(responses[code]).get("content", {}).get("application/json", {}) if code else {}
    examples = [e.get("value") for e in media.get("examples", {}).values() if isinstance(e, dict) and "value" in e]
    return strictify(media.get("schema", {})), examples


def errors(schema: dict[str, Any], value: Any) -> list[str]:
    """Where `value` breaks `schema`: 'path: message' lines (empty when it conforms)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}"
            for e in Draft202012Validator(schema).iter_errors(value)]


def item_schema(schema: dict[str, Any], items_path: str) -> dict[str, Any] | None:
    """The schema of one list item: under `items_path` (e.g. data), or the items of a bare array."""
    if "items" in schema:
        return schema["items"]
    node: Any = schema
    for key in items_path.split("."):
        node = node.get("properties", {}).get(key, {})
    return node.get("items") if isinstance(node, dict) else None


ENVELOPE_NOTES = ("truncated", "member_text")  # a cut to the byte budget; member-written text inside


def result_errors(operation: Any, structured: Any) -> list[str]:
    """Strict check of a tool's structured result against the official schema of its LearnWorlds answer.

    A list result's items are checked against the official item schema; any other result against the
    schema of the whole answer (a non-object answer arrives wrapped as {"result": ...}).
    """
    schema, _ = official_response(operation.method, operation.path)
    if not schema:
        return []
    if isinstance(structured, dict) and not operation.is_list:  # our envelope notes are not LearnWorlds fields
        structured = {k: v for k, v in structured.items() if k not in ENVELOPE_NOTES}
    if operation.is_list:
        items = item_schema(schema, operation.items_path)
        if items is None:
            return []
        wrapper = {"type": "object", "additionalProperties": False, "properties": {
            "result": {"type": "array", "items": items}, "next_cursor": {"type": ["string", "null"]},
            "total": {"type": ["integer", "null"]},
            **{note: {"type": "string"} for note in ENVELOPE_NOTES}}}
        return errors(wrapper, structured)
    if schema.get("type") and "object" not in schema["type"]:
        return errors({"type": "object", "properties": {"result": schema}, "additionalProperties": False}, structured)
    return errors(schema, structured)
