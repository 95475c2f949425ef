"""What result shaping saves: bytes of one page of sandbox users as sent to the model, with empty
values kept, with them dropped (the default), and with `fields` on top.

    python benchmarks/results.py [--users 200]
"""

from __future__ import annotations

import argparse
import asyncio

from _harness import machine

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.executor import Runtime, execute
from learnworlds_mcp.registry import load
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox
from learnworlds_mcp.shaping import size

CASES = [
    ("every field, empty values kept (--keep-empty)", {}, True),
    ("every field, empty values dropped (default)", {}, False),
    ("fields=email,last_login,role.name", {"fields": "email,last_login,role.name"}, False),
]


async def measure(limit: int) -> list[tuple[str, int]]:
    users = next(op for op in load() if op.name == "list_all_learn_worlds_users")
    rows = []
    with start_sandbox(port=0, users=2000, rate_limit=False) as sandbox:
        creds = Credentials(api_url=sandbox.api_url, client_id=SANDBOX_CLIENT_ID, access_token=SANDBOX_ACCESS_TOKEN)
        for label, extra, keep_empty in CASES:
            runtime = Runtime(LearnWorldsClient(creds), keep_empty=keep_empty, max_result_bytes=10**9)
            result = await execute(users, {"limit": limit, **extra}, runtime)
            rows.append((label, size(result)))
            await runtime.client.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="users on the page (limit, at most 200)")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.users))
    full = rows[0][1]
    print(machine())
    print(f"one page of {args.users} sandbox users (seed 7), compact JSON as the model reads it\n")
    print("| result | bytes | per user | vs everything |")
    print("|---|---:|---:|---:|")
    for label, value in rows:
        print(f"| {label} | {value:,} | {value // args.users:,} | {value / full:.0%} |")


if __name__ == "__main__":
    main()
