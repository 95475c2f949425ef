"""Coverage of the LearnWorlds v2 API: each of the 94 operations of the 2025 export is exactly one tool."""

from __future__ import annotations

import re
from collections import Counter

# Verb and path of every operation in the official 2025 export (placeholders as the export names them).
OFFICIAL_OPERATIONS = [
    ("GET", "/v2/courses"),
    ("POST", "/v2/courses"),
    ("GET", "/v2/courses/{id}"),
    ("PUT", "/v2/courses/{id}"),
    ("GET", "/v2/courses/{id}/analytics"),
    ("GET", "/v2/courses/{id}/units/{uid}/analytics"),
    ("GET", "/v2/bundles"),
    ("GET", "/v2/bundles/{id}"),
    ("GET", "/v2/subscription-plans"),
    ("GET", "/v2/subscription-plans/{id}"),
    ("GET", "/v2/user-subscriptions"),
    ("GET", "/v2/installments/active"),
    ("GET", "/v2/school/events"),
    ("GET", "/v2/users"),
    ("POST", "/v2/users"),
    ("PUT", "/v2/users/{id}"),
    ("GET", "/v2/users/{id}"),
    ("GET", "/v2/users/{id}/courses"),
    ("GET", "/v2/courses/{id}/users"),
    ("POST", "/v2/courses/{id}/sections"),
    ("GET", "/v2/payments"),
    ("GET", "/v2/payments/{id}"),
    ("GET", "/v2/courses/{id}/contents"),
    ("GET", "/v2/leads"),
    ("GET", "/v2/users/{id}/products"),
    ("PUT", "/v2/users/{id}/tags"),
    ("GET", "/v2/promotions/{pid}/coupons"),
    ("POST", "/v2/promotions/{pid}/coupons"),
    ("GET", "/v2/promotions/{pid}/coupons/{cid}/usage"),
    ("POST", "/v2/users/{id}/enrollment"),
    ("DELETE", "/v2/users/{id}/enrollment"),
    ("GET", "/v2/affiliates"),
    ("GET", "/v2/affiliates/{id}/leads"),
    ("PUT", "/v2/certificates/{id}"),
    ("DELETE", "/v2/certificates/{id}"),
    ("GET", "/v2/promotions"),
    ("POST", "/v2/promotions"),
    ("GET", "/v2/affiliates/{id}/customers"),
    ("GET", "/v2/affiliates/{id}/payments"),
    ("GET", "/v2/payments/{id}/invoice-link"),
    ("GET", "/v2/users/{id}/courses/{cid}/progress"),
    ("GET", "/v2/users/segments"),
    ("PUT", "/v2/users/{id}/suspend"),
    ("PUT", "/v2/users/{id}/unsuspend"),
    ("GET", "/v2/certificates"),
    ("GET", "/v2/promotions/{id}"),
    ("GET", "/v2/users/by-segment"),
    ("GET", "/v2/users/by-product"),
    ("GET", "/v2/affiliates/{id}/payouts/upcoming"),
    ("GET", "/v2/affiliates/{id}/payouts/due"),
    ("GET", "/v2/affiliates/{id}/payouts/completed"),
    ("POST", "/v2/promotions/{id}/coupons-bulk"),
    ("GET", "/v2/event-logs"),
    ("POST", "/v2/affiliates/{id}"),
    ("GET", "/v2/users/{id}/progress"),
    ("GET", "/v2/courses/{id}/grades"),
    ("GET", "/v2/assessments/{id}/responses"),
    ("GET", "/v2/forms/{id}/responses"),
    ("POST", "/v2/users/{id}/courses/{cid}/complete"),
    ("POST", "/v2/users/{id}/courses/{cid}/reset"),
    ("GET", "/v2/async-actions/{id}"),
    ("GET", "/v2/seats"),
    ("POST", "/v2/seats"),
    ("GET", "/v2/seats/{id}"),
    ("PUT", "/v2/seats/{id}"),
    ("DELETE", "/v2/seats/{id}"),
    ("GET", "/v2/seats/{id}/users"),
    ("POST", "/v2/seats/{id}/users/{uid}"),
    ("DELETE", "/v2/seats/{id}/users/{uid}"),
    ("GET", "/v2/users/{id}/seats"),
    ("GET", "/v2/user_groups"),
    ("POST", "/v2/user_groups"),
    ("GET", "/v2/user_groups/{id}"),
    ("PUT", "/v2/user_groups/{id}"),
    ("DELETE", "/v2/user_groups/{id}"),
    ("GET", "/v2/user_groups/{id}/users"),
    ("POST", "/v2/user_groups/{id}/users/{uid}"),
    ("DELETE", "/v2/user_groups/{id}/users/{uid}"),
    ("GET", "/v2/users/{id}/user-groups"),
    ("GET", "/v2/user-roles"),
    ("GET", "/v2/users/{id}/user-role"),
    ("PUT", "/v2/users/{id}/user-role"),
    ("GET", "/v2/community/collections"),
    ("GET", "/v2/community/spaces"),
    ("POST", "/v2/community/spaces"),
    ("GET", "/v2/community/spaces/{id}"),
    ("PUT", "/v2/community/spaces/{id}"),
    ("DELETE", "/v2/community/spaces/{id}"),
    ("GET", "/v2/community/spaces/{id}/users"),
    ("POST", "/v2/community/spaces/{id}/users"),
    ("DELETE", "/v2/community/spaces/{id}/users/{uid}"),
    ("GET", "/v2/community/posts"),
    ("GET", "/v2/community/posts/{id}"),
    ("POST", "/v2/assessments/scores/{id}/review"),
]


def shape(path: str) -> str:
    """A path with its placeholder names erased, since ours are more descriptive than the export's."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_list_holds_94_distinct_operations():
    assert len(OFFICIAL_OPERATIONS) == 94 == len(set(OFFICIAL_OPERATIONS))


def test_each_official_operation_maps_to_exactly_one_tool(operations):
    ours = Counter((op.method, shape(op.path)) for op in operations)
    official = Counter((method, shape(path)) for method, path in OFFICIAL_OPERATIONS)
    assert ours == official, {"missing": official - ours, "extra": ours - official}
    assert len(operations) == 94


def test_every_area_and_resource_tag_is_present(operations):
    tags = {t for op in operations for t in op.tags}
    assert {"directory", "learning", "commerce", "community", "reporting"} <= tags
    assert {"users", "roles", "groups", "payments", "certificates", "async_actions"} <= tags
    for op in operations:
        assert sum(t in ("directory", "learning", "commerce", "community", "reporting") for t in op.tags) == 1, op.name


def test_the_traps_are_in_the_descriptions(operations):
    by_path = {(op.method, op.path): op.description.lower() for op in operations}
    assert "course_id" in by_path[("GET", "/v2/certificates")] or "user_id" in by_path[("GET", "/v2/certificates")]
    assert "price" in by_path[("POST", "/v2/users/{id}/enrollment")]
    assert "async" in by_path[("DELETE", "/v2/user_groups/{id}")] or "job" in by_path[("DELETE", "/v2/user_groups/{id}")]
    assert "job" in by_path[("DELETE", "/v2/seats/{id}")]
    assert "clear" in by_path[("PUT", "/v2/users/{id}/user-role")]
    user_id = next(op for op in operations if op.name == "get_single_learn_worlds_user_by_id")
    assert "email" in user_id.input_schema["properties"]["id"]["description"].lower()


def test_names_fit_a_host_prefix(operations):
    too_long = [op.name for op in operations if len(op.name) > 46]
    assert too_long == [], "README lists names over 46 characters; update it if this changes"
