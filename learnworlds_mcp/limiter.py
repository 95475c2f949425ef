"""The sliding window behind every rate limit here: the school's (in the sandbox) and the client's own.

LearnWorlds allows 30 requests per 10 s per school and sends no rate-limit headers, so the client
keeps its own log of sends: a request waits until sending it keeps the last window within the
budget. The same log yields the `ratelimit-*` facts handed to the model. `RateLimiter` is that
budget for one process; `budget.SharedBudget` keeps the same log in a file shared by processes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Callable

sleep = asyncio.sleep  # module-level so tests can swap in virtual time


class SlidingWindow:
    """At most `limit` events in any `window` seconds of `clock`; events kept in time order."""

    def __init__(self, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.monotonic):
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        self.limit, self.window, self.clock = limit, window, clock
        self.events: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self.events and self.events[0] <= now - self.window:
            self.events.popleft()

    def admit(self) -> float | None:
        """Record one event and return its time, or None when the window is full (nothing recorded)."""
        now = self.clock()
        self._trim(now)
        if len(self.events) >= self.limit:
            return None
        self.events.append(now)
        return now

    def settle(self, stamp: float) -> None:
        """Move an event to now: the school saw the request at some point before its answer arrived."""
        events = self.events
        for index in range(len(events) - 1, -1, -1):  # from the newest: the stamp is a recent send
            if events[index] == stamp:
                del events[index]
                break
        else:
            return  # already out of the window
        events.append(self.clock())  # every stamp is <= now, so the log stays in order

    def fill(self) -> None:
        """Treat the whole window as used from now, for a full window (after a 429).

        The school counts other clients' requests too, which this log never saw: after its refusal,
        the only wait known to be enough is a whole window.
        """
        now = self.clock()
        self._trim(now)
        self.events.extend([now] * self.limit)

    def wait(self) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        now = self.clock()
        self._trim(now)
        if len(self.events) < self.limit:
            return 0.0
        return max(0.0, self.events[len(self.events) - self.limit] + self.window - now)

    def facts(self) -> dict[str, int]:
        """The IETF-draft `ratelimit-*` facts: limit, remaining, and whole seconds until a slot frees."""
        wait = self.wait()
        remaining = self.limit - len(self.events)
        return {"ratelimit-limit": self.limit, "ratelimit-remaining": max(remaining, 0),
                "ratelimit-reset": math.ceil(wait)}


class RateLimiter:
    """The client's budget within one process: waiters are served in arrival order."""

    def __init__(self, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.log = SlidingWindow(limit, window, clock)
        self.limit, self.window = limit, window
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait until one more request fits the window, count it, and return its ticket for `settle`."""
        async with self._lock:
            while True:
                stamp = self.log.admit()
                if stamp is not None:
                    return stamp
                await sleep(self.log.wait())

    def settle(self, ticket: float) -> None:
        """The answer (or failure) arrived: count the request from now, when the school has surely seen it."""
        self.log.settle(ticket)

    def penalize(self) -> None:
        """After a 429 from the school, treat the whole window as used (other clients share the budget)."""
        self.log.fill()

    def headers(self) -> dict[str, int]:
        return self.log.facts()

    def seconds_until_free(self) -> float:
        return self.log.wait()
