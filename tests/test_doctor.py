"""The doctor's checks against fake schools, a stopped server, a missing keyring and bad filters."""

from __future__ import annotations

import socket
import time

import httpx
import keyring
import keyring.backends.fail
import pytest

from learnworlds_mcp import doctor, filters, profiles, registry
from learnworlds_mcp.doctor import Check, exit_code, render, run_checks
from learnworlds_mcp.filters import Selection
from tests.conftest import SECRET

API = "https://school.example/admin/api"
ENV = {"LEARNWORLDS_SCHOOL_URL": "https://school.example", "LEARNWORLDS_CLIENT_ID": "client-1",
       "LEARNWORLDS_ACCESS_TOKEN": SECRET}
OBTAINED = "obtained-TOKEN-from-the-client-secret-77"
ROLES = {"data": [{"id": "admin"}, {"id": "learner"}], "meta": {"page": 1, "totalPages": 1}}


def school(status: int = 200, echo_token: bool = False, token_status: int = 200):
    """A fake LearnWorlds that accepts SECRET (or a token obtained from SECRET as client secret)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/access_token"):
            if token_status != 200 or SECRET not in request.content.decode():
                return httpx.Response(token_status if token_status != 200 else 401,
                                      json={"success": False, "error": "invalid client"})
            return httpx.Response(200, json={"success": True, "tokenData": {
                "access_token": OBTAINED, "token_type": "Bearer", "expires_in": 7200}})
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not given:
            return httpx.Response(401, json={"error": "Unauthorized"})
        if echo_token:  # a careless server that quotes the token back
            return httpx.Response(401, json={"error": f"token {given} is not valid"})
        if given not in (SECRET, OBTAINED):
            return httpx.Response(401, json={"error": "Unauthorized"})
        if status != 200:
            return httpx.Response(status, json={"error": "something went wrong"})
        return httpx.Response(200, json=ROLES)

    return httpx.MockTransport(handle)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def store(kind: str = "access_token", expires_at: float | None = None) -> None:
    profiles.save_profile("default", profiles.Profile(school_url="https://school.example", client_id="client-1",
                                                      secret_kind=kind, expires_at=expires_at))
    profiles.store_secret("default", SECRET)


def assert_no_secret(checks: list[Check], *secrets: str) -> None:
    text = render(checks) + repr(checks)
    for secret in secrets or (SECRET,):
        assert secret not in text


@pytest.fixture
def no_keyring():
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest restores the previous backend


@pytest.mark.anyio
async def test_a_school_that_accepts_the_token_passes_every_check():
    checks = await run_checks("default", ENV, Selection(), transport=school())
    assert [c.name for c in checks] == [doctor.VERSIONS, doctor.KEYRING, doctor.PROFILE, doctor.REACHABLE,
                                        doctor.ACCEPTED, doctor.EXPIRY, doctor.FILTERS]
    assert all(c.ok and not c.skipped and c.fix is None for c in checks), render(checks)
    assert exit_code(checks) == 0
    found = by_name(checks)
    assert "2 user roles" in found[doctor.ACCEPTED].detail
    assert "access token: set [environment (LEARNWORLDS_ACCESS_TOKEN)]" in found[doctor.PROFILE].detail
    assert f"{len(registry.load())} tools" in found[doctor.FILTERS].detail
    assert_no_secret(checks)


@pytest.mark.anyio
async def test_the_default_transport_reaches_a_loopback_api(httpx_mock):
    base = "http://127.0.0.1:8765"
    httpx_mock.add_callback(lambda request: school().handler(request), url=f"{base}/v2/user-roles",
                            is_reusable=True)
    env = dict(ENV, LEARNWORLDS_API_URL=base)
    checks = await run_checks("default", env, Selection())
    assert exit_code(checks) == 0, render(checks)
    assert [r.headers.get("Authorization") for r in httpx_mock.get_requests()] == [None, f"Bearer {SECRET}"]


@pytest.mark.anyio
async def test_a_stopped_server_fails_reachability_and_skips_acceptance():
    api_url = f"http://127.0.0.1:{closed_port()}"
    checks = await run_checks("default", ENV, Selection(), api_url=api_url)
    found = by_name(checks)
    reach = found[doctor.REACHABLE]
    assert not reach.ok and api_url in reach.detail and "--api-url" in reach.fix
    assert found[doctor.ACCEPTED].skipped and "not reachable" in found[doctor.ACCEPTED].detail
    assert exit_code(checks) == 1
    assert "-> fix: check the school URL / network / --api-url" in render(checks)


@pytest.mark.anyio
async def test_a_timeout_fails_reachability():
    def hang(request):
        raise httpx.ConnectTimeout("timed out", request=request)

    checks = await run_checks("default", ENV, Selection(), transport=httpx.MockTransport(hang))
    reach = by_name(checks)[doctor.REACHABLE]
    assert reach.status == "FAIL" and "no answer" in reach.detail and "network" in reach.fix


@pytest.mark.anyio
@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_token_fails_acceptance_naming_auth_login(status):
    env = dict(ENV, LEARNWORLDS_ACCESS_TOKEN="wrong-token") if status == 401 else ENV
    checks = await run_checks("default", env, Selection(), transport=school(status=status))
    accepted = by_name(checks)[doctor.ACCEPTED]
    assert accepted.status == "FAIL" and f"HTTP {status}" in accepted.detail
    assert "learnworlds-mcp auth login" in accepted.fix
    assert by_name(checks)[doctor.REACHABLE].ok
    assert exit_code(checks) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "hint"), [(404, "/admin/api"), (429, "rate limit"), (500, "its side")])
async def test_other_answers_are_reported_with_their_status(status, hint):
    checks = await run_checks("default", ENV, Selection(), transport=school(status=status))
    accepted = by_name(checks)[doctor.ACCEPTED]
    assert accepted.status == "FAIL" and f"HTTP {status}" in accepted.detail and hint in accepted.fix
    assert "auth login" not in accepted.fix


@pytest.mark.anyio
async def test_no_keyring_backend_and_no_environment_fails_naming_the_env_route(no_keyring):
    checks = await run_checks("default", {}, Selection())
    found = by_name(checks)
    assert found[doctor.KEYRING].status == "FAIL"
    assert "LEARNWORLDS_ACCESS_TOKEN" in found[doctor.KEYRING].fix
    assert "LEARNWORLDS_SCHOOL_URL" in found[doctor.KEYRING].fix
    assert found[doctor.PROFILE].status == "FAIL" and "auth login" in found[doctor.PROFILE].fix
    assert [found[n].status for n in (doctor.REACHABLE, doctor.ACCEPTED, doctor.EXPIRY)] == ["skip"] * 3
    assert exit_code(checks) == 1


@pytest.mark.anyio
async def test_a_stored_profile_without_a_keyring_backend_points_to_the_environment(no_keyring):
    profiles.save_profile("default", profiles.Profile(school_url="https://school.example", client_id="c"))
    checks = await run_checks("default", {}, Selection(), transport=school())
    found = by_name(checks)
    assert "LEARNWORLDS_ACCESS_TOKEN" in found[doctor.PROFILE].fix
    assert found[doctor.REACHABLE].ok  # the URL is known even though the secret is not
    assert found[doctor.ACCEPTED].skipped


@pytest.mark.anyio
async def test_no_keyring_backend_is_not_fatal_when_the_environment_has_the_secret(no_keyring):
    checks = await run_checks("default", ENV, Selection(), transport=school())
    keyring_check = by_name(checks)[doctor.KEYRING]
    assert keyring_check.ok and "LEARNWORLDS_ACCESS_TOKEN" in keyring_check.detail
    assert exit_code(checks) == 0, render(checks)


@pytest.mark.anyio
async def test_a_stored_profile_shows_sources_and_its_expiry_but_never_the_secret():
    ends = time.time() + 3 * 3600 + 120
    store(expires_at=ends)
    checks = await run_checks("default", {}, Selection(), transport=school())
    found = by_name(checks)
    assert exit_code(checks) == 0, render(checks)
    assert "access token: set [OS keyring (learnworlds-mcp/default, access_token)]" in found[doctor.PROFILE].detail
    assert "derived from the school URL" in found[doctor.PROFILE].detail
    assert "profile access ends at" in found[doctor.EXPIRY].detail and "in 3 h 2 min" in found[doctor.EXPIRY].detail
    assert_no_secret(checks)


@pytest.mark.anyio
async def test_a_client_secret_reports_the_obtained_token_lifetime():
    store(kind="client_secret")
    checks = await run_checks("default", {}, Selection(), transport=school())
    found = by_name(checks)
    assert exit_code(checks) == 0, render(checks)
    assert "client secret: set" in found[doctor.PROFILE].detail
    assert "about 2 h" in found[doctor.EXPIRY].detail and "refreshed automatically" in found[doctor.EXPIRY].detail
    assert_no_secret(checks, SECRET, OBTAINED)


@pytest.mark.anyio
async def test_a_refused_client_secret_fails_acceptance_with_the_fix():
    store(kind="client_secret")
    checks = await run_checks("default", {}, Selection(), transport=school(token_status=400))
    accepted = by_name(checks)[doctor.ACCEPTED]
    assert accepted.status == "FAIL" and "client secret was refused" in accepted.detail
    assert "auth login" in accepted.fix


@pytest.mark.anyio
async def test_plain_http_on_a_remote_host_fails_the_profile_and_reachability():
    checks = await run_checks("default", ENV, Selection(), api_url="http://school.example/admin/api",
                              transport=school())
    found = by_name(checks)
    assert found[doctor.PROFILE].status == "FAIL" and "plain http" in found[doctor.PROFILE].fix
    assert found[doctor.REACHABLE].status == "FAIL" and "plain http" in found[doctor.REACHABLE].detail
    assert "https" in found[doctor.REACHABLE].fix
    assert found[doctor.ACCEPTED].skipped


@pytest.mark.anyio
async def test_unknown_tag_fails_the_filters_check_with_the_valid_names():
    checks = await run_checks("default", ENV, Selection(tags=("no-such-tag",)), transport=school())
    check = by_name(checks)[doctor.FILTERS]
    assert check.status == "FAIL" and "--tags no-such-tag" in check.detail
    assert "unknown tag 'no-such-tag'" in check.fix and "valid tags:" in check.fix
    assert exit_code(checks) == 1


@pytest.mark.anyio
async def test_filters_report_the_tool_count_and_cost():
    selection = Selection(methods=("read",))
    chosen = filters.select(registry.load(), selection)
    size = sum(registry.model_visible_bytes(op.tool()) for op in chosen)
    checks = await run_checks("default", ENV, selection, transport=school())
    detail = by_name(checks)[doctor.FILTERS].detail
    assert detail == f"--methods read: {len(chosen)} tools, {size:,} model-visible bytes (about {size // 4:,} " \
                     "tokens per turn)"


@pytest.mark.anyio
async def test_versions_fail_on_an_old_python_or_a_missing_package(monkeypatch):
    checks = await run_checks("default", ENV, Selection(), transport=school())
    assert "learnworlds-mcp 0.1.0" in by_name(checks)[doctor.VERSIONS].detail
    monkeypatch.setattr(doctor, "MIN_PYTHON", (99, 0))
    check = by_name(await run_checks("default", ENV, Selection(), transport=school()))[doctor.VERSIONS]
    assert check.status == "FAIL" and "Python 99.0" in check.fix
    monkeypatch.setattr(doctor, "MIN_PYTHON", (3, 10))
    monkeypatch.setattr(doctor, "PACKAGES", doctor.PACKAGES + ("no-such-distribution-xyz",))
    check = by_name(await run_checks("default", ENV, Selection(), transport=school()))[doctor.VERSIONS]
    assert check.status == "FAIL" and "not installed: no-such-distribution-xyz" in check.detail


@pytest.mark.anyio
async def test_an_unexpected_error_becomes_a_failed_check(monkeypatch):
    def broken():
        raise RuntimeError("registry exploded")

    monkeypatch.setattr(registry, "load", broken)
    checks = await run_checks("default", ENV, Selection(), transport=school())
    check = by_name(checks)[doctor.FILTERS]
    assert check.status == "FAIL" and "RuntimeError" in check.detail and check.fix


@pytest.mark.anyio
async def test_the_secret_appears_in_no_rendered_line_even_when_the_server_echoes_it():
    checks = await run_checks("default", ENV, Selection(), transport=school(echo_token=True))
    accepted = by_name(checks)[doctor.ACCEPTED]
    assert accepted.status == "FAIL" and "token *** is not valid" in accepted.detail  # masked as it arrived
    assert_no_secret(checks)
    for line in render(checks).splitlines():
        assert SECRET not in line


@pytest.mark.parametrize(("statuses", "code"), [
    ([], 0),
    (["ok", "ok"], 0),
    (["ok", "skip"], 0),
    (["ok", "FAIL", "skip"], 1),
])
def test_exit_code_fails_only_on_a_failed_check(statuses, code):
    made = {"ok": Check("a", True, "fine"), "skip": Check("b", False, "skipped: why", skipped=True),
            "FAIL": Check("c", False, "broken", fix="mend it")}
    assert exit_code([made[s] for s in statuses]) == code


def test_render_writes_one_line_per_check_with_the_fix_only_for_failures():
    checks = [Check("first", True, "fine", fix="unused"), Check("second check", False, "broken", fix="mend it"),
              Check("third", False, "skipped: no school", skipped=True)]
    assert render(checks).splitlines() == [
        "ok    first         fine",
        "FAIL  second check  broken  -> fix: mend it",
        "skip  third         skipped: no school",
    ]


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "0 s"), (45, "45 s"), (719.6, "12 min"), (7199.9, "2 h"), (3 * 3600 + 300, "3 h 5 min"),
    (2 * 86400 + 4 * 3600, "2 d 4 h"),
])
def test_durations_read_as_rounded_spans(seconds, text):
    assert doctor._duration(seconds) == text


@pytest.mark.anyio
async def test_a_redirecting_school_fails_the_credentials_check_naming_the_target():
    def moved(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://academy.example/admin/api/v2/user-roles"})

    checks = await run_checks("default", ENV, Selection(), transport=httpx.MockTransport(moved))
    accepted = by_name(checks)[doctor.ACCEPTED]
    assert accepted.status == "FAIL" and "https://academy.example/admin/api/v2/user-roles" in accepted.detail
    assert "--api-url" in accepted.fix or "school URL" in accepted.fix
    assert exit_code(checks) == 1
