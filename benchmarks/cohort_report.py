"""The cohort report as a host runs it: the `cohort_report` prompt, then the query tool with the SQL it
gives, through the real command over stdio, against a standalone sandbox with its rate limit on.

Targets (issue 10): at most 2 tool calls and 5 KB of result, equal to the truth read over raw HTTP.
For scale it also prints what the list-tool path costs (group pages plus one lookup per manager).

    python benchmarks/cohort_report.py [--users 2000] [--seed 7] [--query-wait 45]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

from _harness import empty_config_dir, machine, school_env, serve_argv, table, verdict
from mcp import Client, StdioServerParameters

from learnworlds_mcp.prompts import QUERY_TOOL
from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, start_sandbox, truth

MAX_CALLS = 2
MAX_BYTES = 5_000


async def run_prompt(api_url: str, config_dir: str, query_wait: float) -> dict:
    """Render the prompt, then call the query tool as it says (again only while it reports loading)."""
    argv = serve_argv("--query-wait", str(query_wait))
    env = school_env(api_url, SANDBOX_CLIENT_ID, SANDBOX_ACCESS_TOKEN, config_dir)
    async with Client(StdioServerParameters(command=argv[0], args=argv[1:], env=env)) as client:
        prompt = await client.get_prompt("cohort_report", {})
        sql = re.search(r"```sql\n(.*?)\n```", prompt.messages[0].content.text, re.S).group(1)
        started, calls, sizes = time.monotonic(), 0, []
        while True:
            result = await client.call_tool(QUERY_TOOL, {"sql": sql})
            calls += 1
            sizes.append(len(result.content[0].text.encode()))
            answer = result.structured_content or {}
            if result.is_error or answer.get("status") != "loading":
                break
            await asyncio.sleep(answer.get("retry_after_seconds", 1))
        return {"answer": answer, "error": result.is_error, "calls": calls, "bytes": sizes[-1],
                "seconds": time.monotonic() - started}


def rows_of(answer: dict) -> list[dict]:
    return [{"group": r["group_title"], "email": r["manager_email"], "nps_score": r["nps_score"],
             "instructor": None if r["instructor"] is None else r["instructor"] == "yes",
             "suspended": None if r["manager_email"] is None else r["suspended"] == "yes"}
            for r in (dict(zip(answer.get("columns", []), row)) for row in answer.get("rows", []))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--query-wait", type=float, default=45.0)
    options = parser.parse_args()
    print(machine())
    with start_sandbox(port=0, seed=options.seed, users=options.users, rate_limit=True) as sandbox, \
            empty_config_dir() as config_dir:
        sandbox.school.reset_stats()
        run = asyncio.run(run_prompt(sandbox.api_url, config_dir, options.query_wait))
        upstream = sandbox.school.stats["total"]
        limited = sandbox.school.stats["rate_limited"]
        groups = truth.every_item(sandbox.api_url, "/v2/user_groups")
        expected = truth.cohort_rows(groups, truth.all_users(sandbox.api_url))
    got = rows_of(run["answer"])
    correct = not run["error"] and sorted(got, key=str) == sorted(expected, key=str)
    managers = {r["email"] for r in expected if r["email"]}
    list_path = -(-len(groups) // 20) + len(managers)
    print(f"sandbox: {options.users} users, seed {options.seed}, rate limit on (30 per 10 s); "
          f"--query-wait {options.query_wait:g} s")
    print(table(["figure", "value", "target", ""], [
        ("tool calls", run["calls"], f"<= {MAX_CALLS}", verdict(run["calls"] <= MAX_CALLS)),
        ("result bytes (last call)", f"{run['bytes']:,}", f"<= {MAX_BYTES:,}", verdict(run["bytes"] <= MAX_BYTES)),
        ("rows equal to raw-HTTP truth", f"{len(got)} of {len(expected)}", "all", verdict(correct)),
        ("time from first call to answer", f"{run['seconds']:.1f} s", "", ""),
        ("upstream requests (429s)", f"{upstream} ({limited})", "", ""),
        ("list-tool path, for scale", f"{list_path} calls", "", ""),
    ], right=(1,)))


if __name__ == "__main__":
    main()
