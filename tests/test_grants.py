"""The grant store: only hashes kept, tokens checked, revocation and the write cap shared by every connection."""

from __future__ import annotations

import sqlite3
import threading
import time

import anyio
import pytest

from learnworlds_mcp.errors import GrantError
from learnworlds_mcp.filters import Selection
from learnworlds_mcp.grants import GrantStore, grant_for
from learnworlds_mcp.policy import Policy


@pytest.fixture
def store(tmp_path):
    opened = GrantStore(tmp_path / "grants.db")
    yield opened
    opened.close()


def test_only_a_hash_of_the_token_is_stored(store, tmp_path):
    record, token = store.create("alice", Selection(methods=("read",)), None, None)
    assert store.authenticate(token).id == record.id and store.get(record.id).last_used is not None
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in raw and token.split("_")[-1].encode() not in raw
    assert (tmp_path / "grants.db").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # right id, wrong secret
    lambda t: "lwm_" + "0" * 12 + t[16:],                 # unknown id
    lambda t: t.upper(), lambda t: "", lambda t: "lwm_", lambda t: t + "x" * 300, lambda t: "\ud800",
])
def test_a_wrong_token_authenticates_nothing(store, mangle):
    _, token = store.create("alice", Selection(), None, None)
    assert store.authenticate(mangle(token)) is None


def test_expired_and_revoked_grants_authenticate_nothing(store):
    _, old = store.create("old", Selection(), time.time() - 1, None)
    _, gone = store.create("gone", Selection(), None, None)
    assert store.revoke("gone") and not store.revoke("gone")
    assert store.authenticate(old) is None and store.authenticate(gone) is None
    assert [r.name for r in store.live()] == ["old"]
    store.create("gone", Selection(), None, None)  # the name is free again after revocation


def test_the_write_cap_holds_across_connections_and_threads(store, tmp_path):
    record, _ = store.create("w", Selection(), None, 5)
    taken = []

    def worker():
        other = GrantStore(tmp_path / "grants.db")  # as a second process would open it
        taken.extend(other.take_write(record.id) for _ in range(5))
        other.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(taken) == 5 and store.get(record.id).writes == 5
    store.revoke("w")
    unlimited, _ = store.create("u", Selection(), None, None)
    assert store.take_write(unlimited.id)
    store.revoke("u")
    assert not store.take_write(unlimited.id)


def test_a_grants_policy_is_bounded_by_the_servers_expiry_and_dry_run(store):
    record, _ = store.create("g", Selection(tags=("users",)), time.time() + 3600, 2)
    sooner = time.time() + 60
    grant = grant_for(store, record, dry_run=True, expires_at=sooner)
    assert grant.name == "g" and grant.selection.tags == ("users",)
    assert grant.policy.expires_at == sooner and grant.policy.dry_run and grant.policy.max_writes == 2


def test_a_malformed_store_gives_a_clear_error(tmp_path):
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(GrantError, match="is a folder"):
        GrantStore(tmp_path / "folder.db")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(GrantError, match="not a readable grant store"):
        GrantStore(tmp_path / "junk.db")
    store = GrantStore(tmp_path / "edited.db")
    store.create("e", Selection(), None, None)
    raw = sqlite3.connect(tmp_path / "edited.db")
    raw.execute("UPDATE grants SET methods = '{\"not\": \"a list\"'")
    raw.commit()
    with pytest.raises(GrantError, match="malformed"):
        list(store.live())


@pytest.mark.anyio
async def test_calls_beyond_the_concurrency_limit_wait_their_turn():
    policy, running, peak = Policy(max_concurrency=2), 0, 0

    async def call():
        nonlocal running, peak
        async with policy.slot():
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.02)
            running -= 1

    async with anyio.create_task_group() as group:
        for _ in range(7):
            group.start_soon(call)
    assert peak == 2
