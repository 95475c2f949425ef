"""The stdio transport: the SDK's, with each incoming line screened so a malformed message gets an error, not silence.

The SDK's stdio reader drops any line its JSON-RPC model rejects: a lone UTF-16 surrogate, deep
nesting, a batch array, a wrong `jsonrpc` version. The client then waits forever for an answer.
Here every line is checked against the same model first; a rejected line is answered with a
JSON-RPC parse error (-32700) or invalid request (-32600), carrying its id when one can be found,
and never reaches the SDK.
"""

from __future__ import annotations

import json
import re
import sys
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, BinaryIO

MAX_MESSAGE_BYTES = 4_000_000  # tool arguments are capped at 1 MB; this leaves room for the envelope
PARSE_ERROR, INVALID_REQUEST = -32700, -32600
# The request's own id sits before its params in every client we know of; an "id" inside params
# (a record id) must never be mistaken for it, so only the text before "params" is searched.
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,15}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')


def _id_in_text(text: str) -> int | str | None:
    head = text.split('"params"', 1)[0][:4096]
    match = _ID.search(head)
    return json.loads(match.group(1)) if match else None


def _valid_id(value: Any) -> int | str | None:
    return value if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)) else None


def diagnose(line: str, problem: str) -> tuple[int, str, int | str | None]:
    """(code, message, id) for a line the SDK's JSON-RPC model refused; `problem` is that model's complaint."""
    try:
        value = json.loads(line)
    except RecursionError:
        return PARSE_ERROR, "Parse error: the message is nested too deeply.", _id_in_text(line)
    except ValueError as exc:
        return PARSE_ERROR, f"Parse error: not valid JSON ({exc}).", None
    if isinstance(value, list):
        return INVALID_REQUEST, "Invalid request: batches are not supported; send one message per line.", None
    if not isinstance(value, dict):
        return INVALID_REQUEST, "Invalid request: a message must be a JSON object.", None
    request_id = _valid_id(value.get("id"))
    if value.get("jsonrpc") != "2.0":
        return INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".', request_id
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return PARSE_ERROR, "Parse error: the message holds a lone UTF-16 surrogate (\\ud800-\\udfff).", request_id
    except (RecursionError, ValueError):
        return PARSE_ERROR, "Parse error: the message is nested too deeply.", request_id
    return INVALID_REQUEST, f"Invalid request: {problem}", request_id


class ScreenedLines:
    """Lines of a byte stream, as the SDK's reader iterates them; refused lines go to `rejects` instead."""

    def __init__(self, source: BinaryIO, rejects: Any) -> None:
        self.source = source
        self.rejects = rejects

    def __aiter__(self) -> "ScreenedLines":
        return self

    async def __anext__(self) -> str:
        import anyio
        import mcp_types as types
        from pydantic import ValidationError

        while True:
            raw, oversize = await anyio.to_thread.run_sync(self._readline, abandon_on_cancel=True)
            if not raw:
                raise StopAsyncIteration
            line = raw.decode("utf-8", errors="replace")
            if oversize:
                await self.rejects.send((INVALID_REQUEST, f"Invalid request: the message is over "
                                         f"{MAX_MESSAGE_BYTES:,} bytes.", _id_in_text(line)))
                continue
            if not line.strip():
                continue  # blank lines carry nothing to answer
            try:
                message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except ValidationError as exc:
                first = exc.errors()[0] if exc.error_count() else {"msg": str(exc)}
                await self.rejects.send(diagnose(line, str(first.get("msg", "not a JSON-RPC message"))))
                continue
            if isinstance(message, types.JSONRPCNotification) and "id" in json.loads(line):
                # an id that is neither string nor integer makes the model read a request as a notification,
                # which is never answered
                await self.rejects.send((INVALID_REQUEST, 'Invalid request: "id" must be a string or an integer.',
                                         None))
                continue
            return line

    def _readline(self) -> tuple[bytes, bool]:
        """One line of at most MAX_MESSAGE_BYTES; a longer one is read to its end, dropped, and flagged."""
        line = self.source.readline(MAX_MESSAGE_BYTES + 1)
        if len(line) <= MAX_MESSAGE_BYTES or line.endswith(b"\n"):
            return line, False
        while True:
            chunk = self.source.readline(1 << 20)
            if not chunk or chunk.endswith(b"\n"):
                return line[:4096], True


@asynccontextmanager
async def screened_stdio_server(source: BinaryIO | None = None) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's stdio_server reading screened lines from `source` (stdin), answering refused ones itself."""
    import anyio
    import mcp_types as types
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    send_rejects, rejects = anyio.create_memory_object_stream[tuple](64)
    lines = ScreenedLines(source or sys.stdin.buffer, send_rejects)
    async with stdio_server(stdin=lines) as (read_stream, write_stream):  # type: ignore[arg-type]
        async def answer_rejects() -> None:
            async with rejects:
                async for code, message, request_id in rejects:
                    error = types.JSONRPCError(jsonrpc="2.0", id=request_id,
                                               error=types.ErrorData(code=code, message=message))
                    try:
                        await write_stream.send(SessionMessage(error))
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        return

        async with anyio.create_task_group() as group:
            group.start_soon(answer_rejects)
            try:
                yield read_stream, write_stream
            finally:  # answer what is still queued (the client may close stdin right after a bad line)
                send_rejects.close()
                group.cancel_scope.deadline = anyio.current_time() + 1.0
