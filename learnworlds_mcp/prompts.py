"""MCP prompts: ready-made admin jobs that tell the model which tools to call, in which order.

Each prompt is data (`PROMPTS`): its arguments, the tools it needs and a writer for its text.
Arguments are checked here, because the SDK's low-level Server checks nothing. Tool details the
text depends on (page-size maximum, filter arguments) are read from the tools' input schemas when
the prompt is rendered, so the text never names an argument the server does not have.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping

import mcp_types as types

from . import registry
from .errors import PromptError

ROLES_TOOL = "list_all_learn_worlds_roles"
USERS_TOOL = "list_all_learn_worlds_users"
GROUPS_TOOL = "list_all_learn_worlds_groups"
USER_TOOL = "get_single_learn_worlds_user_by_id"
AUDIT_FIELDS = ("email", "first_name", "last_name", "username", "role", "last_login")
GROUP_FIELDS = ("title", "enroll_users_on_courses", "group_managers")
MANAGER_FIELDS = ("email", "nps_score", "is_instructor")
READ_ONLY = "This job only reads: call no tool that creates, changes or deletes anything."

Schemas = Mapping[str, Mapping[str, Any]]  # tool name -> its input schema


@dataclass(frozen=True)
class Argument:
    """One prompt argument; `parse` turns the text into a value or raises ValueError(expected form)."""

    name: str
    description: str
    parse: Callable[[str], Any]
    default: str | None = None
    required: bool = False


@dataclass(frozen=True)
class PromptSpec:
    """One prompt: what clients list, the tools it needs, and the writer of its user message."""

    name: str
    title: str
    description: str
    arguments: tuple[Argument, ...]
    tools: tuple[str, ...]
    write: Callable[[dict[str, Any], Schemas], str]


def unix_seconds(day: date) -> int:
    """Midnight UTC at the start of `day`, in Unix seconds (how LearnWorlds writes dates)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def _date(text: str) -> date:
    form = "a date written yyyy-mm-dd, e.g. 2024-01-01"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(form)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"a real calendar day, {form}") from None


def access_levels() -> tuple[str, ...]:
    """The access levels a LearnWorlds role can have, read from the roles tool's data."""
    schema = _bundled_schemas().get(ROLES_TOOL, {})
    level = schema.get("properties", {}).get("access_level", {})
    return tuple(level.get("items", level).get("enum", ()))  # a comma list: an array of the levels


def _levels(text: str) -> tuple[str, ...]:
    valid = access_levels()
    given = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not given or any(level not in valid for level in given):
        raise ValueError(f"a comma list of access levels from: {', '.join(valid)}")
    return given


def _text(text: str) -> str:
    return text.strip()


def _arg(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _properties(schemas: Schemas, tool: str) -> Mapping[str, Any]:
    return schemas.get(tool, {}).get("properties", {})


def _only(properties: Mapping[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """A `fields` argument naming `wanted`, when the tool takes one (results then carry only those, plus id)."""
    if "fields" not in properties:
        return {}
    return {"fields": list(wanted) if properties["fields"].get("type") == "array" else ",".join(wanted)}


def _page_through(tool: str, properties: Mapping[str, Any], arguments: dict[str, Any]) -> str:
    """The sentence that makes the model walk every page of a list tool."""
    maximum = properties.get("limit", {}).get("maximum")
    if maximum:
        arguments = {**arguments, "limit": maximum}
    shown = ", ".join(f"{key}={_arg(value)}" for key, value in arguments.items())
    call = f"Call {tool} with {shown}." if shown else f"Call {tool} with no arguments."
    if "next_cursor" not in properties:
        return call
    return (f"{call} While the result's next_cursor is not null, call it again with the same arguments "
            "plus next_cursor set to that value, unchanged; stop when next_cursor is null.")


def _audit(values: dict[str, Any], schemas: Schemas) -> str:
    since, levels = values["since"], values["roles"]
    cutoff = unix_seconds(since)
    in_scope = ", ".join(levels)
    users = _properties(schemas, USERS_TOOL)
    base = _only(users, AUDIT_FIELDS)
    role = users.get("role")
    if role is not None and all(level in role.get("enum", levels) for level in levels):
        walks = " ".join(_page_through(USERS_TOOL, users, {"role": level, **base}) for level in levels)
        step2 = f"Collect the staff, one access level at a time. {walks}"
    else:
        step2 = f"Collect every user: {_page_through(USERS_TOOL, users, base)}"
    return "\n".join([
        f"Audit the staff accounts of this LearnWorlds school: find everyone at the access levels "
        f"{in_scope} who has not logged in since {since.isoformat()}, or never has.",
        "",
        READ_ONLY,
        "",
        f"1. Call {ROLES_TOOL} with no arguments. Note each role's id, title and access_level; "
        "custom roles share an access level with a built-in one.",
        f"2. {step2} Suspended accounts are left out, which suits this audit: they cannot sign in anyway.",
        f"3. Keep a user when role.level is one of {in_scope} and last_login is missing or null (never logged in) "
        f"or less than {cutoff}, which is {since.isoformat()} 00:00 UTC in Unix seconds. Compare the "
        "numbers; last_login may have a fractional part.",
        "4. Answer with one Markdown table with the columns Name, Email, Role, Last login, listing "
        "never-logged-in users first and then the oldest last login first. Name is first_name and "
        "last_name (username when both are missing); Role is role.name, or the title of the matching role "
        "from step 1; Last login is the yyyy-mm-dd date in UTC, or \"never\". Below the table, say how "
        "many staff accounts you checked and how many matched. If none matched, say so and skip the table.",
    ])


def _cohorts(values: dict[str, Any], schemas: Schemas) -> str:
    contains = values.get("group_title_contains")
    keep = "enroll_users_on_courses is true"
    if contains:
        keep += f" and whose title contains {_arg(contains)} (ignore case)"
    groups = _properties(schemas, GROUPS_TOOL)
    user = _properties(schemas, USER_TOOL)
    lookup = ", ".join(f"{k}={_arg(v)}" for k, v in _only(user, MANAGER_FIELDS).items())
    return "\n".join([
        "Report on the cohorts of this LearnWorlds school: the user groups that enroll their members "
        "in the group's courses, with each group manager's NPS score.",
        "",
        READ_ONLY,
        "",
        f"1. Collect every group: {_page_through(GROUPS_TOOL, groups, _only(groups, GROUP_FIELDS))}",
        f"2. Keep the groups whose {keep}.",
        f"3. Each kept group names its managers in group_managers (each with id and email). Call {USER_TOOL} "
        f"once per distinct manager, with id set to the manager's id{', ' + lookup if lookup else ''}, even "
        "when they manage several groups. From each answer take nps_score (missing or null when they never "
        "answered the survey) and is_instructor. After a rate-limit error, wait the seconds it names and "
        "repeat that call.",
        "4. Answer with one Markdown table with the columns Group, Manager email, NPS score, Instructor: one "
        "row per group and manager, sorted by group title. Write \"—\" for a missing NPS score and yes or no "
        "for Instructor; a group without managers gets one row with \"—\" in the manager columns. Below the "
        "table, say how many groups and distinct managers it covers. If no group was kept, say so and skip "
        "the table.",
    ])


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        name="audit_inactive_staff",
        title="Audit inactive staff",
        description="Find admins, instructors (or other staff levels) who have not logged in since a date, "
                    "or never have, and list them in a table.",
        arguments=(
            Argument("since", "Last login cut-off, yyyy-mm-dd (UTC); default 2024-01-01.", _date, "2024-01-01"),
            Argument("roles", "Comma list of access levels to audit; default admin,instructor.", _levels,
                     "admin,instructor"),
        ),
        tools=(ROLES_TOOL, USERS_TOOL),
        write=_audit,
    ),
    PromptSpec(
        name="cohort_report",
        title="Cohort report",
        description="Table of the user groups that enroll members in courses, with each group manager's "
                    "email, NPS score and whether they are an instructor.",
        arguments=(
            Argument("group_title_contains", "Only groups whose title contains this text (any case).", _text),
        ),
        tools=(GROUPS_TOOL, USER_TOOL),
        write=_cohorts,
    ),
)
_BY_NAME = {spec.name: spec for spec in PROMPTS}


def _bundled_schemas() -> dict[str, Mapping[str, Any]]:
    return {op.name: op.input_schema for op in registry.load()}


def missing_tools(spec: PromptSpec, available_tools: set[str]) -> list[str]:
    """The tools a prompt needs that this server does not offer, in the prompt's order."""
    return [tool for tool in spec.tools if tool not in available_tools]


def list_prompts(available_tools: set[str]) -> list[types.Prompt]:
    """Every prompt; a description says so when the server's filters left out a tool it needs."""
    prompts = []
    for spec in PROMPTS:
        description = spec.description
        missing = missing_tools(spec, available_tools)
        if missing:
            description += f" Not usable on this server as started: it lacks {', '.join(missing)}."
        prompts.append(types.Prompt(
            name=spec.name, title=spec.title, description=description,
            arguments=[types.PromptArgument(name=a.name, description=a.description, required=a.required)
                       for a in spec.arguments]))
    return prompts


def _values(spec: PromptSpec, arguments: Mapping[str, str] | None) -> dict[str, Any]:
    given = {k: v for k, v in (arguments or {}).items() if v is not None and str(v).strip()}
    known = {a.name for a in spec.arguments}
    unknown = sorted(set(given) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise PromptError(f"Prompt {spec.name!r} has no argument {', '.join(map(repr, unknown))}; "
                          f"its arguments: {allowed}.")
    values: dict[str, Any] = {}
    for argument in spec.arguments:
        text = given.get(argument.name, argument.default)
        if text is None:
            if argument.required:
                raise PromptError(f"Prompt {spec.name!r} needs the argument {argument.name!r}.")
            continue
        try:
            values[argument.name] = argument.parse(str(text).strip())
        except ValueError as exc:
            raise PromptError(f"Argument {argument.name!r} is {text!r}; expected {exc}.") from None
    return values


def _how_to_add(missing: list[str]) -> str:
    """Which serve flags must change so that every filter lets the missing tools through."""
    ops = {op.name: op for op in registry.load()}
    known = [ops[name] for name in missing if name in ops]
    listed = ",".join(missing)
    lines = [f"- --exclude-tools / LEARNWORLDS_EXCLUDE_TOOLS: remove {listed} if it names them.",
             f"- --tools / LEARNWORLDS_TOOLS: if it is set, add {listed}."]
    if known:
        shared = [tag for tag in known[0].tags if all(tag in op.tags for op in known)]
        options = shared or sorted({op.tags[-1] for op in known})
        lines.append(f"- --tags / LEARNWORLDS_TAGS: if it is set, include {' or '.join(options)}"
                     + ("." if shared else " (all of them)."))
        groups = sorted({"read" if op.read_only else "write" for op in known})
        kinds = sorted({op.kind for op in known})
        lines.append(f"- --methods / LEARNWORLDS_METHODS: if it is set, include {','.join(groups)} "
                     f"(or the kinds {','.join(kinds)}).")
    return "\n".join(lines)


def _missing_message(spec: PromptSpec, missing: list[str]) -> str:
    return "\n".join([
        f"The prompt {spec.name} cannot run on this server: the tool filters it was started with left out "
        f"{', '.join(missing)}, which this job needs. Do not try the job with other tools; tell me this "
        "and how to fix it.",
        "",
        "To add them, restart learnworlds-mcp serve (or edit the MCP client's config) so that every "
        "filter lets them through:",
        _how_to_add(missing),
    ])


def render(name: str, arguments: dict[str, str] | None, available_tools: set[str],
           schemas: Schemas | None = None) -> types.GetPromptResult:
    """The prompt's single user message; PromptError for an unknown name or a bad argument.

    `schemas` maps tool names to the input schemas the server lists; the bundled ones by default.
    """
    spec = _BY_NAME.get(name)
    if spec is None:
        raise PromptError(f"Unknown prompt {name!r}; this server offers: {', '.join(_BY_NAME)}.")
    values = _values(spec, arguments)
    missing = missing_tools(spec, available_tools)
    if missing:
        text = _missing_message(spec, missing)
    else:
        text = spec.write(values, _bundled_schemas() if schemas is None else schemas)
    message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
    return types.GetPromptResult(description=spec.description, messages=[message])
