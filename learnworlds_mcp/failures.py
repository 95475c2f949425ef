"""What a failed request means: transport failures and HTTP answers mapped to ApiError, each in one table.

Each failure also says whether the request may have reached the school (`answer_lost`): a write
whose answer was lost has an unknown outcome, and the model must check before trying again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    import httpx

# A gateway that gave up waiting (502, 504) may have passed the request on: the school may have acted.
LOST_STATUSES = frozenset({502, 504})

_HINTS = {
    400: "LearnWorlds rejected the request; check the arguments named in the message.",
    401: "The access token was refused (wrong or expired). Create a new token or run `learnworlds-mcp auth login` again.",
    403: "The API client lacks permission for this operation in the LearnWorlds admin panel.",
    404: "Nothing found under that id; list the resource first to get a valid id (user ids also accept the email).",
    422: "Fix the fields named in the message and call again.",
    429: "Rate limit reached (30 requests per 10 s per school). Wait retry_after_seconds before calling again.",
}



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



def redirect(response: httpx.Response) -> ApiError:
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


def parse(response: httpx.Response, content: bytes) -> Any:
    """The JSON answer of a 2xx, or the ApiError that a 3xx, a 4xx/5xx or a `success: false` body means."""
    status = response.status_code
    if 300 <= status < 400:
        raise redirect(response)
    if status == 204 or not content:
        if status < 400:
            return {"success": True}
        body: Any = None
    else:
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            if status < 400:  # a cut-off or garbled success: the request may well have been carried out
                raise lost(ApiError(f"LearnWorlds answered HTTP {status} with a body that is not JSON (cut off or "
                                    "garbled); try again shortly.", status=status)) from None
            body = None
    if status < 400 and not (isinstance(body, dict) and body.get("success") is False):
        return body
    message, details = error_message(body)
    if body is None:
        message = f"the answer was not JSON ({response.headers.get('content-type', 'no content type')})"
    details["status"] = status
    hint = _HINTS.get(status) or ("LearnWorlds failed on its side; try again in a minute." if status >= 500
                                  else "LearnWorlds reported a failure; check the arguments.")
    error = ApiError(f"LearnWorlds answered HTTP {status}: {message or 'no message'}. {hint}",
                     status=status, details=details)
    raise lost(error) if status in LOST_STATUSES else error


@lru_cache(maxsize=1)
def _transport_table() -> tuple[tuple[type[BaseException], bool, str, str], ...]:
    """(failure, may the school have seen the request, what happened, what to do), most specific first."""
    import httpx

    reach = "check the school URL and the network"
    return (
        (httpx.ConnectTimeout, False, "Could not connect to LearnWorlds at {api} in time", reach),
        (httpx.ConnectError, False, "Could not reach LearnWorlds at {api}", reach),
        (httpx.PoolTimeout, False, "No connection to LearnWorlds was free in time", "try again shortly"),
        (httpx.WriteTimeout, True, "Sending the request to LearnWorlds timed out", "try again shortly"),
        (httpx.WriteError, True, "The connection to LearnWorlds broke off while sending", "try again shortly"),
        (httpx.ReadTimeout, True, "LearnWorlds did not answer in time", "try again shortly"),
        (TimeoutError, True, "LearnWorlds did not finish answering within {deadline:g} s", "try again shortly"),
        (httpx.RemoteProtocolError, True, "The connection to LearnWorlds broke off mid-answer", "try again shortly"),
        (httpx.ReadError, True, "The connection to LearnWorlds broke off mid-answer", "try again shortly"),
        (httpx.TimeoutException, True, "LearnWorlds did not answer in time", "try again shortly"),
        (httpx.HTTPError, True, "The request to LearnWorlds at {api} failed", reach),
    )


def transport_failure(exc: BaseException, api_url: str, deadline: float) -> ApiError | None:
    """The ApiError for a network, protocol or deadline failure; None for anything this table does not know."""
    for kind, maybe_seen, what, advice in _transport_table():
        if isinstance(exc, kind):
            error = ApiError(f"{what.format(api=api_url, deadline=deadline)} ({type(exc).__name__}); {advice}.")
            return lost(error) if maybe_seen else error
    return None


def lost(error: ApiError) -> ApiError:
    """Mark a failure after which the request may have been carried out (its answer did not arrive whole)."""
    error.answer_lost = True
    return error


def unknown_outcome(error: ApiError, method: str) -> ApiError:
    """The error a write with a lost answer becomes: outcome unknown, check first, no blind retry."""
    if error.status is not None and error.status < 300:
        cause = f"LearnWorlds answered HTTP {error.status} with a cut-off or garbled body"
    elif error.status is not None:
        cause = f"LearnWorlds answered HTTP {error.status}"
    else:
        cause = str(error).split(";")[0].rstrip(".")
    details = {**error.details, "outcome": "unknown"}
    return ApiError(f"{cause}. The {method} request was sent, but its answer was lost, so whether it took effect "
                    "is unknown. Do not simply call again: that may create a duplicate. Check first whether the "
                    "change is there.", status=error.status, details=details, method=error.method, path=error.path)

