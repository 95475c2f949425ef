"""What a tool call costs on top of the HTTP request it makes.

One spawned `learnworlds-mcp serve` session calls get_single_learn_worlds_user_by_id against a local
upstream, beside a direct httpx GET of the same URL with the same headers (one httpx.Client, JSON
parsed). Target: the median tools/call round trip <= 1.5x the median direct GET. Two reference rows
split the difference: a bare SDK server answering tools/call with no I/O (the stdio and SDK share),
and the server's own call path, execute(), run in-process with no MCP at all. Their sum with the
direct GET is printed as the floor any server on this SDK would meet.

    python benchmarks/call_overhead.py                      # 3 rounds of 200 calls per path, ~10 s
    python benchmarks/call_overhead.py --calls 500 --upstream sandbox
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from typing import Callable

import httpx

import _harness as h

RATIO_TARGET = 1.5


def timed(call: Callable[[], object], warmup: int, calls: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def stdio_caller(peer: h.StdioPeer, tool: str, ids: itertools.cycle, check: bool) -> Callable[[], None]:
    def call() -> None:
        user_id = next(ids)
        result, _ = peer.call(tool, {"id": user_id})
        if check:
            h.check_user_result(result, user_id)
        elif result.get("isError"):
            raise h.PeerError(f"{tool} failed: {result}")
    return call


def in_process_samples(up: h.Upstream, warmup: int, calls: int) -> list[float]:
    """execute() of the same tool with the server's own client and limiter, inside this process."""
    from learnworlds_mcp.auth import Credentials
    from learnworlds_mcp.client import LearnWorldsClient
    from learnworlds_mcp.executor import Runtime, execute
    from learnworlds_mcp.limiter import RateLimiter
    from learnworlds_mcp.registry import load

    operation = next(op for op in load() if op.name == h.GET_TOOL)
    ids = itertools.cycle(up.user_ids)

    async def run() -> list[float]:
        client = LearnWorldsClient(Credentials(api_url=up.api_url, client_id=up.client_id, access_token=up.token),
                                   limiter=RateLimiter(100_000, 10.0))
        runtime = Runtime(client)
        samples = []
        try:
            for i in range(warmup + calls):
                started = time.perf_counter()
                await execute(operation, {"id": next(ids)}, runtime)
                if i >= warmup:
                    samples.append(time.perf_counter() - started)
        finally:
            await client.aclose()
        return samples

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per path and round (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls before the first round (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="rounds; each times every path in turn (default 3)")
    parser.add_argument("--upstream", choices=("fixed", "sandbox"), default="fixed",
                        help="fixed: a threaded http.server answering one user record (default); "
                             "sandbox: the seeded sandbox school, rate limit off")
    args = parser.parse_args()

    print(h.machine())
    samples: dict[str, list[float]] = {"direct": [], "ours": [], "base": [], "inproc": []}
    with h.upstream(args.upstream) as up, h.empty_config_dir() as config:
        env = h.school_env(up.api_url, up.client_id, up.token, config)
        url_ids = itertools.cycle(up.user_ids)
        with httpx.Client(headers=up.headers()) as http, \
                h.StdioPeer(h.serve_argv("--rate-limit", "100000"), env) as ours, \
                h.StdioPeer(h.baseline_argv(), env) as base:
            ours.handshake()
            base.handshake()

            def direct() -> None:
                response = http.get(f"{up.api_url}/v2/users/{next(url_ids)}")
                response.raise_for_status()
                response.json()

            paths = {
                "direct": direct,
                "ours": stdio_caller(ours, h.GET_TOOL, itertools.cycle(up.user_ids), check=True),
                "base": stdio_caller(base, h.BASELINE_TOOL, itertools.cycle(up.user_ids), check=False),
            }
            for run in range(args.runs):
                warmup = args.warmup if run == 0 else 0
                for name, call in paths.items():
                    samples[name] += timed(call, warmup, args.calls)
                samples["inproc"] += in_process_samples(up, args.warmup, args.calls)

    direct = h.Spread.of(samples["direct"])
    floor = h.Spread.of(samples["base"]).median + direct.median
    # When a bare SDK server plus the GET is already over the target, no server on this SDK can meet it.
    unreachable = (f"the floor (bare SDK tools/call + direct GET) is {floor / direct.median:.2f}x"
                   if floor / direct.median > RATIO_TARGET else None)
    rows = []
    for key, label in (("direct", "direct httpx GET, same URL and headers (baseline)"),
                       ("ours", f"`learnworlds-mcp serve` tools/call {h.GET_TOOL} over stdio"),
                       ("base", "(reference) bare SDK server tools/call over stdio, no HTTP"),
                       ("inproc", "(reference) execute() in-process: validation, HTTP, shaping; no MCP")):
        spread = h.Spread.of(samples[key])
        ratio = spread.median / direct.median
        target, result = ((f"<= {RATIO_TARGET}x", h.verdict(ratio <= RATIO_TARGET, unreachable)) if key == "ours"
                          else ("-", "-"))
        rows.append([label, spread.ms(), f"{ratio:.2f}x", target, result])
    rows.append(["(derived) floor: bare SDK tools/call + direct GET, medians added", f"{floor * 1000:.2f} ms",
                 f"{floor / direct.median:.2f}x", "-", "-"])
    ours = h.Spread.of(samples["ours"]).median
    print(f"upstream: {args.upstream} ({up.api_url}); median (min-max) of {args.runs} x {args.calls} calls per path "
          f"after {args.warmup} warm-up calls; one session or client per path; client limiter at 100,000 per 10 s\n")
    print(h.table(["path", "round trip", "x direct", "target", "result"], rows, right=(1, 2)))
    print(f"\nlearnworlds-mcp over the floor: {ours / floor:.2f}x ({(ours - floor) * 1000:+.2f} ms per call); "
          "a server doing no work of its own on this SDK would sit at the floor")


if __name__ == "__main__":
    main()
