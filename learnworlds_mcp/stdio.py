"""The stdio transport: one JSON-RPC message per line, each screened so a malformed one gets an error, not silence.

The SDK's stdio reader drops any line its JSON-RPC model rejects: a lone UTF-16 surrogate, deep
nesting, a batch array, a wrong `jsonrpc` version. The client then waits forever for an answer.
Here every line is checked against the same model once; a rejected line is answered with a
JSON-RPC parse error (-32700) or invalid request (-32600), carrying its id when one can be found.

Two ways to move the lines, one screening:
- pipes or sockets on a POSIX system (how every MCP host starts a server): the event loop reads
  and writes them directly. The SDK's transport instead hands each read, write and flush to a
  worker thread, which costs about 0.6 ms per call on a 2-core machine (benchmarks/call_overhead.py).
- anything else (Windows, a regular file or a terminal on stdin): the SDK's own transport, fed
  the screened lines.
Either way, while serving, fd 0 reads the null device and fd 1 goes to stderr, so a stray print
or child process cannot corrupt the wire. And either way the end of input ends the session only
once every request read has been answered (up to SETTLE_SECONDS): the SDK would cancel them, so
`learnworlds-mcp serve < requests.jsonl` lost its last answers, and a write cut off mid-flight
left its outcome unknown.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
from collections import Counter
from contextlib import asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, BinaryIO, Iterator

MAX_MESSAGE_BYTES = 4_000_000  # tool arguments are capped at 1 MB; this leaves room for the envelope
PARSE_ERROR, INVALID_REQUEST = -32700, -32600
FLUSH_SECONDS = 5.0  # at the end, how long answers already written may wait for a client that stopped reading
SETTLE_SECONDS = 30.0  # at the end of input, how long calls still running may take to answer
# The request's own id sits before its params in every client we know of; an "id" inside params
# (a record id) must never be mistaken for it, so only the text before "params" is searched.
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,15}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')

log = logging.getLogger("learnworlds_mcp.stdio")

Reject = tuple[int, str, "int | str | None"]  # (JSON-RPC error code, message, request id)


def _id_in_text(text: str) -> int | str | None:
    head = text.split('"params"', 1)[0][:4096]
    match = _ID.search(head)
    return json.loads(match.group(1)) if match else None


def _valid_id(value: Any) -> int | str | None:
    return value if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)) else None


def diagnose(line: str, problem: str) -> Reject:
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


def oversize(head: bytes) -> Reject:
    return (INVALID_REQUEST, f"Invalid request: the message is over {MAX_MESSAGE_BYTES:,} bytes.",
            _id_in_text(head.decode("utf-8", errors="replace")))


def screen(line: str) -> Any:
    """The JSON-RPC message on one line, or the Reject to answer it with; None for a blank line."""
    import mcp_types as types
    from pydantic import ValidationError

    if not line.strip():
        return None  # blank lines carry nothing to answer
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.error_count() else {"msg": str(exc)}
        return diagnose(line, str(first.get("msg", "not a JSON-RPC message")))
    if isinstance(message, types.JSONRPCNotification) and "id" in json.loads(line):
        # an id that is neither string nor integer makes the model read a request as a notification,
        # which is never answered
        return INVALID_REQUEST, 'Invalid request: "id" must be a string or an integer.', None
    return message


def error_message(reject: Reject) -> Any:
    import mcp_types as types

    code, message, request_id = reject
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


class Answers:
    """The requests read and not yet answered, so that the end of input can wait for their answers."""

    def __init__(self) -> None:
        self.open: Counter[Any] = Counter()
        self._settled: Any = None  # an anyio.Event while someone waits

    def read(self, message: Any) -> None:
        import mcp_types as types

        if isinstance(message, types.JSONRPCRequest):
            self.open[message.id] += 1
        elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
            self._close((message.params or {}).get("requestId"))  # a cancelled request is never answered

    def written(self, message: Any) -> None:
        import mcp_types as types

        if isinstance(message, (types.JSONRPCResponse, types.JSONRPCError)):
            self._close(message.id)

    def _close(self, request_id: Any) -> None:
        if self.open[request_id] > 1:
            self.open[request_id] -= 1
            return
        self.open.pop(request_id, None)
        if not self.open and self._settled is not None:
            self._settled.set()

    async def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Wait until every request read has its answer, or `seconds` have passed."""
        import anyio

        if not self.open:
            return
        log.info("input ended; waiting up to %.0f s for %d call(s) still running", seconds, sum(self.open.values()))
        self._settled = anyio.Event()
        with anyio.move_on_after(seconds):
            await self._settled.wait()
        if self.open:
            log.warning("input ended and %d call(s) did not answer within %.0f s; they are cancelled",
                        sum(self.open.values()), seconds)


@asynccontextmanager
async def screened_stdio_server() -> AsyncIterator[tuple[Any, Any]]:
    """(read_stream, write_stream) over stdin and stdout, for Server.run: the event loop's pipes where it can."""
    if pipes_usable(0, 1):
        async with pipe_stdio(0, 1) as streams:
            yield streams
    else:
        async with _sdk_stdio(sys.stdin.buffer) as streams:
            yield streams


def pipes_usable(read_fd: int, write_fd: int, error_fd: int = 2) -> bool:
    """Whether the event loop can serve these descriptors itself: POSIX, asyncio, and both a pipe or socket.

    A terminal or a regular file is left to the SDK's threads: a pipe transport would switch a
    terminal shared with the shell to non-blocking, and it cannot read a regular file at all. So is
    a stdout that is also stderr (`serve 2>&1 | ...`): non-blocking is a property of the pipe's
    open end, so logging would meet EAGAIN whenever the reader fell behind.
    """
    if sys.platform == "win32":
        return False
    import sniffio

    try:
        if sniffio.current_async_library() != "asyncio":
            return False
        wire_in, wire_out = os.fstat(read_fd), os.fstat(write_fd)
        if not all(stat.S_ISFIFO(s.st_mode) or stat.S_ISSOCK(s.st_mode) for s in (wire_in, wire_out)):
            return False
        try:
            errors = os.fstat(error_fd)
        except OSError:
            return True  # no stderr at all: nothing shares the wire
        return (errors.st_dev, errors.st_ino) != (wire_out.st_dev, wire_out.st_ino)
    except (OSError, sniffio.AsyncLibraryNotFoundError):
        return False


@contextmanager
def _claimed(fd: int, diversion: int) -> Iterator[int]:
    """A private duplicate of `fd` for the wire, with `fd` itself pointed at `diversion` until the end.

    Only the standard descriptors are diverted; any other is simply duplicated.
    """
    import fcntl

    private = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    try:
        if fd in (0, 1):
            os.dup2(diversion, fd)
        try:
            yield private
        finally:
            os.set_blocking(private, True)  # the loop's transport made it non-blocking; the fd's next owner expects blocking
            if fd in (0, 1):
                os.dup2(private, fd)
    finally:
        os.close(private)


@asynccontextmanager
async def pipe_stdio(read_fd: int = 0, write_fd: int = 1) -> AsyncIterator[tuple[Any, Any]]:
    """Serve JSON-RPC lines on two pipe (or socket) descriptors with the asyncio loop's own transports."""
    import asyncio

    import anyio
    from mcp.shared._context_streams import create_context_streams
    from mcp.shared.message import SessionMessage

    loop = asyncio.get_running_loop()
    null = os.open(os.devnull, os.O_RDWR)
    try:
        with _claimed(read_fd, null) as wire_in, _claimed(write_fd, _stderr_fd() or null) as wire_out:
            os.close(null)
            null = -1
            reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
            read_transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0, closefd=False))
            write_transport, write_protocol = await loop.connect_write_pipe(
                lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()),
                os.fdopen(wire_out, "wb", buffering=0, closefd=False))
            writer = asyncio.StreamWriter(write_transport, write_protocol, None, loop)
            incoming, read_stream = create_context_streams[SessionMessage | Exception](0)
            write_stream, outgoing = create_context_streams[SessionMessage](0)

            answers = Answers()

            def emit(message: Any) -> None:
                answers.written(message)
                if not writer.is_closing():  # a client that closed its end gets nothing more
                    writer.write(message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n")

            async def read_messages() -> None:
                async with incoming:
                    while True:
                        line, too_long = await _next_line(reader)
                        if not line:
                            await answers.settle()
                            return
                        screened = oversize(line) if too_long else screen(line.decode("utf-8", errors="replace"))
                        if isinstance(screened, tuple):
                            emit(error_message(screened))
                            await drained()
                        elif screened is not None:
                            answers.read(screened)
                            await incoming.send(SessionMessage(screened))

            async def drained() -> None:
                try:
                    await writer.drain()  # a client that is slow to read holds us here, not in our memory
                except ConnectionError:  # the client closed its end: stop reading, so the session ends
                    if not reader.at_eof():
                        log.info("the client closed stdout; ending the session")
                        reader.feed_eof()

            async def write_messages() -> None:
                async with outgoing:
                    async for session_message in outgoing:
                        emit(session_message.message)
                        await drained()

            try:
                async with anyio.create_task_group() as group:
                    group.start_soon(write_messages)
                    reading = anyio.CancelScope()
                    group.start_soon(_until_cancelled, reading, read_messages)
                    try:
                        yield read_stream, write_stream
                    finally:
                        reading.cancel()  # the session is over, whatever the client still sends
                        await write_stream.aclose()  # the writer ends once it has written what is queued
            finally:
                read_transport.close()
                writer.close()
                with anyio.move_on_after(FLUSH_SECONDS, shield=True) as waiting:
                    try:
                        await writer.wait_closed()  # what is written reaches the client before the fds go back
                    except OSError:
                        pass
                if waiting.cancelled_caught:  # a client that stopped reading: drop the rest
                    write_transport.abort()
    finally:
        if null >= 0:
            os.close(null)


def _stderr_fd() -> int | None:
    """2 when fd 2 is the stderr this process started with; None when it started without one (then fd 2 may
    since have been reused by a file of ours, which stray output must never reach)."""
    try:
        return 2 if sys.stderr is not None and sys.stderr.fileno() == 2 else None
    except (AttributeError, OSError, ValueError):
        return None


async def _until_cancelled(scope: Any, work: Any) -> None:
    with scope:
        await work()


async def _next_line(reader: Any) -> tuple[bytes, bool]:
    """The next line with its newline (b"" at the end of input), or the head of one over
    MAX_MESSAGE_BYTES, flagged, after reading that line to its end."""
    import asyncio

    head = b""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except OSError:  # the pipe failed: the same as its end
            return b"", False
        except asyncio.IncompleteReadError as exc:  # the input ended: a last line without its newline
            line = exc.partial
        except asyncio.LimitOverrunError as exc:
            chunk = await reader.readexactly(exc.consumed)
            head = head or chunk[:4096]
            continue
        return (head, True) if head else (line, False)


class ScreenedLines:
    """Lines of a byte stream, as the SDK's reader iterates them; refused lines go to `rejects` instead."""

    def __init__(self, source: BinaryIO, rejects: Any, answers: Answers) -> None:
        self.source = source
        self.rejects = rejects
        self.answers = answers

    def __aiter__(self) -> "ScreenedLines":
        return self

    async def __anext__(self) -> str:
        import anyio

        while True:
            raw, too_long = await anyio.to_thread.run_sync(self._readline, abandon_on_cancel=True)
            if not raw:
                await self.answers.settle()
                raise StopAsyncIteration
            if too_long:
                await self.rejects.send(oversize(raw))
                continue
            line = raw.decode("utf-8", errors="replace")
            screened = screen(line)
            if isinstance(screened, tuple):
                await self.rejects.send(screened)
            elif screened is not None:
                self.answers.read(screened)
                return line  # the SDK validates it again: its reader takes text, not messages

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
async def _sdk_stdio(source: BinaryIO) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's stdio_server reading screened lines from `source`, answering refused ones itself."""
    import anyio
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    send_rejects, rejects = anyio.create_memory_object_stream[tuple](64)
    answers = Answers()
    lines = ScreenedLines(source, send_rejects, answers)
    async with stdio_server(stdin=lines) as (read_stream, sdk_write_stream):  # type: ignore[arg-type]
        write_stream = _Observed(sdk_write_stream, answers)

        async def answer_rejects() -> None:
            async with rejects:
                async for reject in rejects:
                    try:
                        await write_stream.send(SessionMessage(error_message(reject)))
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        return

        async with anyio.create_task_group() as group:
            group.start_soon(answer_rejects)
            try:
                yield read_stream, write_stream
            finally:  # answer what is still queued (the client may close stdin right after a bad line)
                send_rejects.close()
                group.cancel_scope.deadline = anyio.current_time() + 1.0


class _Observed:
    """The SDK's write stream, telling `answers` of each message that passes."""

    def __init__(self, stream: Any, answers: Answers) -> None:
        self.stream, self.answers = stream, answers

    async def send(self, item: Any) -> None:
        await self.stream.send(item)  # only once the SDK's writer holds it: until then the end of input may cancel it
        self.answers.written(item.message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    async def __aenter__(self) -> "_Observed":
        await self.stream.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        return await self.stream.__aexit__(*exc)
