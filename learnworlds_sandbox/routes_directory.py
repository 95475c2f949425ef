"""Routes for people: users, tags, suspension, roles and role assignments, segments, leads, logs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .lookup import default_role, record, school_of, user_named
from .render import role_assignment
from .replies import bad_request, body_of, invalid, not_found, number, page, require, split, unpaged
from .school import School

STATUSES = ("paying", "non_paying", "suspended", "never_logged_in")
ROLE_LEVELS = ("user", "admin", "instructor", "reporter", "license_reporter")
PROFILE_KEYS = ("email", "username", "subscribed_for_marketing_emails")


def _user_filter(request: Request, school: School):
    query = request.query_params
    status, level = query.get("status"), query.get("role")
    if status and status not in STATUSES:
        raise invalid({"status": f"The status must be one of {', '.join(STATUSES)}."})
    if level and level not in ROLE_LEVELS:
        raise invalid({"role": f"The role must be one of {', '.join(ROLE_LEVELS)}."})
    after, before = number(request, "registration_after"), number(request, "registration_before")
    tags = set(split(query.get("tags")))
    custom = {key: value.lower() for key, value in query.items() if key.startswith("cf_")}
    suspended_too = query.get("include_suspended") == "true" or status == "suspended"

    def keep(user: dict) -> bool:
        if user["is_suspended"] and not suspended_too:
            return False
        if after is not None and user["created"] < after:
            return False
        if before is not None and user["created"] > before:
            return False
        if level and user["role"]["level"] != level:
            return False
        if tags and not tags.intersection(user["tags"]):
            return False
        for key, value in custom.items():
            if str(user["fields"].get(key) or "").lower() != value:
                return False
        if status == "paying":
            return school.is_paying(user["id"])
        if status == "non_paying":
            return not school.is_paying(user["id"])
        if status == "suspended":
            return user["is_suspended"]
        if status == "never_logged_in":
            return user["last_login"] is None
        return True

    return keep


async def list_users(request: Request) -> JSONResponse:
    """GET /v2/users: newest first, suspended users only on request, 20 a page."""
    school = school_of(request)
    keep = _user_filter(request, school)
    # Newest sign-ups first, as the school's user list shows them.
    return page(request, [u for u in reversed(school.users.values()) if keep(u)])


def _check_email(school: School, email, current: str | None = None) -> str:
    if not isinstance(email, str) or "@" not in email or email.startswith("@"):
        raise invalid({"email": "The email must be a valid email address."})
    owner = school.emails.get(email.lower())
    if owner is not None and owner != current:
        raise bad_request("email", "A user with this email already exists.")
    return email


def _apply_profile(user: dict, body: dict) -> None:
    for key in PROFILE_KEYS:
        if key in body:
            user[key] = body[key]
    if isinstance(body.get("fields"), dict):
        user["fields"].update(body["fields"])
    if isinstance(body.get("utms"), dict):
        user["utms"].update(body["utms"])
    if isinstance(body.get("tags"), list):
        user["tags"] = [str(tag) for tag in body["tags"]]


async def create_user(request: Request) -> JSONResponse:
    """POST /v2/users."""
    school = school_of(request)
    body = await body_of(request)
    require(body, "email", "username")
    email = _check_email(school, body["email"])
    at = school.stamp()
    user = {
        "id": school.new_id(at), "email": email, "username": str(body["username"]),
        "first_name": "", "last_name": "", "subscribed_for_marketing_emails": False,
        "eu_customer": None, "is_admin": False, "is_instructor": False, "is_suspended": False,
        "is_reporter": False, "role": {}, "is_affiliate": False, "referrer_id": None,
        "created": at, "last_login": None, "signup_approval_status": "passed",
        "fields": {key: None for key in ("bio", "location", "url", "fb", "twitter", "instagram",
                                         "linkedin", "skype", "behance", "dribbble", "github",
                                         "phone", "address", "country", "birthday", "company",
                                         "company_size", "university", "graduation_year")},
        "tags": [], "utms": {f"{p}_{k}": None for p in ("fc", "lc") for k in (
            "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "landing",
            "referrer", "country")},
        "billing_info": None, "nps_score": None, "nps_comment": None,
    }
    _apply_profile(user, body)
    for key in ("first_name", "last_name"):
        if isinstance(body.get(key), str):
            user[key] = body[key]
    school.add_user(user, default_role(school, "admin" if body.get("is_admin") else "user"))
    school.assigned_courses[user["id"]] = []
    school.log(user, "register", "Signed up", "user", at)
    return JSONResponse(user, status_code=201)


async def get_user(request: Request) -> JSONResponse:
    """GET /v2/users/{id}: a suspended user is a 404 unless include_suspended=true."""
    return JSONResponse(user_named(request, hide_suspended=True))


async def update_user(request: Request) -> JSONResponse:
    """PUT /v2/users/{id}."""
    school = school_of(request)
    user = user_named(request)
    body = await body_of(request)
    if "email" in body:
        _check_email(school, body["email"], current=user["id"])
        del school.emails[user["email"].lower()]
        school.emails[body["email"].lower()] = user["id"]
    _apply_profile(user, body)
    if "is_admin" in body and bool(body["is_admin"]) != user["is_admin"]:
        school.set_role(user["id"], default_role(school, "admin" if body["is_admin"] else "user"))
    return JSONResponse(user)


async def update_tags(request: Request) -> JSONResponse:
    """PUT /v2/users/{id}/tags: attach or detach."""
    user = user_named(request)
    body = await body_of(request)
    require(body, "tags", "action")
    if body["action"] not in ("attach", "detach") or not isinstance(body["tags"], list):
        raise invalid({"action": "The action must be attach or detach and tags a list."})
    tags = [str(tag) for tag in body["tags"]]
    if body["action"] == "attach":
        user["tags"] += [tag for tag in tags if tag not in user["tags"]]
    else:
        user["tags"] = [tag for tag in user["tags"] if tag not in tags]
    return JSONResponse(user)


async def suspend(request: Request) -> JSONResponse:
    """PUT /v2/users/{id}/suspend."""
    user = user_named(request)
    user["is_suspended"] = True
    return JSONResponse(user)


async def unsuspend(request: Request) -> JSONResponse:
    """PUT /v2/users/{id}/unsuspend."""
    user = user_named(request)
    user["is_suspended"] = False
    return JSONResponse(user)


async def list_roles(request: Request) -> JSONResponse:
    """GET /v2/user-roles, unpaged, filtered by role_id and access_level."""
    roles = school_of(request).roles.values()
    role_id, levels = request.query_params.get("role_id"), split(request.query_params.get("access_level"))
    rows = [r for r in roles if (not role_id or r["id"] == role_id)
            and (not levels or r["access_level"] in levels)]
    return unpaged(sorted(rows, key=lambda role: role["title"]))


async def get_user_role(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/user-role."""
    return JSONResponse(role_assignment(school_of(request), user_named(request)["id"]))


def _ids(body: dict, key: str, table: dict, what: str) -> list[str]:
    values = body.get(key) or []
    if not isinstance(values, list) or any(v not in table for v in values):
        raise invalid({key: f"Every entry must be the id of an existing {what}."})
    return list(dict.fromkeys(values))


async def put_user_role(request: Request) -> JSONResponse:
    """PUT /v2/users/{id}/user-role: the body replaces the role and every assignment."""
    school = school_of(request)
    uid = user_named(request)["id"]
    body = await body_of(request)
    require(body, "role_id")
    record(school.roles, body["role_id"], "Role")
    courses = body.get("assigned_courses") or []
    if not isinstance(courses, list) or any(
            not isinstance(c, dict) or c.get("course_id") not in school.courses for c in courses):
        raise invalid({"assigned_courses": "Every entry needs the course_id of an existing course."})
    groups = _ids(body, "assigned_user_group_ids", school.groups, "user group")
    seats = _ids(body, "assigned_seat_offering_ids", school.seats, "seat offering")
    segment = body.get("assigned_segment_id")
    if segment and segment not in school.segments:
        raise invalid({"assigned_segment_id": "The segment does not exist."})
    # A PUT replaces the whole assignment: whatever the body leaves out is cleared.
    school.set_role(uid, body["role_id"])
    school.assigned_courses[uid] = [
        {"course_id": c["course_id"], "revenue_share_percentage": c.get("revenue_share_percentage") or 0}
        for c in courses]
    for records, key, chosen in ((school.groups, "group_managers", groups), (school.seats, "seat_managers", seats)):
        for rid, item in records.items():
            managers = item[key]
            if rid in chosen and uid not in managers:
                managers.append(uid)
            elif rid not in chosen and uid in managers:
                managers.remove(uid)
    if segment:
        school.assigned_segment[uid] = segment
    else:
        school.assigned_segment.pop(uid, None)
    school.assigned_licenses.pop(uid, None)
    return JSONResponse(role_assignment(school, uid))


async def list_segments(request: Request) -> JSONResponse:
    """GET /v2/users/segments, unpaged."""
    return unpaged(list(school_of(request).segments.values()))


async def users_by_segment(request: Request) -> JSONResponse:
    """GET /v2/users/by-segment; segment membership is worked out live."""
    school = school_of(request)
    require(dict(request.query_params), "segment_id")
    sid = request.query_params["segment_id"]
    record(school.segments, sid, "Segment")
    rule = school.segment_rules[sid]
    return page(request, [u for u in reversed(school.users.values()) if rule(school, u)])


async def users_by_product(request: Request) -> JSONResponse:
    """GET /v2/users/by-product."""
    school = school_of(request)
    query = dict(request.query_params)
    require(query, "product_id", "product_type")
    kind, pid = query["product_type"], query["product_id"]
    if kind not in ("course", "bundle", "subscription"):
        raise invalid({"product_type": "The product_type must be course, bundle or subscription."})
    if school.product(kind, pid) is None:
        raise not_found("Product not found")
    if kind == "course":
        owners = [uid for uid, courses in school.enrollments.items() if pid in courses]
    else:
        owners = [uid for uid, owned in school.products.items() if (kind, pid) in owned]
    return page(request, [school.users[uid] for uid in owners])


async def list_leads(request: Request) -> JSONResponse:
    """GET /v2/leads, newest first."""
    return page(request, list(reversed(school_of(request).leads)))


async def list_event_logs(request: Request) -> JSONResponse:
    """GET /v2/event-logs, 50 a page, newest first unless sort=asc."""
    school = school_of(request)
    query = request.query_params
    user_id = query.get("user_id")
    if user_id:
        user_id = user_named(request, user_id)["id"]
    activity = query.get("activity")
    after, before = number(request, "created_after"), number(request, "created_before")
    order = query.get("sort", "desc")
    if order not in ("asc", "desc"):
        raise invalid({"sort": "The sort must be asc or desc."})
    rows = [e for e in school.event_logs
            if (not user_id or e["user"]["id"] == user_id)
            and (not activity or e["activity"] == activity)
            and (after is None or e["created"] >= after)
            and (before is None or e["created"] <= before)]
    if order == "desc":
        rows.reverse()
    return page(request, rows)


ROUTES = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/segments", list_segments, methods=["GET"]),
    Route("/users/by-segment", users_by_segment, methods=["GET"]),
    Route("/users/by-product", users_by_product, methods=["GET"]),
    Route("/users/{id}", get_user, methods=["GET"]),
    Route("/users/{id}", update_user, methods=["PUT"]),
    Route("/users/{id}/tags", update_tags, methods=["PUT"]),
    Route("/users/{id}/suspend", suspend, methods=["PUT"]),
    Route("/users/{id}/unsuspend", unsuspend, methods=["PUT"]),
    Route("/user-roles", list_roles, methods=["GET"]),
    Route("/users/{id}/user-role", get_user_role, methods=["GET"]),
    Route("/users/{id}/user-role", put_user_role, methods=["PUT"]),
    Route("/leads", list_leads, methods=["GET"]),
    Route("/event-logs", list_event_logs, methods=["GET"]),
]
