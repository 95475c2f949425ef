"""The staff audit over a 50,000-user school in one call: the query tool against a standalone sandbox, rate limit on.

Question: which staff (admins, instructors, reporters) have not logged in since 2024-01-01, or never?
No role filter is used on our side: the server loads every user (suspended ones too) into its SQL
store and answers from there. The truth comes from raw HTTP against the sandbox (httpx, its role
filter, page by page), never through our code.

Figures: calls, result bytes (target <= 5 KB), load time against the rate-limit floor of pages / 3
per second (target <= 1.1x), whether the answer equals the truth, the same question again (target 0
upstream requests and <= 0.5 s), peak RSS of the server (target <= 250 MB), and the default
--query-wait path (first answer: loading; a later call answers).

    python benchmarks/query_audit.py                 # 50,000 users, about 5 minutes
    python benchmarks/query_audit.py --users 5000 --skip-default-wait
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time

import httpx

import _harness as h

SINCE = 1704067200  # 2024-01-01T00:00:00Z
STAFF = ("admin", "instructor", "reporter")
SQL = ("SELECT email, json_extract(role, '$.level') AS role, "
       "CASE WHEN last_login IS NULL THEN 'never' ELSE date(last_login, 'unixepoch') END AS last_login, "
       "is_suspended FROM users "
       f"WHERE json_extract(role, '$.level') IN ('admin', 'instructor', 'reporter') "
       f"AND (last_login IS NULL OR last_login < {SINCE}) ORDER BY email")
TOOL = "query_learn_worlds_data"
PAGE = 200
WINDOW = 10.5  # the sandbox's 10 s window, plus a margin before a fresh run


def start_sandbox(users: int) -> tuple[subprocess.Popen, str, float]:
    """`learnworlds-mcp sandbox` as its own process (rate limit on); the process, its API URL and set-up time."""
    started = time.perf_counter()
    process = subprocess.Popen([h.command_path(), "sandbox", "--port", "0", "--users", str(users)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=h.python_env())
    line = process.stdout.readline()
    match = re.search(r"(http://\S+/admin/api)", line)
    if not match:
        process.kill()
        sys.exit(f"the sandbox did not start: {line!r}")
    url = match.group(1)
    base = url.rsplit("/admin/api", 1)[0]
    while True:
        try:
            if httpx.get(base + "/__sandbox/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return process, url, time.perf_counter() - started


def truth(url: str) -> list[str]:
    """Dormant staff emails, by raw HTTP: the sandbox's own role filter, every page, suspended users included."""
    from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID

    headers = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}", "Lw-Client": SANDBOX_CLIENT_ID}
    emails = []
    with httpx.Client(headers=headers, timeout=30) as http:
        for role in STAFF:
            page = 1
            while True:
                answer = http.get(f"{url}/v2/users", params={"role": role, "include_suspended": "true",
                                                           "page": page, "items_per_page": PAGE})
                if answer.status_code == 429:
                    time.sleep(1)
                    continue
                body = answer.json()
                emails += [u["email"] for u in body["data"]
                           if u.get("last_login") is None or u["last_login"] < SINCE]
                if page >= body["meta"]["totalPages"]:
                    break
                page += 1
    return sorted(emails)


def sandbox_stats(url: str, reset: bool = False) -> dict:
    base = url.rsplit("/admin/api", 1)[0]
    method = httpx.delete if reset else httpx.get
    return method(base + "/__sandbox/stats", timeout=5).json()


def ask(peer: h.StdioPeer, arguments: dict) -> tuple[dict, str, float]:
    """One call of the query tool; its structured result, the text the model reads and the seconds it took."""
    sent = time.perf_counter()
    result, arrived = peer.call(TOOL, arguments)
    text = result["content"][0]["text"]
    if result.get("isError"):
        sys.exit(f"the query failed: {text}")
    return result.get("structuredContent") or json.loads(text), text, arrived - sent


def run(url: str, users: int, wait: float, config_dir: str) -> dict:
    """One server, spawned over stdio with --query-wait `wait`: ask until answered, then ask again."""
    from learnworlds_sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID

    env = h.school_env(url, SANDBOX_CLIENT_ID, SANDBOX_ACCESS_TOKEN, config_dir)
    figures: dict = {"calls": 0}
    with h.StdioPeer(h.serve_argv("--query-wait", str(wait)), env, timeout=wait + 120) as peer:
        peer.handshake()
        sandbox_stats(url, reset=True)
        started = time.perf_counter()
        while True:
            answer, text, seconds = ask(peer, {"sql": SQL})
            figures["calls"] += 1
            if answer.get("status") != "loading":
                break
            figures.setdefault("first_answer", answer)
            time.sleep(answer["retry_after_seconds"])
        figures["answer_seconds"] = time.perf_counter() - started
        figures["result_bytes"] = len(text.encode())
        figures["emails"] = sorted(row[0] for row in answer["rows"])
        figures["rows_loaded"] = answer["tables"]["users"]["rows"]
        figures["load_requests"] = sandbox_stats(url)["total"]
        figures["rate_limited"] = sandbox_stats(url)["rate_limited"]
        sandbox_stats(url, reset=True)
        again, _, seconds = ask(peer, {"sql": SQL})
        figures["again_seconds"] = seconds
        figures["again_requests"] = sandbox_stats(url)["total"]
        figures["again_equal"] = again["rows"] == answer["rows"]
        figures["peak_rss_mb"] = h.memory_mb(peer.pid)["VmHWM"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--skip-default-wait", action="store_true", help="only the one-call run")
    options = parser.parse_args()
    print(h.machine())
    process, url, setup = start_sandbox(options.users)
    try:
        print(f"sandbox: {options.users:,} users, rate limit on, ready in {setup:.1f} s")
        expected = truth(url)
        print(f"truth (raw HTTP, role filter): {len(expected)} dormant staff")
        pages = math.ceil(options.users / PAGE)
        floor = pages / 3
        rows = []
        with h.empty_config_dir() as config_dir:
            waits = [("one call (--query-wait 600)", 600.0)]
            if not options.skip_default_wait:
                waits.append(("default --query-wait 45", 45.0))
            for label, wait in waits:
                time.sleep(WINDOW)  # start each run with the school's rate window empty
                f = run(url, options.users, wait, config_dir)
                ratio = f["answer_seconds"] / floor
                rows.append([
                    label, f["calls"], f"{f['result_bytes']:,}",
                    f"{f['answer_seconds']:.1f} s / {floor:.1f} s = {ratio:.2f}x",
                    f"{f['load_requests']} ({f['rate_limited']} refused)",
                    "yes" if f["emails"] == expected else "NO",
                    f"{f['again_requests']} req, {f['again_seconds'] * 1000:.0f} ms",
                    f"{f['peak_rss_mb']:.0f} MB",
                ])
                if wait < 600:
                    first = f.get("first_answer", {})
                    print(f"default wait: first answer {json.dumps(first)[:300]}")
                verdicts = {"result <= 5 KB": f["result_bytes"] <= 5_000, "load <= 1.1x floor": ratio <= 1.1,
                            "equals truth": f["emails"] == expected,
                            "again: 0 requests, <= 0.5 s": f["again_requests"] == 0 and f["again_seconds"] <= 0.5,
                            "peak RSS <= 250 MB": f["peak_rss_mb"] <= 250}
                print(f"{label}: " + ", ".join(f"{k} {h.verdict(v)}" for k, v in verdicts.items()))
        print()
        print(h.table(["run", "calls", "result bytes", "answer time / floor", "requests", "equals truth",
                       "same question again", "peak RSS"], rows, right=(1, 2)))
        print(f"\n{pages} pages of {PAGE} users; floor = pages / 3 per second (30 requests per 10 s).")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
