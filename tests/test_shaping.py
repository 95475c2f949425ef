"""fields selection, empty values, and results cut to the byte budget at an item boundary."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from learnworlds_mcp import shaping
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ArgumentError
from learnworlds_mcp.executor import Runtime, execute

API = "https://school.example/admin/api"
USER = {"id": "u1", "email": "ada@example.com", "last_login": None, "tags": [], "nps_comment": "",
        "billing_info": {"bf_country": "UK", "bf_city": "London", "bf_taxid": None},
        "role": {"level": "admin", "name": "Admin"}}


def test_pick_follows_dot_paths_and_keeps_id():
    tree = shaping.field_tree(["email", "billing_info.bf_country", "role.name"])
    assert shaping.pick(USER, tree) == {"id": "u1", "email": "ada@example.com",
                                        "billing_info": {"bf_country": "UK"}, "role": {"name": "Admin"}}
    assert shaping.pick([USER], shaping.field_tree(["nope"])) == [{"id": "u1"}]


def test_drop_empty_keeps_false_and_zero():
    value = {"a": None, "b": "", "c": [], "d": {}, "e": False, "f": 0, "g": {"h": None, "i": 1}}
    assert shaping.drop_empty(value) == {"e": False, "f": 0, "g": {"i": 1}}


def fake_users(count):
    users = [dict(USER, id=f"u{n:04d}", nps_comment="x" * 300) for n in range(count)]

    def answer(request):
        page = int(request.url.params.get("page", 1))
        size = int(request.url.params.get("items_per_page", 20))
        data = users[(page - 1) * size: page * size]
        pages = -(-count // size)
        return httpx.Response(200, json={"data": data, "meta": {"page": page, "totalPages": pages,
                                                                "totalItems": count, "itemsPerPage": size}})
    return users, answer


def runtime(handler, **options):
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", access_token="t"),
                               transport=httpx.MockTransport(handler), max_retries=0)
    return Runtime(client, **options)


@pytest.mark.anyio
async def test_a_large_page_is_cut_and_the_cursor_resumes_right_after_the_cut(operations):
    users_op = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    users, handler = fake_users(150)
    rt = runtime(handler, max_result_bytes=6000)
    seen, cursor, cuts = [], None, 0
    while True:
        args = {"limit": 100} | ({"next_cursor": cursor} if cursor else {})
        result = await execute(users_op, args, rt)
        assert shaping.size(result) <= 6000
        cuts += "truncated" in result
        seen += [u["id"] for u in result["result"]]
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert seen == [u["id"] for u in users]  # nothing lost, nothing repeated
    assert cuts > 0


@pytest.mark.anyio
async def test_fields_and_empty_values_shrink_results(operations):
    users_op = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    _, handler = fake_users(20)
    full = await execute(users_op, {"limit": 20}, runtime(handler, keep_empty=True))
    lean = await execute(users_op, {"limit": 20}, runtime(handler))
    picked = await execute(users_op, {"limit": 20, "fields": "email, last_login"}, runtime(handler))
    assert "last_login" in full["result"][0] and "last_login" not in lean["result"][0]
    assert picked["result"][0] == {"id": "u0000", "email": "ada@example.com"}
    assert shaping.size(picked) < shaping.size(lean) < shaping.size(full)


def test_an_oversized_object_keeps_what_fits():
    kept = shaping.cap({"a": "x" * 10, "b": "y" * 5000, "c": 1}, 200)
    assert kept["a"] == "x" * 10 and kept["c"] == 1 and shaping.size(kept) <= 200
    assert kept["b"].startswith("yyy") and "cut 4," in kept["b"]


BIG = "B" * 2_000_000


def paged(data, **meta):
    return lambda request: httpx.Response(200, json={"data": data, "meta": {"page": 1, "totalPages": 1,
                                                                             "totalItems": len(data), **meta}})


@pytest.mark.anyio
async def test_a_huge_first_item_is_cut_inside_and_the_cursor_still_resumes(operations):
    users_op = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    data = [dict(USER, id="u0", nps_comment=BIG)] + [dict(USER, id=f"u{n}") for n in range(1, 5)]
    result = await execute(users_op, {"limit": 5}, runtime(paged(data), max_result_bytes=20_000))
    assert shaping.size(result) <= 20_000
    assert [u["id"] for u in result["result"]] == ["u0"]
    comment = result["result"][0]["nps_comment"]
    assert comment.startswith("BBB") and "cut 1,9" in comment and "characters" in comment
    rest = await execute(users_op, {"limit": 5, "next_cursor": result["next_cursor"]},
                         runtime(paged(data), max_result_bytes=20_000))
    assert [u["id"] for u in rest["result"]] == ["u1", "u2", "u3", "u4"]


@pytest.mark.anyio
async def test_a_huge_item_of_an_unpaged_list_is_cut(operations):
    roles = next(op for op in operations if op.name == "list_all_learn_worlds_roles")
    handler = lambda request: httpx.Response(200, json={"data": [{"id": "r1", "title": BIG}, {"id": "r2"}]})
    result = await execute(roles, {}, runtime(handler, max_result_bytes=20_000))
    assert shaping.size(result) <= 20_000 and "cut 1,9" in result["result"][0]["title"]


@pytest.mark.anyio
async def test_a_huge_single_object_is_cut_and_keeps_its_other_fields(operations):
    get_user = next(op for op in operations if op.name == "get_single_learn_worlds_user_by_id")
    handler = lambda request: httpx.Response(200, json=dict(USER, nps_comment=BIG, tags=["t"] * 300_000))
    result = await execute(get_user, {"id": "u1"}, runtime(handler, max_result_bytes=20_000))
    assert shaping.size(result) <= 20_000
    assert result["email"] == "ada@example.com" and "cut 1,9" in result["nps_comment"]


@pytest.mark.parametrize("value", [
    {"a": "x" * 1_000_000}, ["y" * 1000] * 5000, {f"k{n}": n for n in range(200_000)},
    [[[[["z" * 500_000]]]]], {"k" * 900_000: 1},
])
def test_cap_always_fits_the_budget(value):
    capped = shaping.cap(value, 4000)
    assert shaping.size(capped) <= 4000 and "cut" in json.dumps(capped)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 422])
async def test_huge_error_messages_fit_the_budget(operations, status):
    from learnworlds_mcp.server import run_tool

    get_user = next(op for op in operations if op.name == "get_single_learn_worlds_user_by_id")
    body = {"message": "bad " + BIG, "errors": {"email": [BIG], "name": ["x" * 100] * 10_000}}
    handler = lambda request: httpx.Response(status, json=body)
    outcome = await run_tool(get_user, {"id": "u1"}, runtime(handler, max_result_bytes=20_000))
    text = outcome.content[0].text
    assert outcome.is_error and len(text.encode()) <= 20_000
    error = json.loads(text)
    assert error["status"] == status and error["error"].startswith(f"LearnWorlds answered HTTP {status}: bad BBB")
    assert re.search(r"cut [\d,]+ characters", error["error"])


@pytest.mark.anyio
@pytest.mark.parametrize("tool, args", [("list_all_learn_worlds_users", {"limit": 1}),
                                        ("list_all_learn_worlds_roles", {})])
async def test_a_list_of_one_huge_item_is_cut_too(operations, tool, args):
    op = next(o for o in operations if o.name == tool)
    handler = paged([{"id": "u0", "title": BIG, "nps_comment": BIG}])
    result = await execute(op, args, runtime(handler, max_result_bytes=20_000))
    assert shaping.size(result) <= 20_000 and "cut 1,9" in json.dumps(result) and "truncated" in result


@pytest.mark.anyio
async def test_an_undeclared_field_is_refused_with_the_declared_names_and_nothing_is_sent(operations):
    users_op = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(200, json={"data": [USER], "meta": {"page": 1, "totalPages": 1}})

    with pytest.raises(ArgumentError) as refused:
        await execute(users_op, {"fields": "email,lastLogin"}, runtime(handler))
    message = str(refused.value)
    assert "'lastLogin' (did you mean 'last_login'?)" in message
    assert "'email'" not in message.split("takes")[0]  # only the bad name is blamed
    listed = message.split("comma list of: ")[1].split(" (name.*")[0].split(", ")
    assert {"email", "last_login", "role.*", "fields.*", "nps_score"} <= set(listed)
    assert sent == []


@pytest.mark.parametrize("tool, fields, bad", [
    ("list_all_learn_worlds_users", "email,last_login", []),
    ("list_all_learn_worlds_users", "fields.cf_department,utms.fc_utm_source,role.level", []),  # free-form objects
    ("list_all_learn_worlds_users", "billing_info.bf_country", []),
    ("list_all_learn_worlds_users", "email.domain,tags.x", ["email.domain", "tags.x"]),  # nothing below a scalar
    ("list_all_learn_worlds_users", "lastLogin", ["lastLogin"]),
    ("list_all_learn_worlds_groups", "title,group_managers.email", []),  # into a list of free-form objects
    ("list_all_learn_worlds_groups", "managers", ["managers"]),
    ("get_single_learn_worlds_user_by_id", "email,nps_score,is_instructor", []),
    ("get_single_learn_worlds_user_by_id", "nps", ["nps"]),
])
def test_undeclared_follows_the_response_schema(operations, tool, fields, bad):
    op = next(op for op in operations if op.name == tool)
    assert shaping.undeclared(fields.split(","), op.record_schema) == bad


def test_every_read_declares_some_field_names(operations):
    """A read whose record schema names nothing would accept any fields silently: none is left."""
    for op in operations:
        if op.shapeable:
            assert shaping.declared_paths(op.record_schema), op.name
