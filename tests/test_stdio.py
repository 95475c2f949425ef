"""The real command over stdio: stdout carries only JSON-RPC, logs go to stderr, the secret appears nowhere."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import SECRET

pytestmark = pytest.mark.subprocess


class FakeSchool(BaseHTTPRequestHandler):
    """A loopback stand-in for LearnWorlds: every GET answers one page of one user."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps({"data": [{"id": "u1", "email": "ada@example.com"}],
                           "meta": {"page": 1, "totalPages": 1, "totalItems": 1, "itemsPerPage": 20}}).encode()
        self.send_response(200 if self.headers.get("Authorization") == f"Bearer {SECRET}" else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def school():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeSchool)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def server_env(school, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNWORLDS_")}
    env.update(LEARNWORLDS_API_URL=school, LEARNWORLDS_CLIENT_ID="client-1", LEARNWORLDS_ACCESS_TOKEN=SECRET,
               LEARNWORLDS_CONFIG_DIR=str(tmp_path))
    return env


def command():
    return [sys.executable, "-m", "learnworlds_mcp.cli"]


def test_stdout_is_only_json_rpc_and_logs_go_to_stderr(school, tmp_path):
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "this line is not JSON-RPC",
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "list_all_learn_worlds_users", "arguments": {"limit": 5}}},
    ]
    proc = subprocess.Popen(command() + ["serve", "--methods", "read", "--log-level", "info"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=server_env(school, tmp_path))
    replies = []
    try:
        for message in messages:
            proc.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
            proc.stdin.flush()
            if isinstance(message, str) or "id" in message:  # the bad line gets a parse error
                replies.append(json.loads(proc.stdout.readline()))  # every stdout line is JSON
        proc.stdin.close()
        rest, stderr = proc.stdout.read(), proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert rest.strip() == ""
    assert all(r.get("jsonrpc") == "2.0" for r in replies)
    by_id = {r.get("id"): r for r in replies}
    assert set(by_id) == {1, 2, 3, None}  # the bad line did not stop the server
    assert by_id[None]["error"]["code"] == -32700
    assert len(by_id[2]["result"]["tools"]) > 10
    assert by_id[3]["result"]["isError"] is False
    assert by_id[3]["result"]["structuredContent"]["result"][0]["email"] == "ada@example.com"
    done = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(map(json.dumps, replies)), stderr)
    assert "list_all_learn_worlds_users ok" in done.stderr
    assert SECRET not in done.stdout and SECRET not in done.stderr


@pytest.mark.anyio
async def test_round_trip_through_the_sdk_stdio_client(school, tmp_path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "learnworlds_mcp.cli", "serve",
                                                                  "--tags", "users", "--methods", "read"],
                                   env=server_env(school, tmp_path))
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        assert "list_all_learn_worlds_users" in {t.name for t in tools}
        assert all(t.annotations.read_only_hint for t in tools)
        result = await client.call_tool("list_all_learn_worlds_users", {"limit": 1})
        assert not result.is_error and result.structured_content["next_cursor"] is None
        bad = await client.call_tool("list_all_learn_worlds_users", {"limit": 0})
        assert bad.is_error and "'limit'" in bad.content[0].text


def test_malformed_lines_are_answered_never_dropped(school, tmp_path):
    """The SDK's reader drops these silently and the client hangs; each must get a JSON-RPC error."""
    deep = "[" * 10_000 + "]" * 10_000
    lines = [
        ('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"\\ud800"}}', 10, -32700),
        ('{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"x","arguments":{"a":' + deep + '}}}',
         11, -32700),
        ('{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"x","arguments":{"a":'
         + "[" * 300 + "]" * 300 + '}}}', 12, -32600),
        ('[{"jsonrpc":"2.0","id":13,"method":"tools/list"}]', None, -32600),
        ('{"jsonrpc":"1.0","id":"fourteen","method":"tools/list"}', "fourteen", -32600),
        ('{"jsonrpc":"2.0","id":15.5,"method":"tools/list"}', None, -32600),
        ('{"jsonrpc":"2.0","method":"tools/list","params":{"id":"record-1"}, "id": {"x": 1}}', None, -32600),
        ("not json at all", None, -32700),
        ('{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"x","arguments":{"a":"'
         + "x" * 4_100_000 + '"}}}', 16, -32600),
    ]
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    proc = subprocess.Popen(command() + ["serve", "--methods", "read"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=server_env(school, tmp_path))
    replies: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [replies.put(line) for line in proc.stdout], daemon=True).start()

    def reply():  # the SDK alone leaves these unanswered: time out rather than hang the suite
        return json.loads(replies.get(timeout=15))

    try:
        proc.stdin.write(json.dumps(init) + "\n" + '{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        proc.stdin.flush()
        assert reply()["id"] == 1
        for line, request_id, code in lines:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            answer = reply()  # an answer arrives: the client is not left hanging
            assert (answer["id"], answer["error"]["code"]) == (request_id, code), (line[:80], answer)
        proc.stdin.write('{"jsonrpc":"2.0","id":20,"method":"tools/list"}\n')
        proc.stdin.flush()
        assert len(reply()["result"]["tools"]) > 10  # still serving
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


class SlowSchool(FakeSchool):
    def do_GET(self):  # noqa: N802
        import time

        time.sleep(0.5)  # still running when the client's input ends
        super().do_GET()


@pytest.mark.parametrize("stdin_kind", ["pipe", "file"])
def test_calls_still_running_when_input_ends_are_answered(stdin_kind, tmp_path):
    """`serve < requests.jsonl` (a regular file: the SDK's transport) and a closed pipe (the loop's own)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowSchool)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    lines = [init, {"jsonrpc": "2.0", "method": "notifications/initialized"}, "not json",
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "list_all_learn_worlds_users", "arguments": {"limit": 1}}}]
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(text)
    try:
        with requests.open("rb") as source:
            done = subprocess.run(command() + ["serve", "--methods", "read"], capture_output=True, timeout=60,
                                  env=server_env(f"http://127.0.0.1:{httpd.server_port}", tmp_path),
                                  **({"stdin": source} if stdin_kind == "file" else {"input": text.encode()}))
    finally:
        httpd.shutdown()
    replies = {r.get("id"): r for r in map(json.loads, done.stdout.decode().splitlines())}
    assert set(replies) == {1, 2, None}, done.stderr.decode()[-2000:]
    assert replies[None]["error"]["code"] == -32700
    assert replies[2]["result"]["structuredContent"]["result"][0]["id"] == "u1"
    assert done.returncode == 0


def test_a_client_that_stops_reading_ends_the_session_cleanly(school, tmp_path):
    proc = subprocess.Popen(command() + ["serve", "--methods", "read"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env(school, tmp_path))
    try:
        proc.stdout.close()  # gone before the first answer
        proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
                         b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0  # it noticed, and left without waiting for stdin to close
        stderr = proc.stderr.read().decode()
    finally:
        proc.kill()
    assert "Traceback" not in stderr


def test_a_profile_limited_to_some_tools_serves_no_query_tool(school, tmp_path):
    """The profile's restriction bounds the server: a tools list without the query tool leaves it out."""
    (tmp_path / "config.json").write_text(json.dumps({"profiles": {"default": {
        "school_url": school, "client_id": "client-1", "tools": ["list_all_learn_worlds_users"]}}}))
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    lines = [init, {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    done = subprocess.run(command() + ["serve"], input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, text=True, timeout=60, env=server_env(school, tmp_path))
    replies = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert [t["name"] for t in replies[2]["result"]["tools"]] == ["list_all_learn_worlds_users"], done.stderr


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads the server's descriptors from /proc")
def test_a_server_started_without_stderr_points_stray_output_at_the_null_device(school, tmp_path):
    """With fd 2 closed at start, a descriptor the server opens takes number 2: fd 1 must not be pointed there."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    proc = subprocess.Popen(command() + ["serve", "--methods", "read"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=server_env(school, tmp_path), preexec_fn=lambda: os.close(2))
    try:
        proc.stdin.write((json.dumps(init) + "\n").encode())
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["id"] == 1  # serving: the descriptors are in place
        assert os.readlink(f"/proc/{proc.pid}/fd/1") == os.devnull
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
