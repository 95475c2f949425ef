"""What a grant allows: an expiry time, dry-run writes, a cap on writes, calls at once; Grant = name + Selection + Policy."""

from __future__ import annotations

import re
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .errors import PolicyError
from .filters import Selection
from .registry import Operation

_TTL = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(text: str) -> float:
    """'30m', '8h', '2d' -> seconds."""
    match = _TTL.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit, such as 30m, 8h or 2d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_time(text: str) -> float:
    """An ISO 8601 time ('2026-12-01T18:00:00+01:00', '2026-12-01') -> Unix seconds; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time; write e.g. 2026-12-01T18:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def expiry_from(expires_at: str | None, ttl: str | None, now: float | None = None) -> float | None:
    """One expiry time from --expires-at or --ttl (not both); ValueError with the fix otherwise."""
    if expires_at and ttl:
        raise ValueError("give --expires-at or --ttl, not both")
    now = time.time() if now is None else now
    if ttl:
        return now + parse_ttl(ttl)
    if expires_at:
        moment = parse_time(expires_at)
        if moment <= now:
            raise ValueError(f"{expires_at} is already past; give a time in the future")
        return moment
    return None


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Policy:
    """Rules checked before any request leaves; shared by every call of one grant (a stdio run is one grant)."""

    expires_at: float | None = None
    dry_run: bool = False
    max_writes: int | None = None
    writes_done: int = field(default=0)
    max_concurrency: int | None = None
    _slots: Any = field(default=None, init=False, repr=False, compare=False)

    def admit(self, operation: Operation) -> None:
        """Raise PolicyError when the call must not reach LearnWorlds; count admitted writes."""
        self.check_expiry()
        if operation.read_only or self.dry_run:
            return
        if not self.take_write():
            raise PolicyError(self.cap_message())

    def check_expiry(self) -> None:
        if self.expires_at is not None and time.time() >= self.expires_at:
            raise PolicyError(f"Access expired at {iso(self.expires_at)}: this server no longer calls "
                              "LearnWorlds. Ask the administrator for a new grant.")

    def withdrawn(self) -> str | None:
        """Why this grant no longer holds (a revocation), or None; asked again as each request leaves."""
        return None

    def take_write(self) -> bool:
        """Count one write if the cap still allows it (no await in between, so concurrent calls cannot overshoot)."""
        if self.max_writes is not None and self.writes_done >= self.max_writes:
            return False
        self.writes_done += 1
        return True

    def cap_message(self) -> str:
        return (f"Write refused: this server allows {self.max_writes} write(s) per run and all were used. "
                "Nothing was sent; ask the administrator to restart it with a higher --max-writes if more "
                "changes are intended.")

    def slot(self) -> AbstractAsyncContextManager[Any]:
        """Held while one call runs: at most `max_concurrency` calls of this grant at once, the rest wait."""
        if self.max_concurrency is None:
            return nullcontext()
        if self._slots is None:
            import asyncio

            self._slots = asyncio.Semaphore(self.max_concurrency)
        return self._slots


@dataclass(frozen=True)
class Grant:
    """Who may do what: a name, the tools its Selection keeps, and the Policy its calls obey.

    stdio serves one implicit grant built from flags and the profile; HTTP serves one per bearer
    token, loaded from the grant store. Both go through the same server code.
    """

    name: str
    selection: Selection
    policy: Policy
