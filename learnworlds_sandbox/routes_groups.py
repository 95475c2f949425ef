"""Routes for user groups, seat offerings and the asynchronous actions their deletes start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _copy(school: School, body: dict, item: dict, optional: tuple[str, ...], managers: str) -> None:
    """Copy a checked create/update body into a group or seat offering."""
    item["title"] = str(body["title"])
    item["products"] = {"courses": _courses(school, body)}
    for key in optional:
        if key in body:
            item[key] = body[key]
    if managers in body:
        item[managers] = _managers(school, body, managers)
    item["modified"] = school.stamp()


@dataclass(frozen=True)
class Offering:
    """What tells user groups and seat offerings apart; their list, create, get, update and delete
    handlers are the same code over these facts."""

    label: str                                    # as in "User group not found"
    records: str                                  # School attribute holding the records by id
    members: str                                  # School attribute holding each record's members
    view: Callable[[School, dict], dict]          # how a record is answered
    apply: Callable[[School, dict, dict], None]   # checks a create/update body and copies it in
    blank: Callable[[], dict]                     # a new record's fields before the body is applied
    no_members: Callable[[], list | dict]         # a new record's empty member collection
    job: str                                      # the async action its delete starts
    removed: Callable[[School, str, dict], dict]  # what the finished delete job reports

    def table(self, school: School) -> dict:
        return getattr(school, self.records)

    def handlers(self) -> dict[str, Callable]:
        """The five record handlers, keyed by what they do."""

        async def listing(request: Request) -> JSONResponse:
            school = school_of(request)
            return page(request, [self.view(school, r) for r in self.table(school).values()])

        async def create(request: Request) -> JSONResponse:
            school = school_of(request)
            body = await body_of(request)
            at = school.stamp()
            item = {"id": school.new_id(at), **self.blank(), "created": at, "modified": at}
            self.apply(school, body, item)
            self.table(school)[item["id"]] = item
            getattr(school, self.members)[item["id"]] = self.no_members()
            return JSONResponse(self.view(school, item), status_code=201)

        async def get(request: Request) -> JSONResponse:
            school = school_of(request)
            return JSONResponse(self.view(school, record(self.table(school), request.path_params["id"], self.label)))

        async def update(request: Request) -> JSONResponse:
            school = school_of(request)
            item = record(self.table(school), request.path_params["id"], self.label)
            self.apply(school, await body_of(request), item)
            return JSONResponse(self.view(school, item))

        async def delete(request: Request) -> JSONResponse:
            """202 and a job; the record goes when the job completes."""
            school = school_of(request)
            rid = request.path_params["id"]
            item = record(self.table(school), rid, self.label)
            results = self.removed(school, rid, item)

            def remove() -> None:
                self.table(school).pop(rid, None)
                getattr(school, self.members).pop(rid, None)

            return JSONResponse({"async": True, "job_id": school.start_job(self.job, results, remove)},
                                status_code=202)

        return {"list": listing, "create": create, "get": get, "update": update, "delete": delete}

    def routes(self, prefix: str) -> list[Route]:
        handlers = self.handlers()
        return [Route(prefix, handlers["list"], methods=["GET"]),
                Route(prefix, handlers["create"], methods=["POST"]),
                Route(prefix + "/{id}", handlers["get"], methods=["GET"]),
                Route(prefix + "/{id}", handlers["update"], methods=["PUT"]),
                Route(prefix + "/{id}", handlers["delete"], methods=["DELETE"])]


# -- user groups ---------------------------------------------------------------------------


def _group_fields(school: School, body: dict, group: dict) -> None:
    require(body, "title", "products")
    _copy(school, body, group, ("description", "enroll_users_on_courses", "max_number_of_users", "tags"),
          "group_managers")


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
    _copy(school, body, seat, ("description", "number_of_seats", "max_number_of_users", "tags", "access"),
          "seat_managers")


async def seat_users(request: Request) -> JSONResponse:
    """GET /v2/seats/{id}/users: a bare array, no page data (as the export documents)."""
    school = school_of(request)
    sid = request.path_params["id"]
    record(school.seats, sid, "Seat offering")
    return JSONResponse([school.users[uid] for uid in school.seat_members[sid]])


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


GROUPS = Offering(
    label="User group", records="groups", members="group_members", view=group_view, apply=_group_fields,
    blank=lambda: {"title": "", "description": "", "products": {"courses": []}, "max_number_of_users": None,
                   "enroll_users_on_courses": False, "group_managers": [], "tags": []},
    no_members=list, job="delete-user-group",
    removed=lambda school, gid, group: {"id": gid, "title": group["title"],
                                        "removedUsers": len(school.group_members[gid])})
SEATS = Offering(
    label="Seat offering", records="seats", members="seat_members", view=seat_view, apply=_seat_fields,
    blank=lambda: {"title": "", "description": "", "products": {"courses": []}, "number_of_seats": 0,
                   "max_number_of_users": None, "seat_managers": [], "tags": [], "access": "active"},
    no_members=dict, job="delete-seat-offering",
    removed=lambda school, sid, seat: {"id": sid, "title": seat["title"]})

ROUTES = [
    *GROUPS.routes("/user_groups"),
    Route("/user_groups/{id}/users", group_users, methods=["GET"]),
    Route("/user_groups/{id}/users/{uid}", add_group_user, methods=["POST"]),
    Route("/user_groups/{id}/users/{uid}", remove_group_user, methods=["DELETE"]),
    Route("/users/{id}/user-groups", groups_of_user, methods=["GET"]),
    *SEATS.routes("/seats"),
    Route("/seats/{id}/users", seat_users, methods=["GET"]),
    Route("/seats/{id}/users/{uid}", add_seat_user, methods=["POST"]),
    Route("/seats/{id}/users/{uid}", remove_seat_user, methods=["DELETE"]),
    Route("/users/{id}/seats", seats_of_user, methods=["GET"]),
    Route("/async-actions/{id}", async_action, methods=["GET"]),
]
