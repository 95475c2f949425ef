"""The school-wide rate limit: a sliding window of accepted requests."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

LIMIT = 30
WINDOW_SECONDS = 10.0


class SlidingWindow:
    """Admit at most `limit` requests in any `window` seconds of `clock`."""

    def __init__(
        self,
        clock: Callable[[], float],
        limit: int = LIMIT,
        window: float = WINDOW_SECONDS,
        enabled: bool = True,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.enabled = enabled
        self._accepted: deque[float] = deque()

    def admit(self) -> bool:
        """Record and admit a request, or refuse it when the window is full."""
        if not self.enabled:
            return True
        now = self.clock()
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()
        # Refused requests are not recorded: a client that backs off is not punished twice.
        if len(self._accepted) >= self.limit:
            return False
        self._accepted.append(now)
        return True
