"""The Starlette app: LearnWorlds-shaped routes behind the gate, the token exchange, test controls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from learnworlds_mcp.limiter import SlidingWindow

from . import (routes_commerce, routes_community, routes_directory, routes_groups,
               routes_learning, routes_progress)
from .gate import Gate
from .replies import ReplyError
from .school import School
from .seed import build_school
from .tokens import SANDBOX_CLIENT_ID, TOKEN_LIFETIME


def _token_error(status: int, context: str, message: str) -> JSONResponse:
    body = {"errors": [{"code": status, "context": context, "message": message}], "success": False}
    return JSONResponse(body, status_code=status)


async def exchange_token(request: Request) -> JSONResponse:
    """Client-credentials grant: form field `data` carries the credentials as a JSON string."""
    school: School = request.app.state.school
    kind = request.headers.get("content-type", "")
    field = None
    if kind.startswith("application/x-www-form-urlencoded"):
        field = parse_qs((await request.body()).decode("utf-8", "replace")).get("data", [None])[0]
    elif kind.startswith("multipart/form-data"):
        field = (await request.form()).get("data")
    try:
        credentials = json.loads(field) if isinstance(field, str) else None
    except ValueError:
        credentials = None
    if not isinstance(credentials, dict):
        # What the real service says to a plain JSON body: true, but no help at all.
        return _token_error(400, "client_id", "Invalid object ID")
    if request.headers.get("lw-client") != SANDBOX_CLIENT_ID:
        return _token_error(401, "Lw-Client", "The Lw-Client header is missing or unknown.")
    if credentials.get("client_id") != SANDBOX_CLIENT_ID or \
            credentials.get("client_secret") not in school.tokens.secrets:
        return _token_error(401, "client_secret", "The client credentials are not valid.")
    if credentials.get("grant_type") != "client_credentials":
        return _token_error(400, "grant_type", "Only the client_credentials grant is supported.")
    return JSONResponse({"success": True, "tokenData": {
        "access_token": school.tokens.issue(), "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME}})


async def stats(request: Request) -> JSONResponse:
    """Request counters, so a test can prove what was (not) sent."""
    return JSONResponse(request.app.state.school.stats)


async def reset_stats(request: Request) -> JSONResponse:
    """Zero the request counters."""
    school: School = request.app.state.school
    school.reset_stats()
    return JSONResponse(school.stats)


async def list_faults(request: Request) -> JSONResponse:
    """The faults still waiting for a request."""
    return JSONResponse({"pending": [f.as_dict() for f in request.app.state.school.faults.pending]})


async def add_fault(request: Request) -> JSONResponse:
    """Queue a fault: kind, count, optional path_prefix and seconds (for timeout)."""
    school: School = request.app.state.school
    try:
        body = json.loads(await request.body() or b"{}")
        fault = school.inject_fault(body["kind"], int(body.get("count", 1)),
                                    body.get("path_prefix"), body.get("seconds"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return JSONResponse({"error": f"bad fault request: {exc}"}, status_code=400)
    return JSONResponse({"queued": fault.as_dict(),
                         "pending": [f.as_dict() for f in school.faults.pending]})


async def clear_faults(request: Request) -> JSONResponse:
    """Drop every pending fault."""
    request.app.state.school.faults.clear()
    return JSONResponse({"pending": []})


async def health(request: Request) -> JSONResponse:
    """Liveness probe used while the server starts."""
    school: School = request.app.state.school
    return JSONResponse({"ok": True, "seed": school.seed, "users": len(school.users)})


async def _reply_error(request: Request, exc: ReplyError):
    return exc.response


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    text = "This resource is not found" if exc.status_code == 404 else exc.detail
    return JSONResponse({"statusCode": exc.status_code, "error": text}, status_code=exc.status_code)


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"statusCode": 500, "error": "Server error"}, status_code=500)


def create_app(seed: int = 7, users: int = 2000, rate_limit: bool = True, *,
               clock: Callable[[], float] | None = None) -> Starlette:
    """A sandbox school app; `clock` (monotonic seconds) drives the rate limit, tokens and jobs."""
    clock = clock or time.monotonic
    school = build_school(seed, users, clock)
    # The school's own rule, 30 requests per 10 s, with the same window the client keeps.
    limiter = SlidingWindow(30, 10.0, clock) if rate_limit else None
    api = (routes_directory.ROUTES + routes_groups.ROUTES + routes_learning.ROUTES
           + routes_progress.ROUTES + routes_commerce.ROUTES + routes_community.ROUTES)
    app = Starlette(
        routes=[
            Route("/admin/api/oauth2/access_token", exchange_token, methods=["POST"]),
            Mount("/admin/api/v2", routes=api),
            Route("/__sandbox/health", health, methods=["GET"]),
            Route("/__sandbox/stats", stats, methods=["GET"]),
            Route("/__sandbox/stats", reset_stats, methods=["DELETE"]),
            Route("/__sandbox/faults", list_faults, methods=["GET"]),
            Route("/__sandbox/faults", add_fault, methods=["POST"]),
            Route("/__sandbox/faults", clear_faults, methods=["DELETE"]),
        ],
        middleware=[Middleware(Gate, school=school, limiter=limiter)],
        exception_handlers={ReplyError: _reply_error, HTTPException: _http_error, Exception: _crash},
    )
    app.state.school = school
    app.state.limiter = limiter
    return app
