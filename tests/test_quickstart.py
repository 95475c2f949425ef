"""Set-up with the garbage collector paused (cli/quickstart.py): always resumed, never left off."""

from __future__ import annotations

import gc

import pytest

from learnworlds_mcp.cli.quickstart import collection_paused


@pytest.fixture(autouse=True)
def collector():
    """Each test starts with collection on and nothing frozen, and leaves it so."""
    gc.enable()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_collection_is_off_until_resumed_and_then_what_was_built_is_frozen():
    with collection_paused(freeze=True) as ready:
        assert not gc.isenabled()
        built = [{"tool": i} for i in range(1000)]
        ready()
        assert gc.isenabled() and gc.get_freeze_count() >= len(built)
        ready()  # a second call changes nothing
    assert gc.isenabled()


def test_a_failed_set_up_still_resumes_collection():
    with pytest.raises(SystemExit):
        with collection_paused():
            raise SystemExit(2)  # as fail() exits on a bad flag
    assert gc.isenabled() and gc.get_freeze_count() == 0  # freezing is only for a server that will run on


def test_collection_that_was_already_off_stays_off():
    gc.disable()
    with collection_paused(freeze=True) as ready:
        ready()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
