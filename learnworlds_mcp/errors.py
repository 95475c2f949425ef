"""The exceptions learnworlds-mcp raises, under one base class.

    LearnWorldsMCPError
    ├── RegistryError      a bundled operation file is malformed (a bug in the package data)
    ├── SelectionError     a filter names an unknown method, tag or tool, or selects nothing
    ├── CredentialsError   nothing configured, no keyring backend, an expired profile, ...
    │   └── ConfigError    config.json of the wrong shape (names the field and the fix; exit 2)
    ├── ArgumentError      tool arguments that break the tool's input schema
    ├── PolicyError        a call refused by the run's own rules (expiry, write cap); nothing was sent
    ├── PromptError        an unknown prompt, or a prompt argument of the wrong form
    ├── HostError          a host's config cannot be read or written safely
    ├── GrantError         a grant name, store or option that cannot be used
    └── ApiError           LearnWorlds (or the network) answered with a failure

Every message says what is wrong and how to fix it, and never contains a secret.
"""

from __future__ import annotations


class LearnWorldsMCPError(Exception):
    """Base class of every error this package raises on purpose."""


class RegistryError(LearnWorldsMCPError):
    """A bundled operation file cannot become a tool."""


class SelectionError(LearnWorldsMCPError):
    """The tool filters are invalid or leave no tool."""


class CredentialsError(LearnWorldsMCPError):
    """Credentials are missing, unusable or expired."""


class ConfigError(CredentialsError):
    """config.json cannot be used as it is: not JSON, the wrong shape, a folder; nothing was written."""


class ArgumentError(LearnWorldsMCPError):
    """Tool arguments do not match the tool's input schema."""


class PolicyError(LearnWorldsMCPError):
    """A call refused by the server's own rules (expired access, write cap); nothing was sent."""


class PromptError(LearnWorldsMCPError):
    """An unknown prompt name, or a prompt argument that breaks its expected form."""


class HostError(LearnWorldsMCPError):
    """A host's config cannot be read or written safely, or the entry would be unsafe."""


class GrantError(LearnWorldsMCPError):
    """A grant cannot be created, read or served (bad name, duplicate, unreadable store)."""


class ApiError(LearnWorldsMCPError):
    """A request to LearnWorlds failed; carries what the model needs to react."""

    def __init__(self, message: str, *, status: int | None = None, details: dict | None = None,
                 method: str | None = None, path: str | None = None):
        super().__init__(message)
        self.status = status
        self.details = details or {}
        self.method, self.path = method, path  # the request that failed, for logs and the audit
        self.answer_lost = False  # sent, but no whole answer came back: the school may have acted

    @property
    def outcome_unknown(self) -> bool:
        """True when a write may or may not have happened: its answer was lost after it was sent."""
        return self.details.get("outcome") == "unknown"
