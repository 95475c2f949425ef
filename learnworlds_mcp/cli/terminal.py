"""`serve` started by hand in a terminal: say what it is waiting for, and stop at the first Ctrl-C.

The SDK reads stdin in a worker thread, so Python's own Ctrl-C handling waits for that read, which
ends only when Enter is pressed. In a terminal nothing else needs a clean shutdown (no host is
attached), so the first Ctrl-C ends the process at once.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

STOPPED = "learnworlds-mcp: stopped (Ctrl-C).\n"


def hint(commands: set[str]) -> str:
    """The one line a person who started `serve` by mistake needs: what it waits for, and what to try."""
    tries = ["`learnworlds-mcp call list_all_learn_worlds_users --sandbox --arg limit=3`"]
    if "query" in commands:
        tries.append("`learnworlds-mcp query --help`")
    tries.append("the MCP Inspector (`npx @modelcontextprotocol/inspector learnworlds-mcp serve --sandbox`)")
    return ("learnworlds-mcp serve is an MCP server: it waits for an MCP client (Claude Desktop, Claude Code) "
            f"to speak JSON-RPC on stdin. To try it by hand use {', '.join(tries[:-1])} or {tries[-1]}. "
            "Ctrl-C stops it.")


def guard(commands: set[str], on_stop: Callable[[], None] = lambda: None) -> None:
    """When stdin is a terminal: print the hint to stderr and make the first Ctrl-C stop the process."""
    if not sys.stdin.isatty():
        return

    def stop(signum, frame) -> None:
        on_stop()
        os.write(sys.stderr.fileno(), STOPPED.encode())
        os._exit(130)  # skip joining the thread blocked on the stdin read

    signal.signal(signal.SIGINT, stop)  # before the hint, so a Ctrl-C right after it is ours
    sys.stderr.write(hint(commands) + "\n")
    sys.stderr.flush()
