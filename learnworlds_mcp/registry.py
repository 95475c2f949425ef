"""The tool registry: bundled operation files in, Operation values and MCP tool definitions out.

Only the standard library is imported here, so `list-tools` and `--help` stay quick.
`python scripts/tool_sizes.py` loads every file and prints each tool's size.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from .errors import RegistryError

KINDS = ("list", "get", "create", "update", "delete", "custom")
READ_METHODS = frozenset({"GET"})
LOCATIONS = ("path", "query", "body")
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MAX_ITEMS_PER_PAGE = 200

_NAME_RULES = {
    "list": "list_all_learn_worlds_{noun}",
    "get": "get_single_learn_worlds_{noun}_by_id",
    "create": "create_a_learn_worlds_{noun}",
    "update": "update_a_learn_worlds_{noun}_by_id",
    "delete": "delete_a_learn_worlds_{noun}_by_id",
    "custom": "learn_worlds_{noun}_{action}",
}


# The SQL query tool (learnworlds_mcp.store) is no operation of a file, but filters name it like one.
QUERY_TOOL = "query_learn_worlds_data"


def tool_name(kind: str, noun: str, action: str | None = None) -> str:
    """Apply the one naming rule to an operation's kind, noun and action."""
    return _NAME_RULES[kind].format(noun=noun, action=action)


@dataclass(frozen=True)
class Paging:
    """How a list endpoint pages: its fixed page size and whether `items_per_page` exists."""

    page_size: int
    items_per_page: bool

    @property
    def max_limit(self) -> int:
        return MAX_ITEMS_PER_PAGE if self.items_per_page else self.page_size


@dataclass(frozen=True)
class Operation:
    """One LearnWorlds endpoint, as read from a bundled file."""

    name: str
    kind: str
    method: str
    path: str
    resource: str
    area: str
    tags: tuple[str, ...]
    title: str
    description: str
    params: dict[str, dict[str, Any]]
    response: dict[str, Any]
    paging: Paging | None = None
    destructive: bool = False
    idempotent: bool = False
    example: dict[str, Any] = field(default_factory=dict)
    items_path: str = "data"
    hints: dict[str, str] = field(default_factory=dict)  # HTTP status -> what that answer means here

    @property
    def read_only(self) -> bool:
        return self.method in READ_METHODS

    @property
    def summary(self) -> str:
        """The first sentence of the description, for one-line listings."""
        return self.description.split(". ")[0].rstrip(".")

    @property
    def is_list(self) -> bool:
        return self.kind == "list"

    @property
    def shapeable(self) -> bool:
        """Reads of records (list and get) take `fields` to return only what the model needs."""
        return self.read_only and self.kind in ("list", "get")

    def items_of(self, body: Any) -> list[Any]:
        """The item array of a list answer, found at `items_path` (a bare array is taken as is)."""
        node = body
        for key in self.items_path.split("."):
            if not isinstance(node, dict):
                break
            node = node.get(key)
        if isinstance(node, list):
            return node
        return body if isinstance(body, list) else []

    def location_of(self, argument: str) -> str | None:
        """Where a flat argument goes in the request: 'path', 'query', 'body' or None."""
        for location in LOCATIONS:
            if argument in self.params.get(location, {}).get("properties", {}):
                return location
        return None

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """The flat JSON Schema the model fills in: path, query and body fields side by side."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for location in LOCATIONS:
            schema = self.params.get(location)
            if not schema:
                continue
            for prop_name, prop in schema["properties"].items():
                # x- keys steer how an argument is sent (see schemas/README.md); the model need not read them.
                described = {k: v for k, v in prop.items() if not k.startswith("x-")}
                note = prop.get("description")
                described["description"] = f"{location}: {note}" if note else location
                properties[prop_name] = described
            required += [n for n in schema.get("required", []) if n not in required]
        if self.paging:
            properties.update(_paging_properties(self.paging))
        if self.shapeable:
            properties["fields"] = FIELDS_PROPERTY
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    @cached_property
    def record_schema(self) -> dict[str, Any]:
        """The declared schema of one record a read returns: a list's item, or the whole answer."""
        node = self.response
        if self.is_list:
            for key in self.items_path.split("."):
                node = node.get("properties", {}).get(key, {})
            node = node.get("items", {})
        return node if isinstance(node, dict) else {}

    @cached_property
    def validation_schema(self) -> dict[str, Any]:
        """The input schema plus each location's `anyOf` of required groups ("issued or form").

        Kept out of the published schema: clients refuse a top-level anyOf in a tool's inputSchema.
        """
        groups = [group for location in LOCATIONS for group in self.params.get(location, {}).get("anyOf", [])]
        return dict(self.input_schema, anyOf=groups) if groups else self.input_schema

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        """A loose schema of the structured result, so no real answer is ever rejected."""
        if self.is_list:
            node = self.response
            for key in self.items_path.split("."):
                node = node.get("properties", {}).get(key, {})
            items = loosen(node.get("items", {}), depth=1)
            return {
                "type": "object",
                "properties": {
                    "result": {"type": "array", "items": items},
                    "next_cursor": {"type": ["string", "null"]},
                    "total": {"type": ["integer", "null"]},
                },
                "required": ["result"],
            }
        if self.response.get("type", "object") != "object":
            return {"type": "object", "properties": {"result": loosen(self.response, depth=1)}}
        out = loosen(self.response, depth=1)
        out["type"] = "object"
        return out

    def annotations(self) -> dict[str, Any]:
        """MCP tool annotations: read-only for GET, destructive and idempotent from the data."""
        hints: dict[str, Any] = {"readOnlyHint": self.read_only}
        if self.read_only:
            hints["idempotentHint"] = True
        else:
            hints["destructiveHint"] = self.destructive
            hints["idempotentHint"] = self.idempotent
        return hints

    def tool(self) -> dict[str, Any]:
        """The tool definition exactly as the server lists it (wire form, camelCase keys)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "annotations": self.annotations(),
        }


# A comma list rather than an array: it costs a quarter of the bytes on each of ~60 read tools.
FIELDS_PROPERTY = {"type": "string", "description": "comma list"}


def _paging_properties(paging: Paging) -> dict[str, Any]:
    # Kept terse on purpose: these two ride along on every list tool, every turn.
    return {
        "limit": {"type": "integer", "minimum": 1, "maximum": paging.max_limit,
                  "description": f"default {paging.page_size}"},
        "next_cursor": {"type": "string", "description": "from the last result; omit at first"},
    }


def loosen(schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """A copy of a response schema that accepts whatever LearnWorlds really sends.

    LearnWorlds' answers break its own published types (nulls for strings, fractional seconds for
    integers), and a client drops a result that fails the tool's output schema. So the output schema
    names the fields, `depth` levels deep, and constrains no type inside them.
    """
    out: dict[str, Any] = {}
    if depth > 0 and isinstance(schema.get("properties"), dict):
        out["properties"] = {k: loosen(v, depth - 1) for k, v in schema["properties"].items()}
    if depth > 0 and isinstance(schema.get("items"), dict):
        out["items"] = loosen(schema["items"], depth - 1)
    return out


def _check(condition: bool, source: str, message: str) -> None:
    if not condition:
        raise RegistryError(f"{source}: {message}")


# The keys every operation needs, with their JSON types: checked at load, cheaply. The full
# meta-schema (lengths, patterns, enums) is checked by the test suite, since jsonschema is slow to import.
_REQUIRED = {"kind": str, "noun": str, "method": str, "path": str, "title": str, "description": str,
             "params": dict, "response": dict}
_JSON_TYPES = {str: "a non-empty string", dict: "an object"}


def _check_shape(raw: Any, source: str) -> None:
    _check(isinstance(raw, dict), source, f"an operation must be an object, not {type(raw).__name__}")
    where = f"{source} {raw.get('method', '?')} {raw.get('path', '?')}"
    for key, kind in _REQUIRED.items():
        value = raw.get(key)
        _check(isinstance(value, kind) and value != "", where,
               f"{key!r} must be {_JSON_TYPES[kind]} (every operation needs one; see schemas/README.md)")


def _operation(raw: dict[str, Any], defaults: dict[str, Any], source: str) -> Operation:
    """Build one Operation, or raise RegistryError naming the file and the key that is wrong."""
    _check_shape(raw, source)
    kind, method, path = raw["kind"], raw["method"].upper(), raw["path"]
    _check(kind in KINDS, source, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    name = tool_name(kind, raw["noun"], raw.get("action"))
    where = f"{source} {method} {path}"
    _check(bool(NAME_PATTERN.match(name)), where, f"tool name {name!r} breaks [a-z0-9_]{{1,64}}")
    params = raw["params"]
    placeholders = PLACEHOLDER.findall(path)
    declared_path = set(params.get("path", {}).get("properties", {}))
    _check(set(placeholders) == declared_path, where,
           f"path placeholders {placeholders} differ from params.path {sorted(declared_path)}")
    seen: dict[str, str] = {}
    for location in LOCATIONS:
        for prop in params.get(location, {}).get("properties", {}):
            _check(prop not in seen, where, f"argument {prop!r} is in both {seen.get(prop)} and {location}")
            seen[prop] = location
    paging = Paging(**raw["paging"]) if raw.get("paging") else None
    if paging:
        for reserved in ("limit", "next_cursor", "page", "items_per_page"):
            _check(reserved not in seen, where, f"paged list declares reserved argument {reserved!r}")
    if method == "GET" and kind in ("list", "get"):
        _check("fields" not in seen, where, "a read declares the reserved argument 'fields'")
    resource = raw.get("resource", defaults["resource"])
    area = raw.get("area", defaults["area"])
    return Operation(
        name=name,
        kind=kind,
        method=method,
        path=path,
        resource=resource,
        area=area,
        tags=tuple(raw.get("tags") or (resource, area)),
        title=raw["title"],
        description=raw["description"],
        params=params,
        response=raw["response"],
        paging=paging,
        destructive=raw.get("destructive", method == "DELETE"),
        idempotent=raw.get("idempotent", method in ("PUT", "DELETE")),
        example=raw.get("example", {}),
        items_path=raw.get("items_path", "data"),
        hints=raw.get("hints", {}),
    )


def parse_files(files: dict[str, str]) -> list[Operation]:
    """Turn {file name: JSON text} into Operations, failing on any duplicate tool name."""
    operations: dict[str, Operation] = {}
    for source in sorted(files):
        try:
            data = json.loads(files[source])
        except json.JSONDecodeError as exc:
            raise RegistryError(f"{source}: not valid JSON ({exc})") from exc
        _check(isinstance(data, dict) and isinstance(data.get("operations"), list), source,
               "a file must be an object with an 'operations' list")
        defaults = {"resource": data.get("resource"), "area": data.get("area")}
        for raw in data["operations"]:
            operation = _operation(raw, defaults, source)
            _check(operation.name not in operations, source, f"duplicate tool name {operation.name!r}")
            operations[operation.name] = operation
    return list(operations.values())


def bundled_files() -> dict[str, str]:
    """The text of every bundled operation file, by file name."""
    folder = resources.files("learnworlds_mcp") / "schemas"
    return {f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".json")}


_cache: list[Operation] | None = None


def load() -> list[Operation]:
    """Every operation in the bundled files (parsed once per process)."""
    global _cache
    if _cache is None:
        _cache = parse_files(bundled_files())
    return _cache


def model_visible_bytes(tool: dict[str, Any]) -> int:
    """Bytes of what a model reads from a tool: name, description and input schema."""
    visible = {"name": tool["name"], "description": tool["description"], "inputSchema": tool["inputSchema"]}
    return len(json.dumps(visible, separators=(",", ":"), ensure_ascii=False).encode())
