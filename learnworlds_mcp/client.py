"""The HTTP side: one httpx.AsyncClient per process, LearnWorlds headers, error bodies -> ApiError."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:  # httpx is imported at the first request: it costs ~80 ms of server start-up
    import httpx

from .auth import Credentials, TokenSource
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

sleep = asyncio.sleep  # module-level so tests can swap in virtual time

log = logging.getLogger("learnworlds_mcp.client")


_HINTS = {
    400: "LearnWorlds rejected the request; check the arguments named in the message.",
    401: "The access token was refused (wrong or expired). Create a new token or run `learnworlds-mcp auth login` again.",
    403: "The API client lacks permission for this operation in the LearnWorlds admin panel.",
    404: "Nothing found under that id; list the resource first to get a valid id (user ids also accept the email).",
    422: "Fix the fields named in the message and call again.",
    429: "Rate limit reached (30 requests per 10 s per school). Wait retry_after_seconds before calling again.",
}


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


def error_message(body: Any) -> tuple[str, dict[str, Any]]:
    """LearnWorlds' message and field details from any of its error body shapes."""
    if not isinstance(body, dict):
        return "", {}
    parts: list[str] = []
    details: dict[str, Any] = {}
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                context = item.get("context")
                text = item.get("message") or item.get("code") or ""
                parts.append(f"{context}: {text}" if context else str(text))
            else:
                parts.append(str(item))
    for key in ("error", "message", "detail"):
        if isinstance(body.get(key), str) and body[key] not in parts:
            parts.insert(0, body[key])
    validation = body.get("validation")  # RFC 7807-style bodies, as from mock servers and gateways
    if isinstance(validation, list):
        parts += [str(v.get("message")) for v in validation if isinstance(v, dict) and v.get("message")]
    if isinstance(errors, dict):
        details["fields"] = errors
        parts += [f"{field}: {'; '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                  for field, msgs in errors.items()]
    return ". ".join(p for p in parts if p), details


class LearnWorldsClient:
    """Sends requests to the LearnWorlds API through one shared limiter, retrying what is safe to repeat."""

    def __init__(self, credentials: Credentials, *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 limiter: RateLimiter | None = None, max_retries: int = 2):
        self.credentials = credentials
        self.tokens = TokenSource(credentials)
        self.limiter = limiter or RateLimiter(RATE_LIMIT, RATE_WINDOW_SECONDS + WINDOW_MARGIN)
        self.max_retries = max_retries
        self._timeout, self._transport = timeout, transport
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The process's one AsyncClient, made at first use: building its TLS context costs start-up time."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=10.0),
                transport=self._transport,
                headers={"Lw-Client": self.credentials.client_id, "Accept": "application/json",
                         "User-Agent": USER_AGENT},
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
        502/503/504. A create or any other POST is never sent twice.
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
        token = await self.tokens.token(self.http)
        headers = {"Authorization": f"Bearer {token}"}
        kwargs: dict[str, Any] = {"params": _query(query), "headers": headers}
        if body is not None and method != "GET":
            kwargs["json"] = body
        url = self.credentials.api_url + path
        import httpx

        await self.limiter.acquire()
        context.leaving(method, path)  # after the budget's wait: expiry, the write's intent record, the count
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(f"LearnWorlds did not answer in time ({type(exc).__name__}); try again shortly.") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ApiError(f"The connection to LearnWorlds broke off mid-answer ({type(exc).__name__}); "
                           "try again shortly.") from exc
        except httpx.HTTPError as exc:
            raise ApiError(f"Could not reach LearnWorlds at {self.credentials.api_url}"
                           f" ({type(exc).__name__}); check the school URL and the network.") from exc
        context.stats.status = response.status_code
        if response.status_code == 401:
            self.tokens.invalidate()
        return _parse(response)


def _query(query: dict[str, Any] | None) -> dict[str, Any]:
    """Query values as LearnWorlds reads them: booleans as true/false, lists as repeated keys."""
    out: dict[str, Any] = {}
    for key, value in (query or {}).items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif value is not None:
            out[key] = value
    return out


def _redirect(response: httpx.Response) -> ApiError:
    """A 3xx is never success: the request was not carried out where we sent it, and we never follow it."""
    status, location = response.status_code, response.headers.get("location", "")
    where = f"to {location}" if location else "without a Location"
    sent = str(response.request.url)
    base = ""
    if location.startswith(("https://", "http://")) and "/admin/api" in location:
        base = location[:location.index("/admin/api") + len("/admin/api")]
    fix = (f"set --api-url (or LEARNWORLDS_API_URL) to {base}, or the school URL to its address without "
           "/admin/api" if base else "set the school URL (`learnworlds-mcp auth login`) or --api-url to the "
           "school's own address, the one it answers on without redirecting")
    return ApiError(f"LearnWorlds answered HTTP {status}, a redirect {where}, for {sent.split('?')[0]}: nothing "
                    f"was done, and redirects are not followed (the token would go with them). Fix: {fix}.",
                    status=status, details={"location": location})


def _parse(response: httpx.Response) -> Any:
    status = response.status_code
    if 300 <= status < 400:
        raise _redirect(response)
    if status == 204 or not response.content:
        if status < 400:
            return {"success": True}
        body: Any = None
    else:
        try:
            body = response.json()
        except ValueError:
            if status < 400:
                raise ApiError(f"LearnWorlds answered HTTP {status} with a body that is not JSON; try again shortly.",
                               status=status) from None
            body = None
    if status < 400 and not (isinstance(body, dict) and body.get("success") is False):
        return body
    message, details = error_message(body)
    if body is None:
        message = f"the answer was not JSON ({response.headers.get('content-type', 'no content type')})"
    details["status"] = status
    hint = _HINTS.get(status) or ("LearnWorlds failed on its side; try again in a minute." if status >= 500
                                  else "LearnWorlds reported a failure; check the arguments.")
    raise ApiError(f"LearnWorlds answered HTTP {status}: {message or 'no message'}. {hint}",
                   status=status, details=details)
