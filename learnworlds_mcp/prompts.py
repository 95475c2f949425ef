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
from typing import Any, Callable, Iterable, Mapping

import mcp_types as types

from . import queries, registry
from .errors import PromptError
from .registry import QUERY_TOOL

ROLES_TOOL = "list_all_learn_worlds_roles"
USERS_TOOL = "list_all_learn_worlds_users"
GROUPS_TOOL = "list_all_learn_worlds_groups"
USER_TOOL = "get_single_learn_worlds_user_by_id"
AUDIT_FIELDS = ("email", "first_name", "last_name", "username", "role", "last_login")
GROUP_FIELDS = ("title", "enroll_users_on_courses", "group_managers")
MANAGER_FIELDS = ("email", "nps_score", "is_instructor", "is_suspended")
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
    """One prompt: what clients list, and two ways to do the job.

    With the query tool and the list tools behind the `tables` it reads, `ask` writes a one-call
    message; otherwise `write` walks the list `tools`.
    """

    name: str
    title: str
    description: str
    arguments: tuple[Argument, ...]
    tools: tuple[str, ...]
    write: Callable[[dict[str, Any], Schemas], str]
    tables: tuple[str, ...] = ()
    ask: Callable[[dict[str, Any]], str] | None = None


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


@dataclass(frozen=True)
class Roles:
    """Who an audit covers: access levels, and role names as this school writes them."""

    levels: tuple[str, ...]
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ", ".join(self.levels + self.names)


def _roles(text: str) -> tuple[str, ...]:
    given = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not given:
        raise ValueError(f"a comma list of access levels from: {', '.join(access_levels())}, or role names")
    return given


def role_names_given(arguments: Mapping[str, str] | None) -> bool:
    """True when a `roles` argument names something other than an access level (a role name to check)."""
    text = str((arguments or {}).get("roles") or "")
    return any(part.strip() not in access_levels() for part in text.split(",") if part.strip())


def resolve_roles(given: tuple[str, ...], role_titles: Iterable[str] | None) -> Roles:
    """Split `roles` items into access levels and this school's role names; ValueError for anything else.

    An access level written as such (`admin`) is a level; other text is a role name in any case
    (`Admin` is the role of that name), or a level when the school has no role of that name.
    """
    valid = access_levels()
    titles = {title.lower(): title for title in role_titles or ()}
    levels, names, unknown = [], [], []
    for item in given:
        if item in valid:
            levels.append(item)
        elif item.lower() in titles:
            names.append(titles[item.lower()])
        elif item.lower() in valid:
            levels.append(item.lower())
        else:
            unknown.append(item)
    if unknown:
        names_hint = (f"; or role names of this school: {', '.join(sorted(titles.values()))}" if titles else
                      f" (role names are taken when the server offers {ROLES_TOOL})")
        raise ValueError(f"a comma list of access levels from: {', '.join(valid)}{names_hint}")
    return Roles(tuple(dict.fromkeys(levels)), tuple(dict.fromkeys(names)))


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


def _scope(roles: Roles) -> str:
    parts = [f"at the access levels {', '.join(roles.levels)}"] if roles.levels else []
    parts += [f"holding the roles {', '.join(roles.names)}"] if roles.names else []
    return " or ".join(parts)


def _one_call(sql: str, what: str) -> str:
    """Step 1 of every one-query job."""
    return (f"1. Call {QUERY_TOOL} once, with sql set to this statement ({what}):\n```sql\n{sql}\n```\n"
            "If the answer says the data is still loading, wait the seconds it names and call again with the "
            "same sql; do not page any list tool instead.")


def _audit_intro(values: dict[str, Any]) -> str:
    return (f"Audit the staff accounts of this LearnWorlds school: find everyone {_scope(values['roles'])} "
            f"who has not logged in since {values['since'].isoformat()}, or never has.")


def _ask_audit(values: dict[str, Any]) -> str:
    roles: Roles = values["roles"]
    sql = queries.inactive_staff(unix_seconds(values["since"]), roles.levels, roles.names)
    return "\n".join([
        _audit_intro(values), "", READ_ONLY, "",
        _one_call(sql, "it reads every user, suspended ones included"),
        "2. Answer with one Markdown table with the columns Name, Email, Role, Last login, Suspended: one row "
        "per result row, in the order given (last_login is a UTC date, or never). Below it, give staff_checked "
        "(staff accounts checked), the number of rows (matched) and the users table's as_of. If no row came "
        "back, say that none matched and skip the table.",
    ])


def _audit(values: dict[str, Any], schemas: Schemas) -> str:
    since, roles = values["since"], values["roles"]
    cutoff = unix_seconds(since)
    users = _properties(schemas, USERS_TOOL)
    base = _only(users, AUDIT_FIELDS)
    if "include_suspended" in users:
        base["include_suspended"] = True
    role = users.get("role")
    levels = roles.levels
    if not roles.names and role is not None and all(level in role.get("enum", levels) for level in levels):
        walks = " ".join(_page_through(USERS_TOOL, users, {"role": level, **base}) for level in levels)
        step2 = f"Collect the staff, one access level at a time. {walks}"
    else:
        step2 = f"Collect every user: {_page_through(USERS_TOOL, users, base)}"
    keep = " or ".join(([f"role.level is one of {', '.join(levels)}"] if levels else [])
                       + ([f"role.name is one of {', '.join(roles.names)} (any case)"] if roles.names else []))
    return "\n".join([
        _audit_intro(values),
        "",
        READ_ONLY,
        "",
        f"1. Call {ROLES_TOOL} with no arguments. Note each role's id, title and access_level; "
        "custom roles share an access level with a built-in one.",
        f"2. {step2}",
        f"3. Keep a user when {keep}, and last_login is missing or null (never logged in) "
        f"or less than {cutoff}, which is {since.isoformat()} 00:00 UTC in Unix seconds. Compare the "
        "numbers; last_login may have a fractional part.",
        "4. Answer with one Markdown table with the columns Name, Email, Role, Last login, Suspended, listing "
        "never-logged-in users first and then the oldest last login first. Name is first_name and "
        "last_name (username when both are missing); Role is role.name, or the title of the matching role "
        "from step 1; Last login is the yyyy-mm-dd date in UTC, or \"never\"; Suspended is yes when "
        "is_suspended is true. Below the table, say how many staff accounts you checked and how many matched. "
        "If none matched, say so and skip the table.",
    ])


def _cohort_intro(values: dict[str, Any]) -> str:
    contains = values.get("group_title_contains")
    which = f" (only those whose title contains {_arg(contains)}, any case)" if contains else ""
    return ("Report on the cohorts of this LearnWorlds school: the user groups that enroll their members in the "
            f"group's courses{which}, with each group manager's email, NPS score and whether they teach.")


_COHORT_TABLE = ("one Markdown table with the columns Group, Manager email, NPS score, Instructor: one row per "
                 "group and manager, sorted by group title. Write \"—\" for a missing value (a group without "
                 "managers has one row with \"—\" in the manager columns) and add \"(suspended)\" after a "
                 "suspended manager's email. Below the table, say how many groups and distinct managers it covers.")


def _ask_cohorts(values: dict[str, Any]) -> str:
    sql = queries.cohort_managers(values.get("group_title_contains"))
    return "\n".join([
        _cohort_intro(values), "", READ_ONLY, "",
        _one_call(sql, "groups with their managers joined to users, suspended managers included"),
        f"2. Answer with {_COHORT_TABLE} If no row came back, say that no group matched and skip the table.",
    ])


def _cohorts(values: dict[str, Any], schemas: Schemas) -> str:
    contains = values.get("group_title_contains")
    keep = "enroll_users_on_courses is true"
    if contains:
        keep += f" and whose title contains {_arg(contains)} (ignore case)"
    groups = _properties(schemas, GROUPS_TOOL)
    user = _properties(schemas, USER_TOOL)
    lookup = {**_only(user, MANAGER_FIELDS), **({"include_suspended": True} if "include_suspended" in user else {})}
    shown = ", ".join(f"{k}={_arg(v)}" for k, v in lookup.items())
    return "\n".join([
        _cohort_intro(values),
        "",
        READ_ONLY,
        "",
        f"1. Collect every group: {_page_through(GROUPS_TOOL, groups, _only(groups, GROUP_FIELDS))}",
        f"2. Keep the groups whose {keep}.",
        f"3. Each kept group names its managers in group_managers (each with id and email). Call {USER_TOOL} "
        f"once per distinct manager, with id set to the manager's id{', ' + shown if shown else ''}, even "
        "when they manage several groups. From each answer take nps_score (missing or null when they never "
        "answered the survey), is_instructor and is_suspended. After a rate-limit error, wait the seconds it "
        "names and repeat that call.",
        f"4. Answer with {_COHORT_TABLE} If no group was kept, say so and skip the table.",
    ])


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        name="audit_inactive_staff",
        title="Audit inactive staff",
        description="Find admins, instructors (or other staff levels or roles) who have not logged in since a "
                    "date, or never have, and list them in a table.",
        arguments=(
            Argument("since", "Last login cut-off, yyyy-mm-dd (UTC); default 2024-01-01.", _date, "2024-01-01"),
            Argument("roles", "Comma list of access levels or this school's role names to audit; default "
                     "admin,instructor.", _roles, "admin,instructor"),
        ),
        tools=(ROLES_TOOL, USERS_TOOL),
        write=_audit,
        tables=(USERS_TOOL,),
        ask=_ask_audit,
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
        tables=(GROUPS_TOOL, USERS_TOOL),
        ask=_ask_cohorts,
    ),
)
_BY_NAME = {spec.name: spec for spec in PROMPTS}


def _bundled_schemas() -> dict[str, Mapping[str, Any]]:
    return {op.name: op.input_schema for op in registry.load()}


def one_query(spec: PromptSpec, available_tools: set[str]) -> bool:
    """True when the query tool is offered with the tables the prompt reads (their list tools passed the filters)."""
    return spec.ask is not None and {QUERY_TOOL, *spec.tables} <= available_tools


def missing_tools(spec: PromptSpec, available_tools: set[str]) -> list[str]:
    """The tools a prompt needs that this server does not offer, in the prompt's order (none with one query)."""
    if one_query(spec, available_tools):
        return []
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
           schemas: Schemas | None = None, role_titles: Iterable[str] | None = None) -> types.GetPromptResult:
    """The prompt's single user message; PromptError for an unknown name or a bad argument.

    `available_tools` holds the names the server offers (the query tool's included when it is there);
    `schemas` maps tool names to their input schemas, the bundled ones by default; `role_titles` are
    the school's role names, which `roles` may use (None: not known, so only access levels pass).
    """
    spec = _BY_NAME.get(name)
    if spec is None:
        raise PromptError(f"Unknown prompt {name!r}; this server offers: {', '.join(_BY_NAME)}.")
    values = _values(spec, arguments)
    if "roles" in values:
        try:
            values["roles"] = resolve_roles(values["roles"], role_titles)
        except ValueError as exc:
            raise PromptError(f"Argument 'roles' is {', '.join(values['roles'])!r}; expected {exc}.") from None
    missing = missing_tools(spec, available_tools)
    if missing:
        text = _missing_message(spec, missing)
    elif one_query(spec, available_tools):
        text = spec.ask(values)
    else:
        text = spec.write(values, _bundled_schemas() if schemas is None else schemas)
    message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
    return types.GetPromptResult(description=spec.description, messages=[message])
