"""The shared rate limiter and the retry policy (virtual time: no test waits for real windows)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from learnworlds_mcp import limiter as limiter_module
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError
from learnworlds_mcp.limiter import RateLimiter

API = "https://school.example/admin/api"


class VirtualTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.now += max(seconds, 0)
        await asyncio.sleep(0)


@pytest.fixture
def virtual(monkeypatch):
    clock = VirtualTime()
    monkeypatch.setattr(limiter_module, "sleep", clock.sleep)
    return clock


@pytest.mark.anyio
async def test_concurrent_callers_never_exceed_the_window(virtual):
    limiter = RateLimiter(30, 10.0, clock=virtual)
    stamps = []

    async def call():
        await limiter.acquire()
        stamps.append(virtual.now)

    await asyncio.gather(*(call() for _ in range(100)))
    assert len(stamps) == 100
    for i in range(len(stamps) - 30):
        assert stamps[i + 30] - stamps[i] >= 10.0  # any 31 consecutive sends span a full window
    assert stamps[-1] - stamps[0] == pytest.approx(30.0)  # 100 requests need 3 more windows, no more


@pytest.mark.anyio
async def test_headers_report_remaining_and_reset(virtual):
    limiter = RateLimiter(3, 10.0, clock=virtual)
    for _ in range(3):
        await limiter.acquire()
    assert limiter.headers() == {"ratelimit-limit": 3, "ratelimit-remaining": 0, "ratelimit-reset": 10}
    virtual.now += 4
    assert limiter.headers()["ratelimit-reset"] == 6
    virtual.now += 6
    assert limiter.headers() == {"ratelimit-limit": 3, "ratelimit-remaining": 3, "ratelimit-reset": 0}


def make_client(max_retries=2):
    creds = Credentials(api_url=API, client_id="c", access_token="t")
    return LearnWorldsClient(creds, limiter=RateLimiter(30, 0.01), max_retries=max_retries)


@pytest.fixture
def no_backoff(monkeypatch):
    from learnworlds_mcp import client as client_module

    async def instant(seconds):
        return None

    monkeypatch.setattr(client_module, "sleep", instant)


@pytest.mark.anyio
async def test_a_429_is_retried_after_the_window(httpx_mock, no_backoff):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    httpx_mock.add_response(json={"data": []})
    assert await make_client().send("GET", "/v2/users") == {"data": []}
    assert len(httpx_mock.get_requests()) == 2


@pytest.mark.anyio
async def test_max_retries_zero_hands_the_429_to_the_caller(httpx_mock):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    with pytest.raises(ApiError) as info:
        await make_client(max_retries=0).send("GET", "/v2/users")
    assert set(info.value.details["rate_limit"]) >= {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}


@pytest.mark.parametrize("failure", [502, 503, 504, "network"])
@pytest.mark.anyio
async def test_safe_requests_are_retried_on_gateway_and_network_errors(httpx_mock, no_backoff, failure):
    if failure == "network":
        httpx_mock.add_exception(httpx.ConnectError("reset"))
    else:
        httpx_mock.add_response(status_code=failure, text="<html>bad gateway</html>")
    httpx_mock.add_response(json={"ok": True})
    assert await make_client().send("GET", "/v2/users") == {"ok": True}


@pytest.mark.anyio
async def test_a_create_is_never_retried(httpx_mock, no_backoff):
    httpx_mock.add_response(status_code=502, text="<html>bad gateway</html>")
    with pytest.raises(ApiError, match="HTTP 502"):
        await make_client().send("POST", "/v2/users", body={"email": "a@b.c"})
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_an_idempotent_put_is_retried_but_500_is_not(httpx_mock, no_backoff):
    httpx_mock.add_response(status_code=503, json={"error": "busy"})
    httpx_mock.add_response(json={"success": True})
    assert await make_client().send("PUT", "/v2/users/u/suspend", body={}, retry_safe=True) == {"success": True}
    httpx_mock.add_response(status_code=500, json={"error": "boom"})
    with pytest.raises(ApiError, match="HTTP 500"):
        await make_client().send("GET", "/v2/users")


@pytest.mark.anyio
async def test_retries_are_bounded(httpx_mock, no_backoff):
    httpx_mock.add_response(status_code=502, text="bad", is_reusable=True)
    with pytest.raises(ApiError, match="HTTP 502"):
        await make_client(max_retries=2).send("GET", "/v2/users")
    assert len(httpx_mock.get_requests()) == 3


@pytest.mark.anyio
async def test_a_create_hit_by_a_429_is_handed_back_not_resent(httpx_mock, no_backoff):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    with pytest.raises(ApiError) as info:
        await make_client().send("POST", "/v2/users", body={"email": "a@b.c"})
    assert info.value.status == 429 and "rate_limit" in info.value.details
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_after_a_429_the_reset_is_a_whole_window_even_when_our_own_log_frees_sooner(virtual):
    """The school also counts requests we never saw; after its refusal only a full window is known to be enough."""
    limiter = RateLimiter(30, 10.0, clock=virtual)
    for _ in range(30):
        await limiter.acquire()
    virtual.now += 9  # our own oldest request frees in 1 s
    limiter.penalize()
    assert limiter.headers() == {"ratelimit-limit": 30, "ratelimit-remaining": 0, "ratelimit-reset": 10}
    await limiter.acquire()
    assert virtual.now == pytest.approx(1019.0)
