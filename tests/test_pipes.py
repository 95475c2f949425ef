"""The stdio transport on pipes (stdio.pipe_stdio), in this process: every line answered, nothing lost at the end."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import mcp_types as types
import pytest
from mcp.server.lowlevel import Server

from learnworlds_mcp import stdio

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema={"type": "object"})])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    text = "x" * int((params.arguments or {}).get("size", 3))
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


async def serve_lines(lines: list[Any]) -> list[dict[str, Any]]:
    """Write `lines` to a pipe served by pipe_stdio, close it, and return every line written back."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    payload = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)
    received = bytearray()

    def feed():
        with os.fdopen(in_write, "wb") as pipe:
            pipe.write(payload)

    def drain():
        with os.fdopen(out_read, "rb") as pipe:
            received.extend(pipe.read())

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    server = Server("pipes", version="0", on_list_tools=list_tools, on_call_tool=call_tool)
    try:
        async with stdio.pipe_stdio(in_read, out_write) as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        os.close(in_read)
        os.close(out_write)  # the transport closed its own copy; with ours, the reader sees the end
        for thread in threads:
            await asyncio.to_thread(thread.join, 10)
    return [json.loads(line) for line in received.decode().splitlines()]


@pytest.mark.anyio
async def test_requests_and_refused_lines_are_all_answered():
    too_long = b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"' + b"x" * stdio.MAX_MESSAGE_BYTES + b'"}}'
    replies = await serve_lines([INIT, INITIALIZED, b"not json", b"", too_long,
                                 {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                                 {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                  "params": {"name": "echo", "arguments": {"size": 5}}}])
    answers = sorted((str(r.get("id")), r["error"]["code"] if "error" in r else 0) for r in replies)
    assert answers == [("1", 0), ("2", 0), ("3", 0), ("7", stdio.INVALID_REQUEST), ("None", stdio.PARSE_ERROR)]
    by_id = {r.get("id"): r for r in replies}
    assert "4,000,000 bytes" in by_id[7]["error"]["message"]
    assert by_id[2]["result"]["tools"][0]["name"] == "echo"
    assert by_id[3]["result"]["content"][0]["text"] == "xxxxx"


@pytest.mark.anyio
async def test_a_large_answer_is_written_whole_before_the_transport_ends():
    """4 MB is far past a pipe's buffer: the end of input must not cut the answer short."""
    replies = await serve_lines([INIT, INITIALIZED, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                     "params": {"name": "echo", "arguments": {"size": 4_000_000}}}])
    assert len(replies[-1]["result"]["content"][0]["text"]) == 4_000_000


@pytest.mark.anyio
async def test_a_last_line_without_its_newline_is_still_read():
    reader = asyncio.StreamReader()
    reader.feed_data(b'{"a":1}\n{"b":2}')
    reader.feed_eof()
    assert await stdio._next_line(reader) == (b'{"a":1}\n', False)
    assert await stdio._next_line(reader) == (b'{"b":2}', False)
    assert await stdio._next_line(reader) == (b"", False)


@pytest.mark.anyio
async def test_an_over_long_line_is_skipped_to_its_end_and_reported_by_its_head():
    reader = asyncio.StreamReader(limit=10)
    reader.feed_data(b'{"id":5,' + b"y" * 35 + b'}\n{"ok":1}\n')
    reader.feed_eof()
    head, too_long = await stdio._next_line(reader)
    assert too_long and head.startswith(b'{"id":5,')
    assert await stdio._next_line(reader) == (b'{"ok":1}\n', False)


def test_pipes_are_served_by_the_loop_and_a_regular_file_or_a_shared_stderr_is_not(tmp_path):
    read_fd, write_fd = os.pipe()
    log_read, log_write = os.pipe()
    try:
        with (tmp_path / "requests.jsonl").open("wb") as regular:
            async def check():
                return (stdio.pipes_usable(read_fd, write_fd, log_write),
                        stdio.pipes_usable(regular.fileno(), write_fd, log_write),
                        stdio.pipes_usable(read_fd, write_fd, write_fd))  # `serve 2>&1 | ...`

            assert asyncio.run(check()) == (True, False, False)
    finally:
        for fd in (read_fd, write_fd, log_read, log_write):
            os.close(fd)
