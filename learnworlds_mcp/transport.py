"""httpx as the LearnWorlds client uses it: on asyncio's own sockets, and with no cookie jar.

httpx's default async transport reaches the network through anyio, which opens a cancel scope for
every read and write and looks up the running library on each; on a one-record GET that is about
0.1 ms of a 0.7 ms request here (benchmarks/call_overhead.py). This backend gives httpcore's pool
asyncio streams instead, with asyncio.timeout for each step. Everything above the socket (HTTP/1.1
parsing, keep-alive, TLS settings) stays httpx's and httpcore's.

Behind a proxy (HTTP_PROXY, HTTPS_PROXY or ALL_PROXY, or the system's proxy settings), or on an
event loop other than asyncio's own (uvloop, say), httpx keeps its own transport (see usable()).

Every request carries its own credentials, so nothing needs cookies: the jar is left out, which
saves parsing every answer's headers into it (~0.05 ms) and keeps a cookie that an upstream sets
for one grant's call from riding along on another grant's calls in the team server.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from typing import Any, Iterable

import httpcore
import httpx

HAPPY_EYEBALLS_DELAY = 0.25  # seconds before the next address family is tried (RFC 8305)
# What a failure at each step is called upstream; httpx maps these to its own errors, which
# failures.py turns into messages.
_CONNECT = {TimeoutError: httpcore.ConnectTimeout, OSError: httpcore.ConnectError}
_READ = {TimeoutError: httpcore.ReadTimeout, OSError: httpcore.ReadError}
_WRITE = {TimeoutError: httpcore.WriteTimeout, OSError: httpcore.WriteError}


class _Failures:
    """Raise the httpcore error that `table` names for an exception of the step it guards."""

    def __init__(self, table: dict[type[Exception], type[Exception]]) -> None:
        self.table = table

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        for caught, raised in self.table.items():
            if isinstance(exc, caught):  # (asyncio's TimeoutError is the builtin one from Python 3.11)
                raise raised(str(exc) or type(exc).__name__) from exc


CONNECT, READ, WRITE = _Failures(_CONNECT), _Failures(_READ), _Failures(_WRITE)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: a StreamReader and StreamWriter pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with READ:
            async with asyncio.timeout(timeout):
                return await self.reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with WRITE:
            self.writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self.writer.drain()

    async def aclose(self) -> None:
        self.writer.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> "AsyncioStream":
        with CONNECT:
            async with asyncio.timeout(timeout):
                await self.writer.start_tls(ssl_context, server_hostname=server_hostname)
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of an idle pooled connection: did the server close it?
            return self.reader.at_eof() or self.writer.is_closing() or _readable(self.writer.get_extra_info("socket"))
        if info in ("ssl_object", "socket"):
            return self.writer.get_extra_info(info)
        if info == "client_addr":
            return self.writer.get_extra_info("sockname")
        if info == "server_addr":
            return self.writer.get_extra_info("peername")
        return None


def _readable(sock: Any) -> bool:
    if sock is None:
        return True  # no socket to ask: treat the connection as spent
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> AsyncioStream:
        with CONNECT:
            async with asyncio.timeout(timeout):
                # Happy eyeballs, as anyio does: an IPv6 address that answers nothing must not use up the
                # whole connect timeout before IPv4 is tried.
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1)
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def usable() -> bool:
    """Whether this backend can serve here: a standard asyncio loop with no proxy configured.

    httpx applies HTTP(S)_PROXY and NO_PROXY only on its own transport, and another loop (uvloop,
    which uvicorn takes when it is installed) lacks asyncio's happy-eyeballs connect: both keep
    httpx's transport, whose anyio layer handles them.
    """
    try:
        standard = isinstance(asyncio.get_running_loop(), asyncio.BaseEventLoop)
    except RuntimeError:
        return False
    return standard and not proxied()


def proxied() -> bool:
    """Whether the environment or the system names an HTTP proxy (urllib's reading, which httpx shares)."""
    from urllib.request import getproxies

    found = getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def asyncio_transport() -> httpx.AsyncHTTPTransport:
    """httpx's own async transport, its pool built with the same settings on AsyncioBackend.

    httpx offers no option for the network backend, so the pool it made is replaced; where a later
    httpx keeps it elsewhere, this is httpx's transport unchanged (tests/test_transport.py notices).
    """
    context = httpx.create_ssl_context(verify=True, trust_env=True)  # made once: it costs ~20 ms
    transport = httpx.AsyncHTTPTransport(verify=context)
    if type(getattr(transport, "_pool", None)) is httpcore.AsyncConnectionPool:
        limits = httpx.Limits()  # httpx's defaults, as the transport it replaces had them
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, http1=True, http2=False, network_backend=AsyncioBackend())
    return transport


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: set-cookie headers in answers are ignored."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class LearnWorldsHttp(httpx.AsyncClient):
    """httpx's AsyncClient without a cookie jar."""

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, value: Any) -> None:
        if value:
            raise ValueError("the LearnWorlds client keeps no cookies")


_NO_COOKIES = _NoCookies()
