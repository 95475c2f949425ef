"""Serving over streamable HTTP: Host/Origin checks, bearer token -> Grant, one SDK session manager per grant.

Each request is checked in this order: the Host and Origin headers (against DNS rebinding),
the path, then the bearer token against the grant store (so revocation and expiry act on the
next request, without a restart). A grant's sessions all run on one Server closed over that
grant, built at its first request; every grant shares the process's one LearnWorlds client,
its rate budget and its retries.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .auth import is_loopback
from .grants import GrantRecord, GrantStore

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

log = logging.getLogger("learnworlds_mcp.http")

PATH = "/mcp"
DEFAULT_PORT = 8766
MAX_BODY_BYTES = 1024 * 1024
MAX_AUTH_HEADER = 512
REALM = "learnworlds-mcp"

# While serving, stdout stays free and every uvicorn line goes to stderr.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
}


@dataclass(frozen=True)
class Binding:
    """Where the server listens and which names clients may use to reach it."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    tls_cert: str | None = None
    tls_key: str | None = None
    allow_plain_http: bool = False
    allowed_hosts: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    def check(self) -> str | None:
        """ValueError naming the fix for an unsafe binding; a warning text for an allowed plain one."""
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("give both --tls-cert and --tls-key, or neither")
        if self.tls_cert or is_loopback(self.host):
            return None
        if not self.allow_plain_http:
            raise ValueError(f"--host {self.host} is not a loopback address, and plain HTTP would carry grant "
                             "tokens unencrypted; give --tls-cert and --tls-key, or put a TLS reverse proxy in "
                             "front and pass --allow-plain-http")
        return (f"serving plain HTTP on {self.host}: grant tokens cross the network unencrypted unless a TLS "
                "reverse proxy sits in front")

    def security(self):
        """The SDK's DNS-rebinding settings: only our own names in Host, only their origins in Origin."""
        from mcp.server.transport_security import TransportSecuritySettings

        names = {self.host, *self.allowed_hosts}
        if is_loopback(self.host):
            names |= {"127.0.0.1", "localhost", "[::1]"}
        names = {f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names}
        hosts = sorted({*(f"{n}:{self.port}" for n in names), *self.allowed_hosts})
        origins = sorted({f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")}
                         | {f"https://{h}" for h in self.allowed_hosts})
        return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                         allowed_origins=origins)


def bearer(headers) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if len(value) > MAX_AUTH_HEADER or scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _refuse(send, status: int, error: str, description: str, www_authenticate: bool = False) -> None:
    import json

    body = json.dumps({"error": error, "error_description": description}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if www_authenticate:
        headers.append((b"www-authenticate",
                        f'Bearer realm="{REALM}", error="{error}", error_description="{description}"'.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GrantGate:
    """The ASGI app behind /mcp: checks Host/Origin and the bearer token, then hands over to the grant's sessions."""

    def __init__(self, store: GrantStore, make_server: Callable[[GrantRecord], Server], security,
                 max_body: int = MAX_BODY_BYTES):
        from mcp.server.transport_security import TransportSecurityMiddleware

        self.store, self.make_server, self.security, self.max_body = store, make_server, security, max_body
        self._guard = TransportSecurityMiddleware(security)
        self._managers: dict[str, StreamableHTTPSessionManager] = {}
        self._task_group: Any = None
        self._lock: Any = None

    @contextlib.asynccontextmanager
    async def running(self):
        """Holds the task group every grant's session manager runs in."""
        import anyio

        self._lock = anyio.Lock()
        async with anyio.create_task_group() as group:
            self._task_group = group
            try:
                yield
            finally:
                group.cancel_scope.cancel()
                self._task_group = None

    async def __call__(self, scope, receive, send) -> None:
        from starlette.requests import Request

        request = Request(scope, receive)
        refused = await self._guard.validate_request(request, is_post=False)
        if refused is not None:
            await refused(scope, receive, send)
            return
        token = bearer(request.headers)
        record = self.store.authenticate(token) if token else None
        if record is None:
            await _refuse(send, 401, "invalid_token",
                          "a valid grant token is required (Authorization: Bearer <token>); ask the administrator "
                          "for one" if token else "this server needs Authorization: Bearer <grant token>",
                          www_authenticate=True)
            return
        try:
            manager = await self._manager(record)
        except Exception as exc:  # a grant whose filters select nothing on this server, or similar
            log.warning("grant %s cannot be served: %s", record.name, exc)
            await _refuse(send, 403, "grant_unusable", f"grant {record.name!r} cannot be served: {exc}")
            return
        await manager.handle_request(scope, receive, send)

    async def _manager(self, record: GrantRecord) -> StreamableHTTPSessionManager:
        """The grant's session manager, started at its first request (grants made while serving work at once)."""
        manager = self._managers.get(record.id)
        if manager is not None:
            return manager
        async with self._lock:
            manager = self._managers.get(record.id)
            if manager is None:
                from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

                manager = StreamableHTTPSessionManager(self.make_server(record), security_settings=self.security,
                                                       max_request_body_size=self.max_body)
                await self._task_group.start(self._run, manager)
                self._managers[record.id] = manager
                log.info("grant %s: first session", record.name)
        return manager

    @staticmethod
    async def _run(manager: StreamableHTTPSessionManager, *, task_status) -> None:
        import anyio

        async with manager.run():
            task_status.started()
            await anyio.sleep_forever()


def build_app(gate: GrantGate):
    """The Starlette app: the gate at /mcp, nothing else."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with gate.running():
            yield

    return Starlette(routes=[Route(PATH, endpoint=gate)], lifespan=lifespan)


async def serve_http(gate: GrantGate, binding: Binding) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(build_app(gate), host=binding.host, port=binding.port, log_config=LOG_CONFIG,
                            access_log=False, ssl_certfile=binding.tls_cert, ssl_keyfile=binding.tls_key,
                            timeout_graceful_shutdown=2, h11_max_incomplete_event_size=64 * 1024)
    sock = listen(binding.host, binding.port)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()


def listen(host: str, port: int):
    """A listening TCP socket made with an explicit IPPROTO_TCP: only then does asyncio switch on TCP_NODELAY
    for accepted connections, and small answers stop waiting out a 40 ms delayed ACK."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    return sock


def gate_for(store: GrantStore, operations, runtime, audit, exposure: str, binding: Binding) -> GrantGate:
    """A gate whose grants each get a server over the operations this process serves, with its runtime.

    The server's own --dry-run and expiry bound every grant; a grant narrows the rest.
    """
    from .grants import grant_for
    from .server import server_for

    def make_server(record: GrantRecord):
        grant = grant_for(store, record, dry_run=runtime.policy.dry_run, expires_at=runtime.policy.expires_at)
        return server_for(grant, operations, runtime, audit, exposure)

    return GrantGate(store, make_server, binding.security())
