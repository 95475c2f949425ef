"""Tests for the sandbox school: seeding, the API's behaviour and quirks, writes, faults, serving."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from urllib.parse import quote

import httpx
import pytest
from starlette.testclient import TestClient

from learnworlds_sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    create_app,
    start_sandbox,
)
from learnworlds_sandbox.faults import ConnectionDropped
from learnworlds_sandbox.seed import DORMANT_BEFORE, build_school

AUTH = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
API = "/admin/api"
USER_KEYS = [
    "id", "email", "username", "first_name", "last_name", "subscribed_for_marketing_emails",
    "eu_customer", "is_admin", "is_instructor", "is_suspended", "is_reporter", "role",
    "is_affiliate", "referrer_id", "created", "last_login", "signup_approval_status", "fields",
    "tags", "utms", "billing_info", "nps_score", "nps_comment",
]
# The 94 operations of the 2025 export.
OPERATIONS = [
    ("GET", "/v2/courses"), ("POST", "/v2/courses"), ("GET", "/v2/courses/{id}"),
    ("PUT", "/v2/courses/{id}"), ("GET", "/v2/courses/{id}/analytics"),
    ("GET", "/v2/courses/{id}/units/{uid}/analytics"), ("GET", "/v2/bundles"),
    ("GET", "/v2/bundles/{id}"), ("GET", "/v2/subscription-plans"),
    ("GET", "/v2/subscription-plans/{id}"), ("GET", "/v2/user-subscriptions"),
    ("GET", "/v2/installments/active"), ("GET", "/v2/school/events"), ("GET", "/v2/users"),
    ("POST", "/v2/users"), ("PUT", "/v2/users/{id}"), ("GET", "/v2/users/{id}"),
    ("GET", "/v2/users/{id}/courses"), ("GET", "/v2/courses/{id}/users"),
    ("POST", "/v2/courses/{id}/sections"), ("GET", "/v2/payments"), ("GET", "/v2/payments/{id}"),
    ("GET", "/v2/courses/{id}/contents"), ("GET", "/v2/leads"), ("GET", "/v2/users/{id}/products"),
    ("PUT", "/v2/users/{id}/tags"), ("GET", "/v2/promotions/{pid}/coupons"),
    ("POST", "/v2/promotions/{pid}/coupons"), ("GET", "/v2/promotions/{pid}/coupons/{cid}/usage"),
    ("POST", "/v2/users/{id}/enrollment"), ("DELETE", "/v2/users/{id}/enrollment"),
    ("GET", "/v2/affiliates"), ("GET", "/v2/affiliates/{id}/leads"),
    ("PUT", "/v2/certificates/{id}"), ("DELETE", "/v2/certificates/{id}"),
    ("GET", "/v2/promotions"), ("POST", "/v2/promotions"), ("GET", "/v2/affiliates/{id}/customers"),
    ("GET", "/v2/affiliates/{id}/payments"), ("GET", "/v2/payments/{id}/invoice-link"),
    ("GET", "/v2/users/{id}/courses/{cid}/progress"), ("GET", "/v2/users/segments"),
    ("PUT", "/v2/users/{id}/suspend"), ("PUT", "/v2/users/{id}/unsuspend"),
    ("GET", "/v2/certificates"), ("GET", "/v2/promotions/{id}"), ("GET", "/v2/users/by-segment"),
    ("GET", "/v2/users/by-product"), ("GET", "/v2/affiliates/{id}/payouts/upcoming"),
    ("GET", "/v2/affiliates/{id}/payouts/due"), ("GET", "/v2/affiliates/{id}/payouts/completed"),
    ("POST", "/v2/promotions/{id}/coupons-bulk"), ("GET", "/v2/event-logs"),
    ("POST", "/v2/affiliates/{id}"), ("GET", "/v2/users/{id}/progress"),
    ("GET", "/v2/courses/{id}/grades"), ("GET", "/v2/assessments/{id}/responses"),
    ("GET", "/v2/forms/{id}/responses"), ("POST", "/v2/users/{id}/courses/{cid}/complete"),
    ("POST", "/v2/users/{id}/courses/{cid}/reset"), ("GET", "/v2/async-actions/{id}"),
    ("GET", "/v2/seats"), ("POST", "/v2/seats"), ("GET", "/v2/seats/{id}"), ("PUT", "/v2/seats/{id}"),
    ("DELETE", "/v2/seats/{id}"), ("GET", "/v2/seats/{id}/users"),
    ("POST", "/v2/seats/{id}/users/{uid}"), ("DELETE", "/v2/seats/{id}/users/{uid}"),
    ("GET", "/v2/users/{id}/seats"), ("GET", "/v2/user_groups"), ("POST", "/v2/user_groups"),
    ("GET", "/v2/user_groups/{id}"), ("PUT", "/v2/user_groups/{id}"),
    ("DELETE", "/v2/user_groups/{id}"), ("GET", "/v2/user_groups/{id}/users"),
    ("POST", "/v2/user_groups/{id}/users/{uid}"), ("DELETE", "/v2/user_groups/{id}/users/{uid}"),
    ("GET", "/v2/users/{id}/user-groups"), ("GET", "/v2/user-roles"),
    ("GET", "/v2/users/{id}/user-role"), ("PUT", "/v2/users/{id}/user-role"),
    ("GET", "/v2/community/collections"), ("GET", "/v2/community/spaces"),
    ("POST", "/v2/community/spaces"), ("GET", "/v2/community/spaces/{id}"),
    ("PUT", "/v2/community/spaces/{id}"), ("DELETE", "/v2/community/spaces/{id}"),
    ("GET", "/v2/community/spaces/{id}/users"), ("POST", "/v2/community/spaces/{id}/users"),
    ("DELETE", "/v2/community/spaces/{id}/users/{uid}"), ("GET", "/v2/community/posts"),
    ("GET", "/v2/community/posts/{id}"), ("POST", "/v2/assessments/scores/{id}/review"),
]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock):
    return create_app(seed=7, users=40, rate_limit=False, clock=clock)


@pytest.fixture
def school(app):
    return app.state.school


@pytest.fixture
def client(app):
    # Entered once so every request reuses one event-loop thread instead of starting its own.
    with TestClient(app, headers=AUTH) as entered:
        yield entered


@pytest.fixture
def bare(app):
    with TestClient(app) as entered:
        yield entered


@pytest.fixture(scope="module")
def shared_client():
    # One app for the read-mostly routing table: building 94 schools would dominate the run.
    with TestClient(create_app(seed=7, users=40, rate_limit=False), headers=AUTH) as entered:
        yield entered


@pytest.fixture(scope="module")
def full_school():
    return build_school(seed=7, users=2000)


def _learner(school) -> dict:
    return next(u for u in school.users.values()
                if u["role"]["level"] == "user" and not u["is_suspended"]
                and school.enrollments.get(u["id"]))


def _digest(school) -> str:
    blob = json.dumps([school.users, school.groups, school.payments, school.event_logs,
                       sorted(school.responses)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- seeding -------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_school_and_another_seed_does_not():
    first, again, other = build_school(7, 60), build_school(7, 60), build_school(8, 60)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def test_seeding_does_not_depend_on_string_hashing():
    code = ("from learnworlds_sandbox.seed import build_school; import json, hashlib; "
            "s = build_school(7, 40); print(hashlib.sha256(json.dumps([s.users, s.groups, "
            "s.payments, s.event_logs, sorted(s.responses)], sort_keys=True, default=str)"
            ".encode()).hexdigest())")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # This process hashes strings with a random salt; the child gets a fixed, different one.
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=root, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert child.stdout.strip() == _digest(build_school(7, 40))


def test_user_records_have_the_api_shape(school):
    user = next(iter(school.users.values()))
    assert list(user) == USER_KEYS
    assert set(user["role"]) == {"level", "name"}
    assert any(key.startswith("cf_") for u in school.users.values() for key in u["fields"])


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, shape", [
    ({}, "errors"),
    ({"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}, "errors"),
    ({"Lw-Client": "someone-else", "Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}, "errors"),
    ({"Lw-Client": SANDBOX_CLIENT_ID}, "statusCode"),
    ({"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": "Bearer wrong"}, "statusCode"),
])
def test_requests_without_both_credentials_get_401(bare, headers, shape):
    response = bare.get(f"{API}/v2/users", headers=headers)
    assert response.status_code == 401
    assert shape in response.json()


def test_sandbox_controls_need_no_credentials(bare):
    assert bare.get("/__sandbox/stats").status_code == 200


def _exchange(client, **kwargs):
    return client.post(f"{API}/oauth2/access_token", headers={"Lw-Client": SANDBOX_CLIENT_ID}, **kwargs)


CREDENTIALS = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET,
               "grant_type": "client_credentials"}


def test_token_exchange_with_form_field_data_gives_a_working_token(bare):
    answer = _exchange(bare, data={"data": json.dumps(CREDENTIALS)}).json()
    assert answer["success"] is True
    token = answer["tokenData"]
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    headers = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {token['access_token']}"}
    assert bare.get(f"{API}/v2/courses", headers=headers).status_code == 200


def test_token_exchange_with_a_plain_json_body_fails_misleadingly(bare):
    response = _exchange(bare, json=CREDENTIALS)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["errors"][0]["message"] == "Invalid object ID"


def test_token_exchange_rejects_a_wrong_secret(bare):
    wrong = dict(CREDENTIALS, client_secret="nope")
    assert _exchange(bare, data={"data": json.dumps(wrong)}).status_code == 401


def test_exchanged_tokens_expire(bare, clock):
    token = _exchange(bare, data={"data": json.dumps(CREDENTIALS)}).json()["tokenData"]
    headers = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {token['access_token']}"}
    clock.advance(token["expires_in"] + 1)
    assert bare.get(f"{API}/v2/courses", headers=headers).status_code == 401


# -- paging --------------------------------------------------------------------------------------


def test_pages_carry_meta_and_walk_every_item(client, school):
    seen, number = [], 1
    while True:
        body = client.get(f"{API}/v2/users", params={"page": number, "items_per_page": 7}).json()
        seen += [u["id"] for u in body["data"]]
        meta = body["meta"]
        assert meta["itemsPerPage"] == 7 and meta["page"] == number
        if number >= meta["totalPages"]:
            break
        number += 1
    visible = [u for u in school.users.values() if not u["is_suspended"]]
    assert meta["totalItems"] == len(visible) == len(seen) == len(set(seen))


def test_a_page_past_the_end_repeats_the_last_page(client):
    last = client.get(f"{API}/v2/courses", params={"page": 2}).json()
    assert last["meta"]["totalPages"] == 2
    beyond = client.get(f"{API}/v2/courses", params={"page": 99}).json()
    assert beyond["data"] == last["data"] and beyond["data"]


def test_fixed_size_lists_ignore_items_per_page(client):
    meta = client.get(f"{API}/v2/courses", params={"items_per_page": 5}).json()["meta"]
    assert meta["itemsPerPage"] == 50


@pytest.mark.parametrize("size", [0, 201])
def test_items_per_page_out_of_range_is_a_validation_error(client, size):
    response = client.get(f"{API}/v2/users", params={"items_per_page": size})
    assert response.status_code == 422
    assert "items_per_page" in response.json()["errors"]


def test_unpaged_lists_have_no_meta(client, school):
    uid = _learner(school)["id"]
    promo = next(iter(school.promotions))
    affiliate = next(iter(school.affiliates))
    for path in ["/v2/users/segments", f"/v2/users/{uid}/products", f"/v2/promotions/{promo}/coupons",
                 f"/v2/affiliates/{affiliate}/payouts/upcoming",
                 f"/v2/affiliates/{affiliate}/payouts/due", "/v2/community/collections",
                 f"/v2/users/{uid}/seats", "/v2/school/events"]:
        body = client.get(API + path).json()
        assert list(body) == ["data"] and isinstance(body["data"], list), path


# -- rate limit ----------------------------------------------------------------------------------


def test_the_31st_request_in_ten_seconds_gets_429(clock):
    limited = create_app(users=40, rate_limit=True, clock=clock)
    with TestClient(limited, headers=AUTH) as client:
        _hit_the_limit(client, clock)


def _hit_the_limit(client, clock) -> None:
    for _ in range(30):
        assert client.get(f"{API}/v2/bundles").status_code == 200
        clock.advance(0.1)
    refused = client.get(f"{API}/v2/bundles")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    assert not any(name.lower().startswith(("retry-after", "x-ratelimit", "ratelimit"))
                   for name in refused.headers)
    clock.advance(7.0)  # the oldest request is now more than ten seconds old
    assert client.get(f"{API}/v2/bundles").status_code == 200
    assert client.get("/__sandbox/stats").json()["rate_limited"] == 1


def test_rate_limit_can_be_switched_off(client):
    assert all(client.get(f"{API}/v2/bundles").status_code == 200 for _ in range(40))


# -- writes --------------------------------------------------------------------------------------


def test_suspension_persists_and_hides_the_user_by_default(client, school):
    user = _learner(school)
    assert client.put(f"{API}/v2/users/{user['id']}/suspend").json()["is_suspended"] is True
    assert school.users[user["id"]]["is_suspended"] is True
    assert client.get(f"{API}/v2/users/{user['id']}").status_code == 404
    shown = client.get(f"{API}/v2/users/{user['id']}", params={"include_suspended": "true"})
    assert shown.json()["is_suspended"] is True
    suspended = client.get(f"{API}/v2/users", params={"status": "suspended", "items_per_page": 200})
    assert user["id"] in [u["id"] for u in suspended.json()["data"]]
    client.put(f"{API}/v2/users/{user['id']}/unsuspend")
    assert client.get(f"{API}/v2/users/{user['id']}").json()["is_suspended"] is False


def test_group_membership_persists(client, school):
    gid = next(g for g, group in school.groups.items() if group["enroll_users_on_courses"]
               and not group["max_number_of_users"])
    user = next(u for u in school.users.values()
                if u["role"]["level"] == "user" and u["id"] not in school.group_members[gid])
    assert client.post(f"{API}/v2/user_groups/{gid}/users/{user['id']}").json() == {"success": True}
    members = client.get(f"{API}/v2/user_groups/{gid}/users", params={"page": 99}).json()
    assert user["id"] in [u["id"] for u in members["data"]]
    mine = client.get(f"{API}/v2/users/{user['id']}/user-groups").json()
    assert gid in [g["id"] for g in mine["data"]["user_groups"]]
    # The group enrolls its members in its courses.
    assert set(school.groups[gid]["products"]["courses"]) <= set(school.enrollments[user["id"]])
    assert client.delete(f"{API}/v2/user_groups/{gid}/users/{user['id']}").status_code == 204
    assert user["id"] not in school.group_members[gid]


def test_an_empty_group_reports_users_not_found(client, school):
    gid = next(g for g in school.groups if not school.group_members[g])
    response = client.get(f"{API}/v2/user_groups/{gid}/users")
    assert response.status_code == 404 and response.json() == {"error": "Users not found"}


def test_role_put_replaces_the_whole_assignment(client, school):
    gid, group = next((g, group) for g, group in school.groups.items() if group["group_managers"])
    manager = group["group_managers"][0]
    before = client.get(f"{API}/v2/users/{manager}/user-role").json()
    assert gid in before["assigned_user_group_ids"]
    role = before["role_id"]
    after = client.put(f"{API}/v2/users/{manager}/user-role", json={"role_id": role}).json()
    assert after["assigned_user_group_ids"] == [] and after["assigned_courses"] == []
    assert after["assigned_seat_offering_ids"] == [] and after["assigned_segment_id"] is None
    assert manager not in school.groups[gid]["group_managers"]
    admin = next(r for r in school.roles.values() if r["title"] == "Admin")
    client.put(f"{API}/v2/users/{manager}/user-role", json={"role_id": admin["id"]})
    assert school.users[manager]["is_admin"] is True
    assert school.users[manager]["role"] == {"level": "admin", "name": "Admin"}


def test_group_managers_are_set_on_the_group(client, school):
    manager = _learner(school)["id"]
    course = next(iter(school.courses))
    made = client.post(f"{API}/v2/user_groups", json={
        "title": "Pilot", "products": {"courses": [course]}, "group_managers": [manager]})
    assert made.status_code == 201
    group = made.json()
    assert [m["id"] for m in group["group_managers"]] == [manager]
    role = client.get(f"{API}/v2/users/{manager}/user-role").json()
    assert group["id"] in role["assigned_user_group_ids"]


def test_enrollment_requires_a_price(client, school):
    user = _learner(school)
    course = next(c for c in school.courses if c not in school.enrollments[user["id"]])
    body = {"productId": course, "productType": "course"}
    refused = client.post(f"{API}/v2/users/{user['id']}/enrollment", json=body)
    assert refused.status_code == 422
    assert refused.json()["statusCode"] == 422 and "price" in refused.json()["errors"]
    assert client.post(f"{API}/v2/users/{user['id']}/enrollment",
                       json={**body, "price": 0}).json() == {"success": True}
    courses = client.get(f"{API}/v2/users/{user['id']}/courses", params={"page": 9}).json()["data"]
    assert course in [e["course"]["id"] for e in courses]
    gone = client.request("DELETE", f"{API}/v2/users/{user['id']}/enrollment", json=body)
    assert gone.status_code == 204 and course not in school.enrollments[user["id"]]


def test_progress_complete_and_reset(client, school):
    user = _learner(school)
    course = next(iter(school.enrollments[user["id"]]))
    path = f"{API}/v2/users/{user['id']}/courses/{course}"
    job = client.post(f"{path}/complete", json={"send_course_complete_email": False, "units": []})
    assert job.json()["async"] is True
    assert client.get(f"{path}/progress").json()["status"] == "completed"
    client.post(f"{path}/reset", json={"units": []})
    progress = client.get(f"{path}/progress").json()
    assert progress["status"] == "not_started" and progress["completed_units"] == 0


def test_created_users_persist_and_emails_stay_unique(client, school):
    made = client.post(f"{API}/v2/users", json={"email": "New.Person@example.com", "username": "np"})
    assert made.status_code == 201 and list(made.json()) == USER_KEYS
    again = client.post(f"{API}/v2/users", json={"email": "new.person@example.com", "username": "x"})
    assert again.status_code == 400 and again.json()["success"] is False
    tagged = client.put(f"{API}/v2/users/{made.json()['id']}/tags",
                        json={"tags": ["vip", "pilot"], "action": "attach"}).json()
    assert tagged["tags"] == ["vip", "pilot"]
    assert school.find_user("new.person@example.com")["tags"] == ["vip", "pilot"]


def test_deleting_a_group_is_asynchronous(client, school):
    gid = next(iter(school.groups))
    accepted = client.delete(f"{API}/v2/user_groups/{gid}")
    assert accepted.status_code == 202 and accepted.json()["async"] is True
    job = accepted.json()["job_id"]
    first = client.get(f"{API}/v2/async-actions/{job}").json()
    assert first["state"] == "in-progress" and set(first) == {"action", "state", "errors", "results"}
    assert client.get(f"{API}/v2/user_groups/{gid}").status_code == 200
    assert client.get(f"{API}/v2/async-actions/{job}").json()["state"] == "completed"
    assert client.get(f"{API}/v2/user_groups/{gid}").status_code == 404


def test_a_pending_delete_completes_on_its_own_after_a_while(client, school, clock):
    sid = next(iter(school.seats))
    job = client.delete(f"{API}/v2/seats/{sid}").json()["job_id"]
    clock.advance(5)
    assert client.get(f"{API}/v2/seats/{sid}").status_code == 404
    assert client.get(f"{API}/v2/async-actions/{job}").json()["state"] == "completed"


# -- lookups and errors --------------------------------------------------------------------------


def test_a_user_can_be_named_by_url_encoded_email(client, school):
    user = _learner(school)
    for key in (quote(user["email"], safe=""), user["email"].upper()):
        assert client.get(f"{API}/v2/users/{key}").json()["id"] == user["id"]


def test_unknown_ids_get_the_404_shape(client):
    for path in ["/v2/users/nobody", "/v2/courses/no-such-course", "/v2/user_groups/" + "0" * 24]:
        response = client.get(API + path)
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404 and response.json()["error"]


@pytest.mark.parametrize("query, keep", [
    ({"role": "admin"}, lambda u: u["role"]["level"] == "admin"),
    ({"status": "never_logged_in"}, lambda u: u["last_login"] is None),
    ({"tags": "vip,partner"}, lambda u: {"vip", "partner"} & set(u["tags"])),
    ({"cf_skill_level": "beginner"}, lambda u: u["fields"].get("cf_skill_level") == "beginner"),
    ({"registration_before": DORMANT_BEFORE}, lambda u: u["created"] <= DORMANT_BEFORE),
])
def test_user_filters_match_the_seeded_truth(client, school, query, keep):
    listed = client.get(f"{API}/v2/users", params={**query, "items_per_page": 200}).json()["data"]
    expected = [u["id"] for u in reversed(school.users.values()) if keep(u) and not u["is_suspended"]]
    assert expected and [u["id"] for u in listed] == expected


def test_certificates_need_a_filter(client, school):
    refused = client.get(f"{API}/v2/certificates")
    assert refused.status_code == 400 and refused.json()["success"] is False
    course = next(iter(school.certificates.values()))["course_id"]
    listed = client.get(f"{API}/v2/certificates", params={"course_id": course}).json()
    assert listed["data"] and all(c["course_id"] == course for c in listed["data"])


def _fill(template: str, school) -> str:
    user = _learner(school)
    course = next(iter(school.enrollments[user["id"]]))
    promo = next(iter(school.promotions.values()))
    values = {"{pid}": promo["id"], "{cid}": course, "{uid}": user["id"], "{id}": "x"}
    if template.startswith("/v2/promotions/{pid}/coupons/{cid}"):
        values["{cid}"] = promo["coupons"][0]["code"]
    for key, value in values.items():
        template = template.replace(key, value)
    return template


@pytest.mark.parametrize("method, template", OPERATIONS)
def test_every_operation_of_the_spec_has_a_route(shared_client, method, template):
    school = shared_client.app.state.school
    response = shared_client.request(method, API + _fill(template, school), json={})
    assert response.status_code != 405
    generic = {"statusCode": 404, "error": "This resource is not found"}
    assert response.status_code != 404 or response.json() != generic


def test_the_operation_table_is_complete():
    assert len(OPERATIONS) == len(set(OPERATIONS)) == 94


# -- faults and counters -------------------------------------------------------------------------


@pytest.mark.parametrize("kind, status, text", [
    ("500", 500, '"statusCode": 500'),
    ("502_html", 502, "<html>"),
    ("429", 429, "Too many requests"),
    ("bad_json", 200, '{"data": [{"id": "'),
    ("success_false", 200, '"success": false'),
])
def test_injected_faults_answer_the_broken_way(client, school, kind, status, text):
    school.inject_fault(kind, count=2, path_prefix="/v2/courses")
    assert client.get(f"{API}/v2/bundles").status_code == 200
    for _ in range(2):
        broken = client.get(f"{API}/v2/courses")
        assert broken.status_code == status and text in broken.text
    assert client.get(f"{API}/v2/courses").json()["meta"]["totalItems"] >= 50
    assert school.stats["faulted"] == 2


def test_a_dropped_connection_surfaces_in_process_as_an_httpx_error(client, school):
    school.inject_fault("drop")
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        client.get(f"{API}/v2/users")
    assert isinstance(caught.value, ConnectionDropped)


def test_faults_can_be_queued_over_http(client, school):
    queued = client.post("/__sandbox/faults", json={"kind": "500", "count": 3, "path_prefix": "/v2/users"})
    assert queued.json()["queued"]["count"] == 3
    assert client.post("/__sandbox/faults", json={"kind": "meteor"}).status_code == 400
    with pytest.raises(ValueError):
        school.inject_fault("meteor")
    assert client.delete("/__sandbox/faults").json() == {"pending": []}
    assert client.get(f"{API}/v2/users").status_code == 200


def test_stats_count_requests_per_path(client):
    client.get(f"{API}/v2/courses")
    client.get(f"{API}/v2/courses")
    client.get("/__sandbox/health")
    stats = client.get("/__sandbox/stats").json()
    assert stats["total"] == 2 and stats["paths"] == {f"{API}/v2/courses": 2}
    assert client.delete("/__sandbox/stats").json()["total"] == 0


# -- serving -------------------------------------------------------------------------------------


def test_served_sandbox_answers_and_fails_on_request(capfd):
    with start_sandbox(users=40, rate_limit=False) as sandbox:
        assert sandbox.api_url == f"http://127.0.0.1:{sandbox.port}/admin/api"
        with httpx.Client(base_url=sandbox.api_url, headers=AUTH, timeout=2) as http:
            assert http.get("/v2/user-roles").status_code == 200
            sandbox.school.inject_fault("drop")
            with pytest.raises(httpx.RemoteProtocolError):
                http.get("/v2/users")
            sandbox.school.inject_fault("timeout")
            with pytest.raises(httpx.ReadTimeout):
                http.get("/v2/users", timeout=0.2)
            assert http.get("/v2/users").status_code == 200
        stats = httpx.get(f"http://127.0.0.1:{sandbox.port}/__sandbox/stats").json()
        assert stats["total"] == 4 and stats["faulted"] == 2
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.api_url}/v2/users", headers=AUTH, timeout=1)
    assert capfd.readouterr().out == ""


# -- the default-size school (last: keeping 2000 users alive slows every later test) ---------


def test_default_school_has_the_promised_size(full_school):
    assert len(full_school.users) >= 2000
    assert len(full_school.groups) >= 40
    assert len(full_school.courses) >= 50
    assert all(len(uid) == 24 and int(uid, 16) >= 0 for uid in full_school.users)


def test_default_school_has_dormant_admins_and_instructors(full_school):
    def dormant(level):
        return [u for u in full_school.users.values() if u["role"]["level"] == level
                and (u["last_login"] is None or u["last_login"] < DORMANT_BEFORE)]

    assert dormant("admin") and dormant("instructor")
    assert any(u["last_login"] is None for u in full_school.users.values())
    logged = [u["last_login"] for u in full_school.users.values() if u["last_login"]]
    assert sum(1 for t in logged if t < DORMANT_BEFORE) > len(logged) // 10


def test_default_school_covers_every_role_kind(full_school):
    levels = {u["role"]["level"] for u in full_school.users.values()}
    assert {"admin", "instructor", "reporter", "license_reporter", "seat_manager", "user"} <= levels
    assert any(r["custom_role"] for r in full_school.roles.values())
    assert any(u["role"]["name"] in {r["title"] for r in full_school.roles.values() if r["custom_role"]}
               for u in full_school.users.values())
    assert any(u["is_suspended"] for u in full_school.users.values())
    assert any(u["is_affiliate"] for u in full_school.users.values())


def test_default_school_groups_are_varied(full_school):
    groups = full_school.groups.values()
    assert any(g["group_managers"] for g in groups)
    assert {g["enroll_users_on_courses"] for g in groups} == {True, False}
    assert any(full_school.group_members[g["id"]] for g in groups)
