"""How much memory `learnworlds-mcp serve` holds while it works, and whether it keeps growing.

A spawned server answers initialize, tools/list and then 1,000 tools/call of a GET tool against a
local upstream. VmRSS is read from /proc/<pid>/status after tools/list, at call 100 and at the last
call; VmHWM (the kernel's peak resident size) at the end. The bare SDK server (baseline_server.py,
same 94-tool count, answering every call from memory) goes through the same sequence for comparison.
Target: peak <= 90 MB, and no growth from call 100 to the last (within --tolerance).

    python benchmarks/memory.py                     # 3 runs of 1,000 calls per server, ~20 s
    python benchmarks/memory.py --calls 10000 --runs 1 --upstream sandbox
"""

from __future__ import annotations

import argparse
import itertools

import _harness as h

PEAK_TARGET_MB = 90.0
FIRST_SAMPLE = 100


def one_run(argv: list[str], env: dict[str, str], tool: str, ids: tuple[str, ...], calls: int,
            check: bool) -> dict[str, float]:
    """Drive one server through the sequence; its RSS figures in MB."""
    cycle = itertools.cycle(ids)
    figures: dict[str, float] = {}
    with h.StdioPeer(argv, env) as peer:
        peer.handshake()
        peer.request("tools/list")
        figures["listed"] = h.memory_mb(peer.pid)["VmRSS"]
        for n in range(1, calls + 1):
            user_id = next(cycle)
            result, _ = peer.call(tool, {"id": user_id})
            if check:
                h.check_user_result(result, user_id)
            if n == FIRST_SAMPLE:
                figures["at_first"] = h.memory_mb(peer.pid)["VmRSS"]
        last = h.memory_mb(peer.pid)
        figures["at_last"], figures["peak"] = last["VmRSS"], last["VmHWM"]
    figures["growth"] = figures["at_last"] - figures["at_first"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help=f"tools/call per run (default 1000, at least {FIRST_SAMPLE})")
    parser.add_argument("--runs", type=int, default=3, help="fresh server processes per server (default 3)")
    parser.add_argument("--tolerance", type=float, default=1.0,
                        help="growth from call 100 to the last still counted as none, in MB (default 1.0)")
    parser.add_argument("--upstream", choices=("fixed", "sandbox"), default="fixed",
                        help="fixed: a threaded http.server answering one user record (default); "
                             "sandbox: the seeded sandbox school, rate limit off")
    args = parser.parse_args()
    if args.calls < FIRST_SAMPLE:
        parser.error(f"--calls must be at least {FIRST_SAMPLE}")

    print(h.machine())
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "base": []}
    with h.upstream(args.upstream) as up, h.empty_config_dir() as config:
        env = h.school_env(up.api_url, up.client_id, up.token, config)
        for _ in range(args.runs):
            runs["ours"].append(one_run(h.serve_argv("--rate-limit", "100000"), env, h.GET_TOOL, up.user_ids,
                                        args.calls, check=True))
            runs["base"].append(one_run(h.baseline_argv(), env, h.BASELINE_TOOL, up.user_ids, args.calls, check=False))

    rows = []
    for key, label in (("ours", f"`learnworlds-mcp serve` ({h.GET_TOOL})"),
                       ("base", "baseline: bare SDK server, no HTTP")):
        spread = {name: h.Spread.of([run[name] for run in runs[key]]) for name in runs[key][0]}
        growth = spread["growth"]
        if key == "ours":
            met = spread["peak"].high <= PEAK_TARGET_MB and growth.high <= args.tolerance
            target = f"peak <= {PEAK_TARGET_MB:.0f} MB, growth <= {args.tolerance:g} MB"
            result = h.verdict(met)
        else:
            target = result = "-"
        rows.append([label, spread["listed"].mb(), spread["at_first"].mb(), spread["at_last"].mb(),
                     f"{growth.median:+.2f} MB ({growth.low:+.2f} to {growth.high:+.2f})", spread["peak"].mb(),
                     target, result])
    print(f"upstream: {args.upstream}; median (min-max) over {args.runs} fresh processes per server, {args.calls:,} "
          f"calls each; MB = 2^20 bytes; the verdict uses the worst run\n")
    print(h.table(["server", "RSS after tools/list", f"RSS at call {FIRST_SAMPLE}", f"RSS at call {args.calls:,}",
                   f"growth {FIRST_SAMPLE} -> {args.calls:,}", "peak (VmHWM)", "target", "result"],
                  rows, right=(1, 2, 3, 4, 5)))


if __name__ == "__main__":
    main()
