"""Results that fit: keep only the requested fields, drop empty values, cut at an item boundary."""

from __future__ import annotations

import json
from typing import Any, Callable

KEEP_ALWAYS = ("id",)
_EMPTY = (None, "", [], {})


def size(value: Any) -> int:
    """Bytes of the compact JSON text the model reads."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def field_tree(fields: list[str]) -> dict[str, dict]:
    """['email', 'billing_info.bf_country'] -> {'email': {}, 'billing_info': {'bf_country': {}}}."""
    tree: dict[str, dict] = {}
    for path in fields:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def _declared(schema: Any) -> dict[str, Any] | None:
    """The named properties of an object schema (through arrays); None when any key may appear below."""
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("items"), dict) and "properties" not in schema:
        return _declared(schema["items"])
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) and properties else None


def _is_leaf(schema: Any) -> bool:
    """A declared scalar, or a list of them: nothing can be picked below it."""
    if isinstance(schema, dict) and isinstance(schema.get("items"), dict) and "properties" not in schema:
        return _is_leaf(schema["items"])
    declared = schema.get("type") if isinstance(schema, dict) else None
    kinds = set(declared) if isinstance(declared, list) else {declared}
    return declared is not None and not kinds & {"object", "array"}


def undeclared(fields: list[str], schema: dict[str, Any]) -> list[str]:
    """The paths in `fields` that the record schema does not declare; free-form objects take any key below."""
    bad = []
    for path in fields:
        node: Any = schema
        for part in path.split("."):
            properties = _declared(node)
            if properties is None and _is_leaf(node):
                bad.append(path)
                break
            if properties is None:  # a free-form object (custom fields, utms): any key may be there
                break
            if part not in properties:
                bad.append(path)
                break
            node = properties[part]
    return bad


def declared_paths(schema: dict[str, Any], depth: int = 3, prefix: str = "") -> list[str]:
    """Every name `fields` accepts, as dot paths; `name.*` marks a free-form object."""
    properties = _declared(schema) or {}
    paths = []
    for name, child in properties.items():
        path = prefix + name
        paths.append(path)
        if depth > 1 and _declared(child):
            paths += declared_paths(child, depth - 1, path + ".")
        elif not _is_leaf(child) and isinstance(child, dict) and child.get("type"):
            paths.append(path + ".*")
    return paths


def pick(value: Any, tree: dict[str, dict]) -> Any:
    """Only the fields named in `tree` (plus `id` at each object level), following dot paths into lists."""
    if isinstance(value, list):
        return [pick(item, tree) for item in value]
    if not isinstance(value, dict) or not tree:
        return value
    out = {key: value[key] for key in KEEP_ALWAYS if key in value and key not in tree}
    for key, subtree in tree.items():
        if key in value:
            out[key] = pick(value[key], subtree) if subtree else value[key]
    return out


def drop_empty(value: Any) -> Any:
    """Remove null, empty-string, empty-list and empty-object values, recursively (not inside lists)."""
    if isinstance(value, dict):
        cleaned = {k: drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if not _is_empty(v)}
    if isinstance(value, list):
        return [drop_empty(v) for v in value]
    return value


def _is_empty(value: Any) -> bool:
    return any(value is e or (type(value) is type(e) and value == e) for e in _EMPTY)


def fit_items(items: list[Any], budget: int, wrap: Callable[[list[Any]], Any]) -> int:
    """How many leading items fit the byte budget once wrapped (at least one, so progress is always made)."""
    if size(wrap(items)) <= budget:
        return len(items)
    low, high = 1, len(items) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if size(wrap(items[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def fit_object(value: dict[str, Any], budget: int) -> tuple[dict[str, Any], list[str]]:
    """Keep top-level fields in order while they fit; return the kept object and the dropped keys."""
    if size(value) <= budget:
        return value, []
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, item in value.items():
        if size({**kept, key: item}) <= budget:
            kept[key] = item
        else:
            dropped.append(key)
    return kept, dropped
