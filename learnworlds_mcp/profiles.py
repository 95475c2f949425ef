"""Stored profiles: non-secret settings and restrictions in a validated JSON config file, the secret in the OS keyring.

One profile per school. The config file never holds a secret; the keyring entry is named
`learnworlds-mcp` / `<profile>`. A profile may carry restrictions (methods, tags, tools, expiry)
that every command using it applies; flags can narrow them, never widen them. They guard
against a model's mistakes, not against whoever holds the credentials: the real boundary is
a team server the grantee does not run (`serve --transport http` with grants).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, CredentialsError, SelectionError

if TYPE_CHECKING:
    from .filters import Selection
    from .registry import Operation

KEYRING_SERVICE = "learnworlds-mcp"
SECRET_KINDS = ("access_token", "client_secret")
MAX_CONFIG_BYTES = 1024 * 1024
ENV_ROUTE = (
    "set LEARNWORLDS_SCHOOL_URL, LEARNWORLDS_CLIENT_ID and LEARNWORLDS_ACCESS_TOKEN "
    "(or LEARNWORLDS_CLIENT_SECRET) in the server's environment instead"
)
_Names = tuple[str, ...]


class Profile(BaseModel):
    """The non-secret half of a school's settings, and the restrictions every command using it applies."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    school_url: str = Field(min_length=1, max_length=2000)
    client_id: str = Field(min_length=1, max_length=500)
    secret_kind: Literal["access_token", "client_secret"] = "access_token"
    api_url: str | None = Field(default=None, max_length=2000)
    expires_at: float | None = Field(default=None, strict=True, description="Unix seconds")
    methods: _Names = Field(default=(), max_length=50)
    tags: _Names = Field(default=(), max_length=200)
    tools: _Names = Field(default=(), max_length=500)

    @property
    def restriction(self) -> Selection:
        from .filters import Selection

        return Selection(self.methods, self.tags, self.tools)

    @property
    def restricted(self) -> bool:
        return bool(self.methods or self.tags or self.tools)


class Config(BaseModel):
    """The whole config.json."""

    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, Profile] = Field(default_factory=dict)


def config_dir() -> Path:
    """Where the config file lives: LEARNWORLDS_CONFIG_DIR, else the platform's config folder (via Typer/click)."""
    if override := os.environ.get("LEARNWORLDS_CONFIG_DIR"):
        return Path(override)
    import typer

    return Path(typer.get_app_dir("learnworlds-mcp"))


def state_dir() -> Path:
    """Where a server keeps its state (the grant store): LEARNWORLDS_STATE_DIR, else the config folder."""
    if override := os.environ.get("LEARNWORLDS_STATE_DIR"):
        return Path(override)
    return config_dir()


def config_path() -> Path:
    return config_dir() / "config.json"


_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it (valid fields: {fields})",
    "float_type": "give Unix seconds as a number, e.g. 1767225600 (or run `learnworlds-mcp auth login --ttl 8h` again)",
    "dict_type": "it must be an object mapping profile names to settings, e.g. {{\"default\": {{...}}}}",
    "model_type": "it must be an object of settings",
    "literal_error": "use access_token or client_secret",
}


def _explain(path: Path, exc: ValidationError) -> str:
    """Each invalid field of config.json, named by its path, with the fix."""
    fields = ", ".join(Profile.model_fields)
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        fix = _FIXES.get(error["type"], "correct it").format(fields=fields)
        parts.append(f"{where}: {error['msg'].lower()}; {fix}")
    return (f"{path} is not a valid config file: " + "; ".join(parts)
            + ". Fix it in an editor, or delete it and run `learnworlds-mcp auth login` again")


def read_config() -> Config:
    """config.json, validated; ConfigError naming the field and the fix. A missing file is an empty config."""
    path = config_path()
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a config file; move it away (or set LEARNWORLDS_CONFIG_DIR "
                          "to another folder) and run `learnworlds-mcp auth login`")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror or exc}); check its permissions") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes, which no config needs; fix or delete it")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({str(exc)[:200]}); fix or delete it, then run "
                          "`learnworlds-mcp auth login`") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(path, exc)) from None


def _write_config(config: Config) -> None:
    """Write the config atomically and owner-only, so a crash never leaves half a file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"profiles": {name: profile.model_dump(exclude_none=True, exclude_defaults=False)
                            for name, profile in config.profiles.items()}}
    for entry in payload["profiles"].values():
        for key in ("methods", "tags", "tools"):
            if not entry.get(key):
                entry.pop(key, None)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_profile(name: str) -> Profile | None:
    return read_config().profiles.get(name)


def save_profile(name: str, profile: Profile) -> None:
    config = read_config()
    config.profiles[name] = Profile.model_validate(profile.model_dump())
    _write_config(config)


def delete_profile(name: str) -> bool:
    config = read_config()
    if name not in config.profiles:
        return False
    del config.profiles[name]
    _write_config(config)
    return True


def restrict(operations: list[Operation], profile: str) -> list[Operation]:
    """The operations a profile's stored restrictions allow (all, when it has none); flags then narrow further.

    SelectionError when the restrictions name something unknown or leave nothing.
    """
    stored = read_profile(profile)
    if stored is None or not stored.restricted:
        return operations
    from .filters import select

    try:
        return select(operations, stored.restriction)
    except SelectionError as exc:
        raise SelectionError(f"profile {profile!r} restricts tools to {stored.restriction.describe()}: {exc}") from None


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
