"""The rate budget of one school, shared by every process on this machine that calls it.

LearnWorlds counts requests per school, not per process: three `serve` processes (three host
windows) that each keep 30 per 10 s send 90. So the send log lives in a small binary file under the
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
import math
import os
import secrets
import struct
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

# The file: a header (magic, entry count), then per request its ticket and send time, fixed-size and
# binary, because a JSON log costs milliseconds to parse and write at every request once it is long.
MAGIC = b"LWB1"
HEADER, RECORD = struct.Struct("<4sI"), struct.Struct("<Qd")
MAX_FILE_BYTES = 1024 * 1024  # 65,000 slots; anything larger is not ours


def budget_path(api_url: str, client_id: str) -> Path:
    """One file per school: the same API URL and client id share one budget."""
    key = hashlib.sha256(f"{api_url.rstrip('/')}\0{client_id}".encode()).hexdigest()[:20]
    return profiles.state_dir() / "budgets" / f"{key}.bin"


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
        self._folder_made = False

    @contextmanager
    def _log(self) -> Iterator[list[tuple[int, float]]]:
        """The send log, [(ticket, time), ...] in time order, locked for the block and written back after."""
        if not self._folder_made:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._folder_made = True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            sent = _read(fd, self.clock(), self.window)
            yield sent
            data = HEADER.pack(MAGIC, len(sent)) + b"".join(RECORD.pack(*entry) for entry in sent)
            # Truncating costs milliseconds on some file systems (ext4 frees blocks in its journal), so a
            # shorter log leaves the old bytes after its count; only a far shorter one truncates.
            if size - len(data) > 64 * 1024:
                os.ftruncate(fd, len(data))
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)  # closing drops the lock

    def _reserve(self) -> tuple[int | None, float]:
        with self._log() as sent:
            if len(sent) < self.limit:
                ticket = secrets.randbits(63) | 1  # 0 marks the slots a 429 filled
                sent.append((ticket, self.clock()))
                return ticket, 0.0
            return None, _wait(sent, self.limit, self.window, self.clock())

    async def acquire(self) -> int:
        """Wait until the school's window (across processes) has room, reserve a slot, return its ticket."""
        async with self._queue:
            while True:
                ticket, wait = self._reserve()
                if ticket is not None:
                    return ticket
                await limiter.sleep(wait)

    def settle(self, ticket: int) -> None:
        """Move the slot to now, when the answer is in: the school saw the request before it answered."""
        with self._log() as sent:
            for entry in sent:
                if entry[0] == ticket:
                    sent.remove(entry)
                    sent.append((ticket, self.clock()))
                    break

    def penalize(self) -> None:
        """After a 429, the window is full for a whole window, for every process using this school."""
        with self._log() as sent:
            sent.extend([(0, self.clock())] * self.limit)

    def seconds_until_free(self) -> float:
        with self._log() as sent:
            return _wait(sent, self.limit, self.window, self.clock())

    def headers(self) -> dict[str, int]:
        with self._log() as sent:
            wait = _wait(sent, self.limit, self.window, self.clock())
            return {"ratelimit-limit": self.limit, "ratelimit-remaining": max(self.limit - len(sent), 0),
                    "ratelimit-reset": math.ceil(wait)}


def _read(fd: int, now: float, window: float) -> list[tuple[int, float]]:
    """The live entries of the log; a damaged or foreign file counts as empty (the worst case is a 429)."""
    raw = os.pread(fd, MAX_FILE_BYTES + 1, 0)
    if len(raw) < HEADER.size or len(raw) > MAX_FILE_BYTES:
        return []
    magic, count = HEADER.unpack_from(raw)
    end = HEADER.size + count * RECORD.size
    if magic != MAGIC or end > len(raw):
        return []
    # Entries from the future are a clock that jumped back (or a forged file): they would block forever.
    live = [e for e in RECORD.iter_unpack(raw[HEADER.size:end]) if now - window < e[1] <= now + 1.0]
    live.sort(key=lambda e: e[1])
    return live


def _wait(sent: list[tuple[int, float]], limit: int, window: float, now: float) -> float:
    if len(sent) < limit:
        return 0.0
    return max(0.0, sent[len(sent) - limit][1] + window - now)
