"""How long a client waits before it can use the server, and how quick the plain commands are.

(a) spawn -> tools/list answered, for `learnworlds-mcp serve` (all 94 tools) and for a bare SDK
    server with 94 trivial tools (baseline_server.py), spawned in alternation by a raw JSON-RPC
    client over pipes. Target: ours <= 1.1x the baseline's median.
(b) wall time of `learnworlds-mcp --help` and `learnworlds-mcp list-tools` beside a bare
    `python -c pass`. Target: < 0.6 s each, and neither command imports the MCP SDK.

    python benchmarks/startup.py                  # 10 runs of each, under a minute
    python benchmarks/startup.py --runs 30 --importtime
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import _harness as h

SERVE_RATIO_TARGET = 1.1
COMMAND_TARGET_S = 0.6
HEAVY = ("mcp", "mcp_types", "pydantic", "httpx", "jsonschema", "anyio", "starlette", "uvicorn", "keyring")

# Runs a command in-process through Click's test runner, then names the heavy packages it left loaded.
PROBE = """
import json, sys
from typer.testing import CliRunner
from learnworlds_mcp.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"exit": result.exit_code, "heavy": heavy}}))
"""


def time_serve(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds from spawn to the initialize reply and to the tools/list reply, and the tool count."""
    with h.StdioPeer(argv, env) as peer:
        initialized = peer.handshake()
        result, listed = peer.request("tools/list")
        return initialized - peer.started, listed - peer.started, len(result["tools"])


def serve_rows(runs: int) -> tuple[list[list[str]], dict[str, int]]:
    ours_argv, base_argv = h.serve_argv(), h.baseline_argv()
    samples: dict[str, dict[str, list[float]]] = {"ours": {"init": [], "list": []},
                                                   "base": {"init": [], "list": []}}
    counts: dict[str, int] = {}
    with h.empty_config_dir() as config:
        # Port 9 (discard) on loopback: nothing listens, and nothing is sent before a tool call anyway.
        env = h.school_env("http://127.0.0.1:9", "x", "y", config)
        for argv in (ours_argv, base_argv):  # warm-up: fills the page cache and the .pyc folder
            time_serve(argv, env)
        for run in range(runs):
            order = [("ours", ours_argv), ("base", base_argv)]
            for who, argv in order if run % 2 == 0 else order[::-1]:  # alternate, so drift hits both
                init, listed, counts[who] = time_serve(argv, env)
                samples[who]["init"].append(init)
                samples[who]["list"].append(listed)
    rows = []
    for label, key in (("spawn -> initialize answered", "init"), ("spawn -> tools/list answered", "list")):
        ours, base = h.Spread.of(samples["ours"][key]), h.Spread.of(samples["base"][key])
        ratio = ours.median / base.median
        target = f"<= {SERVE_RATIO_TARGET}x" if key == "list" else "-"
        result = h.verdict(ratio <= SERVE_RATIO_TARGET) if key == "list" else "-"
        rows.append([label, ours.seconds(), base.seconds(), f"{ratio:.2f}x", target, result])
    return rows, counts


def wall(argv: list[str], runs: int) -> h.Spread:
    env = h.python_env()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return h.Spread.of(samples)


def sdk_import(runs: int) -> h.Spread:
    code = ("import time; started = time.perf_counter(); import mcp.server.lowlevel, mcp.server.stdio; "
            "print(time.perf_counter() - started)")
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    env=h.python_env(), check=True).stdout) for _ in range(runs + 1)]
    return h.Spread.of(samples[1:])


def heavy_modules(args: list[str]) -> dict:
    probe = PROBE.format(heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=h.python_env(),
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def top_level_imports(stderr: str) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of each top-level line of `-X importtime` output, slowest first."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name[1:].startswith(" "):  # nested imports are indented, and counted in their parent
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)


def import_times(args: list[str], env: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """Run the command under `python -X importtime` with stdin closed; its top-level imports."""
    code = ("import sys; from learnworlds_mcp.cli import run; "
            f"sys.argv[:] = ['learnworlds-mcp', *{args!r}]; run()")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], input="", env=env or h.python_env(),
                         capture_output=True, text=True)
    return top_level_imports(out.stderr)


def describe(rows: list[tuple[int, str]], top: int) -> str:
    slowest = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in rows[:top])
    return f"{sum(us for us, _ in rows) / 1000:.0f} ms of imports in all; slowest top-level: {slowest}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    parser.add_argument("--importtime", action="store_true",
                        help="also list the slowest imports of `serve` start-up (python -X importtime)")
    args = parser.parse_args()

    print(h.machine())
    print(f"median (min-max) of {args.runs} runs each, after one warm-up run; spawned in alternation\n")
    rows, counts = serve_rows(args.runs)
    print(f"(a) `learnworlds-mcp serve` ({counts['ours']} tools) vs baseline_server.py "
          f"(bare low-level Server, {counts['base']} trivial tools)\n")
    print(h.table(["measure", "learnworlds-mcp serve", "baseline", "ratio", "target", "result"], rows, right=(1, 2, 3)))

    command = h.command_path()
    floor = wall([sys.executable, "-c", "pass"], args.runs)
    rows = []
    for label, cli_args in (("`learnworlds-mcp --help`", ["--help"]), ("`learnworlds-mcp list-tools`", ["list-tools"])):
        spent = wall([command, *cli_args], args.runs)
        probe = heavy_modules(cli_args)
        loaded = ", ".join(probe["heavy"]) or "none"
        if probe["exit"] != 0:
            loaded += f" (the command exited {probe['exit']})"
        met = spent.median < COMMAND_TARGET_S and "mcp" not in probe["heavy"]
        rows.append([label, spent.seconds(), floor.seconds(), loaded, f"< {COMMAND_TARGET_S} s, no SDK", h.verdict(met)])
    print(f"\n(b) command wall time; baseline = `python -c pass`; heavy modules left in sys.modules after "
          f"running the command in-process (checked: {', '.join(HEAVY)})\n")
    print(h.table(["command", "wall", "baseline", "heavy modules loaded (SDK = mcp)", "target", "result"], rows, right=(1, 2)))

    print(f"\nthe SDK import alone (`import mcp.server.lowlevel, mcp.server.stdio`, timed inside a fresh "
          f"interpreter; both servers pay it): {sdk_import(args.runs).seconds()}")
    print(f"\n`python -X importtime` of `list-tools`: {describe(import_times(['list-tools']), 6)}")
    if args.importtime:
        with h.empty_config_dir() as config:
            env = h.school_env("http://127.0.0.1:9", "x", "y", config)
            rows = import_times(["serve"], env)
        print(f"\n`python -X importtime` of `serve` (stdin closed at once): {describe(rows, 10)}")


if __name__ == "__main__":
    main()
