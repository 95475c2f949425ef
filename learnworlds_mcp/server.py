"""The MCP side: a low-level SDK Server whose list and call handlers are closed over the selected operations.

The SDK's low-level Server validates nothing and forwards calls for names it never listed, so
dispatch here refuses any name outside the selection, and arguments are validated by us.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from . import __version__, discovery
from .discovery import Exposure
from .audit import AuditLog
from .auth import mask
from .calls import open_call
from .client import LearnWorldsClient
from .errors import ApiError, ArgumentError, CredentialsError, PolicyError
from .runtime import DEFAULT_MAX_RESULT_BYTES, Runtime
from .filters import select
from .policy import Grant
from .registry import Operation
from .unconfigured import UnconfiguredClient

log = logging.getLogger("learnworlds_mcp")

INSTRUCTIONS = (
    "Tools for one LearnWorlds school. List tools return {result, next_cursor, total}: pass "
    "next_cursor back unchanged to get the next items, and stop when it is null. Dates are Unix "
    "seconds. User ids also accept the user's email. Reads take fields='a,b.c' to return only those "
    "fields (dot paths reach nested ones). Empty values (null, empty text or lists) are left out of "
    "results. The school allows 30 requests per 10 s; on a rate-limit error wait the seconds it gives."
)


def dumps(value: Any) -> str:
    """Compact JSON, as the model reads it: no spaces, no ASCII escaping."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def error_result(message: str, budget: int = DEFAULT_MAX_RESULT_BYTES, **details: Any) -> types.CallToolResult:
    from .shaping import cap  # an upstream may echo megabytes into an error: it gets the same byte cap

    payload = cap({"error": message, **{k: v for k, v in details.items() if v is not None}}, budget,
                  "the rest of this error was left out")
    return types.CallToolResult(content=[types.TextContent(type="text", text=dumps(payload))], is_error=True)


def build_server(operations: list[Operation], runtime: Runtime | LearnWorldsClient,
                 audit: AuditLog | None = None, exposure: Exposure = Exposure.TOOLS) -> Server:
    """A Server exposing exactly `operations`, as tools or through discovery meta-tools."""
    if not isinstance(runtime, Runtime):
        runtime = Runtime(client=runtime)
    if runtime.store is not None:  # the query tool sees only the tables of this server's selection
        runtime = dataclasses.replace(runtime, store=runtime.store.view(operations))
    if runtime.store is not None:  # (None when the selection leaves it no table)
        operations = [*operations, runtime.store.operation]
    exposure = Exposure(exposure)
    by_name = {op.name: op for op in operations}
    if exposure is Exposure.DISCOVERY:
        definitions = discovery.meta_tools(operations)
    else:
        definitions = [op.tool() for op in operations]
    tools = [types.Tool.model_validate(d) for d in definitions]
    listed = {d["name"] for d in definitions}
    meta = {d["name"]: d for d in definitions}

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in listed:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool {params.name!r}: this server does not offer it.")
        if runtime.store is not None:
            from .store import progress_reporter

            progress_reporter.set(ctx.session.report_progress)
        async with runtime.policy.slot():
            if exposure is not Exposure.DISCOVERY:
                return await run_tool(by_name[params.name], params.arguments, runtime, audit)
            return await _run_meta(meta[params.name], params.arguments or {}, operations, by_name, runtime, audit)

    available = set(by_name)
    schemas = {op.name: op.input_schema for op in operations}
    helpers: dict[str, Any] = {}  # prompts and completions load at their first use, not at start-up

    def completer() -> Any:
        if "completer" not in helpers:
            from .completions import Completer

            helpers["completer"] = Completer(operations, runtime)
        return helpers["completer"]

    async def complete(ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        return await completer().complete(ctx, params)

    async def list_prompts(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        from . import prompts

        return types.ListPromptsResult(prompts=prompts.list_prompts(available))

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        from . import prompts

        titles = None
        if prompts.role_names_given(params.arguments):  # role names are checked against the school's roles
            titles = await completer().values(prompts.ROLES_TOOL, "title")
        try:
            result = prompts.render(params.name, params.arguments, available, schemas, titles)
        except prompts.PromptError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from exc
        if exposure is Exposure.DISCOVERY:  # the tools the prompt names are reached through the executors
            note = (f"On this server, call each tool named below through {discovery.RUN_READ} with "
                    '{"name": <tool>, "arguments": {...}}.\n\n')
            first = result.messages[0].content
            result.messages[0].content = types.TextContent(type="text", text=note + first.text)
        return result

    # Over HTTP the SDK checks each call's Mcp-Param headers against the tool's input schema; without this
    # lookup it runs the whole tools/list handler (and serializes every tool) once per call to find it.
    input_schemas = {tool.name: tool.input_schema for tool in tools}
    return Server("learnworlds-mcp", version=__version__, title="LearnWorlds",
                  instructions=INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt, on_completion=complete,
                  get_tool_input_schema=input_schemas.get)


def server_for(grant: Grant, operations: list[Operation], runtime: Runtime, audit: AuditLog | None = None,
               exposure: Exposure = Exposure.TOOLS) -> Server:
    """A Server closed over one grant: its selection picks the tools from `operations`, its policy rules
    every call, and the audit log names it on every record. stdio and HTTP both build their servers here."""
    chosen = select(operations, grant.selection)
    runtime = dataclasses.replace(runtime, policy=grant.policy)
    if not grant.selection.offers_query_tool():
        runtime = dataclasses.replace(runtime, store=None)
    return build_server(chosen, runtime, audit.bind(grant=grant.name) if audit else None, exposure)


async def _run_meta(definition: dict[str, Any], arguments: dict[str, Any], operations: list[Operation],
                    by_name: dict[str, Operation], runtime: Runtime, audit: AuditLog | None) -> types.CallToolResult:
    name = definition["name"]
    try:
        arguments = discovery.check_arguments(definition, arguments)
        if name == discovery.SEARCH:
            return _ok(discovery.search(operations, arguments.get("query"), arguments.get("tag"),
                                        arguments.get("method")))
        if name == discovery.DESCRIBE:
            return _ok(discovery.describe(by_name, arguments.get("name")))
        operation, inner = discovery.target(by_name, name, arguments)
    except ArgumentError as exc:
        return error_result(str(exc))
    return await run_tool(operation, inner, runtime, audit)


def _ok(structured: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=dumps(structured))],
                                structured_content=structured)


async def run_tool(operation: Operation, arguments: dict[str, Any] | None, runtime: Runtime,
                   audit: AuditLog | None = None) -> types.CallToolResult:
    """Execute one call; every failure becomes an error result, and the call is logged and audited."""
    from .executor import execute  # loaded at the first call: start-up answers tools/list sooner
    started = time.monotonic()
    # The client reads this context as each request leaves: expiry, the write's intent record, the cost.
    context = open_call(expires_at=runtime.policy.expires_at, withdrawn=runtime.policy.withdrawn)
    stats = context.stats
    if audit is not None:
        context.before_write = lambda method, path: audit.intent(
            call_id=context.call_id, tool=operation.name, arguments=arguments or {}, request=f"{method} {path}")
    try:
        if isinstance(runtime.client, UnconfiguredClient):  # before the arguments: nothing else can help
            raise CredentialsError(runtime.client.message)
        structured = await execute(operation, arguments, runtime)
    except (ArgumentError, PolicyError, CredentialsError) as exc:
        outcome = error_result(str(exc), runtime.max_result_bytes)
        kind = "refused" if isinstance(exc, PolicyError) else "error"
    except ApiError as exc:
        extra = {k: v for k, v in exc.details.items() if k != "status"}
        kind = "unknown" if exc.outcome_unknown else "error"  # a lost answer of a write: it may have happened
        outcome = error_result(str(exc), runtime.max_result_bytes, status=exc.status, **extra)
    except Exception as exc:  # a bug must not kill the session; the model gets a clean error
        log.exception("tool %s failed unexpectedly", operation.name)
        outcome = error_result(f"Internal error in learnworlds-mcp ({type(exc).__name__}); see the server log.")
        kind = "error"
    else:
        outcome = _ok(structured)
        kind = "dry_run" if structured.get("dry_run") is True else "ok"
    # Every credential, configured or obtained by the token exchange, is masked in what the model sees.
    secrets = runtime.client.credentials.secrets
    if any(secret in outcome.content[0].text for secret in secrets):  # the text holds all the structure does
        outcome.content[0].text = mask(outcome.content[0].text, secrets)
        if outcome.structured_content is not None:
            outcome.structured_content = mask(outcome.structured_content, secrets)
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    log.info("%s %s in %.0f ms", operation.name, kind, elapsed_ms)
    if audit is not None:
        audit.record(event="outcome", call_id=context.call_id, tool=operation.name, arguments=arguments or {},
                     outcome=kind, status=stats.status,
                     duration_ms=elapsed_ms, requests=stats.requests)
    return outcome


async def serve_stdio(operations: list[Operation], runtime: Runtime, audit: AuditLog | None = None,
                      exposure: Exposure = Exposure.TOOLS, grant: Grant | None = None) -> None:
    """Serve over stdin/stdout until the client closes the stream; `grant` is the run's implicit grant."""
    from .stdio import screened_stdio_server  # the SDK's transport, answering lines it would drop

    if grant is not None:
        server = server_for(grant, operations, runtime, audit, exposure)
    else:
        server = build_server(operations, runtime, audit, exposure)
    try:
        async with screened_stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        if runtime.store is not None:
            await runtime.store.aclose()
        await runtime.client.aclose()


async def call_in_memory(operations: list[Operation], runtime: Runtime, name: str,
                         arguments: dict[str, Any]) -> types.CallToolResult:
    """One tool call through the real server, over the SDK's in-memory client (the `call` command)."""
    from mcp import Client

    try:
        async with Client(build_server(operations, runtime)) as session:
            return await session.call_tool(name, arguments)
    finally:
        await runtime.client.aclose()
