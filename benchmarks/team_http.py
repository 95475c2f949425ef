"""The team server (`serve --transport http`) under load, and what HTTP costs per call next to stdio.

1. team: a spawned `serve --transport http` before the sandbox school with its rate limit on; N
   clients (default 10), each with a grant of its own, make C calls in all (default 300) at once
   through the SDK's streamable HTTP client. Targets: no error reaches a client, no upstream 429,
   and the wall time within 1.1x the floor the school's limit sets: (ceil(C / 30) - 1) * 10 s.
2. overhead: one client calls get_single_learn_worlds_user_by_id in sequence over HTTP (loopback,
   client limiter off, sandbox limit off), beside the same calls over stdio, both through the SDK
   client. Target: HTTP median <= 2x the stdio median.

    python benchmarks/team_http.py [--clients 10] [--calls 300] [--overhead-calls 200] [--skip-team]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import re
import socket
import subprocess
import tempfile
import time
from contextlib import asynccontextmanager, contextmanager

import _harness as h
import httpx
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID

LIMIT, WINDOW = 30, 10.0
READ_TOOL = "list_all_learn_worlds_roles"


def floor(requests: int) -> float:
    return (math.ceil(requests / LIMIT) - 1) * WINDOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def grant(env: dict[str, str], name: str) -> str:
    done = subprocess.run([h.command_path(), "grant", "create", name], env=env, capture_output=True, text=True,
                          check=True)
    return re.search(r"lwm_[0-9a-f]{12}_\S+", done.stdout).group(0)


@contextmanager
def sandbox_process():
    """`learnworlds-mcp sandbox` (limit on) in a child process, so its work never competes with the clients."""
    port = free_port()
    proc = subprocess.Popen([h.command_path(), "sandbox", "--port", str(port), "--users", "200"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api_url = f"http://127.0.0.1:{port}/admin/api"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/__sandbox/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the sandbox did not start")
                time.sleep(0.1)
        yield api_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def http_server(env: dict[str, str], port: int, *extra: str, argv: list[str] | None = None):
    argv = argv or h.serve_argv("--transport", "http", "--port", str(port), *extra)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the HTTP server did not start: {proc.stderr.read()[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@asynccontextmanager
async def connect(url: str, token: str | None):
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"} if token else {}) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


async def team_load(url: str, tokens: list[str], calls: int) -> tuple[float, int]:
    per_client = [calls // len(tokens) + (i < calls % len(tokens)) for i in range(len(tokens))]
    errors = 0

    async def one(token: str, count: int) -> None:
        nonlocal errors
        async with connect(url, token) as client:
            results = await asyncio.gather(*(client.call_tool(READ_TOOL, {}) for _ in range(count)),
                                           return_exceptions=True)
            errors += sum(isinstance(r, Exception) or r.is_error for r in results)

    started = time.monotonic()
    await asyncio.gather(*(one(t, n) for t, n in zip(tokens, per_client)))
    return time.monotonic() - started, errors


async def interleaved(paths: dict[str, tuple[Client, str]], ids: list[str], warmup: int,
                      calls: int) -> dict[str, list[float]]:
    """Calls in sequence, one per path in turn, so every path sees the same load on the machine."""
    cycle = itertools.cycle(ids)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for i in range(warmup + calls):
        user = next(cycle)
        for name, (client, tool) in paths.items():
            started = time.perf_counter()
            result = await client.call_tool(tool, {"id": user})
            if result.is_error:
                raise SystemExit(f"{tool} failed over {name}: {result.content[0].text}")
            if i >= warmup:
                samples[name].append(time.perf_counter() - started)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--overhead-calls", type=int, default=200)
    parser.add_argument("--skip-team", action="store_true", help="only the per-call overhead (seconds, not minutes)")
    args = parser.parse_args()
    print(h.machine())
    with tempfile.TemporaryDirectory(prefix="lw-team-") as folder:
        if not args.skip_team:
            with sandbox_process() as api_url:
                env = h.school_env(api_url, SANDBOX_CLIENT_ID, SANDBOX_ACCESS_TOKEN, folder)
                env["LEARNWORLDS_STATE_DIR"] = folder + "/state-load"
                tokens = [grant(env, f"client{i}") for i in range(args.clients)]
                with http_server(env, free_port()) as url:
                    wall, errors = await team_load(url, tokens, args.calls)
                limited = httpx.get(api_url.replace("/admin/api", "/__sandbox/stats")).json()["rate_limited"]
            f = floor(args.calls)
            met = errors == 0 and limited == 0 and wall <= f * 1.1
            print(f"\n{args.clients} clients, one grant each, {args.calls} calls in all at once "
                  "(sandbox in its own process, limit on: 30 per 10 s):\n")
            print(h.table(["wall", "floor", "x floor", "errors to clients", "upstream 429s", "target", "result"],
                          [[f"{wall:.1f} s", f"{f:.0f} s", f"{wall / f:.3f}x", errors, limited,
                            "0 errors, 0 429s, <= 1.1x", h.verdict(met)]], right=(0, 1, 2, 3, 4)))
        with h.upstream("sandbox") as up:
            env = h.school_env(up.api_url, up.client_id, up.token, folder)
            env["LEARNWORLDS_STATE_DIR"] = folder + "/state-overhead"
            token = grant(env, "bench")
            stdio = StdioServerParameters(command=h.command_path(), args=["serve", "--rate-limit", "100000"], env=env)
            bare_stdio = StdioServerParameters(command=h.baseline_argv()[0], args=h.baseline_argv()[1:], env=env)
            bare_port = free_port()
            with http_server(env, free_port(), "--rate-limit", "100000") as url, \
                    http_server(env, bare_port, argv=[*h.baseline_argv(), "--http", str(bare_port)]) as bare_url:
                async with Client(stdio) as local, connect(url, token) as remote, \
                        Client(bare_stdio) as bare_local, connect(bare_url, None) as bare_remote:
                    samples = await interleaved({"stdio": (local, h.GET_TOOL), "http": (remote, h.GET_TOOL),
                                                 "bare_stdio": (bare_local, h.BASELINE_TOOL),
                                                 "bare_http": (bare_remote, h.BASELINE_TOOL)},
                                                list(up.user_ids), 20, args.overhead_calls * 3)
    s, w = h.Spread.of(samples["stdio"]), h.Spread.of(samples["http"])
    bs, bw = h.Spread.of(samples["bare_stdio"]), h.Spread.of(samples["bare_http"])
    ratio = w.median / s.median
    print(f"\nper call, in sequence, {3 * args.overhead_calls} calls per path taking turns after 20 warm-up calls, "
          "sandbox limit off, client limiter at 100,000 per 10 s, the SDK client on every path:\n")
    print(h.table(["path", "round trip", "x stdio", "target", "result"], [
        [f"`serve` over stdio, {h.GET_TOOL}", s.ms(), "1.00x", "-", "-"],
        [f"`serve --transport http` on loopback, one grant, {h.GET_TOOL}", w.ms(), f"{ratio:.2f}x", "<= 2x",
         h.verdict(ratio <= 2.0)],
        ["(reference) bare SDK server over stdio, no I/O", bs.ms(), "-", "-", "-"],
        ["(reference) bare SDK server over streamable HTTP, no I/O, no auth", bw.ms(),
         f"{bw.median / bs.median:.2f}x its stdio", "-", "-"],
    ], right=(1, 2)))
    print(f"\nHTTP adds {(w.median - s.median) * 1000:.2f} ms per call to `serve`; the bare SDK server pays "
          f"{(bw.median - bs.median) * 1000:.2f} ms for the same change of transport")


if __name__ == "__main__":
    asyncio.run(main())
