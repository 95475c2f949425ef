"""MCP hosts that start this server: Claude Desktop's config file and Claude Code's `claude mcp add`.

An entry names the absolute path of the `learnworlds-mcp` script and the `serve` flags; it never
holds a secret (no token flag, no `env` block), because host config files are plain text. The
server finds its credentials itself: LEARNWORLDS_* variables first, then the OS keyring profile.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import HostError

SCRIPT = "learnworlds-mcp"
DESKTOP_FILE = "claude_desktop_config.json"
CLAUDE_CODE_SCOPES = ("local", "project", "user")
SECRET_VARIABLES = ("LEARNWORLDS_ACCESS_TOKEN", "LEARNWORLDS_CLIENT_SECRET")
SECRET_FLAG = re.compile(r"secret|token|passw(or)?d|api[-_]?key|credential|bearer", re.IGNORECASE)
SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
KEYRING_ROUTE = ("store the secret with `learnworlds-mcp auth login` (it goes to the OS keyring) "
                 "and pass --profile instead")


@dataclass(frozen=True)
class InstallPlan:
    """What installing into a Claude Desktop config would change; nothing is written yet."""

    path: Path
    old_text: str | None
    new_text: str
    changed: bool
    previous: dict | None = None

    @property
    def dropped_env(self) -> tuple[str, ...]:
        """Names of variables in the replaced entry's `env` block, which the new entry leaves out."""
        env = (self.previous or {}).get("env")
        return tuple(env) if self.changed and isinstance(env, dict) else ()


def desktop_config_path(system: str | None = None, env: Mapping[str, str] | None = None,
                        home: Path | None = None) -> Path:
    """Where Claude Desktop keeps claude_desktop_config.json on this (or the given) platform."""
    system = system or platform.system()
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if system == "Darwin":
        return home / "Library" / "Application Support" / "Claude" / DESKTOP_FILE
    if system == "Windows":
        roaming = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(roaming) / "Claude" / DESKTOP_FILE
    # XDG: a relative or empty XDG_CONFIG_HOME is invalid and must be ignored.
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "Claude" / DESKTOP_FILE


def executable_path(*, python: str | None = None, which: Callable[[str], str | None] = shutil.which,
                    system: str | None = None) -> str:
    """The absolute path of the installed `learnworlds-mcp` script.

    The script beside the running interpreter comes first, because it belongs to the install that
    is running now (PATH may hold an older one, or none when the venv is not activated); then PATH.
    """
    windows = (system or platform.system()) == "Windows"
    name = SCRIPT + (".exe" if windows else "")
    folder = Path(python or sys.executable).parent
    candidates = [folder / name] + ([folder / "Scripts" / name] if windows else [])
    for candidate in candidates:
        if candidate.is_file():
            return os.path.abspath(candidate)
    if found := which(SCRIPT):
        return os.path.abspath(found)
    raise HostError(
        f"cannot find the `{SCRIPT}` command (looked in {folder} and on PATH); install the package "
        f"with `pip install learnworlds-mcp` (or `pipx install learnworlds-mcp`), or pass "
        f"--command with the absolute path of the script"
    )


def _absolute_command(command: str) -> str:
    """Hosts start servers with a minimal PATH, so the entry must name the script by absolute path."""
    if os.path.isabs(command):
        return command
    if found := shutil.which(command):
        return os.path.abspath(found)
    raise HostError(f"--command {command!r} is not an absolute path and is not on PATH; "
                    f"give the full path of the `{SCRIPT}` script")


def _refuse_secrets(serve_args: list[str], env: Mapping[str, str]) -> None:
    """Refuse anything in the arguments that looks like a secret; the message never repeats it."""
    known = [env.get(name, "") for name in SECRET_VARIABLES]
    known = [value for value in known if len(value) >= 4]
    for index, arg in enumerate(serve_args, start=1):
        flag = arg.split("=", 1)[0]
        if arg.startswith("-") and SECRET_FLAG.search(flag):
            what = f"the flag {flag}"
        elif any(name in arg.upper() for name in SECRET_VARIABLES):
            what = "a LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET setting"
        elif any(value in arg for value in known):
            what = "the value of LEARNWORLDS_ACCESS_TOKEN or LEARNWORLDS_CLIENT_SECRET"
        else:
            continue
        raise HostError(f"serve argument {index} holds {what}; host config files are plain text, "
                        f"so never put a secret there: {KEYRING_ROUTE}")


def _has_profile_flag(serve_args: list[str]) -> bool:
    return any(arg == "--profile" or arg.startswith("--profile=") for arg in serve_args)


def server_entry(command: str, serve_args: list[str], profile: str | None, *,
                 env: Mapping[str, str] | None = None) -> dict:
    """The host entry: the script's absolute path and `serve` with its flags; never a secret, never `env`."""
    _refuse_secrets(serve_args, os.environ if env is None else env)
    args = ["serve", *serve_args]
    if profile is not None and profile != "default":
        if not profile or profile.startswith("-"):
            raise HostError(f"--profile {profile!r} is not a profile name; "
                            f"list yours with `learnworlds-mcp auth status --profile NAME`")
        if _has_profile_flag(serve_args):
            raise HostError("--profile is given twice (once among the serve flags); keep only one")
        args += ["--profile", profile]
    return {"command": _absolute_command(command), "args": args}


def _check_name(name: str) -> None:
    if not SERVER_NAME.fullmatch(name):
        raise HostError(f"--name {name!r} is not a usable server name; use letters, digits, '-', '_' "
                        f"or '.', starting with a letter or digit (e.g. learnworlds)")


def _parse(path: Path, text: str) -> dict:
    """The config as a dict, or a HostError that points at the broken spot."""
    if not text.strip():
        return {"mcpServers": {}}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HostError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            f"nothing was written: fix the file by hand (Claude Desktop cannot read it either), "
            f"then run the install again"
        ) from exc
    if not isinstance(data, dict):
        raise HostError(f"{path} holds a JSON {type(data).__name__}, not an object; nothing was written: "
                        f"fix the file by hand so it reads {{\"mcpServers\": {{...}}}}, then run again")
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise HostError(f"{path}: \"mcpServers\" is a JSON {type(servers).__name__}, not an object; "
                        f"nothing was written: fix it by hand (it maps server names to entries), then run again")
    return data


def _read_text(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HostError(f"cannot read {path} ({exc.strerror}); check its permissions, then run again") from exc
    try:
        # utf-8-sig: editors on Windows may prepend a byte-order mark, which json.loads rejects.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HostError(f"{path} is not UTF-8 text (byte {exc.start}); nothing was written: "
                        f"save it as UTF-8, then run again") from exc


def plan_desktop_install(path: Path, name: str, entry: dict) -> InstallPlan:
    """Add or replace mcpServers[name] in the config at `path`, keeping everything else; writes nothing."""
    _check_name(name)
    old_text = _read_text(path)
    data = _parse(path, old_text or "")
    previous = data["mcpServers"].get(name)
    if old_text is not None and previous == entry:
        return InstallPlan(path, old_text, old_text, changed=False, previous=previous)
    data["mcpServers"][name] = entry
    new_text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return InstallPlan(path, old_text, new_text, changed=True, previous=previous)


def _backup_path(target: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = target.with_name(f"{target.name}.bak-{stamp}")
    counter = 1
    while backup.exists():  # two installs within one second keep both backups
        backup = target.with_name(f"{target.name}.bak-{stamp}-{counter}")
        counter += 1
    return backup


def apply_install(plan: InstallPlan) -> Path | None:
    """Write the plan: back up the old file, then replace it atomically. Returns the backup path, if any."""
    if not plan.changed:
        return None
    # Write through a symlink (dotfile managers), so the link survives the replace.
    target = Path(os.path.realpath(plan.path))
    if _read_text(target) != plan.old_text:
        raise HostError(f"{plan.path} changed since it was read (is Claude Desktop saving it?); "
                        f"nothing was written: run the install again")
    backup = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o600  # a new file: other hosts' entries may later hold secrets in `env`
        if plan.old_text is not None:
            mode = stat.S_IMODE(target.stat().st_mode)
            backup = _backup_path(target)
            shutil.copy2(target, backup)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(plan.new_text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        kept = f"; the old file is unchanged and a copy is in {backup}" if backup else ""
        raise HostError(f"cannot write {target} ({exc.strerror or exc}){kept}; check the folder's "
                        f"permissions, or use --print and add the entry by hand") from exc
    return backup


def claude_code_command(name: str, command: str, serve_args: list[str], profile: str | None,
                        scope: str | None = None) -> list[str]:
    """The `claude mcp add [--scope S] <name> -- <command> serve ...` argv that registers this server."""
    _check_name(name)
    if scope is not None and scope not in CLAUDE_CODE_SCOPES:
        raise HostError(f"--scope {scope!r} is not a Claude Code scope; use one of {', '.join(CLAUDE_CODE_SCOPES)}")
    entry = server_entry(command, serve_args, profile)
    # Claude Code's options go before the name; `--` keeps our flags from being read as its own.
    options = ["--scope", scope] if scope else []
    return ["claude", "mcp", "add", *options, name, "--", entry["command"], *entry["args"]]


@dataclass(frozen=True)
class ClaudeCodeEntry:
    """One server as `claude mcp get` shows it: its scope, command and space-joined arguments."""

    scope: str
    command: str
    args: str


def parse_claude_code_entry(text: str) -> ClaudeCodeEntry | None:
    """Read `claude mcp get NAME` output; None when it shows no stdio command (absent, or another kind)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key in ("Scope", "Command", "Args"):
            fields.setdefault(key, value.strip())
        if match := re.search(r"claude mcp remove \S+ -s (\w+)", line):
            fields["scope"] = match.group(1)
    if "Command" not in fields:
        return None
    scope = fields.get("scope") or fields.get("Scope", "local").split(" ")[0].lower()
    return ClaudeCodeEntry(scope, fields["Command"], fields.get("Args", ""))


def sync_claude_code(argv: list[str], scope: str | None, run: Callable = subprocess.run) -> str:
    """Run `claude mcp add` so that a second run changes nothing: 'added', 'updated' or 'unchanged'.

    `claude mcp add` refuses a name that exists, so an entry that differs is removed from its scope
    first; one that matches is left alone.
    """
    claude, name = argv[0], argv[argv.index("--") - 1]
    wanted = argv[argv.index("--") + 1:]
    try:
        shown = run([claude, "mcp", "get", name], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HostError(f"`claude mcp get {name}` failed ({exc}); run the printed command yourself") from exc
    existing = parse_claude_code_entry(shown.stdout) if shown.returncode == 0 else None
    outcome = "added"
    if existing is not None and (scope is None or existing.scope == scope):
        if (existing.command, existing.args) == (wanted[0], " ".join(wanted[1:])):
            return "unchanged"
        removed = run([claude, "mcp", "remove", name, "-s", existing.scope], capture_output=True, text=True,
                      timeout=120)
        if removed.returncode != 0:
            raise HostError(f"`claude mcp remove {name} -s {existing.scope}` failed: "
                            f"{(removed.stderr or removed.stdout).strip()[:300]}")
        outcome = "updated"
    added = run(argv, capture_output=True, text=True, timeout=120)
    if added.returncode != 0:
        lost = f" (the old {name!r} entry was already removed)" if outcome == "updated" else ""
        raise HostError(f"`claude mcp add` failed{lost}: {(added.stderr or added.stdout).strip()[:300]}")
    return outcome


def claude_executable(which: Callable[[str], str | None] = shutil.which) -> str:
    """The `claude` command's path (on Windows a .cmd that subprocess cannot find by bare name)."""
    if found := which("claude"):
        return found
    raise HostError("Claude Code's `claude` command is not on PATH; install Claude Code, or run the "
                    "printed `claude mcp add` command yourself where it is available")


def format_command(argv: list[str], system: str | None = None) -> str:
    """The argv as one line to paste into the user's shell."""
    if (system or platform.system()) == "Windows":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)
