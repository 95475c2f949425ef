"""The rate budget of one school, shared by every process on this machine that calls it.

LearnWorlds counts requests per school, not per process: three `serve` processes (three host
windows) that each keep 30 per 10 s send 90. So the send log lives in a small file under the
user's state folder, one file per school (API URL + client id): a fixed-size ring of the latest
sends, read and updated in place under an exclusive `fcntl.flock`. Before each request a process reserves a slot in that log, waiting while
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

SLOTS = 1024  # the ring's size: room for two windows of any budget up to 512 sends per window
MAGIC = b"LWMCPBG1"
_HEAD = struct.Struct("<8sq")   # magic, sends so far
_SLOT = struct.Struct("<qd")    # send number, time (Unix seconds)


def budget_path(api_url: str, client_id: str) -> Path:
    """One file per school: the same API URL and client id share one budget."""
    key = hashlib.sha256(f"{api_url.rstrip('/')}\0{client_id}".encode()).hexdigest()[:20]
    return profiles.state_dir() / "budgets" / f"{key}.ring"


def budget_for(api_url: str, client_id: str, limit: int, window: float) -> RateLimiter | SharedBudget:
    """The shared budget for this school where the platform can lock files, else a per-process one."""
    if fcntl is None or limit > SLOTS // 2:  # a budget that large is no real school's (30 per 10 s)
        return RateLimiter(limit, window)
    return SharedBudget(budget_path(api_url, client_id), limit, window)


class SharedBudget:
    """A sliding window of sends kept in a locked file; same interface as `limiter.RateLimiter`."""

    def __init__(self, path: Path, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.time):
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        if limit > SLOTS // 2:
            raise ValueError(f"a shared budget keeps at most {SLOTS // 2} sends per window; use RateLimiter")
        self.path, self.limit, self.window, self.clock = Path(path), limit, window, clock
        self._queue = asyncio.Lock()  # this process's waiters take turns at the file, in arrival order
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)

    @contextmanager
    def _log(self) -> Iterator[_Ring]:
        """The send ring, locked for the block; what the block changed is written back in place."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            ring = _Ring.read(fd, 2 * self.limit)
            yield ring
            ring.write(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _reserve(self) -> tuple[int | None, float]:
        with self._log() as ring:
            now = self.clock()
            live = ring.live(now, self.window)
            if len(live) < self.limit:
                return ring.add(now), 0.0
            return None, _wait(live, self.limit, self.window, now)

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
        with self._log() as ring:
            ring.move(ticket, self.clock())

    def penalize(self) -> None:
        """After a 429, the window is full for a whole window, for every process using this school."""
        with self._log() as ring:
            now = self.clock()
            for _ in range(self.limit):
                ring.add(now)

    def seconds_until_free(self) -> float:
        with self._log() as ring:
            now = self.clock()
            return _wait(ring.live(now, self.window), self.limit, self.window, now)

    def headers(self) -> dict[str, int]:
        with self._log() as ring:
            now = self.clock()
            live = ring.live(now, self.window)
            wait = _wait(live, self.limit, self.window, now)
            return {"ratelimit-limit": self.limit, "ratelimit-remaining": max(self.limit - len(live), 0),
                    "ratelimit-reset": math.ceil(wait)}


class _Ring:
    """The file's content: a count of sends so far and the last SLOTS sends as (number, time).

    Fixed size and binary, so a request reads and rewrites a few hundred bytes in place: no
    parsing of a growing log, and no truncation (ftruncate costs milliseconds on ext4).
    Only the newest `depth` slots are read; a send older than that cannot still be in a window
    that holds at most `limit` = depth / 2 sends.
    """

    def __init__(self, count: int, slots: dict[int, float], depth: int):
        self.count, self.slots, self.depth = count, slots, depth
        self.changed: set[int] = set()

    @classmethod
    def read(cls, fd: int, depth: int) -> _Ring:
        """The ring in the file; a missing, damaged or foreign file reads as empty (worst case: a 429)."""
        head = os.pread(fd, _HEAD.size, 0)
        if len(head) != _HEAD.size:
            return cls(0, {}, depth)
        magic, count = _HEAD.unpack(head)
        if magic != MAGIC or not 0 <= count < 2 ** 62:
            return cls(0, {}, depth)
        slots: dict[int, float] = {}
        first = max(count - depth, 0)
        for start, end in _spans(first, count):  # at most two reads: the ring may wrap
            raw = os.pread(fd, (end - start) * _SLOT.size, _offset(start))
            for number, (stored, at) in zip(range(start, end), _SLOT.iter_unpack(raw[:len(raw) - len(raw) % _SLOT.size])):
                if stored == number and math.isfinite(at):
                    slots[number] = at
        return cls(count, slots, depth)

    def live(self, now: float, window: float) -> list[float]:
        """Times of the sends still in the window, oldest first; ones from the future (a clock that
        jumped back, or a forged file) are dropped, as they would block forever."""
        return sorted(at for at in self.slots.values() if now - window < at <= now + 1.0)

    def add(self, now: float) -> int:
        number = self.count
        self.slots[number] = now
        self.changed.add(number)
        self.count += 1
        return number

    def move(self, number: int, now: float) -> None:
        if number in self.slots:
            self.slots[number] = now
            self.changed.add(number)

    def write(self, fd: int) -> None:
        if not self.changed:
            return
        for number in self.changed:
            os.pwrite(fd, _SLOT.pack(number, self.slots[number]), _offset(number))
        os.pwrite(fd, _HEAD.pack(MAGIC, self.count), 0)


def _offset(number: int) -> int:
    return _HEAD.size + (number % SLOTS) * _SLOT.size


def _spans(first: int, end: int) -> list[tuple[int, int]]:
    """Send numbers [first, end) as runs that are contiguous in the file."""
    spans = []
    while first < end:
        stop = min(end, first - first % SLOTS + SLOTS)
        spans.append((first, stop))
        first = stop
    return spans


def _wait(live: list[float], limit: int, window: float, now: float) -> float:
    if len(live) < limit:
        return 0.0
    return max(0.0, live[len(live) - limit] + window - now)
