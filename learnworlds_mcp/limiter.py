"""One client-side rate limiter per process, shared by every concurrent tool call.

LearnWorlds allows 30 requests per 10 s per school and sends no rate-limit headers, so the
server keeps its own sliding-window log: a request waits until sending it keeps the last
window within the budget. The same log yields the `ratelimit-*` facts handed to the model.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Callable


sleep = asyncio.sleep  # module-level so tests can swap in virtual time


class RateLimiter:
    """At most `limit` acquisitions in any `window` seconds; waiters are served in arrival order."""

    def __init__(self, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.monotonic):
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        self.limit, self.window, self._clock = limit, window, clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    async def acquire(self) -> None:
        """Wait until one more request fits the window, then count it."""
        async with self._lock:
            while True:
                now = self._clock()
                self._trim(now)
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                await sleep(self._sent[0] + self.window - now)

    def penalize(self) -> None:
        """After a 429 from the school, treat the whole window as used (other clients share the budget)."""
        now = self._clock()
        self._trim(now)
        self._sent.extend([now] * (self.limit - len(self._sent)))

    def headers(self) -> dict[str, int]:
        """The IETF-draft `ratelimit-*` facts, computed from the log (LearnWorlds sends none)."""
        now = self._clock()
        self._trim(now)
        remaining = self.limit - len(self._sent)
        reset = 0 if remaining > 0 or not self._sent else math.ceil(self._sent[0] + self.window - now)
        return {"ratelimit-limit": self.limit, "ratelimit-remaining": remaining, "ratelimit-reset": reset}

    def seconds_until_free(self) -> float:
        now = self._clock()
        self._trim(now)
        if len(self._sent) < self.limit:
            return 0.0
        return max(0.0, self._sent[0] + self.window - now)
