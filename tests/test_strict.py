"""The strict result check (tests/strict.py) refuses what the permissive published schema lets through."""

from __future__ import annotations

import jsonschema
import pytest

from learnworlds_mcp.registry import load
from tests import strict

BY_NAME = {op.name: op for op in load()}


def test_the_published_schema_passes_a_broken_user_and_the_strict_check_does_not():
    user = BY_NAME["get_single_learn_worlds_user_by_id"]
    broken = {"id": [1, 2], "email": {"x": 1}}
    jsonschema.validate(broken, user.output_schema)  # permissive on purpose: real answers break the types
    found = strict.result_errors(user, broken)
    assert any(line.startswith("id:") for line in found) and any(line.startswith("email:") for line in found)


def test_an_undeclared_field_is_refused_and_the_known_deviations_pass():
    user = BY_NAME["get_single_learn_worlds_user_by_id"]
    assert strict.result_errors(user, {"id": "u1", "password_hash": "x"}) != []
    deviating = {"id": "u1", "email": None, "created": 1587639230.083278, "last_login": 1587639230.5,
                 "cf_skill_level": "expert"}
    assert strict.result_errors(user, deviating) == []


def test_a_list_result_checks_each_item_and_the_wrapper():
    users = BY_NAME["list_all_learn_worlds_users"]
    assert strict.result_errors(users, {"result": [{"id": "u1", "email": "a@b.c"}], "next_cursor": None}) == []
    assert strict.result_errors(users, {"result": [{"id": 5}], "next_cursor": None}) != []
    assert strict.result_errors(users, {"result": [], "next_cursor": None, "page": 2}) != []


@pytest.mark.parametrize("op", load(), ids=lambda op: op.name)
def test_every_official_example_passes_its_strict_schema(op):
    schema, examples = strict.official_response(op.method, op.path)
    assert [line for example in examples for line in strict.errors(schema, example)] == []


def test_widening_takes_only_what_an_example_shows():
    schema = strict.widen({"type": ["object"], "properties": {"access": {"type": ["string"], "enum": ["a"]}},
                           "additionalProperties": False}, [{"access": "b", "extra": 1}])
    assert schema["properties"]["access"]["enum"] == ["a", "b"] and "extra" in schema["properties"]
    assert strict.errors(schema, {"access": "c"}) != [] and strict.errors(schema, {"other": 1}) != []
