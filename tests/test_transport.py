"""httpx on asyncio's own sockets (transport.py), against real loopback servers: plain, TLS, slow, gone."""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from learnworlds_mcp import transport
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError
from tests.conftest import SECRET


class Answers(BaseHTTPRequestHandler):
    """Answers every GET with the JSON that `body` makes of the request, over keep-alive HTTP/1.1."""

    protocol_version = "HTTP/1.1"  # keep-alive, as LearnWorlds answers
    close_after = False
    extra_headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict:
        raise NotImplementedError

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps(self.body()).encode()
        self.send_response(200)
        for name, value in self.extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.close_after  # closing without saying so, as an idle timeout does

    def log_message(self, *args):
        pass


class OneUser(Answers):
    def body(self) -> dict:
        return {"id": "u1", "path": self.path}


class ClosesIdle(OneUser):
    close_after = True


class SetsCookies(Answers):
    extra_headers = (("Set-Cookie", "session=grant-a; Path=/"),)

    def body(self) -> dict:
        return {"cookie": self.headers.get("Cookie")}


class Proxy(Answers):
    """A forward proxy that answers for the school itself, saying which absolute URL it was asked for."""

    def body(self) -> dict:
        return {"via_proxy": self.path}


def serve(handler, tls: ssl.SSLContext | None = None):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    """These tests reach loopback servers directly, whatever proxy the machine running them has set."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def connects(monkeypatch):
    """Every connection the asyncio backend opens, by (host, port)."""
    opened = []
    real = transport.AsyncioBackend.connect_tcp

    async def counting(self, host, port, *args, **kwargs):
        opened.append((host, port))
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(transport.AsyncioBackend, "connect_tcp", counting)
    return opened


def client_for(url: str, **options) -> LearnWorldsClient:
    return LearnWorldsClient(Credentials(api_url=url, client_id="client-1", access_token=SECRET),
                             max_retries=0, **options)


@pytest.mark.anyio
async def test_requests_use_the_asyncio_backend_and_keep_the_connection(connects):
    httpd = serve(OneUser)
    client = client_for(f"http://127.0.0.1:{httpd.server_port}/admin/api")
    try:
        first = await client.send("GET", "/v2/users/u1")
        second = await client.send("GET", "/v2/users/u2", {"include_suspended": True})
    finally:
        await client.aclose()
        httpd.shutdown()
    assert first == {"id": "u1", "path": "/admin/api/v2/users/u1"}
    assert second["path"] == "/admin/api/v2/users/u2?include_suspended=true"
    assert connects == [("127.0.0.1", httpd.server_port)]  # one connection, kept alive for the second request


@pytest.mark.anyio
async def test_a_connection_the_server_closed_while_idle_is_replaced(connects):
    httpd = serve(ClosesIdle)
    client = client_for(f"http://127.0.0.1:{httpd.server_port}/admin/api")
    try:
        await client.send("GET", "/v2/users/u1")
        time.sleep(0.2)  # the server's close reaches our socket while the connection sits in the pool
        assert (await client.send("GET", "/v2/users/u2"))["id"] == "u1"
    finally:
        await client.aclose()
        httpd.shutdown()
    assert len(connects) == 2


@pytest.mark.anyio
async def test_a_cookie_the_upstream_sets_is_never_sent_back():
    """Each request stands on its own credentials; in the team server one grant's cookie must not reach another's calls."""
    httpd = serve(SetsCookies)
    client = client_for(f"http://127.0.0.1:{httpd.server_port}/admin/api")
    try:
        answers = [await client.send("GET", "/v2/users/u1") for _ in range(2)]
    finally:
        await client.aclose()
        httpd.shutdown()
    assert answers == [{"cookie": None}, {"cookie": None}]
    assert not client.http.cookies


@pytest.fixture(scope="module")
def authority():
    return trustme.CA()


@pytest.fixture
def https_school(authority):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(tls)
    httpd = serve(OneUser, tls)
    yield f"https://localhost:{httpd.server_port}/admin/api"
    httpd.shutdown()


@pytest.mark.anyio
async def test_https_to_a_certificate_the_trust_store_holds(https_school, authority, tmp_path, monkeypatch, connects):
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # as a company proxy's CA is given to httpx
    client = client_for(https_school)
    try:
        assert (await client.send("GET", "/v2/users/u1"))["id"] == "u1"
        assert (await client.send("GET", "/v2/users/u2"))["path"].endswith("/u2")
    finally:
        await client.aclose()
    assert len(connects) == 1


@pytest.mark.anyio
async def test_https_to_an_untrusted_certificate_is_refused(https_school, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    client = client_for(https_school)
    try:
        with pytest.raises(ApiError, match="Could not reach LearnWorlds") as caught:
            await client.send("GET", "/v2/users/u1")
    finally:
        await client.aclose()
    assert caught.value.answer_lost is False  # never sent: safe to say nothing happened


@pytest.mark.anyio
async def test_a_server_that_accepts_and_never_answers_times_out():
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    client = client_for(f"http://127.0.0.1:{listener.getsockname()[1]}/admin/api", timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(ApiError, match="did not answer in time") as caught:
            await client.send("GET", "/v2/users/u1")
    finally:
        await client.aclose()
        listener.close()
    assert time.monotonic() - started < 5
    assert caught.value.answer_lost is True  # the request left: the school may have acted on it


@pytest.mark.anyio
async def test_a_closed_port_is_a_connection_error():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once the probe closes
    client = client_for(f"http://127.0.0.1:{port}/admin/api")
    try:
        with pytest.raises(ApiError, match=f"Could not reach LearnWorlds at http://127.0.0.1:{port}"):
            await client.send("GET", "/v2/users/u1")
    finally:
        await client.aclose()


def test_the_transport_is_httpx_with_the_asyncio_pool():
    """A later httpx that keeps its pool elsewhere would silently drop the backend; this notices."""
    made = transport.asyncio_transport()
    assert isinstance(made._pool._network_backend, transport.AsyncioBackend)


@pytest.mark.anyio
async def test_connections_race_address_families_instead_of_waiting_out_a_dead_one(monkeypatch):
    """A school whose IPv6 address answers nothing must not cost the whole connect timeout (happy eyeballs)."""
    seen = {}
    real = transport.asyncio.open_connection

    async def recording(host, port, **options):
        seen.update(options)
        return await real(host, port, **options)

    monkeypatch.setattr(transport.asyncio, "open_connection", recording)
    httpd = serve(OneUser)
    client = client_for(f"http://localhost:{httpd.server_port}/admin/api")
    try:
        assert (await client.send("GET", "/v2/users/u1"))["id"] == "u1"
    finally:
        await client.aclose()
        httpd.shutdown()
    assert seen["happy_eyeballs_delay"] == transport.HAPPY_EYEBALLS_DELAY and seen["interleave"] == 1


@pytest.mark.anyio
async def test_a_proxy_in_the_environment_is_used(monkeypatch):
    """httpx honours HTTP_PROXY only on its own transport: with a proxy set, the client keeps that one."""
    proxy = serve(Proxy)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    client = client_for("http://school.invalid/admin/api")
    try:
        answer = await client.send("GET", "/v2/users/u1")
    finally:
        await client.aclose()
        proxy.shutdown()
    assert answer == {"via_proxy": "http://school.invalid/admin/api/v2/users/u1"}


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_on_uvloop_the_client_keeps_httpx_transport(connects):
    """uvicorn runs the team server on uvloop when it is installed, and uvloop's connect lacks happy eyeballs."""
    import uvloop

    httpd = serve(OneUser)

    async def twice():
        client = client_for(f"http://127.0.0.1:{httpd.server_port}/admin/api")
        try:
            return [await client.send("GET", f"/v2/users/u{i}") for i in (1, 2)]
        finally:
            await client.aclose()

    try:
        answers = uvloop.run(twice())
    finally:
        httpd.shutdown()
    assert [a["path"] for a in answers] == ["/admin/api/v2/users/u1", "/admin/api/v2/users/u2"]
    assert connects == []  # httpx's own transport carried them
