"""Work under the school's rate limit (30 requests per 10 s), sandbox limit on, through MCP over stdio.

1. load: N parallel tool calls (default 100); every call must succeed with no 429, and the wall time
   should stay within 10% of the floor the limit sets: (ceil(N / 30) - 1) * 10 s.
2. bulk: page every sandbox user through list_all_learn_worlds_users at limit 20 (about 100 calls, the
   same floor) and at limit 200 (10 calls, under the limit, shown beside the same 10 GETs sent directly).

A row passes only when the wall time is within its bound AND no call failed AND the school answered
no request with 429; otherwise MISS, with the reason.

    python benchmarks/throughput.py [--calls 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time

import httpx
from _harness import machine
from mcp import Client, StdioServerParameters

from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox

LIMIT, WINDOW = 30, 10.0


def floor(requests: int) -> float:
    return (math.ceil(requests / LIMIT) - 1) * WINDOW


def server(api_url: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_API_URL=api_url, LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID,
               LEARNWORLDS_ACCESS_TOKEN=SANDBOX_ACCESS_TOKEN)
    return StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve"], env=env)


async def load(api_url: str, calls: int) -> tuple[float, int]:
    async with Client(server(api_url)) as client:
        started = time.monotonic()
        results = await asyncio.gather(*(client.call_tool("list_all_learn_worlds_roles", {}) for _ in range(calls)))
        return time.monotonic() - started, sum(r.is_error for r in results)


async def bulk(api_url: str, limit: int) -> tuple[float, int, int, int]:
    """(wall, users seen, calls, failed calls); a failed page is retried once, then the walk stops."""
    async with Client(server(api_url)) as client:
        started, seen, calls, failed, cursor = time.monotonic(), 0, 0, 0, None
        while True:
            args = {"limit": limit, "fields": "email"} | ({"next_cursor": cursor} if cursor else {})
            result = await client.call_tool("list_all_learn_worlds_users", args)
            calls += 1
            if result.is_error:
                failed += 1
                if failed > 1:
                    return time.monotonic() - started, seen, calls, failed
                continue
            seen += len(result.structured_content["result"])
            cursor = result.structured_content["next_cursor"]
            if cursor is None:
                return time.monotonic() - started, seen, calls, failed


def direct(api_url: str, pages: int, per_page: int) -> float:
    headers = {"Lw-Client": SANDBOX_CLIENT_ID, "Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
    with httpx.Client(headers=headers) as http:
        started = time.monotonic()
        for page in range(1, pages + 1):
            http.get(f"{api_url}/v2/users", params={"page": page, "items_per_page": per_page}).raise_for_status()
        return time.monotonic() - started


def verdict(wall: float, bound: float, errors: int, rate_limited: int) -> str:
    """PASS only when the time is within 10% of the floor and nothing failed or hit the school's limit."""
    reasons = [f"{wall:.1f} s is over {bound * 1.10:.1f} s"] if wall > bound * 1.10 else []
    reasons += [f"{errors} calls failed"] if errors else []
    reasons += [f"{rate_limited} requests answered 429"] if rate_limited else []
    return "PASS" if not reasons else "MISS: " + "; ".join(reasons)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    print(machine())
    print("| run | requests | wall | floor | within 10% | errors / 429s |")
    print("|---|---:|---:|---:|---|---|")
    with start_sandbox(port=0, rate_limit=True) as sandbox:
        wall, errors = await load(sandbox.api_url, args.calls)
        f, limited = floor(args.calls), sandbox.school.stats["rate_limited"]
        print(f"| {args.calls} parallel calls | {args.calls} | {wall:.1f} s | {f:.0f} s | "
              f"{verdict(wall, f, errors, limited)} | {errors} / {limited} |")
    with start_sandbox(port=0, rate_limit=True) as sandbox:
        wall, seen, calls, errors = await bulk(sandbox.api_url, 20)
        f, limited = floor(calls), sandbox.school.stats["rate_limited"]
        print(f"| page {seen} users, limit 20 | {calls} | {wall:.1f} s | {f:.0f} s | "
              f"{verdict(wall, f, errors, limited)} | {errors} / {limited} |")
    with start_sandbox(port=0, rate_limit=True) as sandbox:
        wall, seen, calls, errors = await bulk(sandbox.api_url, 200)
        base = direct(sandbox.api_url, calls, 200)
        limited = sandbox.school.stats["rate_limited"]
        # 10 requests fit in one window: the limit sets no floor, so only failures and 429s can fail this row.
        result = "n/a (no floor)" if not (errors or limited) else verdict(0, 0, errors, limited)
        print(f"| page {seen} users, limit 200 | {calls} | {wall:.2f} s | 0 s (same GETs direct: {base:.2f} s) | "
              f"{result} | {errors} / {limited} |")


if __name__ == "__main__":
    asyncio.run(main())
