"""A hostile or broken upstream on 127.0.0.1: gzip bombs, endless and slow bodies, cut-off answers.
Memory and time stay bounded, and each case is a clear error."""

from __future__ import annotations

import asyncio
import gzip
import struct
import time
import tracemalloc
import zlib

import pytest

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.body import BodyTooLargeError
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError
from tests.conftest import SECRET

MB = 1024 * 1024


def gzip_bomb(megabytes: int) -> bytes:
    """A valid gzip stream of `megabytes` MB of zeros, about 1,000 times smaller: one compressed
    segment after a full flush repeats (the compressor forgets its history at each full flush)."""
    packer, block = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(MB)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)  # with the gzip header
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    trailer = b"\x03\x00" + struct.pack("<II", crc, (megabytes * MB) & 0xFFFFFFFF)  # last, empty block
    return first + segment * (megabytes - 1) + trailer


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1024)


class Upstream:
    """A one-behaviour HTTP/1.1 server on 127.0.0.1: `answer(writer)` writes whatever it likes."""

    def __init__(self, answer):
        self.answer, self.server, self.requests = answer, None, 0

    async def __aenter__(self):
        async def handle(reader, writer):
            try:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                await self.answer(writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/admin/api"


def head(status: int = 200, **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", "Connection: close",
             *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def client_for(upstream: Upstream, **options) -> LearnWorldsClient:
    creds = Credentials(api_url=upstream.api_url, client_id="c", access_token=SECRET)
    return LearnWorldsClient(creds, max_retries=0, **options)


@pytest.mark.anyio
async def test_a_gzip_bomb_stops_at_the_decompressed_ceiling_in_bounded_memory(bomb):
    async def answer(writer):
        writer.write(head(Content_Encoding="gzip", Content_Length=str(len(bomb))) + bomb)
        await writer.drain()

    async with Upstream(answer) as upstream:
        client = client_for(upstream, max_body_bytes=8 * MB)
        tracemalloc.start()
        try:
            with pytest.raises(BodyTooLargeError, match="decompressed") as info:
                await client.send("GET", "/v2/users")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            await client.aclose()
    assert peak < 40 * MB  # the bomb holds 1 GB; the ceiling is 8 MB
    assert "8,388,608 bytes" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.anyio
async def test_an_endless_body_stops_at_the_wire_ceiling():
    async def answer(writer):
        writer.write(head())
        chunk = b" " * 65536
        for _ in range(200 * 16):  # 200 MB if nobody stops reading
            writer.write(chunk)
            await writer.drain()

    async with Upstream(answer) as upstream:
        client = client_for(upstream, max_body_bytes=2 * MB)
        with pytest.raises(BodyTooLargeError, match="on the wire"):
            await client.send("GET", "/v2/users")
        await client.aclose()


@pytest.mark.anyio
async def test_a_declared_oversize_body_is_refused_before_reading():
    async def answer(writer):
        writer.write(head(Content_Length=str(10**12)))
        await writer.drain()

    async with Upstream(answer) as upstream:
        client = client_for(upstream, max_body_bytes=MB)
        with pytest.raises(BodyTooLargeError, match="declared"):
            await client.send("GET", "/v2/users")
        await client.aclose()


@pytest.mark.anyio
async def test_a_body_sent_one_byte_at_a_time_meets_the_total_deadline():
    async def answer(writer):
        writer.write(head(Content_Length="1000"))
        for _ in range(1000):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)  # well inside the 30 s read timeout, every time

    async with Upstream(answer) as upstream:
        client = client_for(upstream, deadline=1.5)
        started = time.monotonic()
        with pytest.raises(ApiError, match="did not finish answering within 1.5 s"):
            await client.send("GET", "/v2/users")
        elapsed = time.monotonic() - started
        await client.aclose()
    assert elapsed < 5


@pytest.mark.anyio
async def test_a_normal_gzip_answer_still_reads():
    payload = gzip.compress(b'{"data": [{"id": "u1"}]}')

    async def answer(writer):
        writer.write(head(Content_Encoding="gzip", Content_Length=str(len(payload))) + payload)
        await writer.drain()

    async with Upstream(answer) as upstream:
        client = client_for(upstream)
        assert await client.send("GET", "/v2/users") == {"data": [{"id": "u1"}]}
        await client.aclose()


@pytest.mark.anyio
async def test_an_encoding_we_did_not_ask_for_is_a_clear_error():
    async def answer(writer):
        writer.write(head(Content_Encoding="br", Content_Length="4") + b"abcd")
        await writer.drain()

    async with Upstream(answer) as upstream:
        client = client_for(upstream)
        with pytest.raises(ApiError, match="did not ask for"):
            await client.send("GET", "/v2/users")
        await client.aclose()
