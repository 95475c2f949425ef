"""The per-call context: which call a request belongs to, until when it may still leave, and what it cost.

A server (stdio, or HTTP with one grant per token) opens one CallContext per tool call; the
client reads it at the moment each request leaves, after the rate-budget wait and before each
page or retry. So the expiry holds per call, even when one client serves many grants.
"""

from __future__ import annotations

import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable

from .errors import PolicyError

clock = time.time  # module-level so tests can move time


@dataclass
class CallStats:
    """What one tool call cost: requests sent and the last HTTP status (for the audit log)."""

    requests: int = 0
    status: int | None = None


@dataclass
class CallContext:
    """One tool call as the client sees it: id, expiry (Unix seconds), cost, and a hook run before a write leaves."""

    call_id: str = field(default_factory=lambda: secrets.token_hex(8))
    expires_at: float | None = None
    # Asked as each request leaves: why the grant no longer holds (revoked), or None.
    withdrawn: Callable[[], str | None] | None = None
    stats: CallStats = field(default_factory=CallStats)
    # Called once, with (method, path), right before the call's first non-GET request leaves:
    # the audit log writes its intent record there, so a write that reaches the school is on record
    # even when the process dies before the answer arrives.
    before_write: Callable[[str, str], None] | None = None
    _write_announced: bool = field(default=False, repr=False)

    def check_expiry(self) -> None:
        """PolicyError when the call's access has expired: checked as each request leaves."""
        if self.expires_at is not None and clock() >= self.expires_at:
            from .policy import iso

            raise PolicyError(f"Access expired at {iso(self.expires_at)} while this call was waiting to send; "
                              "the request was not sent. Ask the administrator for a new grant.")

    def leaving(self, method: str, path: str) -> None:
        """The last gate before a request goes out: expiry and revocation, then the write's intent record,
        then the count."""
        self.check_expiry()
        reason = self.withdrawn() if self.withdrawn is not None else None
        if reason:
            raise PolicyError(reason)
        if method != "GET" and not self._write_announced:
            self._write_announced = True
            if self.before_write is not None:
                self.before_write(method, path)
        self.stats.requests += 1


current_call: ContextVar[CallContext | None] = ContextVar("current_call", default=None)


def open_call(**fields) -> CallContext:
    """Start a call's context in the current task (each MCP request runs in its own task) and return it."""
    context = CallContext(**fields)
    current_call.set(context)
    return context
