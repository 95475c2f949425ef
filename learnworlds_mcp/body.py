"""An answer's body read under two ceilings: bytes on the wire and bytes after decompression.

httpx would decompress a whole chunk at once and keep the whole body; a hostile or broken
upstream can send a gzip bomb (1 GB from 1 MB) or an endless stream. Here the raw stream is
decoded in bounded steps, and reading stops with a clear error at either ceiling.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from .errors import ApiError

if TYPE_CHECKING:
    import httpx

MAX_BODY_BYTES = 16 * 1024 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what this reader can decode; asked for explicitly
_STEP = 64 * 1024


class BodyTooLargeError(ApiError):
    """The answer passed a byte ceiling; reading stopped there."""


def _decoder(encoding: str):
    """A zlib decompressor for the Content-Encoding, None for identity; ApiError for what we did not ask for."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # detects a gzip or zlib header
    raise ApiError(f"LearnWorlds answered in a content encoding learnworlds-mcp did not ask for ({encoding[:40]!r}); "
                   "a proxy between here and the school may be rewriting answers.")


def _too_large(what: str, limit: int) -> BodyTooLargeError:
    return BodyTooLargeError(f"LearnWorlds' answer passed {limit:,} bytes {what}, so reading stopped (a broken or "
                             "hostile upstream, or a far larger answer than any LearnWorlds page); ask for fewer "
                             "items with a smaller limit, or check the school URL.", details={"ceiling": limit})


async def read_bounded(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """The decoded body of a streamed response, or BodyTooLargeError past `limit` bytes raw or decoded."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large("on the wire (declared)", limit)
    if response.is_stream_consumed:  # a transport that built the answer in memory (tests, MockTransport)
        if len(response.content) > limit:
            raise _too_large("decompressed", limit)
        return response.content
    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    raw_total = decoded_total = 0
    async for chunk in response.aiter_raw():
        raw_total += len(chunk)
        if raw_total > limit:
            raise _too_large("on the wire", limit)
        if decoder is None:
            decoded_total += len(chunk)
            parts.append(chunk)
            continue
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, _STEP)  # never more than one step of output at a time
            except zlib.error as exc:
                raise ApiError(f"LearnWorlds sent a compressed answer that does not decompress ({exc}); "
                               "try again shortly.") from None
            decoded_total += len(out)
            if decoded_total > limit:
                raise _too_large("decompressed", limit)
            parts.append(out)
            data = decoder.unconsumed_tail
    if decoder is not None:
        tail = decoder.flush(limit - decoded_total + 1)
        if decoded_total + len(tail) > limit:
            raise _too_large("decompressed", limit)
        parts.append(tail)
    return b"".join(parts)
