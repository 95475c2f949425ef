"""The two subprocesses of a contract check: Prism mocking the official LearnWorlds spec, and our server.

Shared by tests/test_contract.py and scripts/contract.py. Only the standard library is used.
Prism writes one "Request received" line to its stdout for every request it gets; `mark()`
puts a sentinel request into that log so a caller can count exactly what arrived in between.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Derived from the official export by scripts/derive_fixture.py: structure and examples, no prose.
SPEC = REPO / "tests" / "fixtures" / "learnworlds-openapi-v2-2025.min.json"
PRISM = REPO / "node_modules" / ".bin" / "prism"
# Prism rejects a request without the headers the spec declares; any values do.
HEADERS = {"Lw-Client": "contract-client", "Authorization": "Bearer contract-token", "Accept": "application/json"}
READY_PATH = "/v2/user-roles"
RECEIVED = "Request received"
ERROR = "\u2716  error"
MARK_PATH = "/contract-mark/"


def missing(spec: Path = SPEC) -> str | None:
    """Why Prism cannot run here (None when it can): the reason a test skips with."""
    if not PRISM.exists():
        return f"{PRISM.relative_to(REPO)} is missing; run `npm ci` in {REPO}"
    if not Path(spec).is_file():
        return f"the LearnWorlds spec fixture is missing at {spec}; see scripts/derive_fixture.py"
    return None


def server_command(api_url: str, config_dir: str | Path) -> tuple[str, list[str], dict[str, str]]:
    """Command, arguments and environment of `learnworlds-mcp serve` pointed at `api_url`.

    The credentials are placeholders (Prism checks only that the headers exist); the config dir
    is a scratch one and the keyring backend the null one, so no real profile or secret is read.
    A mock has no rate budget, and a failure should show at once, so neither limit nor retry applies.
    """
    script = Path(sys.executable).with_name("learnworlds-mcp" + (".exe" if os.name == "nt" else ""))
    if script.exists():
        command, args = str(script), ["serve"]
    else:  # an environment without console scripts: the same entry point through the module
        command, args = sys.executable, ["-m", "learnworlds_mcp.cli", "serve"]
    env = {
        "LEARNWORLDS_API_URL": api_url,
        "LEARNWORLDS_CLIENT_ID": "contract-client",
        "LEARNWORLDS_ACCESS_TOKEN": "contract-token",
        "LEARNWORLDS_CONFIG_DIR": str(config_dir),
        "LEARNWORLDS_LOG_LEVEL": "warning",
        "LEARNWORLDS_RATE_LIMIT": "100000",
        "LEARNWORLDS_MAX_RETRIES": "0",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    return command, args, env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Prism:
    """`prism mock` on a loopback port; use as a context manager, `url` is the API base."""

    def __init__(self, spec: Path = SPEC, port: int | None = None, ready_timeout: float = 60.0):
        self.spec = Path(spec)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_timeout = ready_timeout
        self.lines: list[str] = []
        self._grew = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Prism:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Spawn Prism in its own process group and wait until it answers, or raise RuntimeError."""
        # Else another server on the port could answer the readiness poll before Prism exits.
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise RuntimeError(f"port {self.port} on 127.0.0.1 is not free ({exc.strerror})") from None
        command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(self.port), str(self.spec)]
        self._process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8", errors="replace", start_new_session=os.name == "posix",
        )
        self._reader = threading.Thread(target=self._read, name="prism-log", daemon=True)
        self._reader.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            with self._grew:
                self.lines.append(line.rstrip("\n"))
                self._grew.notify_all()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"Prism exited with code {self._process.returncode}:\n{self.tail()}")
            if self.get(READY_PATH, timeout=2.0) == 200:
                return
            time.sleep(0.25)
        raise RuntimeError(f"Prism did not answer {READY_PATH} within {self.ready_timeout:.0f} s:\n{self.tail()}")

    def get(self, path: str, timeout: float = 5.0) -> int | None:
        """GET a path with the LearnWorlds headers: the HTTP status, or None if nothing answered."""
        request = urllib.request.Request(self.url + path, headers=HEADERS)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (OSError, ValueError):
            return None

    def received(self, start: int = 0, end: int | None = None) -> list[str]:
        """The request log lines among lines[start:end]."""
        with self._grew:
            return [line for line in self.lines[start:end] if RECEIVED in line]

    def complaints(self, start: int = 0, end: int | None = None) -> list[str]:
        """Prism's objections to the requests logged in lines[start:end] (not to the spec's own answers)."""
        with self._grew:
            lines = self.lines[start:end]
        return [line.split(ERROR, 1)[1].strip() for line in lines
                if ERROR in line and "[VALIDATOR]" in line and "Violation: response" not in line]

    def mark(self, timeout: float = 10.0) -> int:
        """Send a sentinel request and wait until Prism logs it; the index of its log line.

        Requests logged before the mark's line arrived before it, so the received() lines between
        two marks are exactly the requests sent in between (the marks themselves excluded).
        """
        token = uuid.uuid4().hex
        self.get(MARK_PATH + token)
        deadline = time.monotonic() + timeout
        with self._grew:
            while True:
                for index, line in enumerate(self.lines):
                    if token in line and RECEIVED in line:
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"Prism never logged the sentinel request {MARK_PATH}{token}:\n{self.tail()}")
                self._grew.wait(left)

    def tail(self, count: int = 30) -> str:
        with self._grew:
            return "\n".join(self.lines[-count:])

    def stop(self) -> None:
        """Terminate Prism and everything it spawned (its whole process group)."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (getattr(signal, "SIGKILL", signal.SIGTERM), 5.0)):
            _signal_group(process, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # The group may outlive its leader (npm shims, workers): make sure none is left.
        _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        if process.stdout is not None:
            process.stdout.close()


def _signal_group(process: subprocess.Popen[str], sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - no process groups; the leader alone
            process.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":  # pragma: no cover - `python tests/prism.py` runs the mock by hand
    reason = missing()
    if reason:
        sys.exit(reason)
    with Prism(port=int(sys.argv[1]) if len(sys.argv) > 1 else 4010) as prism:
        print(f"Prism serves {SPEC.name} at {prism.url}; Ctrl-C stops it", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
