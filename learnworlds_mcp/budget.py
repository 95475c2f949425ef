"""The rate budget of one school, shared by every process on this machine that calls it.

LearnWorlds counts requests per school, not per process: three `serve` processes (three host
windows) that each keep 30 per 10 s send 90. So the send log lives in a small JSON file under the
user's state folder, one file per school (API URL + client id), read and rewritten under an
exclusive `fcntl.flock`. Before each request a process reserves a slot in that log, waiting while
the window is full; when the answer arrives it moves its slot to that moment (the school has
surely seen the request by then). Where `fcntl` is missing (Windows) the budget is per process.

The files live in `budgets/` under the state folder: LEARNWORLDS_STATE_DIR, else the config folder
(profiles.state_dir, where the grant store also lives).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from . import limiter, profiles
from .limiter import RateLimiter

try:
    import fcntl
except ImportError:  # Windows: no flock; each process keeps its own budget
    fcntl = None  # type: ignore[assignment]

MAX_FILE_BYTES = 256 * 1024  # a full log of 1,000 slots is ~40 KB; anything larger is not ours


def budget_path(api_url: str, client_id: str) -> Path:
    """One file per school: the same API URL and client id share one budget."""
    key = hashlib.sha256(f"{api_url.rstrip('/')}\0{client_id}".encode()).hexdigest()[:20]
    return profiles.state_dir() / "budgets" / f"{key}.json"


def budget_for(api_url: str, client_id: str, limit: int, window: float) -> RateLimiter | SharedBudget:
    """The shared budget for this school where the platform can lock files, else a per-process one."""
    if fcntl is None:
        return RateLimiter(limit, window)
    return SharedBudget(budget_path(api_url, client_id), limit, window)


class SharedBudget:
    """A sliding window of sends kept in a locked file; same interface as `limiter.RateLimiter`."""

    def __init__(self, path: Path, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.time):
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        self.path, self.limit, self.window, self.clock = Path(path), limit, window, clock
        self._queue = asyncio.Lock()  # this process's waiters take turns at the file, in arrival order

    @contextmanager
    def _log(self) -> Iterator[list[list]]:
        """The send log, [[ticket, time], ...] in time order, locked for the block and written back after."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            sent = _read(fd, self.clock(), self.window)
            yield sent
            data = json.dumps({"sent": sent}, separators=(",", ":")).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)  # closing drops the lock

    def _reserve(self) -> tuple[str | None, float]:
        with self._log() as sent:
            if len(sent) < self.limit:
                ticket = secrets.token_hex(6)
                sent.append([ticket, self.clock()])
                return ticket, 0.0
            return None, _wait(sent, self.limit, self.window, self.clock())

    async def acquire(self) -> str:
        """Wait until the school's window (across processes) has room, reserve a slot, return its ticket."""
        async with self._queue:
            while True:
                ticket, wait = self._reserve()
                if ticket is not None:
                    return ticket
                await limiter.sleep(wait)

    def settle(self, ticket: str) -> None:
        """Move the slot to now, when the answer is in: the school saw the request before it answered."""
        with self._log() as sent:
            for entry in sent:
                if entry[0] == ticket:
                    sent.remove(entry)
                    sent.append([ticket, self.clock()])
                    break

    def penalize(self) -> None:
        """After a 429, the window is full for every process using this school."""
        with self._log() as sent:
            now = self.clock()
            sent.extend([["429", now]] * (self.limit - len(sent)))

    def seconds_until_free(self) -> float:
        with self._log() as sent:
            return _wait(sent, self.limit, self.window, self.clock())

    def headers(self) -> dict[str, int]:
        with self._log() as sent:
            wait = _wait(sent, self.limit, self.window, self.clock())
            return {"ratelimit-limit": self.limit, "ratelimit-remaining": max(self.limit - len(sent), 0),
                    "ratelimit-reset": math.ceil(wait)}


def _read(fd: int, now: float, window: float) -> list[list]:
    """The live entries of the log; a damaged or foreign file counts as empty (the worst case is a 429)."""
    raw = os.pread(fd, MAX_FILE_BYTES + 1, 0)
    try:
        sent = json.loads(raw)["sent"] if 0 < len(raw) <= MAX_FILE_BYTES else []
        entries = [[str(t), float(at)] for t, at in sent]
    except (ValueError, TypeError, KeyError, RecursionError):
        return []
    # Entries from the future are a clock that jumped back (or a forged file): they would block forever.
    live = [e for e in entries if now - window < e[1] <= now + 1.0]
    live.sort(key=lambda e: e[1])
    return live


def _wait(sent: list[list], limit: int, window: float, now: float) -> float:
    if len(sent) < limit:
        return 0.0
    return max(0.0, sent[len(sent) - limit][1] + window - now)
