"""Finding the records a request names, or failing with the API's 404."""

from __future__ import annotations

from starlette.requests import Request

from .replies import not_found
from .school import School


def school_of(request: Request) -> School:
    """The school behind the app serving `request`."""
    return request.app.state.school


def user_named(request: Request, key: str | None = None, hide_suspended: bool = False) -> dict:
    """The user a path names by id or email; suspended users hide when asked to."""
    school = school_of(request)
    user = school.find_user(key if key is not None else request.path_params["id"])
    if user is None or (hide_suspended and user["is_suspended"]
                        and request.query_params.get("include_suspended") != "true"):
        raise not_found("User not found")
    return user


def record(table: dict, key: str, what: str) -> dict:
    """`table[key]`, or the 404 answer naming `what`."""
    found = table.get(key)
    if found is None:
        raise not_found(f"{what} not found")
    return found


def default_role(school: School, level: str) -> str:
    """The id of the built-in role with the given access level."""
    return next(rid for rid, role in school.roles.items()
                if role["access_level"] == level and not role["custom_role"])


def course_named(request: Request, key: str = "id") -> dict:
    """The course a path parameter names by its slug."""
    return record(school_of(request).courses, request.path_params[key], "Course")
