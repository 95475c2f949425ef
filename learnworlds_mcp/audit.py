"""The audit log: JSON lines, owner-only, appended safely by concurrent calls.

Each call leaves an `outcome` record; a write also leaves an `intent` record, on disk before the
request leaves, with the same `call_id`. An intent without an outcome is a write that may have
reached the school while the process was stopped.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

_SENSITIVE = ("password", "secret", "token", "authorization")


def redact(arguments: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Arguments with sensitive-looking keys and any known secret value masked."""
    if isinstance(arguments, dict):
        return {k: "***" if any(s in k.lower() for s in _SENSITIVE) else redact(v, secrets)
                for k, v in arguments.items()}
    if isinstance(arguments, list):
        return [redact(v, secrets) for v in arguments]
    if isinstance(arguments, str):
        for secret in secrets:
            if secret and secret in arguments:
                arguments = arguments.replace(secret, "***")
    return arguments


class AuditLog:
    """Appends records to a file created with mode 0600; each record is one write of one line."""

    def __init__(self, path: str | Path, secrets: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()):
        """`secrets` may be a function, read at each record: tokens obtained later are masked too."""
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND makes each single write land whole at the end, even from several calls at once.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._secrets = secrets
        self._fixed: dict[str, Any] = {}

    def bind(self, **fixed: Any) -> AuditLog:
        """The same log, with `fixed` fields (such as the grant's name) on every record it writes."""
        view = copy.copy(self)
        view._fixed = {**self._fixed, **fixed}
        return view

    def intent(self, **fields: Any) -> None:
        """The record of a write about to be sent, forced to disk before the request leaves."""
        self.record(event="intent", **fields)
        os.fsync(self._fd)

    def record(self, **fields: Any) -> None:
        """Append one record; any keyword fields go in as they are (arguments are redacted)."""
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **self._fixed, **fields}
        secrets = self._secrets() if callable(self._secrets) else self._secrets
        if "arguments" in entry:
            entry["arguments"] = redact(entry["arguments"], secrets)
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str)
        for secret in secrets:
            if secret:
                line = line.replace(secret, "***")
        os.write(self._fd, (line + "\n").encode())

    def close(self) -> None:
        os.close(self._fd)
