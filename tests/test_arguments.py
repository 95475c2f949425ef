"""Tool arguments: integral floats, non-finite numbers, sizes and depth all end in a clear ArgumentError."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from learnworlds_mcp import arguments
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ArgumentError
from learnworlds_mcp.executor import Runtime, execute

API = "https://school.example/admin/api"
COURSE = {"titleId": "t", "title": "T", "access": "free"}


def op(operations, name):
    return next(o for o in operations if o.name == name)


def nested(depth):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.anyio
async def test_an_integral_float_limit_is_sent_as_an_integer(operations):
    sent = []

    def answer(request):
        sent.append(dict(request.url.params))
        return httpx.Response(200, json={"data": [], "meta": {"page": 1, "totalPages": 1, "totalItems": 0}})

    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token="t"),
                               transport=httpx.MockTransport(answer), max_retries=0)
    result = await execute(op(operations, "list_all_learn_worlds_users"), {"limit": 5.0}, Runtime(client))
    assert result["result"] == [] and sent[0]["items_per_page"] == "5"


def test_a_fractional_limit_is_refused_by_name(operations):
    with pytest.raises(ArgumentError, match="'limit'"):
        arguments.validate(op(operations, "list_all_learn_worlds_users"), {"limit": 5.5})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_for_every_number_field(operations, value):
    users = op(operations, "list_all_learn_worlds_users")
    with pytest.raises(ArgumentError, match="'registration_after'.*finite"):
        arguments.validate(users, {"registration_after": value})
    with pytest.raises(ArgumentError, match="'limit'.*finite"):
        arguments.validate(users, {"limit": value})
    course = op(operations, "create_a_learn_worlds_course")
    with pytest.raises(ArgumentError, match="finite"):
        arguments.validate(course, {**COURSE, "price": value})


def test_a_huge_string_is_refused_with_the_field_and_its_limit(operations):
    users = op(operations, "list_all_learn_worlds_users")
    with pytest.raises(ArgumentError, match=r"'tags'.*5,000,000 characters.*limit is [\d,]+"):
        arguments.validate(users, {"tags": "a" * 5_000_000})


def test_the_whole_arguments_object_is_bounded(operations):
    course = op(operations, "create_a_learn_worlds_course")
    many = ["x" * 50_000] * 40  # each string is fine, together 2 MB
    with pytest.raises(ArgumentError, match="arguments are .* bytes; the limit is"):
        arguments.validate(course, {**COURSE, "categories": many})


def test_deep_nesting_is_refused_never_a_recursion_error(operations):
    course = op(operations, "create_a_learn_worlds_course")
    with pytest.raises(ArgumentError, match=r"'categories[^']*' is nested deeper than 32"):
        arguments.validate(course, {**COURSE, "categories": nested(5000)})
    # the same value sent as JSON text, the habit `repair` undoes
    with pytest.raises(ArgumentError, match=r"'categories[^']*' is nested deeper than 32"):
        arguments.validate(course, {**COURSE, "categories": "[" * 3000 + "]" * 3000})


def test_ordinary_arguments_still_pass(operations):
    course = op(operations, "create_a_learn_worlds_course")
    request = arguments.validate(course, {**COURSE, "price": 9.5, "categories": json.dumps(["a", "b"])})
    assert request.body == {**COURSE, "price": 9.5, "categories": ["a", "b"]}
