"""A recognisable token and client secret go through the whole stack; they must appear nowhere:
not on stdout, not in the debug log on stderr, not in the audit log, not in any result."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from learnworlds_mcp.registry import load
from learnworlds_sandbox import SANDBOX_CLIENT_ID, start_sandbox

pytestmark = pytest.mark.subprocess
TOKEN = "lw-TOKEN-canary-7f3a9c1e5b"
CLIENT_SECRET = "lw-SECRET-canary-2d8e4f6a0c"


class StdioSession:
    """A raw JSON-RPC session with the real command, keeping everything it writes."""

    def __init__(self, args, env, stderr_path):
        # stderr goes to a file: a debug log fills a pipe nobody drains and would stall the server.
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "learnworlds_mcp.cli", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        self.stdout_lines: list[str] = []
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "canary", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        line = self.proc.stdout.readline()
        self.stdout_lines.append(line)
        reply = json.loads(line)
        assert reply["id"] == self.next_id
        return reply

    def close(self):
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        self.proc.wait(timeout=30)
        self._stderr.close()
        return "".join(self.stdout_lines) + rest, self.stderr_path.read_text()


def env_for(tmp_path, api_url, **secret):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_API_URL=api_url, LEARNWORLDS_CLIENT_ID=SANDBOX_CLIENT_ID,
               LEARNWORLDS_CONFIG_DIR=str(tmp_path), **secret)
    return env


@pytest.mark.parametrize("secret", [{"LEARNWORLDS_ACCESS_TOKEN": TOKEN},
                                    {"LEARNWORLDS_CLIENT_SECRET": CLIENT_SECRET}], ids=["token", "client_secret"])
def test_no_secret_anywhere_across_every_tool(tmp_path, secret):
    audit = tmp_path / "audit.jsonl"
    with start_sandbox(port=0, users=40, rate_limit=False) as sandbox:
        sandbox.school.tokens.allow(access_token=TOKEN, client_secret=CLIENT_SECRET)
        session = StdioSession(["serve", "--log-level", "debug", "--audit-log", str(audit), "--rate-limit", "1000",
                                "--max-retries", "0"], env_for(tmp_path, sandbox.api_url, **secret),
                               tmp_path / "stderr.log")
        outcomes = []
        for op in load():
            reply = session.request("tools/call", {"name": op.name, "arguments": op.example})
            outcomes.append(reply["result"]["isError"])
            # The same call with a planted secret in an argument, and an invalid one.
            planted = next(iter(secret.values()))
            session.request("tools/call", {"name": op.name, "arguments": dict(op.example, bogus=planted)})
        stdout, stderr = session.close()
    assert outcomes.count(False) >= 30  # many examples use the spec's ids, unknown to the sandbox: 404s
    audit_text = audit.read_text()
    records = [json.loads(line) for line in audit_text.splitlines()]
    assert sum(r["event"] == "outcome" for r in records) == 2 * len(load())  # writes also leave an intent
    obtained = "sandbox-exchanged-000001"  # the first token the sandbox's exchange issues
    for text in (stdout, stderr, audit_text):
        assert TOKEN not in text and CLIENT_SECRET not in text and obtained not in text
    assert "DEBUG" in stderr or "INFO" in stderr  # the log really ran at debug level


def test_a_refused_secret_is_named_but_not_shown(tmp_path):
    with start_sandbox(port=0, users=20, rate_limit=False) as sandbox:
        session = StdioSession(["serve", "--max-retries", "0"],
                               env_for(tmp_path, sandbox.api_url, LEARNWORLDS_CLIENT_SECRET=CLIENT_SECRET),
                               tmp_path / "stderr.log")
        reply = session.request("tools/call", {"name": "list_all_learn_worlds_roles", "arguments": {}})
        stdout, stderr = session.close()
    text = reply["result"]["content"][0]["text"]
    assert reply["result"]["isError"] and "client secret" in text and "auth login" in text
    assert CLIENT_SECRET not in stdout + stderr
