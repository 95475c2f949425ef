"""The committed spec fixture: derived from the official export with its prose removed, complete enough to mock."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from learnworlds_mcp import registry
from tests import prism, tooling

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("derive_fixture", REPO / "scripts" / "derive_fixture.py")
derive_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(derive_fixture)

# Where an OpenAPI document keeps data rather than grammar: example values, defaults, enums.
DATA = {"example", "examples", "default", "enum", "const", "value", "x-examples"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def fixture() -> dict[str, Any]:
    if not prism.SPEC.is_file():
        tooling.unavailable(f"the spec fixture is missing at {prism.SPEC}")
    return json.loads(prism.SPEC.read_text(encoding="utf-8"))


def grammar_strings(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every (path, string) outside example data, with a key named like a prose field."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            named_map = path and path[-1] in ("properties", "schemas", "paths", "responses", "content")
            if key in DATA and not named_map:
                continue
            if key in ("description", "summary", "title") and isinstance(value, str) and not named_map:
                found.append((path + (key,), value))
            found += grammar_strings(value, path + (key,))
    elif isinstance(node, list):
        for item in node:
            found += grammar_strings(item, path)
    return found


def all_strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in all_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in all_strings(v)]
    return [node] if isinstance(node, str) else []


def test_the_fixture_carries_no_prose_field(fixture):
    prose = [(p, s) for p, s in grammar_strings(fixture)
             if not (p[-1] == "description" and s == "")  # a Response object's required, empty description
             and not (p[-1] == "title" and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", s))  # schema names
             and p != ("info", "title")]  # our own words, written by the script
    assert prose == [], prose[:5]


def test_no_string_in_the_fixture_reads_like_a_sentence(fixture):
    long_text = [s for s in all_strings(fixture) if len(s.split()) >= 6 or re.search(r"<[a-z/][^>]*>", s)]
    sentences = [s for s in all_strings(fixture) if re.fullmatch(r"\S+\s+\S+\s+\S+.*[.?!]", s.strip(), re.S)]
    assert long_text == [] and sentences == []


def test_the_fixture_has_every_path_and_method_the_tools_call(fixture):
    documented = {(method.upper(), path) for path, item in fixture["paths"].items() for method in item
                  if method in METHODS}
    tools = {(op.method, op.path) for op in registry.load()}
    # Our placeholders are named for the model ({course_id}); the export's differ ({cid}): compare shapes.
    shape = lambda pair: (pair[0], re.sub(r"\{[^}]+\}", "{}", pair[1]))  # noqa: E731
    assert {shape(t) for t in tools} - {shape(d) for d in documented} == set()


def test_the_fixture_keeps_types_enums_and_examples(fixture):
    user = fixture["components"]["schemas"]["User"]["properties"]
    course = fixture["components"]["schemas"]["Course"]["properties"]
    assert user["email"]["type"] == "string" and "type" in course["description"]  # a field named description stays
    event_log = fixture["components"]["schemas"]["EventLog"]["properties"]["activity"]
    assert len(event_log["enum"]) > 5
    examples = [e for item in fixture["paths"].values() for op in item.values() if isinstance(op, dict)
                for r in op.get("responses", {}).values() for m in r.get("content", {}).values()
                for e in m.get("examples", {}).values()]
    assert len(examples) > 50 and all("value" in e and "summary" not in e for e in examples)


def test_derive_drops_prose_keeps_names_and_replaces_sentences():
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "API", "version": 2, "description": "Long text about the API."},
        "paths": {"/v2/things": {"get": {
            "summary": "List things", "description": "Returns the things.", "operationId": "get-things",
            "x-stoplight": {"id": "abc"},
            "parameters": [{"name": "role", "in": "query", "description": "Filter.", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"title": "ThingList", "type": "object", "description": "A list.", "properties": {
                    "description": {"type": "string", "description": "The thing's text."},
                    "kind": {"type": "string", "enum": ["a", "b"], "title": "Kind of thing"}}},
                "examples": {"one": {"summary": "Example", "value": {
                    "description": "Hi there dear user, the course is available.",
                    "kind": "a", "name": "Magic School Bus", "created": 1587639230.08}}}}}}},
        }}},
    }
    out = derive_fixture.derive(spec)
    op = out["paths"]["/v2/things"]["get"]
    assert set(op) == {"operationId", "parameters", "responses"}
    assert op["parameters"] == [{"name": "role", "in": "query", "schema": {"type": "string"}}]
    media = op["responses"]["200"]["content"]["application/json"]
    assert op["responses"]["200"]["description"] == ""
    assert media["schema"] == {"title": "ThingList", "type": "object", "properties": {
        "description": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]}}}
    assert media["examples"] == {"one": {"value": {"description": derive_fixture.PLACEHOLDER, "kind": "a",
                                                   "name": "Magic School Bus", "created": 1587639230.08}}}
    assert "description" not in out["info"] and out["info"]["version"] == "2"


def test_a_missing_tool_skips_on_a_laptop_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        tooling.unavailable("prism is missing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="prism is missing"):
        tooling.unavailable("prism is missing")
