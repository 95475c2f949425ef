"""Options shared by several commands (each with its LEARNWORLDS_* twin), and how commands fail."""

from __future__ import annotations

import enum
from typing import Annotated, Optional

import typer

from ..discovery import Exposure as ExposureChoice
from ..errors import ConfigError, SelectionError

Methods = Annotated[Optional[str], typer.Option(
    "--methods", metavar="LIST", envvar="LEARNWORLDS_METHODS", show_envvar=True,
    help="Comma list: read (every GET), write (every other verb), or kinds list,get,create,update,delete,custom.")]
Tags = Annotated[Optional[str], typer.Option(
    "--tags", metavar="LIST", envvar="LEARNWORLDS_TAGS", show_envvar=True,
    help="Comma list of tags; a tool with any of them passes (e.g. directory, commerce, users).")]
Tools = Annotated[Optional[str], typer.Option(
    "--tools", metavar="NAMES", envvar="LEARNWORLDS_TOOLS", show_envvar=True,
    help="Comma list of tool names to allow (allow list).")]
ExcludeTools = Annotated[Optional[str], typer.Option(
    "--exclude-tools", metavar="NAMES", envvar="LEARNWORLDS_EXCLUDE_TOOLS", show_envvar=True,
    help="Comma list of tool names to remove.")]
Profile = Annotated[str, typer.Option(
    "--profile", metavar="NAME", envvar="LEARNWORLDS_PROFILE", show_envvar=True,
    help="Stored profile (one per school).")]


ApiUrl = Annotated[Optional[str], typer.Option(
    "--api-url", metavar="URL", envvar="LEARNWORLDS_API_URL", show_envvar=True,
    help="API base, default {school URL}/admin/api. Plain http only for loopback hosts.")]
RateLimit = Annotated[int, typer.Option(
    "--rate-limit", metavar="N", envvar="LEARNWORLDS_RATE_LIMIT", show_envvar=True, min=1,
    help="Requests per 10 s sent to this school by all learnworlds-mcp processes on this machine together "
         "(a shared budget; the school allows 30).")]
MaxRetries = Annotated[int, typer.Option(
    "--max-retries", metavar="N", envvar="LEARNWORLDS_MAX_RETRIES", show_envvar=True, min=0,
    help="Retries of reads and idempotent writes after a 429, a network error or 502/503/504; "
         "0 hands every failure straight to the model. Creates are never retried.")]
Sandbox = Annotated[bool, typer.Option(
    "--sandbox", envvar="LEARNWORLDS_SANDBOX", show_envvar=True,
    help="Use a seeded sandbox school started in-process on a free loopback port: no account, no credentials.")]
Seed = Annotated[Optional[int], typer.Option(
    "--seed", metavar="N", envvar="LEARNWORLDS_SANDBOX_SEED", show_envvar=True,
    help="With --sandbox: seed of the generated school (default 7); the same seed, the same data.")]


DryRun = Annotated[bool, typer.Option(
    "--dry-run", envvar="LEARNWORLDS_DRY_RUN", show_envvar=True,
    help="Write tools return the exact request they would send, and send nothing; reads still work.")]
MaxWrites = Annotated[Optional[int], typer.Option(
    "--max-writes", metavar="N", envvar="LEARNWORLDS_MAX_WRITES", show_envvar=True, min=0,
    help="Refuse further writes after this many in one server run.")]
AuditLogPath = Annotated[Optional[str], typer.Option(
    "--audit-log", metavar="FILE", envvar="LEARNWORLDS_AUDIT_LOG", show_envvar=True,
    help="Append one JSON line per tool call to this file (created owner-only); a write also gets an "
         "intent line, on disk before it is sent.")]
ExpiresAt = Annotated[Optional[str], typer.Option(
    "--expires-at", metavar="TIME", envvar="LEARNWORLDS_EXPIRES_AT", show_envvar=True,
    help="ISO 8601 time after which every tool call is refused (e.g. 2026-12-01T18:00:00Z).")]
Ttl = Annotated[Optional[str], typer.Option(
    "--ttl", metavar="DURATION", envvar="LEARNWORLDS_TTL", show_envvar=True,
    help="Like --expires-at, as a duration from now: 30m, 8h, 2d.")]
MaxResultBytes = Annotated[int, typer.Option(
    "--max-result-bytes", metavar="BYTES", envvar="LEARNWORLDS_MAX_RESULT_BYTES", show_envvar=True, min=2000,
    help="Most bytes any result or error may take; lists are cut at an item boundary, long text in place "
         "(default about 20,000 tokens).")]
KeepEmpty = Annotated[bool, typer.Option(
    "--keep-empty", envvar="LEARNWORLDS_KEEP_EMPTY", show_envvar=True,
    help="Keep null and empty values in results (they are left out by default to save context).")]


CacheDir = Annotated[Optional[str], typer.Option(
    "--cache-dir", metavar="DIR", envvar="LEARNWORLDS_CACHE_DIR", show_envvar=True,
    help="Keep the query tool's tables in a file in this folder (created owner-only) instead of in memory.")]
CacheTtl = Annotated[str, typer.Option(
    "--cache-ttl", metavar="DURATION", envvar="LEARNWORLDS_CACHE_TTL", show_envvar=True,
    help="How long loaded tables answer queries before they load again: 30s, 15m, 2h.")]
QueryWait = Annotated[float, typer.Option(
    "--query-wait", metavar="SECONDS", envvar="LEARNWORLDS_QUERY_WAIT", show_envvar=True, min=1,
    help="Seconds a query waits for its tables to load; past it, the answer reports progress and loading goes on.")]


Exposure = Annotated[ExposureChoice, typer.Option(
    "--exposure", metavar="tools|discovery", envvar="LEARNWORLDS_EXPOSURE", show_envvar=True,
    help="tools: every selected tool is listed; discovery: four meta-tools search, describe and run them "
         "(a few KB of context instead of tens).")]


def expiry_from_flags(expires_at: str | None, ttl: str | None) -> float | None:
    """One expiry time from --expires-at or --ttl, or exit 2 naming the flags when it is malformed or past."""
    from ..policy import expiry_from

    try:
        return expiry_from(expires_at, ttl)
    except ValueError as exc:
        fail(f"--expires-at/--ttl: {exc}", code=2)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def fail_with(exc: Exception) -> None:
    """Exit with the error's message: 2 for input the user must fix (config.json, filters), 1 otherwise."""
    fail(str(exc), code=2 if isinstance(exc, (ConfigError, SelectionError)) else 1)


def selected_operations(methods: str | None, tags: str | None, tools: str | None, exclude_tools: str | None,
                        profile: str | None = None):
    """Load the registry and apply the filters, within the profile's stored restrictions when a profile is
    given (flags can narrow them, never widen them); or exit 2 with the valid values."""
    from .. import profiles
    from ..filters import Selection, select, split_list
    from ..registry import load

    selection = Selection(split_list(methods), split_list(tags), split_list(tools), split_list(exclude_tools))
    try:
        operations = load()
        chosen = select(operations, selection)  # names are checked against every tool, restriction or not
        if profile is None:
            return chosen
        allowed = {op.name for op in profiles.restrict(operations, profile)}
    except (SelectionError, ConfigError) as exc:
        fail(str(exc), code=2)
    kept = [op for op in chosen if op.name in allowed]
    if not kept:
        stored = profiles.read_profile(profile)
        fail(f"profile {profile!r} is restricted to {stored.restriction.describe()}, and the filters "
             f"({selection.describe()}) leave no tool within that; nothing outside it can be used with this "
             "profile", code=2)
    return kept


def query_tool_allowed(profile: str | None) -> bool:
    """Whether a profile's stored restrictions leave the SQL query tool in: they do unless they list tools
    and it is not among them (a profile limited to some tools gets no others, the query tool included)."""
    from .. import profiles

    if profile is None:
        return True
    try:
        stored = profiles.read_profile(profile)
    except ConfigError as exc:
        fail(str(exc), code=2)
    return stored is None or not stored.restricted or stored.restriction.offers_query_tool()


class TransportChoice(str, enum.Enum):
    """How MCP clients reach the server."""

    STDIO = "stdio"
    HTTP = "http"


Transport = Annotated[TransportChoice, typer.Option(
    "--transport", metavar="stdio|http", envvar="LEARNWORLDS_TRANSPORT", show_envvar=True,
    help="stdio (one local client, what hosts start) or http (a team server: every request needs a grant "
         "token from `learnworlds-mcp grant create`).")]
Host = Annotated[str, typer.Option(
    "--host", metavar="ADDRESS", envvar="LEARNWORLDS_HOST", show_envvar=True,
    help="HTTP only: address to listen on. Anything but loopback needs --tls-cert/--tls-key or --allow-plain-http.")]
Port = Annotated[int, typer.Option("--port", metavar="PORT", envvar="LEARNWORLDS_PORT", show_envvar=True, min=1, max=65535,
                                   help="HTTP only: port to listen on.")]
TlsCert = Annotated[Optional[str], typer.Option(
    "--tls-cert", metavar="FILE", envvar="LEARNWORLDS_TLS_CERT", show_envvar=True, help="HTTP only: PEM certificate file (serve https).")]
TlsKey = Annotated[Optional[str], typer.Option(
    "--tls-key", metavar="FILE", envvar="LEARNWORLDS_TLS_KEY", show_envvar=True, help="HTTP only: PEM private key file for --tls-cert.")]
AllowPlainHttp = Annotated[bool, typer.Option(
    "--allow-plain-http", envvar="LEARNWORLDS_ALLOW_PLAIN_HTTP", show_envvar=True,
    help="HTTP only: allow plain http on a non-loopback --host (only behind a TLS reverse proxy); prints a warning.")]
AllowedHosts = Annotated[Optional[str], typer.Option(
    "--allowed-hosts", metavar="NAMES", envvar="LEARNWORLDS_ALLOWED_HOSTS", show_envvar=True,
    help="HTTP only: comma list of further Host names clients use (e.g. the reverse proxy's name, "
         "mcp.example.com); any other Host header is refused.")]
StateDir = Annotated[Optional[str], typer.Option(
    "--state-dir", metavar="DIR", envvar="LEARNWORLDS_STATE_DIR", show_envvar=True,
    help="Folder of the server's state: the grant store (grants.db) and the rate budget shared by this machine's "
         "processes; default: the config folder.")]
