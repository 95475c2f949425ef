"""The bundled operation files, the naming rule, the derived tool definitions and their snapshot."""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from learnworlds_mcp import registry
from learnworlds_mcp.errors import RegistryError

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"


def test_every_bundled_file_validates_against_our_meta_schema():
    meta = json.loads((resources.files("learnworlds_mcp") / "meta_schema.json").read_text())
    files = registry.bundled_files()
    assert len(files) >= 3
    for name, text in files.items():
        jsonschema.validate(json.loads(text), meta)


def test_meta_schema_rejects_an_operation_without_a_kind():
    meta = json.loads((resources.files("learnworlds_mcp") / "meta_schema.json").read_text())
    broken = {"area": "directory", "resource": "users", "operations": [
        {"noun": "users", "action": "x", "method": "GET", "path": "/v2/users", "title": "List", "description": "x" * 30,
         "params": {}, "response": {}}]}
    with pytest.raises(jsonschema.ValidationError, match="kind"):
        jsonschema.validate(broken, meta)


@pytest.mark.parametrize("name, method, path", [
    ("list_all_learn_worlds_users", "GET", "/v2/users"),
    ("get_single_learn_worlds_user_by_id", "GET", "/v2/users/{id}"),
    ("list_all_learn_worlds_roles", "GET", "/v2/user-roles"),
    ("list_all_learn_worlds_groups", "GET", "/v2/user_groups"),
    ("get_single_learn_worlds_group_by_id", "GET", "/v2/user_groups/{id}"),
    ("create_a_learn_worlds_user", "POST", "/v2/users"),
    ("update_a_learn_worlds_user_by_id", "PUT", "/v2/users/{id}"),
    ("learn_worlds_users_suspend", "PUT", "/v2/users/{id}/suspend"),
])
def test_required_tool_names(operations, name, method, path):
    by_name = {op.name: op for op in operations}
    assert (by_name[name].method, by_name[name].path) == (method, path)


def test_names_follow_the_rule_and_by_id_tools_take_id(operations):
    names = [op.name for op in operations]
    assert len(names) == len(set(names))
    for op in operations:
        assert re.fullmatch(r"[a-z0-9_]{1,64}", op.name)
        if op.name.endswith("_by_id"):
            assert "id" in op.input_schema["properties"], op.name
            assert "id" in op.input_schema.get("required", []), op.name


def _walk(schema, path="$"):
    yield path, schema
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _walk(value, f"{path}[{i}]")


def test_input_schemas_suit_every_major_client(operations):
    allowed_formats = {"date-time", "date", "email", "uri"}
    for op in operations:
        schema = op.input_schema
        assert schema["type"] == "object" and "anyOf" not in schema and "oneOf" not in schema, op.name
        for where, node in _walk(schema):
            if isinstance(node, dict):
                assert "$ref" not in node, f"{op.name} {where}"
                if node.get("type") == "array" or "array" in (node.get("type") or []):
                    assert "items" in node, f"{op.name} {where} array without items"
                if "format" in node and isinstance(node["format"], str):
                    assert node["format"] in allowed_formats, f"{op.name} {where}"


def test_every_argument_description_says_where_it_goes(operations):
    for op in operations:
        for name, prop in op.input_schema["properties"].items():
            if (op.paging and name in ("limit", "next_cursor")) or (op.shapeable and name == "fields"):
                continue
            assert prop["description"].split(":")[0] in ("path", "query", "body"), (op.name, name)


def test_annotations_follow_the_http_method(operations):
    for op in operations:
        hints = op.annotations()
        assert hints["readOnlyHint"] is (op.method == "GET")
        if op.method != "GET":
            assert isinstance(hints["destructiveHint"], bool)
        if op.method == "DELETE":
            assert hints["destructiveHint"] is True, op.name
    by_name = {op.name: op for op in operations}
    assert by_name["create_a_learn_worlds_user"].annotations()["destructiveHint"] is False


def _file(*operations, area="directory", resource="things"):
    return {"x.json": json.dumps({"area": area, "resource": resource, "operations": list(operations)})}


def _op(**overrides):
    op = {"kind": "get", "noun": "thing", "method": "GET", "path": "/v2/things/{id}", "title": "Thing",
          "description": "Fetch one thing by its id.", "response": {"type": "object"},
          "params": {"path": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}}
    op.update(overrides)
    return op


@pytest.mark.parametrize("change, named", [
    ({"description": None}, "'description' must be a non-empty string"),
    ({"description": ""}, "'description' must be a non-empty string"),
    ({"params": None}, "'params' must be an object"),
    ({"response": []}, "'response' must be an object"),
    ({"kind": 3}, "'kind' must be a non-empty string"),
])
def test_an_operation_missing_a_key_is_a_load_error_not_dropped(change, named):
    broken = {k: v for k, v in dict(_op(), **change).items() if v is not None}
    with pytest.raises(RegistryError, match=f"x.json GET /v2/things/{{id}}: {re.escape(named)}"):
        registry.parse_files(_file(_op(noun="other", path="/v2/other/{id}"), broken))


def test_a_file_without_an_operations_list_is_a_load_error():
    with pytest.raises(RegistryError, match="x.json: a file must be an object with an 'operations' list"):
        registry.parse_files({"x.json": json.dumps({"area": "directory", "resource": "x"})})


def test_a_name_collision_between_locations_fails_at_load_time():
    params = {"path": {"type": "object", "properties": {"id": {"type": "string"}}},
              "body": {"type": "object", "properties": {"id": {"type": "string"}}}}
    with pytest.raises(RegistryError, match="'id' is in both path and body"):
        registry.parse_files(_file(_op(params=params)))


def test_duplicate_tool_names_fail_at_load_time():
    with pytest.raises(RegistryError, match="duplicate tool name"):
        registry.parse_files(_file(_op(), _op(path="/v2/other/{id}")))


def test_placeholders_must_match_path_params():
    with pytest.raises(RegistryError, match="placeholders"):
        registry.parse_files(_file(_op(path="/v2/things/{thing_id}")))


def test_adding_an_endpoint_is_a_data_change():
    ops = registry.parse_files(_file(_op(), _op(kind="custom", noun="things", action="archive", method="PUT",
                                             path="/v2/things/{id}/archive")))
    assert [op.name for op in ops] == ["get_single_learn_worlds_thing_by_id", "learn_worlds_things_archive"]
    assert ops[1].annotations()["idempotentHint"] is True


def test_output_schema_accepts_nulls_and_fractional_seconds(operations):
    by_name = {op.name: op for op in operations}
    schema = by_name["list_all_learn_worlds_users"].output_schema
    sample = {"result": [{"id": "x", "email": None, "created": 1587639230.083278, "last_login": None,
                          "unknown_new_field": {"a": 1}}], "next_cursor": None, "total": 1}
    jsonschema.validate(sample, schema)


def snapshot_text(operations) -> str:
    current = [dict(op.tool(), http_method=op.method, path=op.path, kind=op.kind, tags=list(op.tags))
               for op in operations]
    return json.dumps(current, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def check_snapshot(path: Path, text: str) -> None:
    """Fail unless `path` holds `text`; with UPDATE_SNAPSHOTS=1 set, write it first (the reviewed change)."""
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path.name} is missing: run `UPDATE_SNAPSHOTS=1 python -m pytest {__file__}` and commit it")
    assert path.read_text(encoding="utf-8") == text, "tool definitions changed: review, then UPDATE_SNAPSHOTS=1"


def test_snapshot_of_every_tool_the_model_sees(operations):
    """Every change to what the model sees shows up in review; UPDATE_SNAPSHOTS=1 rewrites it."""
    check_snapshot(SNAPSHOT, snapshot_text(operations))


def test_a_missing_snapshot_fails_and_is_not_written(tmp_path, monkeypatch, operations):
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    missing = tmp_path / "tools.json"
    with pytest.raises(pytest.fail.Exception, match="tools.json is missing: run `UPDATE_SNAPSHOTS=1"):
        check_snapshot(missing, snapshot_text(operations))
    assert not missing.exists()
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    check_snapshot(missing, snapshot_text(operations))
    assert missing.read_text(encoding="utf-8") == snapshot_text(operations)


def test_meta_schema_checks_the_member_text_mark():
    meta = json.loads((resources.files("learnworlds_mcp") / "meta_schema.json").read_text())
    data = json.loads((resources.files("learnworlds_mcp") / "schemas" / "community.json").read_text())
    post = next(op for op in data["operations"] if op["path"] == "/v2/community/posts/{id}")
    post["response"]["properties"]["text"]["x-member-text"] = "yes"
    errors = list(jsonschema.Draft202012Validator(meta).iter_errors(data))
    assert errors and "x-member-text" in str(errors[0].absolute_path)
