"""Set-up with the cyclic garbage collector paused.

Importing the MCP SDK and building the tools allocates a few hundred thousand objects that live
as long as the process. While they pile up, the collector walks them again and again: about
40-60 ms of a 0.7 s start on a 2-core machine (benchmarks/startup.py). A command that builds a
server pauses collection for its set-up. A long-running server then freezes what it built
(gc.freeze): those objects are not garbage, and every later collection skips them.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def collection_paused(freeze: bool = False) -> Iterator[Callable[[], None]]:
    """Pause collection until the yielded function is called, or the block ends (whichever comes first)."""
    if not gc.isenabled():  # someone else's choice: leave it alone
        yield lambda: None
        return
    gc.disable()
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            resumed = True
            if freeze:
                gc.freeze()
            gc.enable()

    try:
        yield resume
    finally:
        resume()
