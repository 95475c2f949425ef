"""Injected failures: a queue of faults and the broken answers they produce."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx

API_ROOT = "/admin/api"

FAULT_KINDS = ("500", "502_html", "timeout", "drop", "bad_json", "success_false", "429")

# Long enough to outlast any sensible client timeout; the hold also ends when the client leaves.
DEFAULT_HOLD_SECONDS = 30.0


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised mid-answer so the server closes the connection without finishing the response.

    It is an httpx.RemoteProtocolError so that an in-process client (httpx.ASGITransport),
    which sees the app's exception itself, meets the same type as one on a real socket.
    """


@dataclass
class Fault:
    """One pending failure: its kind, how many requests it still hits, and where."""

    kind: str
    count: int
    path_prefix: str | None = None
    seconds: float = DEFAULT_HOLD_SECONDS

    def matches(self, path: str) -> bool:
        """True when this fault applies to a request for `path` (a full /admin/api path)."""
        if not self.path_prefix:
            return True
        prefix = "/" + self.path_prefix.lstrip("/")
        if not prefix.startswith(API_ROOT + "/"):
            prefix = API_ROOT + prefix
        return path.startswith(prefix)

    def as_dict(self) -> dict:
        """The fault as JSON-ready data."""
        return {"kind": self.kind, "count": self.count, "path_prefix": self.path_prefix,
                "seconds": self.seconds}


class FaultQueue:
    """Pending faults, consumed first come first served by matching requests."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.served = 0

    def inject(self, kind: str, count: int = 1, path_prefix: str | None = None,
               seconds: float | None = None) -> Fault:
        """Queue a fault for the next `count` matching requests; unknown kinds raise ValueError."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if int(count) < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(kind, int(count), path_prefix or None,
                      DEFAULT_HOLD_SECONDS if seconds is None else float(seconds))
        self.pending.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """Consume one hit of the first fault matching `path`, if any."""
        for fault in self.pending:
            if fault.matches(path):
                fault.count -= 1
                if fault.count <= 0:
                    self.pending.remove(fault)
                self.served += 1
                return fault
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        self.pending.clear()


async def _send(send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _hold(receive, seconds: float) -> None:
    """Wait `seconds`, or less if the client hangs up first."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_disconnect(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def serve_fault(fault: Fault, receive, send) -> None:
    """Answer a request the broken way `fault.kind` describes."""
    kind = fault.kind
    if kind == "500":
        body = json.dumps({"statusCode": 500, "error": "Server error"}).encode()
        await _send(send, 500, body, "application/json")
    elif kind == "502_html":
        body = (b"<html><head><title>502 Bad Gateway</title></head><body>"
                b"<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"
                b"</body></html>")
        await _send(send, 502, body, "text/html")
    elif kind == "429":
        await _send(send, 429, json.dumps({"error": "Too many requests"}).encode(),
                    "application/json")
    elif kind == "bad_json":
        await _send(send, 200, b'{"data": [{"id": "5f0c', "application/json")
    elif kind == "success_false":
        body = {"success": False, "errors": [
            {"code": 500, "context": "sandbox", "message": "The action could not be completed."}]}
        await _send(send, 200, json.dumps(body).encode(), "application/json")
    elif kind == "timeout":
        await _hold(receive, fault.seconds)
        body = (b"<html><body><h1>504 Gateway Time-out</h1>"
                b"The server didn't respond in time.</body></html>")
        await _send(send, 504, body, "text/html")
    elif kind == "drop":
        # Promise a body, deliver part of it, then give up: the server must close the socket.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
        raise ConnectionDropped("sandbox fault: connection dropped")
