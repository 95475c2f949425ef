"""`serve` started by hand in a terminal: one line saying what it waits for; the first Ctrl-C stops it."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

import pytest

from learnworlds_mcp.cli import terminal

pytestmark = pytest.mark.subprocess


def read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_serve_in_a_terminal_explains_itself_and_stops_at_the_first_ctrl_c(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env["LEARNWORLDS_CONFIG_DIR"] = str(tmp_path)
    status = None
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.execve(sys.executable, [sys.executable, "-m", "learnworlds_mcp.cli", "serve", "--sandbox"], env)
    try:
        started = read_until(fd, b"Ctrl-C stops it.", 30)
        assert b"waits for an MCP client" in started and b"learnworlds-mcp call " in started, started
        assert started.count(b"\n") <= 1, started  # one line
        os.write(fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
        ended = read_until(fd, terminal.STOPPED.strip().encode(), 10)
        deadline, status = time.monotonic() + 10, None
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
            time.sleep(0.05)
        assert status is not None, "serve did not stop at the first Ctrl-C"
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert terminal.STOPPED.strip().encode() in ended and b"Traceback" not in started + ended
    assert os.waitstatus_to_exitcode(status) == 130


def test_the_hint_names_query_only_when_the_command_exists():
    assert "query" not in terminal.hint({"call", "serve"})
    assert "`learnworlds-mcp query --help`" in terminal.hint({"call", "serve", "query"})
