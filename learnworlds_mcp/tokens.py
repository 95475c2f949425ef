"""The bearer token on every request, as an httpx.Auth flow: the fixed access token, or one obtained from
the client secret (the client-credentials grant) and obtained again near its expiry or after a 401."""

from __future__ import annotations

import asyncio
import json
import time
from typing import AsyncGenerator, Awaitable, Callable

import httpx

from .auth import Credentials
from .errors import CredentialsError

TOKEN_PATH = "/oauth2/access_token"
REFRESH_MARGIN = 60.0
MAX_LIFETIME = 30 * 86400.0  # an upstream's expires_in is data too: bound it

# Sends one request and returns its status and body, under the client's deadline and byte ceilings.
Fetch = Callable[[httpx.Request], Awaitable[tuple[int, bytes]]]


class TokenAuth(httpx.Auth):
    """Adds `Authorization: Bearer ...`; with a client secret, obtains the token first (one exchange at a time)."""

    def __init__(self, credentials: Credentials, fetch: Fetch):
        self._credentials = credentials
        self._fetch = fetch
        self._token = credentials.access_token
        self._expires_at = float("inf") if credentials.access_token else 0.0
        self._lock = asyncio.Lock()

    @property
    def obtained(self) -> bool:
        """True when the token came from the exchange (it can be refreshed; a fixed one cannot)."""
        return not self._credentials.access_token

    @property
    def lifetime(self) -> float | None:
        """Seconds the current obtained token has left, or None for a fixed token or none yet."""
        if not self.obtained or not self._token:
            return None
        return self._expires_at - time.monotonic()

    def _fresh(self) -> bool:
        return bool(self._token) and time.monotonic() < self._expires_at - REFRESH_MARGIN

    def sync_auth_flow(self, request: httpx.Request):
        raise RuntimeError("learnworlds-mcp sends requests with an AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._exchange(request)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and self.obtained:
            self._expires_at = 0.0  # refused: the next request obtains a fresh one

    async def _exchange(self, request: httpx.Request) -> None:
        """The client-credentials grant: a form field `data` holding a JSON string (API-NOTES)."""
        creds = self._credentials
        payload = json.dumps({"client_id": creds.client_id, "client_secret": creds.client_secret,
                              "grant_type": "client_credentials"})
        exchange = httpx.Request("POST", creds.api_url + TOKEN_PATH, data={"data": payload},
                                 headers={"Lw-Client": creds.client_id, "Accept": "application/json",
                                          "User-Agent": request.headers.get("User-Agent", "")})
        status, raw = await self._fetch(exchange)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        token_data = body.get("tokenData") if isinstance(body, dict) else None
        token = token_data.get("access_token") if isinstance(token_data, dict) else None
        if status >= 300 or not isinstance(token, str) or not token or not body.get("success"):
            raise CredentialsError(
                f"LearnWorlds refused the client secret (HTTP {status}); check the client id and "
                "secret under Settings > Developers > API, then run `learnworlds-mcp auth login` again")
        creds.remember(token)  # masked wherever text leaves the process, from now on
        try:
            lifetime = float(token_data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        lifetime = lifetime if 0 < lifetime <= MAX_LIFETIME else 3600.0
        self._token, self._expires_at = token, time.monotonic() + lifetime
