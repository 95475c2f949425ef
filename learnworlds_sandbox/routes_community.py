"""Routes for the community: collections, spaces and their members, posts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .lookup import record, school_of, user_named
from .render import space_member
from .replies import body_of, invalid, not_found, page, require, unpaged

SPACE_ACCESS = ("public", "private", "standalone")
SORTINGS = ("newest", "oldest", "newest_activity")
SWITCHES = ("hidden_from_community", "is_invitation_required", "is_members_allowed_to_view_members",
            "is_members_allowed_to_post", "is_members_allowed_to_poll",
            "is_members_allowed_to_comment", "is_members_allowed_to_upvote",
            "is_members_allowed_to_like", "is_members_allowed_to_share",
            "is_members_allowed_to_sort_posts", "is_members_allowed_to_upload_files",
            "is_members_allowed_to_upload_images", "is_members_allowed_to_upload_videos",
            "is_members_allowed_to_mention_members")


async def list_collections(request: Request) -> JSONResponse:
    """GET /v2/community/collections, unpaged."""
    return unpaged(list(school_of(request).collections.values()))


def _space_fields(request: Request, body: dict, space: dict) -> None:
    school = school_of(request)
    if "access" in body and body["access"] not in SPACE_ACCESS:
        raise invalid({"access": f"The access must be one of {', '.join(SPACE_ACCESS)}."})
    if "default_post_sorting" in body and body["default_post_sorting"] not in SORTINGS:
        raise invalid({"default_post_sorting": f"Use one of {', '.join(SORTINGS)}."})
    collection = body.get("collectionId")
    if collection and collection not in school.collections:
        raise invalid({"collectionId": "The collection does not exist."})
    for key in ("title", "description", "access", "default_post_sorting", *SWITCHES):
        if key in body:
            space[key] = body[key]
    if collection and collection != space.get("collectionId"):
        old = school.collections.get(space.get("collectionId") or "")
        if old and space["id"] in old["space_ids"]:
            old["space_ids"].remove(space["id"])
        school.collections[collection]["space_ids"].append(space["id"])
        space["collectionId"] = collection


async def list_spaces(request: Request) -> JSONResponse:
    """GET /v2/community/spaces, filtered by access, collection and usages."""
    school = school_of(request)
    query = request.query_params
    access, collection = query.get("access"), query.get("collectionId")
    usages = set(query.getlist("usages"))
    rows = [s for s in school.spaces.values()
            if (not access or s["access"] == access)
            and (not collection or s["collectionId"] == collection)
            and (not usages or usages.intersection(u["type"] for u in s["usages"]))]
    return page(request, rows)


async def create_space(request: Request) -> JSONResponse:
    """POST /v2/community/spaces."""
    school = school_of(request)
    body = await body_of(request)
    require(body, "title", "access")
    owner = next(iter(school.users.values()))
    space = {"id": school.new_id(), "title": "", "description": "", "access": "public",
             "owner": {"id": owner["id"], "username": owner["username"]}, "usages": [],
             **{key: key != "hidden_from_community" and key != "is_invitation_required"
                for key in SWITCHES},
             "collectionId": None, "default_post_sorting": "newest_activity"}
    _space_fields(request, body, space)
    school.spaces[space["id"]] = space
    school.space_members[space["id"]] = {owner["id"]: "joined"}
    return JSONResponse(space, status_code=201)


async def get_space(request: Request) -> JSONResponse:
    """GET /v2/community/spaces/{id}."""
    return JSONResponse(record(school_of(request).spaces, request.path_params["id"], "Space"))


async def update_space(request: Request) -> JSONResponse:
    """PUT /v2/community/spaces/{id}."""
    space = record(school_of(request).spaces, request.path_params["id"], "Space")
    _space_fields(request, await body_of(request), space)
    return JSONResponse(space)


async def delete_space(request: Request) -> Response:
    """DELETE /v2/community/spaces/{id}."""
    school = school_of(request)
    sid = request.path_params["id"]
    space = record(school.spaces, sid, "Space")
    collection = school.collections.get(space.get("collectionId") or "")
    if collection and sid in collection["space_ids"]:
        collection["space_ids"].remove(sid)
    del school.spaces[sid]
    school.space_members.pop(sid, None)
    return Response(status_code=204)


async def space_users(request: Request) -> JSONResponse:
    """GET /v2/community/spaces/{id}/users."""
    school = school_of(request)
    sid = record(school.spaces, request.path_params["id"], "Space")["id"]
    rows = [space_member(school, uid, status) for uid, status in school.space_members[sid].items()]
    return page(request, rows)


async def add_space_users(request: Request) -> JSONResponse:
    """POST /v2/community/spaces/{id}/users: add, or invite where invitations are required."""
    school = school_of(request)
    space = record(school.spaces, request.path_params["id"], "Space")
    body = await body_of(request)
    require(body, "uids")
    if not isinstance(body["uids"], list):
        raise invalid({"uids": "The uids must be a list of user ids or emails."})
    found = [school.find_user(str(key)) for key in body["uids"]]
    if any(user is None for user in found):
        raise invalid({"uids": "Every entry must be the id or email of an existing user."})
    invite = bool(space["is_invitation_required"])
    members = school.space_members[space["id"]]
    added = []
    for user in found:
        members.setdefault(user["id"], "invited" if invite else "joined")
        added.append({"id": user["id"], "username": user["username"],
                      "status": "invited" if invite else "normal"})
    return JSONResponse({"data": {"invitation": invite, "users": added}})


async def remove_space_user(request: Request) -> Response:
    """DELETE /v2/community/spaces/{id}/users/{uid}."""
    school = school_of(request)
    space = record(school.spaces, request.path_params["id"], "Space")
    user = user_named(request, request.path_params["uid"])
    if school.space_members[space["id"]].pop(user["id"], None) is None:
        raise not_found("The user is not a member of this space")
    # The API answers this delete with 200 and an empty body.
    return Response(status_code=200)


async def list_posts(request: Request) -> JSONResponse:
    """GET /v2/community/posts, newest first, filtered by author, place and mention."""
    school = school_of(request)
    query = request.query_params
    uid = user_named(request, query["user_id"])["id"] if query.get("user_id") else None
    space, course = query.get("space_id"), query.get("course_id")
    mention = query.get("mentions")
    rows = [p for p in reversed(school.posts.values())
            if (not uid or p["user"]["id"] == uid)
            and (not space or p["posted_in"] == {"type": "space", "id": space})
            and (not course or p["posted_in"] == {"type": "course", "id": course})
            and (not mention or any(m["id"] == mention for m in p["mentions"]))]
    return page(request, rows)


async def get_post(request: Request) -> JSONResponse:
    """GET /v2/community/posts/{id}."""
    return JSONResponse(record(school_of(request).posts, request.path_params["id"], "Post"))


ROUTES = [
    Route("/community/collections", list_collections, methods=["GET"]),
    Route("/community/spaces", list_spaces, methods=["GET"]),
    Route("/community/spaces", create_space, methods=["POST"]),
    Route("/community/spaces/{id}", get_space, methods=["GET"]),
    Route("/community/spaces/{id}", update_space, methods=["PUT"]),
    Route("/community/spaces/{id}", delete_space, methods=["DELETE"]),
    Route("/community/spaces/{id}/users", space_users, methods=["GET"]),
    Route("/community/spaces/{id}/users", add_space_users, methods=["POST"]),
    Route("/community/spaces/{id}/users/{uid}", remove_space_user, methods=["DELETE"]),
    Route("/community/posts", list_posts, methods=["GET"]),
    Route("/community/posts/{id}", get_post, methods=["GET"]),
]
