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
    path = tmp_path / "b.bin"
    first, second = SharedBudget(path, limit=3, window=60.0), SharedBudget(path, limit=3, window=60.0)
    await first.acquire()
    await first.acquire()
    await second.acquire()
    assert second.headers()["ratelimit-remaining"] == 0 and first.seconds_until_free() > 59
    assert (path.stat().st_mode & 0o777) == 0o600


@pytest.mark.anyio
async def test_a_429_fills_the_window_for_everyone(tmp_path):
    path = tmp_path / "b.bin"
    one, other = SharedBudget(path, limit=30, window=10.0), SharedBudget(path, limit=30, window=10.0)
    await one.acquire()
    one.penalize()
    facts = other.headers()
    assert facts["ratelimit-remaining"] == 0 and facts["ratelimit-reset"] == 10


@pytest.mark.anyio
async def test_settle_counts_a_slot_from_when_the_answer_came(tmp_path):
    now = [1000.0]
    shared = SharedBudget(tmp_path / "b.bin", limit=1, window=10.0, clock=lambda: now[0])
    ticket = await shared.acquire()
    now[0] += 4  # the answer took 4 s
    shared.settle(ticket)
    assert shared.seconds_until_free() == pytest.approx(10.0)


def log_file(*entries: tuple[int, float], count: int | None = None) -> bytes:
    body = b"".join(budget.RECORD.pack(*entry) for entry in entries)
    return budget.HEADER.pack(budget.MAGIC, len(entries) if count is None else count) + body


@pytest.mark.parametrize("content", [
    b"not ours", b"", b"LWB1", log_file((1, float("nan"))), log_file((1, 1e12)),  # from the far future
    log_file((1, time.time()), count=10**9), b"x" * (budget.MAX_FILE_BYTES + 10)])
@pytest.mark.anyio
async def test_a_damaged_or_forged_file_counts_as_empty(tmp_path, content):
    path = tmp_path / "b.bin"
    path.write_bytes(content)
    shared = SharedBudget(path, limit=2, window=10.0)
    assert shared.headers()["ratelimit-remaining"] == 2
    await shared.acquire()
    assert shared.headers()["ratelimit-remaining"] == 1


@pytest.mark.anyio
async def test_a_shrinking_log_keeps_its_count_right(tmp_path):
    now = [1000.0]
    shared = SharedBudget(tmp_path / "b.bin", limit=50, window=10.0, clock=lambda: now[0])
    for _ in range(40):
        await shared.acquire()
    now[0] += 11  # all forty age out; the file keeps its old bytes after the new count
    await shared.acquire()
    assert shared.headers()["ratelimit-remaining"] == 49


@pytest.mark.anyio
async def test_waiters_in_one_process_sleep_until_the_shared_window_frees(tmp_path, monkeypatch):
    now = [1000.0]
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(limiter, "sleep", sleep)
    shared = SharedBudget(tmp_path / "b.bin", limit=2, window=10.0, clock=lambda: now[0])
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
