"""The filter table: methods, tags and tools combine with AND; unknown names and empty selections fail."""

from __future__ import annotations

import pytest

from learnworlds_mcp.errors import SelectionError
from learnworlds_mcp.filters import Selection, select, split_list


def names(operations, **kwargs):
    return {op.name for op in select(operations, Selection(**{k: split_list(v) for k, v in kwargs.items()}))}


def test_no_filter_keeps_every_tool(operations):
    assert len(names(operations)) == len(operations)


@pytest.mark.parametrize("methods, predicate", [
    ("read", lambda op: op.method == "GET"),
    ("write", lambda op: op.method != "GET"),
    ("list", lambda op: op.kind == "list"),
    ("get", lambda op: op.kind == "get"),
    ("create", lambda op: op.kind == "create"),
    ("update", lambda op: op.kind == "update"),
    ("delete", lambda op: op.kind == "delete"),
    ("custom", lambda op: op.kind == "custom"),
    ("list,create", lambda op: op.kind in ("list", "create")),
    ("read, delete", lambda op: op.method == "GET" or op.kind == "delete"),
])
def test_methods(operations, methods, predicate):
    assert names(operations, methods=methods) == {op.name for op in operations if predicate(op)}


def test_tags_are_alternatives_and_combine_with_methods(operations):
    chosen = names(operations, methods="read", tags="users,groups")
    expected = {op.name for op in operations if op.method == "GET" and {"users", "groups"} & set(op.tags)}
    assert chosen == expected and "list_all_learn_worlds_users" in chosen
    assert "create_a_learn_worlds_user" not in chosen


def test_tools_allow_list_and_exclude(operations):
    assert names(operations, tools="list_all_learn_worlds_users,list_all_learn_worlds_roles",
                 exclude_tools="list_all_learn_worlds_roles") == {"list_all_learn_worlds_users"}


def test_commerce_tag_keeps_billing_only(operations):
    chosen = select(operations, Selection(tags=("commerce",)))
    assert chosen and all("commerce" in op.tags for op in chosen)
    assert "list_all_learn_worlds_payments" in {op.name for op in chosen}


@pytest.mark.parametrize("kwargs, fragment", [
    ({"methods": "reed"}, "unknown method 'reed'; valid methods: create, custom, delete, get, list, read, update, write"),
    ({"tags": "billing"}, "unknown tag 'billing'; valid tags: "),
    ({"tools": "list_users"}, "unknown tool 'list_users'"),
    ({"exclude_tools": "nope"}, "unknown tool 'nope'"),
])
def test_unknown_values_list_the_valid_ones(operations, kwargs, fragment):
    with pytest.raises(SelectionError) as info:
        names(operations, **kwargs)
    assert fragment in str(info.value)


def test_a_selection_that_leaves_nothing_reports_counts(operations):
    with pytest.raises(SelectionError) as info:
        names(operations, methods="delete", tags="roles")
    message = str(info.value)
    assert "leave no tool" in message and "Tools per method: read" in message and "roles " in message


def test_split_list_accepts_repeats_and_spaces():
    assert split_list(["a, b", "c,,"]) == ("a", "b", "c")
    assert split_list(None) == ()
