"""`auth` for a newcomer: check the keyring before asking, refuse bad input before storing, status never fails."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest
from typer.testing import CliRunner

from learnworlds_mcp import profiles
from learnworlds_mcp.cli import app
from tests.conftest import SECRET

runner = CliRunner()
SETTINGS = ("school_url", "client_id", "api_url", "secret")


def run(*args, input=None, env=None):
    return runner.invoke(app, list(args), input=input, env=env)


def test_login_checks_the_keyring_before_prompting_for_the_secret():
    keyring.set_keyring(keyring.backends.fail.Keyring())
    result = run("auth", "login", "--school-url", "https://s.example", "--client-id", "c", input=SECRET + "\n")
    assert result.exit_code == 1 and "no OS keyring backend" in result.output
    assert "input hidden" not in result.output and not profiles.config_path().exists()


@pytest.mark.parametrize("no_backend", [False, True])
def test_status_on_a_fresh_machine_lists_every_setting_as_unset_and_where_it_could_come_from(no_backend):
    if no_backend:
        keyring.set_keyring(keyring.backends.fail.Keyring())
    result = run("auth", "status")
    assert result.exit_code == 0, result.output
    rows = {line.split(":", 1)[0]: line for line in result.output.splitlines()}
    for setting in SETTINGS:
        assert "unset" in rows[setting], rows
    assert "LEARNWORLDS_SCHOOL_URL" in rows["school_url"] and "LEARNWORLDS_CLIENT_ID" in rows["client_id"]
    assert "LEARNWORLDS_API_URL" in rows["api_url"] and "LEARNWORLDS_ACCESS_TOKEN" in rows["secret"]


def test_status_shows_what_is_set_beside_what_is_not(monkeypatch):
    monkeypatch.setenv("LEARNWORLDS_CLIENT_ID", "client-9")
    result = run("auth", "status")
    assert result.exit_code == 0
    assert "client_id:  client-9  [environment (LEARNWORLDS_CLIENT_ID)]" in result.output
    assert "school_url: unset" in result.output


@pytest.mark.parametrize("url", ["not a url", "https://not a url", "https://exa mple.com", "https://ex_ample.com/"])
def test_a_school_url_that_is_not_a_url_is_refused_before_anything_is_stored_or_asked(url, isolated):
    result = run("auth", "login", "--school-url", url, "--client-id", "c", input=SECRET + "\n")
    assert result.exit_code == 2 and "--school-url" in result.output and "e.g. https://myschool" in result.output
    assert "input hidden" not in result.output
    assert isolated.store == {} and not profiles.config_path().exists()


@pytest.mark.parametrize("given, missing", [([], "--school-url and --client-id"),
                                            (["--client-id", "c"], "--school-url"),
                                            (["--school-url", "https://s.example"], "--client-id")])
def test_secret_stdin_without_the_other_settings_is_refused_naming_the_flags(given, missing, isolated):
    result = run("auth", "login", "--secret-stdin", *given, input=SECRET + "\n")
    assert result.exit_code == 2 and f"give {missing} on the command line too" in result.output
    assert isolated.store == {} and not profiles.config_path().exists() and "School URL" not in result.output


def test_doctor_sandbox_does_not_call_its_own_settings_the_users_environment():
    result = run("doctor", "--sandbox", "--methods", "read")
    assert result.exit_code == 0, result.output
    assert "environment (" not in result.output
    assert "[--sandbox school (LEARNWORLDS_ACCESS_TOKEN)]" in result.output
