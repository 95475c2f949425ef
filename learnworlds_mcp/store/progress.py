"""The store's settings and the call's progress sender: what the server needs before any query runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

DEFAULT_TTL_SECONDS = 15 * 60
DEFAULT_WAIT_SECONDS = 45.0
MAX_ROWS = 1_000

Reporter = Callable[[float, float | None, str | None], Awaitable[None]]
# Set by the MCP handler for the duration of one call: the request's progress sender (a no-op
# when the client sent no progress token).
progress_reporter: ContextVar[Reporter | None] = ContextVar("progress_reporter", default=None)
