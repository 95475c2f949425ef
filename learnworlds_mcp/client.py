"""The only path to LearnWorlds: one httpx.AsyncClient per process, and every limit a request meets.

In the order a request meets them: the rate budget (a slot in the school's window), the call's
expiry (calls.CallContext, checked as the request leaves), then a total deadline over sending and
reading, and byte ceilings on the answer (body.read_bounded). What comes back, or fails, is mapped
to data or ApiError by failures.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:  # httpx is imported at the first request: it costs ~80 ms of server start-up
    import httpx

    from .budget import SharedBudget

from . import failures
from .auth import MASK, Credentials
from .body import ACCEPT_ENCODING, MAX_BODY_BYTES, read_bounded
from .calls import CallContext, current_call
from .errors import ApiError, ArgumentError
from .limiter import RateLimiter

RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 10.0
USER_AGENT = "learnworlds-mcp"
RETRY_STATUSES = frozenset({502, 503, 504})
# Requests reach the school a little after we send them, and not always in order; a short margin on
# our window keeps the school's own count under its limit.
WINDOW_MARGIN = 0.25
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
DEADLINE_SECONDS = 60.0  # one request, from sending to the last byte of the answer

sleep = asyncio.sleep  # module-level so tests can swap in virtual time

log = logging.getLogger("learnworlds_mcp.client")


def encode_segment(value: Any) -> str:
    """One path segment, fully encoded: '/', '%', '@' and dot segments cannot change the path."""
    text = str(value)
    if not text:
        raise ArgumentError("a path argument is empty; give the id")
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def build_path(template: str, values: dict[str, Any]) -> str:
    """Fill a path template's placeholders with encoded values."""
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", encode_segment(value))
    return path


class LearnWorldsClient:
    """Sends requests to the LearnWorlds API through one shared budget, retrying what is safe to repeat."""

    def __init__(self, credentials: Credentials, *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 limiter: RateLimiter | SharedBudget | None = None, max_retries: int = 2,
                 deadline: float = DEADLINE_SECONDS, max_body_bytes: int = MAX_BODY_BYTES):
        self.credentials = credentials
        self.limiter = limiter or RateLimiter(RATE_LIMIT, RATE_WINDOW_SECONDS + WINDOW_MARGIN)
        self.max_retries = max_retries
        self.deadline, self.max_body_bytes = deadline, max_body_bytes
        self._timeout, self._transport = timeout, transport
        self._http: httpx.AsyncClient | None = None
        self.auth = None  # the token flow, made with the AsyncClient

    @property
    def http(self) -> httpx.AsyncClient:
        """The process's one AsyncClient, made at first use: building its TLS context costs start-up time."""
        if self._http is None:
            import httpx

            from .tokens import TokenAuth
            from . import transport as transports

            transport = self._transport
            if transport is None and transports.usable():  # else httpx's own (a proxy, or a loop like uvloop)
                transport = transports.asyncio_transport()
            self.auth = TokenAuth(self.credentials, self._fetch_plain)
            self._http = transports.LearnWorldsHttp(
                timeout=httpx.Timeout(self._timeout, connect=10.0),
                transport=transport, auth=self.auth, follow_redirects=False,
                headers={"Lw-Client": self.credentials.client_id, "Accept": "application/json",
                         "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def send(self, method: str, path: str, query: dict[str, Any] | None = None,
                   body: dict[str, Any] | None = None, *, retry_safe: bool | None = None) -> Any:
        """One logical request; the parsed JSON answer, or ApiError once retries are spent.

        Only requests that are safe to repeat (`retry_safe`: GET by default, and idempotent PUT or
        DELETE) are retried: after the window on a 429, with backoff on network errors and
        502/503/504. A create or any other POST is never sent twice; when its answer is lost, the
        error says the outcome is unknown.
        """
        safe = method == "GET" if retry_safe is None else retry_safe
        context = current_call.get() or CallContext()  # a bare client (doctor, scripts): no expiry
        attempt = 0
        while True:
            try:
                return await self._send_once(method, path, query, body, context)
            except ApiError as exc:
                exc.method, exc.path = method, path
                if exc.status == 429:
                    # The school's window is full, whoever filled it: nobody here sends until it drains.
                    self.limiter.penalize()
                if attempt >= self.max_retries or not self._retryable(exc, safe):
                    if exc.status == 429:
                        exc.details["rate_limit"] = self.rate_limit_facts()
                    if exc.answer_lost and not safe:
                        raise failures.unknown_outcome(exc, method) from exc
                    raise
                delay = self._delay(exc, attempt)
                attempt += 1
                log.info("retrying %s %s in %.1f s after %s (attempt %d of %d)", method, path, delay,
                         exc.status or "a network error", attempt, self.max_retries)
                await sleep(delay)

    def rate_limit_facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = dict(self.limiter.headers())
        facts["retry_after_seconds"] = max(facts["ratelimit-reset"], 1)
        return facts

    @staticmethod
    def _retryable(exc: ApiError, safe: bool) -> bool:
        return safe and (exc.status is None or exc.status == 429 or exc.status in RETRY_STATUSES)

    def _delay(self, exc: ApiError, attempt: int) -> float:
        if exc.status == 429:
            return self.limiter.seconds_until_free() + random.uniform(0, 0.25)
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt) * random.uniform(0.5, 1.0)

    async def _send_once(self, method: str, path: str, query: dict[str, Any] | None,
                         body: dict[str, Any] | None, context: CallContext) -> Any:
        kwargs: dict[str, Any] = {"params": _query(query) or None}  # None: no second parse of the URL
        if body is not None and method != "GET":
            kwargs["json"] = body
        request = self.http.build_request(method, self.credentials.api_url + path, **kwargs)
        ticket = await self.limiter.acquire()
        try:
            context.leaving(method, path)  # after the budget's wait: expiry, the write's intent record, the count
            status, response, content = await self._fetch(request)
        finally:
            self.limiter.settle(ticket)
        context.stats.status = status
        # An upstream that echoes a credential gets it masked before anything reads the answer, so no
        # later cut (a byte cap, a field pick) can leave part of it showing.
        for secret in self.credentials.secrets:
            if secret.encode() in content:
                content = content.replace(secret.encode(), MASK.encode())
        return failures.parse(response, content)

    async def _fetch(self, request: httpx.Request, *, auth: bool = True) -> tuple[int, httpx.Response, bytes]:
        """Send and read one request under the deadline and byte ceilings; failures become ApiError."""
        import anyio

        try:
            with anyio.fail_after(self.deadline):  # asyncio.timeout would need Python 3.11
                response = await self.http.send(request, stream=True, **({} if auth else {"auth": None}))
                try:
                    content = await read_bounded(response, self.max_body_bytes)
                except ApiError as exc:
                    raise failures.lost(exc)  # an answer came, but unreadable: the school may have acted
                finally:
                    await response.aclose()
        except ApiError:
            raise
        except Exception as exc:
            error = failures.transport_failure(exc, self.credentials.api_url, self.deadline)
            if error is None:
                raise
            raise error from exc
        return response.status_code, response, content

    async def _fetch_plain(self, request: httpx.Request) -> tuple[int, bytes]:
        """For the token exchange: the same deadline and ceilings, without the token flow."""
        try:
            status, _, content = await self._fetch(request, auth=False)
        except ApiError as exc:
            exc.answer_lost = False  # the exchange failed, so the request it was for never left
            raise
        return status, content


def _query(query: dict[str, Any] | None) -> dict[str, Any]:
    """Query values as LearnWorlds reads them: booleans as true/false, lists as repeated keys."""
    out: dict[str, Any] = {}
    for key, value in (query or {}).items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif value is not None:
            out[key] = value
    return out



