"""Prompts: listing, rendering from arguments and tool schemas, argument errors, missing tools, MCP round trip."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp import Client
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from learnworlds_mcp import prompts, registry
from learnworlds_mcp.errors import LearnWorldsMCPError
from learnworlds_mcp.prompts import PromptError, list_prompts, render

ALL = {op.name for op in registry.load()}
USERS = "list_all_learn_worlds_users"
ROLES = "list_all_learn_worlds_roles"
GROUPS = "list_all_learn_worlds_groups"
USER = "get_single_learn_worlds_user_by_id"


def text_of(result: types.GetPromptResult) -> str:
    assert len(result.messages) == 1 and result.messages[0].role == "user"
    return result.messages[0].content.text


def schemas(**changes):
    """The bundled input schemas, with some tools' properties replaced."""
    out = {op.name: op.input_schema for op in registry.load()}
    for tool, properties in changes.items():
        out[tool] = {"type": "object", "properties": properties}
    return out


def test_every_needed_tool_exists_in_the_registry():
    for spec in prompts.PROMPTS:
        assert set(spec.tools) <= ALL, spec.name


def test_both_prompts_are_listed_with_their_optional_arguments():
    listed = {p.name: p for p in list_prompts(ALL)}
    assert set(listed) == {"audit_inactive_staff", "cohort_report"}
    assert [a.name for a in listed["audit_inactive_staff"].arguments] == ["since", "roles"]
    assert [a.name for a in listed["cohort_report"].arguments] == ["group_title_contains"]
    assert all(a.required is False for p in listed.values() for a in p.arguments)
    assert all(p.title and "Not usable" not in p.description for p in listed.values())


def test_a_prompt_missing_a_tool_is_still_listed_and_says_so():
    listed = {p.name: p for p in list_prompts(ALL - {ROLES})}
    assert ROLES in listed["audit_inactive_staff"].description
    assert "Not usable" not in listed["cohort_report"].description


def test_audit_defaults_walk_roles_then_each_staff_level():
    text = text_of(render("audit_inactive_staff", None, ALL))
    assert "1704067200" in text and "2024-01-01" in text
    assert text.index(ROLES) < text.index(USERS)
    assert 'role="admin"' in text and 'role="instructor"' in text
    assert "limit=200" in text and "next_cursor is null" in text
    assert "| Name" not in text and "Name, Email, Role, Last login" in text


@pytest.mark.parametrize("since, seconds", [("2024-01-01", 1704067200), ("2023-06-15", 1686787200),
                                            ("2024-02-29", 1709164800)])
def test_since_becomes_unix_seconds_at_midnight_utc(since, seconds):
    assert str(seconds) in text_of(render("audit_inactive_staff", {"since": since}, ALL))


def test_blank_arguments_fall_back_to_the_defaults():
    assert text_of(render("audit_inactive_staff", {"since": " ", "roles": ""}, ALL)) == \
        text_of(render("audit_inactive_staff", {}, ALL))


def test_a_level_the_users_filter_lacks_means_one_walk_over_every_user():
    text = text_of(render("audit_inactive_staff", {"roles": "admin, seat_manager"}, ALL))
    assert "role=" not in text and "Collect every user" in text
    assert "admin, seat_manager" in text


@pytest.mark.parametrize("properties, expected", [
    ({"limit": {"type": "integer", "maximum": 200}, "next_cursor": {"type": "string"}}, None),
    ({"fields": {"type": "string"}}, 'fields="email,first_name,last_name,username,role,last_login"'),
    ({"fields": {"type": "array", "items": {"type": "string"}}}, 'fields=["email",'),
])
def test_fields_is_named_only_when_the_users_tool_takes_it(properties, expected):
    text = text_of(render("audit_inactive_staff", None, ALL, schemas(**{USERS: properties})))
    if expected is None:
        assert "fields=" not in text
    else:
        assert expected in text


def test_cohort_report_pages_groups_and_looks_up_each_manager_once():
    text = text_of(render("cohort_report", None, ALL))
    assert text.index(GROUPS) < text.index(USER)
    assert "enroll_users_on_courses is true" in text and "title contains" not in text
    assert "once per distinct manager" in text and "nps_score" in text and "is_instructor" in text
    assert "Group, Manager email, NPS score, Instructor" in text


def test_cohort_report_filters_on_the_title_text():
    text = text_of(render("cohort_report", {"group_title_contains": "Acme \"B\""}, ALL))
    assert 'title contains "Acme \\"B\\"" (ignore case)' in text


@pytest.mark.parametrize("since", ["2024-13-01", "2024-02-30", "01/02/2024", "2024-1-1", "20240101", "soon"])
def test_a_bad_since_names_the_argument_and_the_form(since):
    with pytest.raises(PromptError, match=r"'since'.*yyyy-mm-dd"):
        render("audit_inactive_staff", {"since": since}, ALL)


def test_a_bad_level_lists_the_valid_ones():
    with pytest.raises(PromptError, match=r"'roles'.*admin, instructor, reporter"):
        render("audit_inactive_staff", {"roles": "admin,owner"}, ALL)


@pytest.mark.parametrize("name, arguments, match", [
    ("monthly_report", None, r"Unknown prompt 'monthly_report'.*audit_inactive_staff, cohort_report"),
    ("cohort_report", {"title": "x"}, r"no argument 'title'.*group_title_contains"),
])
def test_unknown_names_are_prompt_errors(name, arguments, match):
    with pytest.raises(PromptError, match=match) as caught:
        render(name, arguments, ALL)
    assert isinstance(caught.value, LearnWorldsMCPError)


def test_missing_tools_give_one_message_naming_them_and_the_flags():
    result = render("cohort_report", None, ALL - {USER, GROUPS})
    text = text_of(result)
    assert f"{GROUPS}, {USER}" in text and "Do not try the job" in text
    assert "--exclude-tools" in text and "--tools" in text
    assert "--tags / LEARNWORLDS_TAGS: if it is set, include directory." in text
    assert "--methods / LEARNWORLDS_METHODS: if it is set, include read" in text
    assert "nps_score" not in text


def test_arguments_are_checked_even_when_tools_are_missing():
    with pytest.raises(PromptError, match="since"):
        render("audit_inactive_staff", {"since": "1.1.2024"}, set())


def prompt_server(available: set[str]) -> Server:
    async def on_list_prompts(ctx, params) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=list_prompts(available))

    async def on_get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        try:
            return render(params.name, params.arguments, available)
        except PromptError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from exc

    return Server("t", on_list_prompts=on_list_prompts, on_get_prompt=on_get_prompt)


@pytest.mark.anyio
async def test_prompts_round_trip_through_the_sdk_client():
    async with Client(prompt_server(ALL)) as client:
        listed = await client.list_prompts()
        result = await client.get_prompt("audit_inactive_staff", {"since": "2024-01-01"})
        with pytest.raises(MCPError, match="since"):
            await client.get_prompt("audit_inactive_staff", {"since": "last year"})
    assert {p.name for p in listed.prompts} == {"audit_inactive_staff", "cohort_report"}
    assert "1704067200" in result.messages[0].content.text


QUERY = prompts.QUERY_TOOL


@pytest.mark.parametrize("name, arguments, table", [
    ("audit_inactive_staff", None, "FROM users"),
    ("cohort_report", {"group_title_contains": "sales"}, "FROM groups AS g"),
])
def test_with_the_query_tool_each_prompt_is_one_sql_call(name, arguments, table):
    text = text_of(render(name, arguments, ALL | {QUERY}))
    assert f"Call {QUERY} once" in text and "```sql" in text and table in text
    assert "next_cursor" not in text and USER not in text and "list_all_" not in text


def test_the_query_plan_needs_the_list_tools_behind_its_tables():
    without_users = ALL - {USERS} | {QUERY}
    cohort = text_of(render("cohort_report", None, without_users))
    assert QUERY not in cohort and f"Call {USER} once per distinct manager" in cohort
    assert "cannot run" in text_of(render("audit_inactive_staff", None, without_users))
    assert "Not usable" not in {p.name: p for p in list_prompts({QUERY, USERS, GROUPS})}["cohort_report"].description


def test_the_list_tool_plans_read_suspended_accounts():
    cohort = text_of(render("cohort_report", None, ALL))
    assert "include_suspended=true" in cohort and "is_suspended" in cohort
    audit = text_of(render("audit_inactive_staff", None, ALL))
    assert audit.count("include_suspended=true") == 2  # one walk per access level


def test_argument_text_stays_an_sql_literal():
    text = text_of(render("cohort_report", {"group_title_contains": "x') OR 1=1 --"}, ALL | {QUERY}))
    assert "lower('x'') OR 1=1 --')" in text


@pytest.mark.parametrize("roles, levels, names", [
    ("admin,instructor", ("admin", "instructor"), ()),
    ("Admin, seat_manager", ("seat_manager",), ("Admin",)),  # a role's name is that role, not its level
    ("team LEAD", (), ("Team lead",)),
    ("Reporter,reporter", ("reporter",), ("Reporter",)),
])
def test_roles_split_into_levels_and_the_schools_role_names(roles, levels, names):
    given = prompts._roles(roles)
    resolved = prompts.resolve_roles(given, ["Admin", "Team lead", "Reporter"])
    assert (resolved.levels, resolved.names) == (levels, names)


def test_role_names_reach_the_sql_and_the_list_walk():
    asked = text_of(render("audit_inactive_staff", {"roles": "Team lead"}, ALL | {QUERY}, role_titles=["Team lead"]))
    assert "lower(json_extract(role, '$.name')) IN ('team lead')" in asked and "$.level" not in asked
    walked = text_of(render("audit_inactive_staff", {"roles": "Team lead"}, ALL, role_titles=["Team lead"]))
    assert "Collect every user" in walked and "role.name is one of Team lead" in walked
