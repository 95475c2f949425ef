"""The floor for the speed and memory benchmarks: a bare low-level MCP Server over stdio with 94 trivial tools.

It does what any Python server on the same SDK must do (start the interpreter, import the SDK, answer
initialize, tools/list and tools/call over stdin/stdout) and nothing of learnworlds-mcp: no Typer, no
schema files, no httpx (`--pipes` borrows only its stdio transport). Every tool answers at once with the same fixed user record, without I/O.

    python benchmarks/baseline_server.py          # speaks JSON-RPC on stdin/stdout until stdin closes
    python benchmarks/baseline_server.py --pipes  # the same, on learnworlds-mcp's pipe transport (stdio.py)
    python benchmarks/baseline_server.py --http 8799   # the same server over streamable HTTP (no auth), for team_http.py
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

TOOL_COUNT = 94  # as many as learnworlds-mcp lists with no filter

# The same record the benchmarks' fixed upstream serves (kept here so this file imports nothing local).
USER = {"id": "5f1e9a2b3c4d5e6f7a8b9c0d", "email": "ada@example.com", "username": "ada",
        "first_name": "Ada", "last_name": "Lovelace", "tags": ["vip", "cohort-2024"]}

TOOLS = [
    types.Tool(name=f"tool_{i:03d}", description=f"Trivial tool number {i}.",
               input_schema={"type": "object", "properties": {"id": {"type": "string"}}})
    for i in range(TOOL_COUNT)
]


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(USER))],
                                structured_content=USER)


async def main(pipes: bool = False) -> None:
    server = Server("baseline", version="0", on_list_tools=list_tools, on_call_tool=call_tool)
    if pipes:  # the one local import: to tell the transport's share from the SDK's
        from learnworlds_mcp.stdio import pipe_stdio as transport
    else:
        transport = stdio_server
    async with transport() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def serve_http(port: int) -> None:
    """The same Server behind the SDK's session manager on uvicorn, with a TCP_NODELAY socket as ours uses."""
    import contextlib
    import socket

    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.routing import Route

    manager = StreamableHTTPSessionManager(Server("baseline", version="0", on_list_tools=list_tools,
                                                  on_call_tool=call_tool))

    class Endpoint:
        async def __call__(self, scope, receive, send):
            await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with manager.run():
            yield

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    app = Starlette(routes=[Route("/mcp", endpoint=Endpoint())], lifespan=lifespan)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--http"]:
        serve_http(int(sys.argv[2]))
    else:
        anyio.run(main, sys.argv[1:2] == ["--pipes"])
