"""Credential precedence (environment over keyring), URL rules, profile storage and keyring failures."""

from __future__ import annotations

import json
import stat

import keyring.errors
import pytest

from learnworlds_mcp import auth, profiles
from learnworlds_mcp.errors import CredentialsError
from tests.conftest import SECRET


def store(name="default", kind="access_token", secret=SECRET, **settings):
    profiles.save_profile(name, profiles.Profile(school_url=settings.get("school_url", "https://stored.example"),
                                                 client_id=settings.get("client_id", "stored-client"),
                                                 secret_kind=kind, api_url=settings.get("api_url")))
    profiles.store_secret(name, secret)


def test_nothing_configured_names_the_fixing_command():
    with pytest.raises(CredentialsError, match="learnworlds-mcp auth login"):
        auth.resolve("default", env={})


def test_stored_profile_is_used_with_its_sources():
    store()
    creds = auth.resolve("default", env={})
    assert creds.api_url == "https://stored.example/admin/api"
    assert creds.client_id == "stored-client" and creds.access_token == SECRET
    assert creds.sources["secret"].startswith("OS keyring")
    assert "profile 'default'" in creds.sources["client_id"]


def test_environment_wins_over_the_keyring_setting_by_setting():
    store()
    env = {"LEARNWORLDS_CLIENT_ID": "env-client", "LEARNWORLDS_ACCESS_TOKEN": "env-token"}
    creds = auth.resolve("default", env=env)
    assert (creds.client_id, creds.access_token) == ("env-client", "env-token")
    assert creds.api_url == "https://stored.example/admin/api"  # still from the profile
    assert creds.sources["secret"] == "environment (LEARNWORLDS_ACCESS_TOKEN)"


def test_client_secret_profile_and_env_only_machine():
    store(kind="client_secret")
    assert auth.resolve("default", env={}).client_secret == SECRET
    env = {"LEARNWORLDS_SCHOOL_URL": "school.example", "LEARNWORLDS_CLIENT_ID": "c",
           "LEARNWORLDS_CLIENT_SECRET": "s"}
    creds = auth.resolve("other", env=env)
    assert creds.api_url == "https://school.example/admin/api" and creds.client_secret == "s"


def test_profiles_are_kept_apart():
    store("a", school_url="https://a.example")
    store("b", school_url="https://b.example", secret="other-secret")
    assert auth.resolve("a", env={}).access_token == SECRET
    assert auth.resolve("b", env={}).api_url == "https://b.example/admin/api"


@pytest.mark.parametrize("url, ok", [
    ("https://school.example", True), ("http://127.0.0.1:4010", True), ("http://localhost:8000", True),
    ("http://[::1]:9000", True), ("http://school.example", False), ("ftp://school.example", False),
])
def test_plain_http_only_for_loopback(url, ok):
    if ok:
        assert auth.normalize_url(url, "API URL") == url
    else:
        with pytest.raises(CredentialsError, match="API URL"):
            auth.normalize_url(url, "API URL")


def test_api_url_override():
    env = {"LEARNWORLDS_API_URL": "http://127.0.0.1:4010/", "LEARNWORLDS_CLIENT_ID": "c",
           "LEARNWORLDS_ACCESS_TOKEN": "t"}
    assert auth.resolve("default", env=env).api_url == "http://127.0.0.1:4010"


def test_secret_never_in_the_config_file_or_repr():
    store()
    text = profiles.config_path().read_text()
    assert SECRET not in text and json.loads(text)["profiles"]["default"]["client_id"] == "stored-client"
    assert stat.S_IMODE(profiles.config_path().stat().st_mode) == 0o600
    assert SECRET not in repr(auth.resolve("default", env={}))


def test_logout_removes_both_halves(isolated):
    store()
    assert profiles.delete_secret("default") and profiles.delete_profile("default")
    assert isolated.store == {} and profiles.read_profile("default") is None
    assert profiles.delete_secret("default") is False


class BrokenKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self, error):
        super().__init__()
        self.error = error

    def get_password(self, service, username):
        raise self.error

    set_password = delete_password = get_password


@pytest.mark.parametrize("error, fragment", [
    (keyring.errors.NoKeyringError("none"), "no OS keyring backend"),
    (keyring.errors.KeyringLocked("locked"), "is it locked?"),
    (RuntimeError("dbus exploded"), "RuntimeError"),
])
def test_keyring_failures_name_the_environment_route(error, fragment):
    profiles.save_profile("default", profiles.Profile(school_url="https://s.example", client_id="c"))
    keyring.set_keyring(BrokenKeyring(error))
    with pytest.raises(CredentialsError) as info:
        auth.resolve("default", env={})
    assert fragment in str(info.value) and "LEARNWORLDS_ACCESS_TOKEN" in str(info.value)
    with pytest.raises(CredentialsError):
        profiles.store_secret("default", SECRET)


def test_a_broken_config_file_says_where(tmp_path):
    profiles.config_path().parent.mkdir(parents=True, exist_ok=True)
    profiles.config_path().write_text("{not json")
    with pytest.raises(CredentialsError, match="not valid JSON"):
        auth.resolve("default", env={})


@pytest.mark.parametrize("url", [
    "http://[127.0.0.1]", "http://[::1", "https://school.example＃x", "https://school.example:99999",
    "https://school.example:port", "https://school.example/api?x=1", "https://school.example#frag",
    "https://user:pw@school.example", "https://school .example",
])
def test_malformed_urls_get_a_clear_error(url):
    with pytest.raises(CredentialsError, match=r"^API URL: .*give e\.g\. https://"):
        auth.normalize_url(url, "API URL")
