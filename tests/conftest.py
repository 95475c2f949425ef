"""Shared fixtures: keep every test away from the user's real config, keyring and environment."""

from __future__ import annotations

import keyring
import keyring.backend
import pytest

from learnworlds_mcp import registry

SECRET = "lw-secret-TOKEN-0xC0FFEE-do-not-print"


class DictKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend, so tests never touch the OS keyring."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.store[(service, username)]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Fresh config dir, in-memory keyring and no LEARNWORLDS_* variables for every test."""
    import os

    for name in list(os.environ):
        if name.startswith("LEARNWORLDS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LEARNWORLDS_CONFIG_DIR", str(tmp_path / "config"))
    backend = DictKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def operations():
    return registry.load()


@pytest.fixture
def anyio_backend():
    return "asyncio"
