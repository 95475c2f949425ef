"""The `doctor` checks: what is installed, configured and reachable, each failure with its fix.

The checks run in a fixed order, and a check that needs an earlier one (no credentials: nothing
to test against the school) is skipped with the reason. Nothing here raises, prints or exits: the
command renders the result and picks the exit code. No returned text contains a secret.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Mapping

import httpx

from . import auth, filters, profiles, registry
from .errors import ApiError, CredentialsError, RegistryError, SelectionError

MIN_PYTHON = (3, 10)
PACKAGES = ("learnworlds-mcp", "mcp", "httpx", "typer", "keyring")
SECRET_VARIABLES = ("LEARNWORLDS_ACCESS_TOKEN", "LEARNWORLDS_CLIENT_SECRET")
PROBE_PATH = "/v2/user-roles"  # one cheap read that every school answers
TIMEOUT_SECONDS = 10.0
MIN_SECRET_LENGTH = 4  # shorter "secrets" would blank out ordinary words when scrubbed

VERSIONS, KEYRING, PROFILE, REACHABLE, ACCEPTED, EXPIRY, FILTERS = (
    "python and packages", "keyring backend", "profile", "API reachable", "credentials accepted",
    "token expiry", "filters")

NETWORK_FIX = "check the school URL / network / --api-url"
TOKEN_FIX = ("create a new access token under Settings > Developers > API in the LearnWorlds admin panel, "
             "then run `learnworlds-mcp auth login` (or set LEARNWORLDS_ACCESS_TOKEN)")
BUG_FIX = "reinstall with `pip install --upgrade learnworlds-mcp`; if it persists, report it as a bug"


@dataclass
class Check:
    """One line of the doctor's report; a skipped check is neither passed nor failed."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    skipped: bool = False

    @property
    def status(self) -> str:
        return "skip" if self.skipped else "ok" if self.ok else "FAIL"


def _skip(name: str, why: str) -> Check:
    return Check(name, ok=False, detail=f"skipped: {why}", skipped=True)


class _Run:
    """The state one doctor run carries from check to check."""

    def __init__(self, profile: str, env: dict[str, str], selection: filters.Selection,
                 transport: httpx.AsyncBaseTransport | None, origin: str = "environment"):
        self.profile = profile
        self.env = env
        self.origin = origin
        self.selection = selection
        self.transport = transport
        self.credentials: auth.Credentials | None = None
        self.reachable = False
        self.token_lifetime: float | None = None
        self.secrets: set[str] = {env[v] for v in SECRET_VARIABLES if env.get(v)}

    def steps(self):
        return ((VERSIONS, self.versions), (KEYRING, self.keyring), (PROFILE, self.profile_check),
                (REACHABLE, self.reach), (ACCEPTED, self.accept), (EXPIRY, self.expiry),
                (FILTERS, self.filters))

    async def versions(self) -> Check:
        python = ".".join(map(str, sys.version_info[:3]))
        found, missing = [], []
        for name in PACKAGES:
            try:
                found.append(f"{name} {metadata.version(name)}")
            except metadata.PackageNotFoundError:
                missing.append(name)
        detail = f"Python {python}; " + ", ".join(found)
        if tuple(sys.version_info[:2]) < MIN_PYTHON:
            need = ".".join(map(str, MIN_PYTHON))
            return Check(VERSIONS, False, detail + f"; Python {need} or newer is required",
                         fix=f"install learnworlds-mcp under Python {need} or newer (e.g. `uv tool install "
                             "learnworlds-mcp`)")
        if missing:
            return Check(VERSIONS, False, detail + f"; not installed: {', '.join(missing)}", fix=BUG_FIX)
        return Check(VERSIONS, True, detail)

    async def keyring(self) -> Check:
        import keyring
        import keyring.backends.fail

        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyring configuration raises anything
            backend, trouble = None, f"loading it failed ({type(exc).__name__})"
        else:
            trouble = "none is installed or usable"
        if backend is not None and not isinstance(backend, keyring.backends.fail.Keyring):
            kind = type(backend)
            return Check(KEYRING, True, f"{backend.name} ({kind.__module__}.{kind.__qualname__})")
        from_env = next((v for v in SECRET_VARIABLES if self.env.get(v)), None)
        if from_env:
            return Check(KEYRING, True, f"no OS keyring backend ({trouble}); not needed: the secret comes "
                                        f"from the {self.origin} ({from_env})")
        return Check(KEYRING, False, f"no OS keyring backend ({trouble}), so no stored secret can be read",
                     fix="install or unlock an OS keyring, or " + profiles.ENV_ROUTE)

    async def profile_check(self) -> Check:
        try:
            creds = auth.resolve(self.profile, self.env, self.origin)
        except CredentialsError as exc:
            return Check(PROFILE, False, f"profile {self.profile!r}: no usable credentials", fix=str(exc))
        self.credentials = creds
        self.secrets.update(creds.secrets)
        sources = creds.sources
        api_source = sources.get("api_url", "")
        if api_source.startswith("derived") and "school_url" in sources:
            api_source = f"derived from the school URL, {sources['school_url']}"
        kind = "access token" if creds.access_token else "client secret"
        return Check(PROFILE, True, f"profile {self.profile!r}: API {creds.api_url} [{api_source}]; "
                                    f"client id {creds.client_id} [{sources.get('client_id', '?')}]; "
                                    f"{kind}: set [{sources.get('secret', '?')}]")

    def _configured_base(self) -> str | None:
        """The API base the settings point at, when the credentials as a whole are incomplete."""
        if self.credentials:
            return self.credentials.api_url
        try:
            stored = profiles.read_profile(self.profile)
        except Exception:  # an unreadable config file is the profile check's failure to report
            stored = None
        api_url = self.env.get("LEARNWORLDS_API_URL") or (stored and stored.api_url)
        if api_url:
            return auth.normalize_url(api_url, "API URL")
        school_url = self.env.get("LEARNWORLDS_SCHOOL_URL") or (stored and stored.school_url)
        return auth.api_url_for(school_url) if school_url else None

    async def reach(self) -> Check:
        try:
            base = self._configured_base()
        except CredentialsError as exc:
            return Check(REACHABLE, False, str(exc),
                         fix="give an https URL (plain http only for a loopback host such as 127.0.0.1); "
                             + NETWORK_FIX)
        if base is None:
            return _skip(REACHABLE, "no school URL or API URL is configured (see profile)")
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT_SECONDS,
                                         headers={"User-Agent": "learnworlds-mcp doctor"}) as http:
                response = await http.get(base + PROBE_PATH)
        except httpx.TimeoutException:
            return Check(REACHABLE, False, f"{base}: no answer within {TIMEOUT_SECONDS:g} s", fix=NETWORK_FIX)
        except httpx.HTTPError as exc:
            return Check(REACHABLE, False, f"{base}: cannot connect ({type(exc).__name__}: {exc})",
                         fix=NETWORK_FIX)
        self.reachable = True
        elapsed = time.monotonic() - started
        return Check(REACHABLE, True, f"{base} answered HTTP {response.status_code} in {elapsed:.2f} s "
                                      "(a request without a token)")

    async def accept(self) -> Check:
        creds = self.credentials
        if creds is None:
            return _skip(ACCEPTED, "no usable credentials (see profile)")
        if not self.reachable:
            return _skip(ACCEPTED, "the API is not reachable (see API reachable)")
        from .client import LearnWorldsClient

        kind = "access token" if creds.access_token else "client secret"
        client = LearnWorldsClient(creds, timeout=TIMEOUT_SECONDS, transport=self.transport, max_retries=0)
        try:
            body = await client.send("GET", PROBE_PATH)
        except CredentialsError as exc:
            return Check(ACCEPTED, False, f"the {kind} was refused", fix=str(exc))
        except ApiError as exc:
            return Check(ACCEPTED, False, f"GET {PROBE_PATH}: {exc}", fix=_api_fix(exc.status))
        finally:
            self._note_obtained_token(client)
            await client.aclose()
        roles = body.get("data") if isinstance(body, dict) else None
        count = f" ({len(roles)} user roles)" if isinstance(roles, list) else ""
        return Check(ACCEPTED, True, f"the {kind} is accepted: GET {PROBE_PATH} answered{count}")

    def _note_obtained_token(self, client) -> None:
        """Remember a token obtained from a client secret: its lifetime to report, its text to hide."""
        self.secrets.update(self.credentials.obtained)
        if client.auth is not None and client.auth.lifetime is not None:
            self.token_lifetime = client.auth.lifetime

    async def expiry(self) -> Check:
        creds = self.credentials
        if creds is None:
            return _skip(EXPIRY, "no usable credentials (see profile)")
        parts = []
        if creds.expires_at is not None:
            from .policy import iso

            parts.append(f"profile access ends at {iso(creds.expires_at)} "
                         f"(in {_duration(creds.expires_at - time.time())})")
        if creds.access_token:
            parts.append("the access token's own expiry date is set in the admin panel and not reported by the API")
        elif self.token_lifetime is not None:
            parts.append(f"tokens obtained with the client secret last about {_duration(self.token_lifetime)} "
                         "and are refreshed automatically")
        else:
            parts.append("tokens obtained with the client secret are refreshed automatically")
        return Check(EXPIRY, True, "; ".join(parts))

    async def filters(self) -> Check:
        described = self.selection.describe()
        try:
            operations = filters.select(registry.load(), self.selection)
        except SelectionError as exc:
            return Check(FILTERS, False, f"{described}: the server would refuse to start", fix=str(exc))
        except RegistryError as exc:
            return Check(FILTERS, False, f"the bundled operation files are broken: {exc}", fix=BUG_FIX)
        size = sum(registry.model_visible_bytes(op.tool()) for op in operations)
        return Check(FILTERS, True, f"{described}: {len(operations)} tools, {size:,} model-visible bytes "
                                    f"(about {size // 4:,} tokens per turn)")


def _api_fix(status: int | None) -> str:
    if status in (401, 403):
        return TOKEN_FIX
    if status is None:
        return NETWORK_FIX
    if 300 <= status < 400:
        return ("the school redirects its API elsewhere (a custom domain?): set the school URL or --api-url to "
                "the address named in the redirect, then run doctor again")
    if status == 404:
        return "the API base looks wrong (it is the school URL + /admin/api): " + NETWORK_FIX
    if status == 429:
        return "the school's rate limit (30 requests per 10 s) was reached; wait 10 s and run doctor again"
    if status >= 500:
        return "LearnWorlds failed on its side; try again in a few minutes"
    return f"LearnWorlds answered HTTP {status}; {NETWORK_FIX}"


def _duration(seconds: float) -> str:
    """A rough span for people: '45 s', '12 min', '2 h', '3 h 5 min', '2 d 4 h' (minutes rounded)."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    days, minutes = divmod(round(seconds / 60), 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _scrub(check: Check, secrets: set[str]) -> Check:
    """The check with every known secret blanked out: a last guard over text from servers and errors."""
    hidden = sorted((s for s in secrets if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    def clean(text: str | None) -> str | None:
        for secret in hidden:
            text = text.replace(secret, "[hidden]") if text else text
        return text

    return replace(check, name=clean(check.name), detail=clean(check.detail), fix=clean(check.fix))


async def run_checks(profile: str, env: Mapping[str, str], selection: filters.Selection,
                     api_url: str | None = None,
                     transport: httpx.AsyncBaseTransport | None = None,
                     origin: str = "environment") -> list[Check]:
    """Run every check in order; never raises (an unexpected error becomes a failed check).

    `origin` names where `env`'s settings came from: the environment, or the --sandbox school.
    """
    env = dict(env)
    if api_url:
        env["LEARNWORLDS_API_URL"] = api_url  # the flag wins over the environment, as in `serve`
    run = _Run(profile, env, selection, transport, origin)
    checks = []
    for name, step in run.steps():
        try:
            check = await step()
        except Exception as exc:
            check = Check(name, False, f"the check itself failed ({type(exc).__name__}: {exc})", fix=BUG_FIX)
        checks.append(check)
    return [_scrub(check, run.secrets) for check in checks]


def render(checks: list[Check]) -> str:
    """One line per check: status, name, detail, and for a failure its fix."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        line = f"{check.status:4}  {check.name:{width}}  {check.detail}"
        if check.status == "FAIL" and check.fix:
            line += f"  -> fix: {check.fix}"
        lines.append(line)
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    """0 when no check failed; a skip alone never fails (it always follows a failure that did)."""
    return 1 if any(check.status == "FAIL" for check in checks) else 0
