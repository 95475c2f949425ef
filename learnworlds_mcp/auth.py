"""Credentials and access tokens.

Lookup order, per setting: the environment (LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID,
LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET, LEARNWORLDS_API_URL) first, then the
stored profile (config file for settings, OS keyring for the secret). An access token wins over
a client secret when both are present. A secret is never read from the command line.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import profiles
from .errors import CredentialsError

LOGIN_HINT = "run `learnworlds-mcp auth login` (or set LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID and LEARNWORLDS_ACCESS_TOKEN)"
MASK = "***"


@dataclass
class Credentials:
    """Everything needed to call LearnWorlds, and where each piece came from."""

    api_url: str
    client_id: str
    access_token: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    sources: dict[str, str] = field(default_factory=dict)
    expires_at: float | None = None
    obtained: list[str] = field(default_factory=list, repr=False)  # tokens got from the client secret

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values to mask wherever text leaves the process (too-short ones would mask ordinary words)."""
        known = (self.access_token, self.client_secret, *self.obtained)
        return tuple(sorted({s for s in known if s and len(s) >= 8}, key=len, reverse=True))

    def remember(self, token: str) -> None:
        """Note a token obtained by the exchange, so it is masked like the configured secrets."""
        if token not in self.obtained:
            self.obtained[:] = [*self.obtained[-3:], token]  # the current one and a few before it


def mask(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` (text, or JSON-like data) with every secret replaced by ***."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {mask(k, secrets): mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    return value


class SecretFilter(logging.Filter):
    """A log handler filter that masks the credentials' secrets, configured or obtained, in every record."""

    def __init__(self, credentials: Credentials):
        super().__init__()
        self.credentials = credentials

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.credentials.secrets
        message = record.getMessage()
        if record.exc_info:  # tracebacks quote arguments and bodies too
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info), secrets)
            record.exc_info = None
        record.msg, record.args = mask(message, secrets), None
        return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def normalize_url(url: str, setting: str) -> str:
    """Check a school or API URL: https, or plain http only on a loopback host; nothing the URL parser trips on."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    example = "give e.g. https://myschool.learnworlds.com"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError as exc:  # brackets around IPv4, an unclosed IPv6 bracket, a fullwidth '#', ...
        raise CredentialsError(f"{setting}: {url!r} is not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"{setting}: {url!r} is not an http(s) URL; {example}")
    if parts.query or parts.fragment or "?" in url or "#" in url or "@" in parts.netloc:
        raise CredentialsError(f"{setting}: {url!r} carries a query, fragment or user name; {example}")
    if not (_HOST.match(parts.hostname) or _is_ip(parts.hostname)):
        raise CredentialsError(f"{setting}: {parts.hostname!r} is not a host name (for a non-ASCII domain use "
                               f"its xn-- form); {example}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CredentialsError(
            f"{setting}: plain http is refused for {parts.hostname} (the token would travel unencrypted); use https"
        )
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
