"""Stored profiles: non-secret settings in a JSON config file, the secret in the OS keyring.

One profile per school. The config file never holds a secret; the keyring entry is named
`learnworlds-mcp` / `<profile>`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import CredentialsError

KEYRING_SERVICE = "learnworlds-mcp"
SECRET_KINDS = ("access_token", "client_secret")
ENV_ROUTE = (
    "set LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID and LEARNWORLDS_ACCESS_TOKEN "
    "(or LEARNWORLDS_CLIENT_SECRET) in the server's environment instead"
)


@dataclass
class Profile:
    """The non-secret half of a school's settings."""

    school_url: str
    client_id: str
    secret_kind: str = "access_token"
    api_url: str | None = None
    expires_at: float | None = None


def config_dir() -> Path:
    """Where the config file lives: LEARNWORLDS_CONFIG_DIR, else the platform's config folder."""
    if override := os.environ.get("LEARNWORLDS_CONFIG_DIR"):
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "learnworlds-mcp"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "learnworlds-mcp"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "learnworlds-mcp"


def state_dir() -> Path:
    """Where a server keeps its state (the grant store): LEARNWORLDS_STATE_DIR, else the config folder."""
    if override := os.environ.get("LEARNWORLDS_STATE_DIR"):
        return Path(override)
    return config_dir()


def config_path() -> Path:
    return config_dir() / "config.json"


def _read_all() -> dict[str, dict]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("profiles", {})
    except (ValueError, AttributeError) as exc:
        raise CredentialsError(
            f"{path} is not valid JSON ({exc}); fix or delete it, then run `learnworlds-mcp auth login`"
        ) from exc


def _write_all(profiles: dict[str, dict]) -> None:
    """Write the config atomically and owner-only, so a crash never leaves half a file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"profiles": profiles}, handle, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_profile(name: str) -> Profile | None:
    raw = _read_all().get(name)
    return Profile(**raw) if raw else None


def save_profile(name: str, profile: Profile) -> None:
    profiles = _read_all()
    profiles[name] = {k: v for k, v in asdict(profile).items() if v is not None}
    _write_all(profiles)


def delete_profile(name: str) -> bool:
    profiles = _read_all()
    if name not in profiles:
        return False
    del profiles[name]
    _write_all(profiles)
    return True


def _keyring_call(action: str, func, *args):
    """Run a keyring function, turning every backend failure into one clear CredentialsError."""
    import keyring
    import keyring.errors

    try:
        return func(*args)
    except keyring.errors.NoKeyringError as exc:
        raise CredentialsError(f"no OS keyring backend is available to {action}; {ENV_ROUTE}") from exc
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            f"the OS keyring failed to {action} ({type(exc).__name__}; is it locked?); unlock it and "
            f"try again, or {ENV_ROUTE}"
        ) from exc
    except Exception as exc:  # third-party backends raise anything (dbus, secretstorage...)
        raise CredentialsError(
            f"the OS keyring failed to {action} ({type(exc).__name__}); {ENV_ROUTE}"
        ) from exc


def read_secret(name: str) -> str | None:
    import keyring

    return _keyring_call("read the secret", keyring.get_password, KEYRING_SERVICE, name)


def store_secret(name: str, secret: str) -> None:
    import keyring

    _keyring_call("store the secret", keyring.set_password, KEYRING_SERVICE, name, secret)


def delete_secret(name: str) -> bool:
    import keyring
    import keyring.errors

    try:
        _keyring_call("delete the secret", keyring.delete_password, KEYRING_SERVICE, name)
    except CredentialsError as exc:
        if isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
            return False
        raise
    return True
