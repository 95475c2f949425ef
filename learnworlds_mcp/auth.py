"""Credentials and access tokens.

Lookup order, per setting: the environment (LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID,
LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET, LEARNWORLDS_API_URL) first, then the
stored profile (config file for settings, OS keyring for the secret). An access token wins over
a client secret when both are present. A secret is never read from the command line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import profiles
from .errors import CredentialsError

LOGIN_HINT = "run `learnworlds-mcp auth login` (or set LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID and LEARNWORLDS_ACCESS_TOKEN)"
TOKEN_PATH = "/oauth2/access_token"
REFRESH_MARGIN = 60.0


@dataclass
class Credentials:
    """Everything needed to call LearnWorlds, and where each piece came from."""

    api_url: str
    client_id: str
    access_token: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    sources: dict[str, str] = field(default_factory=dict)
    expires_at: float | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values to mask wherever text leaves the process (too-short ones would mask ordinary words)."""
        return tuple(s for s in (self.access_token, self.client_secret) if s and len(s) >= 8)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# A DNS name (ASCII; an international name in its xn-- form), or an IP address checked apart.
_HOST_NAME = re.compile(r"(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(host))


def normalize_url(url: str, setting: str) -> str:
    """Check a school or API URL: https, or plain http only on a loopback host."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_host(parts.hostname):
        raise CredentialsError(f"{setting}: {url!r} is not an http(s) URL; give e.g. https://myschool.learnworlds.com")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CredentialsError(
            f"{setting}: plain http is refused for {parts.hostname} (the token would travel unencrypted); use https"
        )
    return url


def api_url_for(school_url: str) -> str:
    return normalize_url(school_url, "school URL") + "/admin/api"


def resolve(profile: str = "default", env: dict[str, str] | None = None,
            origin: str = "environment") -> Credentials:
    """Credentials from the environment first, then the stored profile; CredentialsError if incomplete.

    `origin` names where the environment's values came from in `sources` (the sandbox sets its own).
    """
    env = os.environ if env is None else env
    stored = profiles.read_profile(profile)
    sources: dict[str, str] = {}

    def pick(variable: str, stored_value: str | None, label: str) -> str | None:
        if env.get(variable):
            sources[label] = f"{origin} ({variable})"
            return env[variable]
        if stored_value:
            sources[label] = f"profile {profile!r} ({profiles.config_path()})"
            return stored_value
        return None

    school_url = pick("LEARNWORLDS_SCHOOL_URL", stored and stored.school_url, "school_url")
    client_id = pick("LEARNWORLDS_CLIENT_ID", stored and stored.client_id, "client_id")
    api_url = pick("LEARNWORLDS_API_URL", stored and stored.api_url, "api_url")
    access_token = env.get("LEARNWORLDS_ACCESS_TOKEN") or None
    client_secret = env.get("LEARNWORLDS_CLIENT_SECRET") or None
    if access_token:
        sources["secret"] = f"{origin} (LEARNWORLDS_ACCESS_TOKEN)"
    elif client_secret:
        sources["secret"] = f"{origin} (LEARNWORLDS_CLIENT_SECRET)"
    elif stored:
        _expire_if_due(profile, stored)
        secret = profiles.read_secret(profile)
        if secret:
            sources["secret"] = f"OS keyring ({profiles.KEYRING_SERVICE}/{profile}, {stored.secret_kind})"
            if stored.secret_kind == "client_secret":
                client_secret = secret
            else:
                access_token = secret
    missing = [label for label, value in (("school URL", school_url or api_url), ("client id", client_id),
                                          ("access token or client secret", access_token or client_secret))
               if not value]
    if missing:
        raise CredentialsError(f"no LearnWorlds {', '.join(missing)} configured for profile {profile!r}; {LOGIN_HINT}")
    if api_url:
        api_url = normalize_url(api_url, "API URL")
    else:
        api_url = api_url_for(school_url)
        sources["api_url"] = "derived from school_url"
    expires_at = stored.expires_at if stored and sources.get("secret", "").startswith("OS keyring") else None
    return Credentials(api_url=api_url, client_id=client_id, access_token=access_token,
                       client_secret=client_secret, sources=sources, expires_at=expires_at)


def _expire_if_due(name: str, stored: profiles.Profile) -> None:
    """A profile past its expiry loses its secret now, and refuses to serve."""
    if stored.expires_at is None or time.time() < stored.expires_at:
        return
    profiles.delete_secret(name)
    from .policy import iso

    raise CredentialsError(f"profile {name!r} expired at {iso(stored.expires_at)} and its secret was deleted "
                           "from the keyring; ask the administrator for new access and run "
                           "`learnworlds-mcp auth login` again")


class TokenSource:
    """Hands out a valid access token: the fixed one, or one obtained and refreshed from a client secret."""

    def __init__(self, credentials: Credentials):
        self._credentials = credentials
        self._token = credentials.access_token
        self._expires_at = float("inf") if credentials.access_token else 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget an obtained token after a 401, so the next call fetches a fresh one."""
        if self._credentials.client_secret and not self._credentials.access_token:
            self._expires_at = 0.0

    async def token(self, http) -> str:
        if self._token and time.monotonic() < self._expires_at - REFRESH_MARGIN:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at - REFRESH_MARGIN:
                return self._token
            await self._exchange(http)
            return self._token

    async def _exchange(self, http) -> None:
        """The client-credentials grant: a form field `data` holding a JSON string (API-NOTES)."""
        creds = self._credentials
        payload = json.dumps({"client_id": creds.client_id, "client_secret": creds.client_secret,
                              "grant_type": "client_credentials"})
        response = await http.post(creds.api_url + TOKEN_PATH, data={"data": payload},
                                   headers={"Lw-Client": creds.client_id})
        try:
            body = response.json()
        except ValueError:
            body = {}
        token_data = body.get("tokenData") if isinstance(body, dict) else None
        if response.status_code >= 400 or not body.get("success") or not isinstance(token_data, dict):
            raise CredentialsError(
                f"LearnWorlds refused the client secret (HTTP {response.status_code}); check the client id and "
                "secret under Settings > Developers > API, then run `learnworlds-mcp auth login` again"
            )
        self._token = token_data["access_token"]
        expires_in = float(token_data.get("expires_in") or 3600)
        self._expires_at = time.monotonic() + expires_in
