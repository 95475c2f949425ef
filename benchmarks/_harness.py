"""Shared pieces of the speed and memory benchmarks: a raw JSON-RPC peer over pipes, a local upstream, figures.

The benchmark scripts import this module; run it directly only to serve an upstream by hand:

    python benchmarks/_harness.py upstream fixed      # prints {"api_url": ...} and serves until stdin closes
"""

from __future__ import annotations

import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

HERE = Path(__file__).resolve().parent
BASELINE_SERVER = HERE / "baseline_server.py"
PROTOCOL_VERSION = "2025-11-25"  # the newest revision reachable through the initialize handshake
GET_TOOL = "get_single_learn_worlds_user_by_id"
BASELINE_TOOL = "tool_000"

# One LearnWorlds-shaped user record, with the nulls and empty values real answers carry.
USER = {
    "id": "5f1e9a2b3c4d5e6f7a8b9c0d", "email": "ada@example.com", "username": "ada",
    "first_name": "Ada", "last_name": "Lovelace", "is_admin": False, "is_instructor": False,
    "is_reporter": False, "is_suspended": False, "role": {"level": "user", "name": "User"},
    "created": 1700000000.25, "last_login": 1712345678.5, "signup_approval_status": "approved",
    "tags": ["vip", "cohort-2024"], "fields": {"company": "Analytical Engines", "phone": None},
    "utms": {"source": None, "medium": "", "campaign": None}, "nps_score": None, "nps_comment": "",
}


# ---- the machine and the figures ------------------------------------------------------------------

def machine() -> str:
    """One line naming the CPU model, core count, Python version and OS, printed above every table."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"machine: {model}, {cores} cores, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")


@dataclass(frozen=True)
class Spread:
    """Median, min and max of a set of samples."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "Spread":
        return cls(statistics.median(samples), min(samples), max(samples))

    def ms(self) -> str:
        return f"{self.median * 1000:.2f} ms ({self.low * 1000:.2f}-{self.high * 1000:.2f})"

    def seconds(self) -> str:
        return f"{self.median:.3f} s ({self.low:.3f}-{self.high:.3f})"

    def mb(self) -> str:
        return f"{self.median:.1f} MB ({self.low:.1f}-{self.high:.1f})"


def verdict(met: bool, unreachable: str | None = None) -> str:
    """PASS or MISS; a target no implementation could meet here says why instead of a bare MISS."""
    if unreachable and not met:
        return f"MISS, cannot be met here: {unreachable}"
    return "PASS" if met else "MISS"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A Markdown table; columns whose index is in `right` are right-aligned."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---- the commands under test ----------------------------------------------------------------------

def command_path() -> str:
    """The `learnworlds-mcp` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("learnworlds-mcp")
    found = str(beside) if beside.exists() else shutil.which("learnworlds-mcp")
    if not found:
        sys.exit("learnworlds-mcp is not installed in this environment; run `pip install -e .` first")
    return found


def serve_argv(*extra: str) -> list[str]:
    return [command_path(), "serve", *extra]


def baseline_argv(*extra: str) -> list[str]:
    return [sys.executable, str(BASELINE_SERVER), *extra]


PYCACHE = Path(tempfile.gettempdir()) / "learnworlds-mcp-bench-pycache"


def python_env() -> dict[str, str]:
    """The caller's environment, with bytecode cached in a folder of the benchmarks' own.

    An installed package starts from compiled .pyc files; with PYTHONDONTWRITEBYTECODE set (as in
    some containers) an edited module would instead be compiled again at every start, which is not
    what users see. The warm-up run fills PYCACHE; the source tree is left untouched.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def school_env(api_url: str, client_id: str, token: str, config_dir: str) -> dict[str, str]:
    """python_env() without any LEARNWORLDS_* setting, plus credentials that need no keyring.

    The config folder points at an empty temporary one, so no stored profile of the person running
    the benchmark is read.
    """
    env = {k: v for k, v in python_env().items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_API_URL=api_url, LEARNWORLDS_CLIENT_ID=client_id,
               LEARNWORLDS_ACCESS_TOKEN=token, LEARNWORLDS_CONFIG_DIR=config_dir)
    return env


@contextmanager
def empty_config_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as folder:
        yield folder


# ---- a raw JSON-RPC peer over pipes ---------------------------------------------------------------

class PeerError(RuntimeError):
    """The spawned server died, answered with an error, or stayed silent past the deadline."""


class StdioPeer:
    """A spawned stdio server and a bare JSON-RPC client for it: one JSON object per line, no SDK.

    `started` is taken just before the spawn, so `answered - started` covers interpreter start,
    imports, server set-up and the reply itself.
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 30.0):
        self.timeout = timeout
        self._stderr = tempfile.TemporaryFile()
        self._buffer = bytearray()
        self._next_id = 0
        self.started = time.perf_counter()
        self.process = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._stderr, env=env, bufsize=0)
        self._fd = self.process.stdout.fileno()

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, message: dict[str, Any]) -> None:
        self.process.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def _line(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                return line
            searched = len(self._buffer)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
                raise PeerError(f"no complete line within {self.timeout:.0f} s{self._stderr_tail()}")
            chunk = os.read(self._fd, 1 << 17)
            if not chunk:
                raise PeerError(f"the server closed stdout (exit status {self.process.poll()}){self._stderr_tail()}")
            self._buffer += chunk

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], float]:
        """Send one request; its result and the perf_counter time its reply line arrived."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        while True:
            line = self._line()
            arrived = time.perf_counter()
            reply = json.loads(line)
            if reply.get("id") != self._next_id or "method" in reply:
                continue  # a notification or a request from the server; none is expected, none matters
            if "error" in reply:
                raise PeerError(f"{method} failed: {reply['error']}")
            return reply["result"], arrived

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def handshake(self) -> float:
        """initialize, then notifications/initialized, as a client does; the time the initialize reply arrived."""
        _, arrived = self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "learnworlds-mcp-benchmarks", "version": "0"},
        })
        self.notify("notifications/initialized")
        return arrived

    def call(self, name: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], float]:
        return self.request("tools/call", {"name": name, "arguments": arguments})

    def close(self) -> None:
        """Close stdin (the server's cue to exit) and wait for it; kill it if it lingers."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._stderr.close()

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        tail = self._stderr.read()[-2000:].decode(errors="replace").strip()
        return f"; its stderr ends with:\n{tail}" if tail else ""

    def __enter__(self) -> "StdioPeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MB (MiB)."""
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) / 1024  # the kernel reports kB
    return figures


def check_user_result(result: dict[str, Any], expected_id: str) -> None:
    """Stop the benchmark if a call did not really reach the upstream: timing errors is meaningless."""
    structured = result.get("structuredContent") or {}
    if result.get("isError") or structured.get("id") != expected_id:
        text = (result.get("content") or [{}])[0].get("text", "")
        sys.exit(f"the tool call did not return user {expected_id}: {text[:300]}")


# ---- the upstream the server talks to -------------------------------------------------------------

@dataclass(frozen=True)
class Upstream:
    """Where a served upstream listens, the credentials it takes, and user ids it knows."""

    kind: str
    api_url: str
    client_id: str
    token: str
    user_ids: tuple[str, ...]

    def headers(self) -> dict[str, str]:
        """The headers learnworlds-mcp sends (client.py), so a direct request is the same request."""
        from learnworlds_mcp.client import USER_AGENT

        return {"Lw-Client": self.client_id, "Accept": "application/json", "User-Agent": USER_AGENT,
                "Authorization": f"Bearer {self.token}"}


@contextmanager
def upstream(kind: str = "fixed") -> Iterator[Upstream]:
    """Serve an upstream in a child process, so its work never competes with the measuring process.

    kind "fixed": a threaded http.server answering every GET with USER; "sandbox": the seeded
    sandbox school (learnworlds_sandbox) with its rate limit off.
    """
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "upstream", kind],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            sys.exit(f"the {kind} upstream did not start (exit status {process.wait()})")
        info = json.loads(line)
        yield Upstream(kind, info["api_url"], info["client_id"], info["token"], tuple(info["user_ids"]))
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve_fixed() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = json.dumps(USER).encode()
    # Head and body leave in one write, and Nagle is off: otherwise a delayed ACK adds ~40 ms.
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    class FixedUser(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as LearnWorlds' own front end offers
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FixedUser)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    print(json.dumps({"api_url": f"http://127.0.0.1:{port}/admin/api", "client_id": "bench-client",
                      "token": "bench-token", "user_ids": [USER["id"]]}), flush=True)
    sys.stdin.read()
    server.shutdown()


def _serve_sandbox() -> None:
    from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

    with start_sandbox(port=0, rate_limit=False) as handle:
        ids = [uid for uid, user in handle.school.users.items() if not user.get("is_suspended")][:50]
        print(json.dumps({"api_url": handle.api_url, "client_id": SANDBOX_CLIENT_ID,
                          "token": SANDBOX_ACCESS_TOKEN, "user_ids": ids}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1:2] != ["upstream"] or sys.argv[2:3] not in (["fixed"], ["sandbox"]):
        sys.exit("usage: python benchmarks/_harness.py upstream fixed|sandbox")
    _serve_fixed() if sys.argv[2] == "fixed" else _serve_sandbox()
