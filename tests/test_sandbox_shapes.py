"""The sandbox answers the directory reads in the shapes our response schemas (checked against the
official examples by the contract tests) describe: every declared field present, every value accepted."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient, build_path
from learnworlds_mcp.executor import Runtime, execute
from learnworlds_mcp.limiter import RateLimiter
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, create_app
from tests import strict

HEADERS = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}


@pytest.fixture(scope="module")
def app():
    return create_app(seed=3, users=120, rate_limit=False)


def path_values(operation, school):
    group = next(g for g in school.groups.values() if school.group_members.get(g["id"]))
    user = next(school.users[uid] for uid in school.group_members[group["id"]]
                if not school.users[uid]["is_suspended"])
    main = group["id"] if operation.path.startswith("/v2/user_groups") else user["email"]
    values = {"id": main, "user_id": user["id"]}
    return {name: values[name] for name in operation.params.get("path", {}).get("properties", {})}


def query_values(operation, school):
    """Required filters, filled from the seeded school rather than the spec's example ids."""
    known = {"segment_id": next(iter(school.segments)), "product_id": next(iter(school.courses)),
             "product_type": "course"}
    return {name: known[name] for name in operation.params.get("query", {}).get("required", [])}


def declared_keys(schema):
    return set(schema.get("properties", {}))


def directory_reads(operations):
    return [op for op in operations if "directory" in op.tags and op.read_only and op.resource != "async_actions"]


def test_there_are_directory_reads_to_check(operations):
    assert len(directory_reads(operations)) >= 10


@pytest.mark.anyio
async def test_directory_reads_match_our_response_schemas(operations, app):
    school = app.state.school
    checked = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        for op in directory_reads(operations):
            path = build_path(op.path, path_values(op, school))
            response = await http.get("/admin/api" + path, headers=HEADERS, params=query_values(op, school))
            assert response.status_code == 200, (op.name, response.text[:300])
            body = response.json()
            jsonschema.validate(body, op.response)
            if op.is_list:
                items = op.items_of(body)
                assert items, op.name
                node = op.response
                for key in op.items_path.split("."):
                    node = node["properties"][key]
                sample, expected = items[0], declared_keys(node.get("items", {}))
            else:
                sample, expected = body, declared_keys(op.response)
            missing = expected - set(sample)
            assert not missing, f"{op.name}: sandbox lacks {sorted(missing)}"
            checked += 1
    assert checked == len(directory_reads(operations))


# -- every read against the official response schemas and examples (tests/strict.py) ---------------


def ids(school) -> dict[str, dict[str, str]]:
    """Path values of a seeded record for each resource, by the first segment of the path."""
    user_id, course_id = next((uid, cid) for uid, courses in school.enrollments.items() for cid in courses
                              if (uid, cid) in school.progress)
    unit_of = lambda kind: next(uid for uid, unit in school.units.items()  # noqa: E731
                                if any(u["id"] == uid and u["type"] == kind for u in unit["section"]["learningUnits"]))
    promo = next(p for p in school.promotions.values() if p["coupons"])
    seat = max(school.seats, key=lambda sid: len(school.seat_members[sid]))
    group = max(school.groups, key=lambda gid: len(school.group_members[gid]))
    affiliate = next(iter(school.affiliates))
    return {
        "users": {"id": user_id, "course_id": course_id},
        "courses": {"id": course_id, "unit_id": next(u for u, unit in school.units.items()
                                                    if unit["course_id"] == course_id)},
        "affiliates": {"id": affiliate}, "bundles": {"id": next(iter(school.bundles))},
        "assessments": {"id": unit_of("assessmentV2")}, "forms": {"id": unit_of("form")},
        "community": {"id": next(iter(school.spaces))}, "payments": {"id": next(iter(school.payments))},
        "promotions": {"id": promo["id"], "coupon_code": promo["coupons"][0]["code"]},
        "seats": {"id": seat}, "user_groups": {"id": group},
        "subscription-plans": {"id": next(iter(school.subscription_plans))},
    }


def read_arguments(op, school, known) -> dict[str, str]:
    """Flat tool arguments for one read: its path values and the filters it requires."""
    segment = op.path.split("/")[2]
    values = dict(known.get(segment, {}))
    if op.path.startswith("/v2/community/posts/"):
        values["id"] = next(iter(school.posts))
    query = {"segment_id": next(iter(school.segments)), "product_id": known["courses"]["id"],
             "product_type": "course", "user_id": known["users"]["id"]}
    wanted = op.params.get("query", {}).get("required", []) + (["user_id"] if op.path == "/v2/certificates" else [])
    names = op.params.get("path", {}).get("properties", {})
    return {**{n: values[n] for n in names}, **{n: query[n] for n in wanted}}


def sandbox_reads(operations):
    return [op for op in operations if op.read_only and op.resource != "async_actions"]  # a job id needs a delete


def explained(found: dict[str, list[str]]) -> None:
    """Every deviation found is listed in strict.SANDBOX_DEVIATIONS, and every one listed is still found."""
    unexplained = {name: lines[:3] for name, lines in found.items() if name not in strict.SANDBOX_DEVIATIONS}
    assert unexplained == {}
    stale = set(strict.SANDBOX_DEVIATIONS) - set(found)
    assert stale == set(), "listed as deviating but now matching: remove from strict.SANDBOX_DEVIATIONS"


@pytest.mark.anyio
async def test_every_sandbox_read_matches_the_official_schemas_but_the_listed_deviations(operations):
    app = create_app(seed=3, users=120, rate_limit=False)
    school = app.state.school
    known = ids(school)
    found: dict[str, list[str]] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        for op in sandbox_reads(operations):
            arguments = read_arguments(op, school, known)
            path = build_path(op.path, {n: arguments.pop(n) for n in op.params.get("path", {}).get("properties", {})})
            response = await http.get("/admin/api" + path, headers=HEADERS, params=arguments)
            if response.status_code != 200:
                found[op.name] = [f"HTTP {response.status_code}: {response.text[:120]}"]
                continue
            schema, _ = strict.official_response(op.method, op.path)
            broken = strict.errors(schema, response.json())
            if broken:
                found[op.name] = broken
    explained(found)


@pytest.mark.anyio
async def test_every_read_tool_result_on_the_sandbox_passes_the_strict_check(operations):
    """The same reads as tool results: shaping and paging may drop fields, never add or retype one."""
    app = create_app(seed=3, users=120, rate_limit=False)
    school = app.state.school
    known = ids(school)
    creds = Credentials(api_url="http://sandbox/admin/api", client_id=SANDBOX_CLIENT_ID,
                        access_token=SANDBOX_ACCESS_TOKEN)
    # The sandbox's limit is off, and so is ours: the check is about shapes, not pacing.
    client = LearnWorldsClient(creds, transport=httpx.ASGITransport(app=app), limiter=RateLimiter(10**6, 10.0),
                               max_retries=0)
    runtime = Runtime(client, max_result_bytes=10**8)
    found: dict[str, list[str]] = {}
    for op in sandbox_reads(operations):
        broken = strict.result_errors(op, await execute(op, read_arguments(op, school, known), runtime))
        if broken:
            found[op.name] = broken
    explained(found)
