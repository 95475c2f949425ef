"""What the byte cap and member-text cleaning cost: time to fit oversize values into the budget,
and the time cleaning adds to a page of sandbox users and posts.

    python benchmarks/caps.py [--budget 20000]
"""

from __future__ import annotations

import argparse
import time

from _harness import machine

from learnworlds_mcp import sanitize, shaping
from learnworlds_mcp.registry import load
from learnworlds_sandbox.seed import build_school

BIG = "B" * 2_000_000
VALUES = [
    ("one item with a 2,000,000-character string", [{"id": "u1", "bio": BIG}]),
    ("an object with 300,000 list entries", {"id": "u1", "tags": ["t"] * 300_000}),
    ("an object with 200,000 keys", {f"k{n}": n for n in range(200_000)}),
    ("an error with 10,000 field messages", {"error": "bad " + BIG, "fields": {f"f{n}": ["x" * 100]
                                                                               for n in range(10_000)}}),
]


def timed(function, *args, repeat: int = 3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = function(*args)
        best = min(best, time.perf_counter() - start)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20_000, help="the byte budget (--max-result-bytes)")
    args = parser.parse_args()
    print(machine())
    print(f"\nfitting oversize values into {args.budget:,} bytes (shaping.cap, best of 3)\n")
    print("| value | bytes before | bytes after | ms |")
    print("|---|---:|---:|---:|")
    for label, value in VALUES:
        capped, seconds = timed(shaping.cap, value, args.budget)
        print(f"| {label} | {shaping.size(value):,} | {shaping.size(capped):,} | {seconds * 1000:,.0f} |")

    school = build_school(seed=7, users=2000)
    ops = {op.name: op for op in load()}
    pages = [("200 users", ops["list_all_learn_worlds_users"], list(school.users.values())[:200]),
             ("200 posts", ops["list_all_learn_worlds_posts"], list(school.posts.values())[:200])]
    print("\ncleaning member-written fields on one page (sanitize.clean_record per item, best of 3)\n")
    print("| page | bytes | ms |")
    print("|---|---:|---:|")
    for label, operation, items in pages:
        _, seconds = timed(lambda: [sanitize.clean_record(operation, item) for item in items])
        print(f"| {label} | {shaping.size(items):,} | {seconds * 1000:,.1f} |")


if __name__ == "__main__":
    main()
