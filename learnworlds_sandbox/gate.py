"""The gate every API request passes: counting, rate limit, injected faults, then credentials."""

from __future__ import annotations

import json

from learnworlds_mcp.limiter import SlidingWindow

from .faults import API_ROOT, serve_fault
from .school import School
from .tokens import SANDBOX_CLIENT_ID

V2_ROOT = API_ROOT + "/v2"


def _header(scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _json(send, status: int, body: dict) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})


class Gate:
    """ASGI middleware in front of the routes; /__sandbox paths go straight through."""

    def __init__(self, app, school: School, limiter: SlidingWindow | None) -> None:
        self.app = app
        self.school = school
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_ROOT + "/"):
            await self.app(scope, receive, send)
            return
        school = self.school
        school.count(path)
        school.settle_jobs()
        if self.limiter is not None and self.limiter.admit() is None:
            school.stats["rate_limited"] += 1
            # The real API sends no Retry-After and no rate-limit headers; neither do we.
            await _json(send, 429, {"error": "Too many requests"})
            return
        if not path.startswith(V2_ROOT + "/"):
            await self.app(scope, receive, send)
            return
        # Faults come before the credential check: they stand for a failing proxy or server,
        # which answers whatever the headers say.
        fault = school.faults.take(path)
        if fault is not None:
            school.stats["faulted"] += 1
            await serve_fault(fault, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            school.stats["unauthorized"] += 1
            await _json(send, 401, refusal)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope) -> dict | None:
        """The 401 body for a request without valid credentials, or None when they are fine."""
        if _header(scope, b"lw-client") != SANDBOX_CLIENT_ID:
            return {"errors": [{"code": 401, "context": "Lw-Client",
                                "message": "The Lw-Client header is missing or unknown."}],
                    "success": False}
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        if scheme.lower() != "bearer" or not self.school.tokens.accepts(token.strip()):
            return {"statusCode": 401, "error": "Not Authorized"}
        return None
