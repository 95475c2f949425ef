"""The sandbox answers the directory reads in the shapes our response schemas (checked against the
official examples by the contract tests) describe: every declared field present, every value accepted."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from learnworlds_mcp.client import build_path
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, create_app

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
