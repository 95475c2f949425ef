"""Sandbox credentials and the access tokens handed out by the client-credentials exchange."""

from __future__ import annotations

import itertools
from collections.abc import Callable

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
SANDBOX_ACCESS_TOKEN = "sandbox-token"

# The real lifetime is undocumented; an hour is short enough that a refresh path can be
# exercised with a fake clock and long enough that nobody meets it by accident.
TOKEN_LIFETIME = 3600


class TokenBook:
    """Tokens the sandbox accepts: the fixed one forever, exchanged ones until they expire."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._serial = itertools.count(1)
        self.secrets = {SANDBOX_CLIENT_SECRET}
        self._fixed = {SANDBOX_ACCESS_TOKEN}

    def allow(self, *, access_token: str | None = None, client_secret: str | None = None) -> None:
        """Accept one more fixed token or client secret (tests use recognisable ones to hunt for leaks)."""
        if access_token:
            self._fixed.add(access_token)
        if client_secret:
            self.secrets.add(client_secret)

    def issue(self) -> str:
        """Mint a new token valid for TOKEN_LIFETIME seconds of the book's clock."""
        token = f"sandbox-exchanged-{next(self._serial):06d}"
        self._expiry[token] = self._clock() + TOKEN_LIFETIME
        return token

    def accepts(self, token: str) -> bool:
        """True when the token is the fixed sandbox token or an unexpired exchanged one."""
        if token in self._fixed:
            return True
        expiry = self._expiry.get(token)
        return expiry is not None and self._clock() < expiry
