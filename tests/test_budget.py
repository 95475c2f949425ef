"""The rate budget shared by processes that call one school: a locked file of send slots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from learnworlds_mcp import budget, limiter
from learnworlds_mcp.budget import SharedBudget, budget_for, budget_path
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

pytestmark = pytest.mark.skipif(budget.fcntl is None, reason="the shared budget needs fcntl (not on Windows)")


def test_one_file_per_school_under_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNWORLDS_STATE_DIR", str(tmp_path / "state"))
    a = budget_path("https://a.example/admin/api", "client-1")
    assert a == budget_path("https://a.example/admin/api/", "client-1")
    assert a != budget_path("https://a.example/admin/api", "client-2")
    assert a != budget_path("https://b.example/admin/api", "client-1")
    assert a.parent == tmp_path / "state" / "budgets"
    assert isinstance(budget_for("https://a.example/admin/api", "client-1", 30, 10.0), SharedBudget)


@pytest.mark.anyio
async def test_two_budgets_on_one_file_share_the_window(tmp_path):
    path = tmp_path / "b.ring"
    first, second = SharedBudget(path, limit=3, window=60.0), SharedBudget(path, limit=3, window=60.0)
    await first.acquire()
    await first.acquire()
    await second.acquire()
    assert second.headers()["ratelimit-remaining"] == 0 and first.seconds_until_free() > 59
    assert (path.stat().st_mode & 0o777) == 0o600


@pytest.mark.anyio
async def test_a_429_fills_the_window_for_everyone(tmp_path):
    path = tmp_path / "b.ring"
    one, other = SharedBudget(path, limit=30, window=10.0), SharedBudget(path, limit=30, window=10.0)
    await one.acquire()
    one.penalize()
    facts = other.headers()
    assert facts["ratelimit-remaining"] == 0 and facts["ratelimit-reset"] == 10


@pytest.mark.anyio
async def test_settle_counts_a_slot_from_when_the_answer_came(tmp_path):
    now = [1000.0]
    shared = SharedBudget(tmp_path / "b.ring", limit=1, window=10.0, clock=lambda: now[0])
    ticket = await shared.acquire()
    now[0] += 4  # the answer took 4 s
    shared.settle(ticket)
    assert shared.seconds_until_free() == pytest.approx(10.0)


def _ring(count: int, slots: list[tuple[int, float]]) -> bytes:
    """A budget file with `count` sends so far and the given (number, time) slots."""
    data = bytearray(budget._HEAD.pack(budget.MAGIC, count) + bytes(budget.SLOTS * budget._SLOT.size))
    for number, at in slots:
        budget._SLOT.pack_into(data, budget._offset(number), number, at)
    return bytes(data)


@pytest.mark.parametrize("content", [
    b"not a budget", b'{"sent": [["x", 1.0]]}', b"[" * 100_000, b"\xff" * 5,
    _ring(2 ** 63 - 1, []),                                   # a count that would overflow
    _ring(2, [(0, float("nan")), (1, float("inf"))]),          # times that are not numbers
    _ring(2, [(0, 1e12), (1, 1e12)]),                          # sends from the far future
    _ring(2, [(7, time.time()), (9, time.time())]),            # slots whose numbers do not match
])
@pytest.mark.anyio
async def test_a_damaged_or_forged_file_counts_as_empty(tmp_path, content):
    path = tmp_path / "b.ring"
    path.write_bytes(content)
    shared = SharedBudget(path, limit=2, window=10.0)
    assert shared.headers()["ratelimit-remaining"] == 2
    await shared.acquire()
    assert shared.headers()["ratelimit-remaining"] == 1
    assert SharedBudget(path, limit=2, window=10.0).headers()["ratelimit-remaining"] == 1


@pytest.mark.anyio
async def test_the_ring_wraps_and_keeps_counting_the_window(tmp_path):
    """Past SLOTS sends the ring reuses its slots; the window still sees exactly the recent sends."""
    now = [1000.0]
    shared = SharedBudget(tmp_path / "b.ring", limit=3, window=10.0, clock=lambda: now[0])
    for _ in range(budget.SLOTS + 5):
        now[0] += 6.0  # slower than 3 per 10 s: never waits
        assert shared._reserve()[0] is not None
    assert shared.headers()["ratelimit-remaining"] == 1  # sends at now and now-6 are in the window
    assert (tmp_path / "b.ring").stat().st_size == budget._HEAD.size + budget.SLOTS * budget._SLOT.size


@pytest.mark.anyio
async def test_a_shrinking_log_keeps_its_count_right(tmp_path):
    now = [1000.0]
    shared = SharedBudget(tmp_path / "b.ring", limit=50, window=10.0, clock=lambda: now[0])
    for _ in range(40):
        await shared.acquire()
    now[0] += 11  # all forty age out
    await shared.acquire()
    assert shared.headers()["ratelimit-remaining"] == 49


def test_budgets_beyond_the_ring_stay_in_process():
    assert isinstance(budget_for("https://a.example/admin/api", "c", budget.SLOTS, 10.0), limiter.RateLimiter)


@pytest.mark.anyio
async def test_waiters_in_one_process_sleep_until_the_shared_window_frees(tmp_path, monkeypatch):
    now = [1000.0]
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(limiter, "sleep", sleep)
    shared = SharedBudget(tmp_path / "b.ring", limit=2, window=10.0, clock=lambda: now[0])
    for _ in range(5):
        await shared.acquire()
    assert slept == [10.0, 10.0] and now[0] == 1020.0


WORKER = textwrap.dedent("""
    import asyncio, json, sys
    from learnworlds_mcp.auth import Credentials
    from learnworlds_mcp.budget import budget_for
    from learnworlds_mcp.client import LearnWorldsClient
    from learnworlds_mcp.errors import ApiError

    api_url, client_id, token, window, count = sys.argv[1:6]
    creds = Credentials(api_url=api_url, client_id=client_id, access_token=token)
    client = LearnWorldsClient(creds, limiter=budget_for(api_url, client_id, 30, float(window)), max_retries=0)

    async def one():
        try:
            await client.send("GET", "/v2/user-roles")
            return "ok"
        except ApiError as exc:
            return f"error {exc.status}"

    async def main():
        try:
            return await asyncio.gather(*(one() for _ in range(int(count))))
        finally:
            await client.aclose()

    print(json.dumps(asyncio.run(main())))
""")


@pytest.mark.subprocess
def test_three_processes_share_one_schools_budget_without_a_429(tmp_path):
    """The school's clock runs 10x fast (its 10 s window lasts 1 s) and the processes keep a 1.05 s window."""
    start = time.monotonic()
    with start_sandbox(port=0, users=20, rate_limit=True, clock=lambda: (time.monotonic() - start) * 10) as sandbox:
        env = dict(os.environ, LEARNWORLDS_STATE_DIR=str(tmp_path / "state"))
        args = [sandbox.api_url, SANDBOX_CLIENT_ID, SANDBOX_ACCESS_TOKEN, "1.05", "25"]
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, text=True, env=env)
                   for _ in range(3)]
        outputs = [json.loads(w.communicate(timeout=120)[0]) for w in workers]
        stats = sandbox.school.stats
    assert [o.count("ok") for o in outputs] == [25, 25, 25], outputs
    assert stats["rate_limited"] == 0
