"""Three `serve` processes, one school: does the shared rate budget keep them all under its limit?

A standalone sandbox school (its own process, rate limit on: 30 requests per 10 s) and three
`learnworlds-mcp serve` processes over stdio, as three host windows would start them. Each gets 60
concurrent read calls (180 requests in all). Reported: errors that reached the model, 429s the
school sent, and the wall time beside the floor the limit sets, (ceil(180 / 30) - 1) * 10 s = 50 s.
Target: 0 errors and at most 1.15x the floor.

With --compare, the same run again with each process keeping its own budget (a state folder of
its own), which is how every process counted before the budget was shared.

    python benchmarks/shared_budget.py [--processes 3] [--calls 60] [--compare]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import AsyncExitStack
from pathlib import Path

from _harness import machine
from mcp import Client, StdioServerParameters

from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID

LIMIT, WINDOW, TARGET = 30, 10.0, 1.15


def floor(requests: int) -> float:
    return (math.ceil(requests / LIMIT) - 1) * WINDOW


def start_school() -> tuple[subprocess.Popen, str]:
    """The sandbox in a process of its own (`learnworlds-mcp sandbox --port 0`); its API URL."""
    school = subprocess.Popen([sys.executable, "-m", "learnworlds_mcp.cli", "sandbox", "--port", "0", "--users", "200"],
                              stdout=subprocess.PIPE, text=True)
    for line in school.stdout:
        if line.strip().startswith("LEARNWORLDS_API_URL="):
            return school, line.strip().split("=", 1)[1]
    sys.exit(f"the sandbox did not start (exit status {school.wait()})")


def stats(api_url: str) -> dict:
    base = api_url.removesuffix("/admin/api")
    with urllib.request.urlopen(f"{base}/__sandbox/stats", timeout=10) as answer:
        return json.load(answer)


def server(api_url: str, state_dir: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_API_URL=api_url, LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID,
               LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN, LEARNWORLDS_STATE_DIR=state_dir,
               LEARNWORLDS_CONFIG_DIR=state_dir)
    return StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve"], env=env)


async def run(api_url: str, state_dirs: list[str], calls: int) -> tuple[float, int, list[str]]:
    """Open every session first, then send all calls at once; wall time, error count, first error texts."""
    async with AsyncExitStack() as stack:  # sessions close in reverse order, as their task groups require
        opened = [await stack.enter_async_context(Client(server(api_url, folder))) for folder in state_dirs]
        started = time.monotonic()
        results = await asyncio.gather(*(client.call_tool("list_all_learn_worlds_roles", {})
                                         for client in opened for _ in range(calls)))
        wall = time.monotonic() - started
    errors = [r.content[0].text for r in results if r.is_error]
    return wall, len(errors), errors[:2]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--calls", type=int, default=60, help="concurrent calls per process")
    parser.add_argument("--compare", action="store_true", help="also run with one budget per process")
    args = parser.parse_args()
    requests = args.processes * args.calls
    bound = floor(requests)
    print(machine())
    print(f"{args.processes} serve processes x {args.calls} concurrent reads = {requests} requests; "
          f"school limit {LIMIT} per {WINDOW:g} s; floor {bound:.0f} s; target 0 errors, <= {TARGET}x floor\n")
    print("| budget | wall | x floor | errors to the model | 429s from the school | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    modes = [("shared (one per school)", True)] + ([("per process (before)", False)] if args.compare else [])
    school, api_url = start_school()
    samples: list[str] = []
    try:
        for label, shared in modes:
            with tempfile.TemporaryDirectory() as tmp:
                folders = [tmp if shared else str(Path(tmp) / f"p{n}") for n in range(args.processes)]
                before = stats(api_url)["rate_limited"]
                wall, errors, first = await run(api_url, folders, args.calls)
                limited = stats(api_url)["rate_limited"] - before
            ratio = wall / bound if bound else float("nan")
            met = errors == 0 and ratio <= TARGET
            print(f"| {label} | {wall:.1f} s | {ratio:.2f} | {errors} | {limited} | {'PASS' if met else 'MISS'} |")
            samples += first
            time.sleep(WINDOW + 1)  # let the school's window drain before the next mode
    finally:
        school.terminate()
        school.wait(timeout=15)
    for text in samples:
        print(f"\nan error the model saw: {text[:300]}")


if __name__ == "__main__":
    asyncio.run(main())
