"""Property-based: arguments generated from every tool's own schema, valid and invalid. No call crashes,
no invalid call sends a request, and every request sent keeps each path argument one segment."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnworlds_mcp.arguments import validate
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ArgumentError
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.registry import load
from learnworlds_mcp.server import run_tool
from learnworlds_mcp.shaping import declared_paths

OPERATIONS = load()
API = "https://school.example/admin/api"
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=8)


def from_schema(schema):
    """A strategy for values valid under one of our input schemas (the subset of JSON Schema they use)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    declared = schema.get("type", ["string", "integer", "boolean"])
    kinds = declared if isinstance(declared, list) else [declared]
    return st.one_of(*[_typed(kind, schema) for kind in kinds])


def _typed(kind, schema):
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False)
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=20)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3, unique=schema.get("uniqueItems", False))
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties and "propertyNames" in schema:  # a map such as custom_fields
            keys = st.from_regex(schema["propertyNames"]["pattern"], fullmatch=True)
            return st.dictionaries(keys, from_schema(schema.get("additionalProperties", {})), max_size=2)
        if not properties:
            return st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2)
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: from_schema(v) for k, v in properties.items() if k in required},
                                     optional={k: from_schema(v) for k, v in properties.items()
                                               if k not in required})
    raise AssertionError(f"schema type {kind!r} has no strategy")


def generated_schema(op, data=None):
    """The input schema minus the cursor, whose only valid values are ones the server handed out.

    With `data`, one of the schema's required groups (its anyOf) is drawn and made required.
    """
    schema = json.loads(json.dumps(op.validation_schema))
    schema["properties"].pop("next_cursor", None)
    if op.shapeable:  # valid fields are the names the answer declares
        names = [path for path in declared_paths(op.record_schema) if not path.endswith(".*")]
        schema["properties"]["fields"] = {"enum": names} if names else {"type": "string"}
    groups = schema.pop("anyOf", None)
    if groups and data is not None:
        schema["required"] = schema.get("required", []) + data.draw(st.sampled_from(groups))["required"]
    return schema


class Recorder:
    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        return httpx.Response(200, json={"data": [], "meta": {"page": 1, "totalPages": 1, "totalItems": 0}})


def call(op, arguments):
    recorder = Recorder()
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token="t"),
                               transport=httpx.MockTransport(recorder), max_retries=0)
    result = anyio.run(run_tool, op, arguments, Runtime(client))
    return result, recorder.requests


def path_segments(op):
    return op.path.count("/")


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name for op in OPERATIONS])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_valid_arguments_reach_exactly_one_well_formed_request(op, data):
    arguments = data.draw(from_schema(generated_schema(op, data)))
    result, requests = call(op, arguments)
    assert "Internal error" not in result.content[0].text
    if result.is_error:  # only a value the schema cannot express may fail, e.g. an empty id
        assert "path argument is empty" in result.content[0].text, result.content[0].text
        assert requests == []
        return
    assert len(requests) == 1
    sent = requests[0]
    assert sent.method == op.method
    assert sent.url.raw_path.split(b"?")[0].count(b"/") == path_segments(op) + 2  # /admin/api prefix


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name for op in OPERATIONS])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arguments=st.dictionaries(st.text(max_size=12), json_values, max_size=4))
def test_arbitrary_arguments_never_crash_and_invalid_ones_send_nothing(op, arguments):
    try:
        validate(op, arguments)
        valid = True
    except ArgumentError:
        valid = False
    result, requests = call(op, arguments)
    assert "Internal error" not in result.content[0].text
    if not valid:
        assert result.is_error and requests == []


@settings(max_examples=300, deadline=None)
@given(items=st.lists(json_values, max_size=12), budget=st.integers(min_value=0, max_value=400))
def test_fit_items_keeps_the_longest_prefix_that_fits_measured_whole(items, budget):
    """fit_items adds item sizes instead of serializing each prefix: it must agree with measuring them."""
    from learnworlds_mcp.shaping import fit_items, size

    def wrap(kept):
        return {"result": kept, "next_cursor": "x" * 16}

    fits = [k for k in range(1, len(items) + 1) if size(wrap(items[:k])) <= budget]
    if items and len(fits) == len(items):
        expected = len(items)
    else:
        expected = max(fits, default=1) if items else 0
    assert fit_items(items, budget, wrap) == expected
