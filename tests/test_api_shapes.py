"""The API as it is: every tool's arguments against the export's parameters (the spec fixture), and the
shapes fixed after comparing them (reissue by date alone, custom-field filters, comma lists, closed sets)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from learnworlds_mcp.arguments import validate
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError, ArgumentError
from learnworlds_mcp.executor import Runtime, execute
from learnworlds_mcp.registry import load
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, create_app
from tests import prism, strict, tooling

BY_NAME = {op.name: op for op in load()}
# Where a tool deliberately differs from the export's parameters, and why.
DELIBERATE = {
    # The export's request schema here is empty; the fields come from its examples and SectionRequestModel.
    ("create_a_learn_worlds_course_section", "body"): {"title", "description", "access", "drip"},
    # One object argument stands for the export's family of cf_<name> parameters.
    ("list_all_learn_worlds_users", "query"): {"custom_fields", "cf_$field_name"},
}
# A string enum "true"/"false" in the export (one spelt "flase"): a boolean is what a model sends right.
BOOLEAN_FOR_STRING = {"include_suspended"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not prism.SPEC.is_file():
        tooling.unavailable(f"the spec fixture is missing at {prism.SPEC}")
    return json.loads(prism.SPEC.read_text(encoding="utf-8"))


def documented(spec: dict[str, Any], method: str, path: str, paged: bool) -> dict[str, dict[str, Any]]:
    """{"query": {name: schema}, "body": {name: schema}} the export gives one operation (paging left out
    where our tool replaces it with limit and next_cursor)."""
    shape = re.sub(r"\{[^}]+\}", "{}", path)
    item = next(v for p, v in spec["paths"].items() if re.sub(r"\{[^}]+\}", "{}", p) == shape)
    operation = item[method.lower()]
    parameters = [strict.resolve(p) for p in operation.get("parameters", []) + item.get("parameters", [])]
    hidden = ("page", "items_per_page") if paged else ()
    query = {p["name"]: strict.resolve(p.get("schema", {})) for p in parameters
             if p.get("in") == "query" and p["name"] not in hidden}
    body: dict[str, Any] = {}
    if "requestBody" in operation:
        schema = strict.resolve(strict.resolve(operation["requestBody"])["content"]["application/json"].get("schema", {}))
        body = {k: strict.resolve(v) for k, v in schema.get("properties", {}).items()}
    return {"query": query, "body": body}


def types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    return (set(declared) if isinstance(declared, list) else {declared} if declared else set()) - {"null"}


@pytest.mark.parametrize("op", load(), ids=lambda op: op.name)
def test_a_tool_takes_exactly_the_export_s_parameters_with_their_types_and_enums(spec, op):
    theirs = documented(spec, op.method, op.path, paged=op.paging is not None)
    for location in ("query", "body"):
        ours = op.params.get(location, {}).get("properties", {})
        differ = set(ours) ^ set(theirs[location])
        assert differ == DELIBERATE.get((op.name, location), set()), f"{location}: {sorted(differ)}"
        for name in set(ours) & set(theirs[location]):
            mine, official = ours[name], theirs[location][name]
            if "x-join" in mine:  # a comma list: an array of the documented values
                mine = mine["items"]
            if name in BOOLEAN_FOR_STRING:
                assert types(mine) == {"boolean"} and set(official["enum"]) <= {"true", "false", "flase"}
                continue
            assert not types(official) or types(mine) == types(official), f"{name}: {types(mine)} vs {types(official)}"
            assert set(mine.get("enum", [])) == set(official.get("enum", [])), f"{name}: enums differ"


def test_a_new_section_takes_the_fields_and_requirements_of_the_export_s_section_model(spec):
    model = spec["components"]["schemas"]["SectionRequestModel"]
    body = BY_NAME["create_a_learn_worlds_course_section"].params["body"]
    assert set(body["properties"]) == set(model["properties"]) and set(body["required"]) == set(model["required"])
    assert body["properties"]["access"]["enum"] == model["properties"]["access"]["enum"]


def test_a_certificate_is_reissued_with_a_date_alone_or_the_form_alone():
    reissue = BY_NAME["learn_worlds_certificates_reissue"]
    assert validate(reissue, {"id": "c1", "issued": 1735689600}).body == {"issued": 1735689600}
    form = {"firstname": "Ana", "lastname": "Lee", "ptin": "P1"}
    assert validate(reissue, {"id": "c1", "form": form}).body == {"form": form}
    with pytest.raises(ArgumentError, match="give at least 'issued' or 'form'; none was given"):
        validate(reissue, {"id": "c1"})
    assert "anyOf" not in reissue.input_schema  # clients refuse a top-level anyOf in inputSchema


def test_custom_field_filters_become_cf_query_parameters():
    users = BY_NAME["list_all_learn_worlds_users"]
    request = validate(users, {"custom_fields": {"skill": "python", "team": "blue"}, "role": "admin"})
    assert request.query == {"cf_skill": "python", "cf_team": "blue", "role": "admin"}
    with pytest.raises(ArgumentError, match="custom_fields"):
        validate(users, {"custom_fields": {"bad name&x=1": "v"}})
    assert "x-prefix-map" not in json.dumps(users.tool())  # steering data is not shown to the model


def test_roles_access_level_is_sent_as_a_comma_list():
    roles = BY_NAME["list_all_learn_worlds_roles"]
    assert validate(roles, {"access_level": ["admin", "instructor"]}).query == {"access_level": "admin,instructor"}
    with pytest.raises(ArgumentError, match="access_level"):
        validate(roles, {"access_level": ["owner"]})


@pytest.mark.parametrize("name, arguments", [
    ("list_all_learn_worlds_event_logs", {"activity": "logged_in"}),
    ("create_a_learn_worlds_course_section", {"id": "c", "title": "Intro"}),
    ("create_a_learn_worlds_course_section", {"id": "c", "title": "Intro", "access": "public"}),
    ("create_a_learn_worlds_seat_offering", {"title": "t", "products": {"courses": ["c"]}, "number_of_seats": 2,
                                             "access": "open"}),
])
def test_closed_sets_and_required_fields_of_the_export_are_enforced(name, arguments):
    with pytest.raises(ArgumentError):
        validate(BY_NAME[name], arguments)


def test_spaces_take_every_members_allowed_switch_and_bulk_coupons_a_number():
    create, update = BY_NAME["create_a_learn_worlds_space"], BY_NAME["update_a_learn_worlds_space_by_id"]
    switches = {"is_members_allowed_to_upload_videos": True, "is_members_allowed_to_poll": False}
    assert validate(update, {"id": "s", **switches}).body == switches
    assert validate(create, {"title": "t", "access": "standalone", **switches}).body["is_members_allowed_to_poll"] is False
    bulk = next(op for op in BY_NAME.values() if op.path.endswith("/coupons-bulk"))
    assert bulk.input_schema["properties"]["quantity"]["type"] == "number"


# Against the sandbox, which models these answers: the same generic path a real call takes.
@pytest.fixture
def sandbox_runtime():
    app = create_app(seed=5, users=60, rate_limit=False)
    transport = httpx.ASGITransport(app=app)
    creds = Credentials(api_url="http://sandbox/admin/api", client_id=SANDBOX_CLIENT_ID,
                        access_token=SANDBOX_ACCESS_TOKEN)
    return app.state.school, Runtime(LearnWorldsClient(creds, transport=transport, max_retries=0))


@pytest.mark.anyio
async def test_an_empty_group_answers_404_with_the_tool_s_own_hint(sandbox_runtime):
    school, runtime = sandbox_runtime
    empty = next(gid for gid, members in school.group_members.items() if not members) if any(
        not m for m in school.group_members.values()) else None
    if empty is None:
        made = await execute(BY_NAME["create_a_learn_worlds_group"], {"title": "Nobody yet"}, runtime)
        empty = made["id"]
    with pytest.raises(ApiError) as raised:
        await execute(BY_NAME["list_all_learn_worlds_group_users"], {"id": empty}, runtime)
    assert raised.value.status == 404 and "Users not found" in str(raised.value)
    assert "group has no members" in str(raised.value)
    # Another tool's 404 keeps the generic hint only.
    with pytest.raises(ApiError) as other:
        await execute(BY_NAME["get_single_learn_worlds_group_by_id"], {"id": "nope"}, runtime)
    assert "group has no members" not in str(other.value)


@pytest.mark.anyio
async def test_seat_members_come_whole_and_limit_pages_through_them(sandbox_runtime):
    school, runtime = sandbox_runtime
    seat_id = max(school.seat_members, key=lambda sid: len(school.seat_members[sid]))
    members = set(school.seat_members[seat_id])
    assert len(members) >= 3
    tool = BY_NAME["list_all_learn_worlds_seat_offering_users"]
    seen, cursor = [], None
    while True:
        page = await execute(tool, {"id": seat_id, "limit": 2, **({"next_cursor": cursor} if cursor else {})},
                             runtime)
        seen += [user["id"] for user in page["result"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(members)


@pytest.mark.anyio
async def test_sandbox_filters_users_by_custom_field_and_roles_by_several_levels(sandbox_runtime):
    school, runtime = sandbox_runtime
    user = next(u for u in school.users.values() if not u["is_suspended"]
                and any(k.startswith("cf_") and v for k, v in u["fields"].items()))
    name, value = next((k, v) for k, v in user["fields"].items() if k.startswith("cf_") and v)
    found = await execute(BY_NAME["list_all_learn_worlds_users"], {"custom_fields": {name.removeprefix("cf_"): value},
                                                                   "limit": 200}, runtime)
    assert user["id"] in [u["id"] for u in found["result"]]
    assert all(str(u["fields"].get(name, "")).lower() == value.lower() for u in found["result"])
    roles = await execute(BY_NAME["list_all_learn_worlds_roles"], {"access_level": ["admin", "instructor"]}, runtime)
    assert {r["access_level"] for r in roles["result"]} == {"admin", "instructor"}


@pytest.mark.anyio
async def test_sandbox_reissues_a_certificate_with_a_date_alone(sandbox_runtime):
    school, runtime = sandbox_runtime
    cert_id = next(iter(school.certificates))
    form_before = school.certificates[cert_id]["form"]
    answer = await execute(BY_NAME["learn_worlds_certificates_reissue"], {"id": cert_id, "issued": 1735689600},
                           runtime)
    assert answer["issued"] == 1735689600 and school.certificates[cert_id]["form"] == form_before
