"""Routes for user groups, seat offerings and the asynchronous actions their deletes start."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .lookup import record, school_of, user_named
from .render import group_view, seat_view
from .replies import bad_request, body_of, invalid, not_found, page, require, unpaged
from .school import School


def _courses(school: School, body: dict) -> list[str]:
    products = body.get("products")
    courses = products.get("courses") if isinstance(products, dict) else None
    if not isinstance(courses, list) or any(cid not in school.courses for cid in courses):
        raise invalid({"products": "products.courses must list ids of existing courses."})
    return list(courses)


def _managers(school: School, body: dict, key: str) -> list[str]:
    people = body.get(key) or []
    found = [school.find_user(str(p)) for p in people] if isinstance(people, list) else [None]
    if any(user is None for user in found):
        raise invalid({key: "Every manager must be the id of an existing user."})
    return list(dict.fromkeys(user["id"] for user in found))


def _accepted(job_id: str) -> JSONResponse:
    return JSONResponse({"async": True, "job_id": job_id}, status_code=202)


# -- user groups ---------------------------------------------------------------------------


def _group_fields(school: School, body: dict, group: dict) -> None:
    require(body, "title", "products")
    group["title"] = str(body["title"])
    group["products"] = {"courses": _courses(school, body)}
    for key in ("description", "enroll_users_on_courses", "max_number_of_users", "tags"):
        if key in body:
            group[key] = body[key]
    if "group_managers" in body:
        group["group_managers"] = _managers(school, body, "group_managers")
    group["modified"] = school.stamp()


async def list_groups(request: Request) -> JSONResponse:
    """GET /v2/user_groups, 20 a page."""
    school = school_of(request)
    return page(request, [group_view(school, g) for g in school.groups.values()])


async def create_group(request: Request) -> JSONResponse:
    """POST /v2/user_groups."""
    school = school_of(request)
    body = await body_of(request)
    at = school.stamp()
    group = {"id": school.new_id(at), "title": "", "description": "", "products": {"courses": []},
             "max_number_of_users": None, "enroll_users_on_courses": False, "group_managers": [],
             "tags": [], "created": at, "modified": at}
    _group_fields(school, body, group)
    school.groups[group["id"]] = group
    school.group_members[group["id"]] = []
    return JSONResponse(group_view(school, group), status_code=201)


async def get_group(request: Request) -> JSONResponse:
    """GET /v2/user_groups/{id}."""
    school = school_of(request)
    return JSONResponse(group_view(school, record(school.groups, request.path_params["id"], "User group")))


async def update_group(request: Request) -> JSONResponse:
    """PUT /v2/user_groups/{id}; group_managers, when sent, replace the managers."""
    school = school_of(request)
    group = record(school.groups, request.path_params["id"], "User group")
    _group_fields(school, await body_of(request), group)
    return JSONResponse(group_view(school, group))


async def delete_group(request: Request) -> JSONResponse:
    """DELETE /v2/user_groups/{id}: 202 and a job; the group goes when the job completes."""
    school = school_of(request)
    gid = request.path_params["id"]
    group = record(school.groups, gid, "User group")

    def remove() -> None:
        school.groups.pop(gid, None)
        school.group_members.pop(gid, None)

    results = {"id": gid, "title": group["title"], "removedUsers": len(school.group_members[gid])}
    return _accepted(school.start_job("delete-user-group", results, remove))


async def group_users(request: Request) -> JSONResponse:
    """GET /v2/user_groups/{id}/users."""
    school = school_of(request)
    gid = request.path_params["id"]
    record(school.groups, gid, "User group")
    members = school.group_members[gid]
    if not members:
        # The API reports an empty group as a missing resource.
        return JSONResponse({"error": "Users not found"}, status_code=404)
    return page(request, [school.users[uid] for uid in members])


async def add_group_user(request: Request) -> JSONResponse:
    """POST /v2/user_groups/{id}/users/{uid}."""
    school = school_of(request)
    group = record(school.groups, request.path_params["id"], "User group")
    user = user_named(request, request.path_params["uid"])
    members = school.group_members[group["id"]]
    if user["id"] not in members:
        limit = group.get("max_number_of_users")
        if limit and len(members) >= limit:
            raise bad_request("max_number_of_users", "The user group is full.")
        members.append(user["id"])
        if group["enroll_users_on_courses"]:
            at = school.stamp()
            for cid in group["products"]["courses"]:
                school.enroll(user["id"], cid, at)
    return JSONResponse({"success": True})


async def remove_group_user(request: Request) -> Response:
    """DELETE /v2/user_groups/{id}/users/{uid}."""
    school = school_of(request)
    group = record(school.groups, request.path_params["id"], "User group")
    user = user_named(request, request.path_params["uid"])
    members = school.group_members[group["id"]]
    if user["id"] not in members:
        raise not_found("The user is not a member of this group")
    members.remove(user["id"])
    return Response(status_code=204)


async def groups_of_user(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/user-groups, shaped {data: {user_groups: [...]}}."""
    school = school_of(request)
    uid = user_named(request)["id"]
    rows = [{"id": gid, "title": g["title"]} for gid, g in school.groups.items()
            if uid in school.group_members[gid]]
    return JSONResponse({"data": {"user_groups": rows}})


# -- seat offerings --------------------------------------------------------------------------


def _seat_fields(school: School, body: dict, seat: dict) -> None:
    require(body, "title", "products", "number_of_seats")
    if not isinstance(body["number_of_seats"], int) or body["number_of_seats"] < 1:
        raise invalid({"number_of_seats": "The number_of_seats must be a positive integer."})
    if body.get("access", "active") not in ("active", "inactive"):
        raise invalid({"access": "The access must be active or inactive."})
    seat["title"] = str(body["title"])
    seat["products"] = {"courses": _courses(school, body)}
    for key in ("description", "number_of_seats", "max_number_of_users", "tags", "access"):
        if key in body:
            seat[key] = body[key]
    if "seat_managers" in body:
        seat["seat_managers"] = _managers(school, body, "seat_managers")
    seat["modified"] = school.stamp()


async def list_seats(request: Request) -> JSONResponse:
    """GET /v2/seats, 20 a page."""
    school = school_of(request)
    return page(request, [seat_view(school, s) for s in school.seats.values()])


async def create_seat(request: Request) -> JSONResponse:
    """POST /v2/seats."""
    school = school_of(request)
    body = await body_of(request)
    at = school.stamp()
    seat = {"id": school.new_id(at), "title": "", "description": "", "products": {"courses": []},
            "number_of_seats": 0, "max_number_of_users": None, "seat_managers": [], "tags": [],
            "access": "active", "created": at, "modified": at}
    _seat_fields(school, body, seat)
    school.seats[seat["id"]] = seat
    school.seat_members[seat["id"]] = {}
    return JSONResponse(seat_view(school, seat), status_code=201)


async def get_seat(request: Request) -> JSONResponse:
    """GET /v2/seats/{id}."""
    school = school_of(request)
    return JSONResponse(seat_view(school, record(school.seats, request.path_params["id"], "Seat offering")))


async def update_seat(request: Request) -> JSONResponse:
    """PUT /v2/seats/{id}."""
    school = school_of(request)
    seat = record(school.seats, request.path_params["id"], "Seat offering")
    _seat_fields(school, await body_of(request), seat)
    return JSONResponse(seat_view(school, seat))


async def delete_seat(request: Request) -> JSONResponse:
    """DELETE /v2/seats/{id}: 202 and a job, like group deletion."""
    school = school_of(request)
    sid = request.path_params["id"]
    seat = record(school.seats, sid, "Seat offering")

    def remove() -> None:
        school.seats.pop(sid, None)
        school.seat_members.pop(sid, None)

    return _accepted(school.start_job("delete-seat-offering", {"id": sid, "title": seat["title"]}, remove))


async def seat_users(request: Request) -> JSONResponse:
    """GET /v2/seats/{id}/users."""
    school = school_of(request)
    sid = request.path_params["id"]
    record(school.seats, sid, "Seat offering")
    return page(request, [school.users[uid] for uid in school.seat_members[sid]])


async def add_seat_user(request: Request) -> JSONResponse:
    """POST /v2/seats/{id}/users/{uid}; add_to_active_seat=false only reserves a place."""
    school = school_of(request)
    seat = record(school.seats, request.path_params["id"], "Seat offering")
    user = user_named(request, request.path_params["uid"])
    body = await body_of(request)
    members = school.seat_members[seat["id"]]
    active = body.get("add_to_active_seat", True) is not False
    if active and seat_view(school, seat)["available_seats"] < 1:
        raise bad_request("add_to_active_seat", "There is no free seat in this offering.")
    entry = members.setdefault(user["id"], {"active": False, "got_seat_on": school.stamp()})
    if active and not entry["active"]:
        entry["active"] = True
        for cid in seat["products"]["courses"]:
            school.enroll(user["id"], cid, entry["got_seat_on"])
    return JSONResponse({"success": True})


async def remove_seat_user(request: Request) -> Response:
    """DELETE /v2/seats/{id}/users/{uid}; remove_from_seat_offering=true removes entirely."""
    school = school_of(request)
    seat = record(school.seats, request.path_params["id"], "Seat offering")
    user = user_named(request, request.path_params["uid"])
    body = await body_of(request)
    members = school.seat_members[seat["id"]]
    if user["id"] not in members:
        raise not_found("The user has no seat in this offering")
    if body.get("remove_from_seat_offering"):
        del members[user["id"]]
    else:
        members[user["id"]]["active"] = False
    return Response(status_code=204)


async def seats_of_user(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/seats, unpaged."""
    school = school_of(request)
    uid = user_named(request)["id"]
    rows = [{"id": sid, "title": school.seats[sid]["title"], **entry[uid]}
            for sid, entry in school.seat_members.items() if uid in entry]
    return unpaged(rows)


async def async_action(request: Request) -> JSONResponse:
    """GET /v2/async-actions/{id}."""
    job = school_of(request).poll_job(request.path_params["id"])
    if job is None:
        raise not_found("Async action not found")
    return JSONResponse(job)


ROUTES = [
    Route("/user_groups", list_groups, methods=["GET"]),
    Route("/user_groups", create_group, methods=["POST"]),
    Route("/user_groups/{id}", get_group, methods=["GET"]),
    Route("/user_groups/{id}", update_group, methods=["PUT"]),
    Route("/user_groups/{id}", delete_group, methods=["DELETE"]),
    Route("/user_groups/{id}/users", group_users, methods=["GET"]),
    Route("/user_groups/{id}/users/{uid}", add_group_user, methods=["POST"]),
    Route("/user_groups/{id}/users/{uid}", remove_group_user, methods=["DELETE"]),
    Route("/users/{id}/user-groups", groups_of_user, methods=["GET"]),
    Route("/seats", list_seats, methods=["GET"]),
    Route("/seats", create_seat, methods=["POST"]),
    Route("/seats/{id}", get_seat, methods=["GET"]),
    Route("/seats/{id}", update_seat, methods=["PUT"]),
    Route("/seats/{id}", delete_seat, methods=["DELETE"]),
    Route("/seats/{id}/users", seat_users, methods=["GET"]),
    Route("/seats/{id}/users/{uid}", add_seat_user, methods=["POST"]),
    Route("/seats/{id}/users/{uid}", remove_seat_user, methods=["DELETE"]),
    Route("/users/{id}/seats", seats_of_user, methods=["GET"]),
    Route("/async-actions/{id}", async_action, methods=["GET"]),
]
