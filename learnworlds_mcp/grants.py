"""The grant store: one SQLite file in the server's state folder holding token hashes, filters, expiry and write counts.

A token is `lwm_<id>_<secret>`: the id finds the row, and only SHA-256 of the whole token is
stored, compared in constant time. SQLite makes every change atomic across the serving process
and `grant create/revoke` run beside it, so a revocation is seen by the next request and the
write cap holds across all of a grant's sessions and concurrent calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import GrantError
from .filters import Selection
from .policy import Grant, Policy, iso

TOKEN_PREFIX = "lwm_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_MAX_CONCURRENCY = 4
MAX_TOKEN_LENGTH = 200
LAST_USE_RESOLUTION = 30.0  # seconds; last use is written at most this often, to keep requests cheap

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    methods TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    tools TEXT NOT NULL DEFAULT '[]',
    expires_at REAL,
    max_writes INTEGER,
    max_concurrency INTEGER NOT NULL,
    writes INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    last_used REAL,
    revoked_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS live_names ON grants(name) WHERE revoked_at IS NULL;
"""


class GrantRecord(BaseModel):
    """One stored grant as read back from the file (validated: the file may have been edited)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[0-9a-f]{12}$")
    name: str = Field(pattern=NAME.pattern)
    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$", repr=False)
    methods: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    expires_at: float | None = None
    max_writes: int | None = Field(default=None, ge=0)
    max_concurrency: int = Field(ge=1)
    writes: int = Field(default=0, ge=0)
    created_at: float
    last_used: float | None = None
    revoked_at: float | None = None

    @property
    def selection(self) -> Selection:
        return Selection(self.methods, self.tags, self.tools)

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (time.time() if now is None else now) >= self.expires_at

    def describe_expiry(self) -> str:
        return iso(self.expires_at) if self.expires_at is not None else "never"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _grant_id(token: str) -> str | None:
    """The row id inside a presented token, or None when it has not our shape."""
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    grant_id, sep, _ = token[len(TOKEN_PREFIX):].partition("_")
    return grant_id if sep and re.fullmatch(r"[0-9a-f]{12}", grant_id) else None


class GrantStore:
    """The grants of one server, in `<state folder>/grants.db`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise GrantError(f"{self.path} is a folder, not a grant store; move it away or set "
                             "LEARNWORLDS_STATE_DIR to another folder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            self.path.chmod(0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise GrantError(f"{self.path} is not a readable grant store ({exc}); move it away and create "
                             "the grants again") from exc
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def _record(self, row: sqlite3.Row) -> GrantRecord:
        data = dict(row)
        try:
            for key in ("methods", "tags", "tools"):
                data[key] = tuple(json.loads(data[key]))
            return GrantRecord.model_validate(data)
        except (ValueError, TypeError, ValidationError) as exc:
            raise GrantError(f"grant {data.get('name')!r} in {self.path} is malformed; revoke it and create it "
                             "again") from exc

    def create(self, name: str, selection: Selection, expires_at: float | None, max_writes: int | None,
               max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> tuple[GrantRecord, str]:
        """A new grant and its token; the token is returned here once and never stored."""
        if not NAME.match(name):
            raise GrantError(f"grant name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
                             "letter or digit")
        grant_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}{grant_id}_{secrets.token_urlsafe(32)}"
        try:
            self._db.execute(
                "INSERT INTO grants (id, name, token_hash, methods, tags, tools, expires_at, max_writes, "
                "max_concurrency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (grant_id, name, token_hash(token), json.dumps(list(selection.methods)),
                 json.dumps(list(selection.tags)), json.dumps(list(selection.tools)), expires_at, max_writes,
                 max_concurrency, time.time()))
        except sqlite3.IntegrityError:
            raise GrantError(f"a grant named {name!r} already exists; revoke it first or pick another name") from None
        return self.get(grant_id), token

    def get(self, grant_id: str) -> GrantRecord | None:
        row = self._db.execute("SELECT * FROM grants WHERE id = ?", (grant_id,)).fetchone()
        return self._record(row) if row else None

    def live(self) -> Iterator[GrantRecord]:
        """Grants not revoked, expired ones included, by name."""
        for row in self._db.execute("SELECT * FROM grants WHERE revoked_at IS NULL ORDER BY name"):
            yield self._record(row)

    def revoke(self, name: str) -> bool:
        cursor = self._db.execute("UPDATE grants SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                  (time.time(), name))
        return cursor.rowcount > 0

    def authenticate(self, token: str) -> GrantRecord | None:
        """The live, unexpired grant a bearer token stands for, or None; the hash is compared in constant time."""
        grant_id = _grant_id(token)
        record = self.get(grant_id) if grant_id else None
        if record is None or not hmac.compare_digest(record.token_hash, token_hash(token)):
            return None
        now = time.time()
        if record.revoked_at is not None or record.expired(now):
            return None
        if record.last_used is None or now - record.last_used > LAST_USE_RESOLUTION:
            self._db.execute("UPDATE grants SET last_used = ? WHERE id = ?", (now, grant_id))
        return record

    def revoked(self, grant_id: str) -> bool:
        """True once the grant is revoked (or gone): one indexed lookup, made as each of its requests leaves."""
        row = self._db.execute("SELECT revoked_at FROM grants WHERE id = ?", (grant_id,)).fetchone()
        return row is None or row[0] is not None

    def take_write(self, grant_id: str) -> bool:
        """Count one write for the grant if it is live and under its cap: one atomic statement."""
        cursor = self._db.execute(
            "UPDATE grants SET writes = writes + 1 WHERE id = ? AND revoked_at IS NULL "
            "AND (max_writes IS NULL OR writes < max_writes)", (grant_id,))
        return cursor.rowcount == 1


class StoredPolicy(Policy):
    """A grant's Policy whose write count lives in the grant store, shared by all its sessions."""

    def __init__(self, store: GrantStore, record: GrantRecord, *, dry_run: bool = False,
                 expires_at: float | None = None):
        limits = [t for t in (record.expires_at, expires_at) if t is not None]
        super().__init__(expires_at=min(limits) if limits else None, dry_run=dry_run,
                         max_writes=record.max_writes, max_concurrency=record.max_concurrency)
        self.store, self.grant_id, self.grant_name = store, record.id, record.name

    def take_write(self) -> bool:
        return self.store.take_write(self.grant_id)

    def withdrawn(self) -> str | None:
        if self.store.revoked(self.grant_id):
            return (f"Grant {self.grant_name!r} was revoked while this call was waiting to send; the request was "
                    "not sent. Ask the administrator for a new grant.")
        return None

    def cap_message(self) -> str:
        if self.max_writes is None:
            return f"Write refused: grant {self.grant_name!r} was revoked. Nothing was sent."
        return (f"Write refused: grant {self.grant_name!r} allows {self.max_writes} write(s) in all and they "
                "were used, or the grant was revoked. Nothing was sent; ask the administrator for a new grant "
                "if more changes are intended.")


def grant_for(store: GrantStore, record: GrantRecord, *, dry_run: bool = False,
              expires_at: float | None = None) -> Grant:
    """The Grant a stored record stands for."""
    return Grant(record.name, record.selection, StoredPolicy(store, record, dry_run=dry_run, expires_at=expires_at))
