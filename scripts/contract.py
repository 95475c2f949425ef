"""Contract check: every tool, called with its example over stdio, against a Prism mock of the official spec.

    npm ci                          # once: installs Prism into node_modules/
    python scripts/contract.py [--spec PATH] [--port N]

Starts `prism mock` on the 2025 export, starts `learnworlds-mcp serve` through the MCP SDK's
stdio client, calls each listed tool with the `example` of its operation file, and prints one
line per tool and a summary. Exits 1 if a tool answers with an error or a structured result
breaks the tool's output schema; 2 if Prism cannot run (not installed, no spec, port taken).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _load_prism() -> Any:
    # The Prism launcher lives with the tests, which use it too; scripts/ is not a package.
    spec = importlib.util.spec_from_file_location("contract_prism", REPO / "tests" / "prism.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prism = _load_prism()


def problems(tool: Any, result: Any) -> list[str]:
    """What is wrong with one tool result: an error, no structured content, or a schema violation."""
    from jsonschema import Draft202012Validator

    if result.is_error:
        text = result.content[0].text if result.content else "(no content)"
        return [f"is_error: {text}"]
    if result.structured_content is None:
        return ["no structured content"]
    errors = Draft202012Validator(tool.output_schema or {}).iter_errors(result.structured_content)
    return [f"output schema: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors][:3]


async def check_all(mock: Any, examples: dict[str, dict[str, Any]]) -> list[tuple[str, list[str], float]]:
    """(tool name, problems, milliseconds) for every tool the server lists, called with its example."""
    import anyio
    from mcp import Client, StdioServerParameters

    outcomes: list[tuple[str, list[str], float]] = []
    with tempfile.TemporaryDirectory(prefix="lw-contract-") as config_dir:
        command, args, env = prism.server_command(mock.url, config_dir)
        async with Client(StdioServerParameters(command=command, args=args, env=env, cwd=REPO)) as client:
            tools, cursor = [], None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools += page.tools
                cursor = page.next_cursor
                if not cursor:
                    break
            others = sorted(tool.name for tool in tools if tool.name not in examples)
            if others:  # the SQL query tool: it reads through the operations, it sends no request of its own
                print(f"not operations, not called: {', '.join(others)}", flush=True)
            for tool in (tool for tool in tools if tool.name in examples):
                logged = len(mock.lines)
                started = time.perf_counter()
                try:
                    # call_tool itself raises RuntimeError when structured content breaks the output schema.
                    found = problems(tool, await client.call_tool(tool.name, examples.get(tool.name, {})))
                except Exception as exc:  # noqa: BLE001 - one broken tool must not hide the others
                    found = [f"{type(exc).__name__}: {exc}"]
                elapsed = (time.perf_counter() - started) * 1000
                if found:  # what Prism objected to in the request, if it got one
                    marked = await anyio.to_thread.run_sync(mock.mark)
                    found += [f"prism: {text}" for text in mock.complaints(logged, marked)]
                outcomes.append((tool.name, found, elapsed))
                report(*outcomes[-1])
    return outcomes


def report(name: str, found: list[str], ms: float) -> None:
    print(f"{name:56} {'ok' if not found else 'FAIL':4} {ms:7.1f} ms", flush=True)
    for problem in found:
        print(f"    {problem}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=prism.SPEC, help=f"OpenAPI file to mock (default {prism.SPEC})")
    parser.add_argument("--port", type=int, default=None, help="port for Prism (default: a free one)")
    options = parser.parse_args(argv)

    reason = prism.missing(options.spec)
    if reason:
        print(f"contract: cannot run: {reason}", file=sys.stderr)
        return 2
    import anyio

    from learnworlds_mcp import registry

    examples = {op.name: op.example for op in registry.load()}
    started = time.perf_counter()
    try:
        mock = prism.Prism(options.spec, options.port)
        mock.start()
    except RuntimeError as exc:  # Prism exited (port taken, unreadable spec) or never answered
        print(f"contract: {exc}", file=sys.stderr)
        return 2
    try:
        print(f"Prism {mock.url} mocking {options.spec}", flush=True)
        outcomes = anyio.run(check_all, mock, examples)
    finally:
        mock.stop()
    failed = [name for name, found, _ in outcomes if found]
    unlisted = sorted(set(examples) - {name for name, _, _ in outcomes})
    print(f"\n{len(outcomes)} tools: {len(outcomes) - len(failed)} ok, {len(failed)} failed "
          f"({time.perf_counter() - started:.1f} s)")
    if unlisted:
        print(f"not listed by the server: {', '.join(unlisted)}")
    return 1 if failed or unlisted or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
