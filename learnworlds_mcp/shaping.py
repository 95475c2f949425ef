"""Results that fit: keep only the requested fields, drop empty values, cut at an item boundary."""

from __future__ import annotations

import json
from itertools import islice
from typing import Any, Callable

KEEP_ALWAYS = ("id",)
_EMPTY_TYPES = frozenset({str, list, dict})  # with None: the values results leave out by default
_CONTAINERS = frozenset({dict, list})


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
        out = {}
        for key, item in value.items():
            if type(item) in _CONTAINERS:
                item = drop_empty(item)
            if not _is_empty(item):
                out[key] = item
        return out
    if isinstance(value, list):
        return [drop_empty(v) if type(v) in _CONTAINERS else v for v in value]
    return value


def _is_empty(value: Any) -> bool:
    # Exact types only: 0 and False are values, and a str subclass is not a plain empty string.
    return value is None or (type(value) in _EMPTY_TYPES and not value)


def fit_items(items: list[Any], budget: int, wrap: Callable[[list[Any]], Any]) -> int:
    """How many leading items fit the byte budget once wrapped (at least one, so progress is always made).

    Each item is measured once: the wrapped list's size is the empty wrapper's, plus each item's, plus
    one comma between each two (compact JSON), so a page over the budget is not serialized again per
    try of a search.
    """
    used = size(wrap([]))
    for count, item in enumerate(items):
        used += size(item) + (count > 0)
        if used > budget:
            return max(count, 1)
    return len(items)


CUT_ADVICE = "ask with fields=... for less"
_SHORT_HEAD = 80  # characters each string keeps while containers are being trimmed


def cut_text(text: str, keep: int, advice: str = CUT_ADVICE) -> str:
    """The first `keep` characters of `text` and a marker saying how much was cut (unchanged when short)."""
    if len(text) <= keep + 40:  # shorter than any marker: cutting would not save a byte
        return text
    marker = f"…[cut {len(text) - keep:,} characters; {advice}]"
    return text if len(text) <= keep + len(marker) else text[:keep] + marker


def _cut_strings(value: Any, keep: int, advice: str) -> Any:
    if isinstance(value, str):
        return cut_text(value, keep, advice)
    if isinstance(value, dict):
        return {cut_text(str(k), keep, advice): _cut_strings(v, keep, advice) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_strings(v, keep, advice) for v in value]
    return value


def _trim(value: Any, count: int) -> Any:
    """At most `count` entries in every list and object, with a marker entry saying how many went."""
    if isinstance(value, dict):
        kept = {k: _trim(v, count) for k, v in islice(value.items(), count)}
        if len(value) > count:
            kept["…"] = f"cut {len(value) - count:,} more fields"
        return kept
    if isinstance(value, list):
        kept_items = [_trim(v, count) for v in value[:count]]
        return kept_items + [f"…[cut {len(value) - count:,} more items]"] if len(value) > count else kept_items
    return value


def _largest(fits: Callable[[int], bool], high: int) -> int | None:
    """The largest n in 0..high with fits(n), for a monotonic fits; None when even 0 fails."""
    if not fits(0):
        return None
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _measure(value: Any) -> tuple[int, int]:
    """(longest string or key, number of entries): no cut of strings alone fits under the entry count."""
    longest, entries, stack = 0, 0, [value]
    while stack:
        node = stack.pop()
        entries += 1
        if isinstance(node, str):
            longest = max(longest, len(node))
        elif isinstance(node, dict):
            longest = max([longest, *map(len, map(str, node))])
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return longest, entries


def cap(value: Any, budget: int, advice: str = CUT_ADVICE) -> Any:
    """`value` within `budget` bytes: long strings cut, and lists and objects trimmed when that is not enough.

    Each cut leaves a marker saying what went. Strings are cut to one common length, the longest
    that fits; only when even bare markers are too many are containers trimmed to their first
    entries (the count searched with strings cut to a short head), and the strings searched again.
    """
    if size(value) <= budget:
        return value
    longest, entries = _measure(value)
    if entries < budget:
        keep = _largest(lambda n: size(_cut_strings(value, n, advice)) <= budget, min(longest, budget))
        if keep is not None:
            return _cut_strings(value, keep, advice)
    count = _largest(lambda n: size(_cut_strings(_trim(value, n), _SHORT_HEAD, advice)) <= budget, budget // 2)
    if count is None:
        return f"…[cut the whole value of {size(value):,} bytes; {advice}]"
    trimmed = _trim(value, count)
    keep = _largest(lambda n: size(_cut_strings(trimmed, n, advice)) <= budget, min(_measure(trimmed)[0], budget))
    return _cut_strings(trimmed, keep if keep is not None else _SHORT_HEAD, advice)
