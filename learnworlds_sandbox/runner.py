"""Serving the sandbox with uvicorn on 127.0.0.1: in a background thread, or blocking for the CLI."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.applications import Starlette

from .app import create_app
from .faults import ConnectionDropped
from .school import School

HOST = "127.0.0.1"


class QuietDrops(logging.Filter):
    """Hide the traceback uvicorn logs when a "drop" fault cuts a response on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


# stdout may belong to JSON-RPC in the same process, so every uvicorn line goes to stderr.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"drops": {"()": QuietDrops}},
    "formatters": {"plain": {"format": "sandbox %(levelname)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                            "formatter": "plain", "filters": ["drops"]}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


@dataclass
class SandboxHandle:
    """A served sandbox: where it listens and the school behind it."""

    api_url: str
    port: int
    school: School
    app: Starlette


def _listen(port: int) -> socket.socket:
    # An explicit IPPROTO_TCP lets asyncio switch on TCP_NODELAY for accepted connections;
    # with proto 0 it does not, and every answer waits out a 40 ms delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    return sock


def _server(app: Starlette):
    import uvicorn

    config = uvicorn.Config(app, log_config=LOG_CONFIG, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=1)
    return uvicorn.Server(config)


def _handle(app: Starlette, sock: socket.socket) -> SandboxHandle:
    port = sock.getsockname()[1]
    return SandboxHandle(f"http://{HOST}:{port}/admin/api", port, app.state.school, app)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        connection.request("GET", "/__sandbox/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def start_sandbox(port: int = 0, seed: int = 7, users: int = 2000, rate_limit: bool = True, *,
                  clock: Callable[[], float] | None = None,
                  ready_timeout: float = 15.0) -> Iterator[SandboxHandle]:
    """Serve a sandbox in a background thread until the block ends; port 0 picks a free port."""
    app = create_app(seed, users, rate_limit, clock=clock)
    sock = _listen(port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="learnworlds-sandbox", daemon=True)
    thread.start()
    handle = _handle(app, sock)
    try:
        deadline = time.monotonic() + ready_timeout
        while not (server.started and _answers(handle.port)):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.02)
        yield handle
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_sandbox(port: int = 8765, seed: int = 7, users: int = 2000, rate_limit: bool = True, *,
                clock: Callable[[], float] | None = None,
                on_ready: Callable[[SandboxHandle], None] | None = None) -> None:
    """Serve a sandbox until interrupted; `on_ready` gets the handle once the port is bound."""
    app = create_app(seed, users, rate_limit, clock=clock)
    sock = _listen(port)
    try:
        if on_ready is not None:
            on_ready(_handle(app, sock))
        _server(app).run(sockets=[sock])
    finally:
        sock.close()
