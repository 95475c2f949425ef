"""Derive the contract-test fixture from the official LearnWorlds OpenAPI export, prose removed.

    pip install pyyaml                       # only this script needs it
    python scripts/derive_fixture.py PATH/learnworlds-openapi-v2-2025.yaml [--out FILE]

The fixture keeps what a mock server and a schema check need: paths, operations, parameters,
schemas, names, types, formats, enums, `$ref`s and example values. It drops every prose field
(description, summary, editor metadata, titles that are not plain names), and an example string
that reads like a sentence becomes a neutral placeholder, so the project carries no copied text.
The output is compact JSON with sorted keys: a new export shows up in review as a small diff.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "learnworlds-openapi-v2-2025.min.json"

# Keys whose value is prose (or editor metadata) wherever the OpenAPI or JSON Schema grammar puts them.
PROSE_KEYS = frozenset({"description", "summary", "externalDocs", "x-stoplight", "x-sl-error-message",
                        "termsOfService", "contact"})
# Keys whose value maps free names (field names, paths, status codes, media types) to grammar objects.
NAMED_MAPS = frozenset({"paths", "properties", "patternProperties", "schemas", "content",
                        "headers", "securitySchemes", "requestBodies", "$defs", "definitions", "callbacks",
                        "links", "encoding", "variables", "dependentSchemas"})
# Keys whose value is data (what a school would send or receive): kept as is, strings screened.
DATA_KEYS = frozenset({"example", "default", "value", "x-examples"})
# Keys whose value is a closed set of allowed values: kept verbatim.
VERBATIM_KEYS = frozenset({"enum", "const"})
# A schema title is kept only when it is a name ("UserResponse"), not words.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
PLACEHOLDER = "placeholder text"
# Six or more words, a sentence ending in . ? or ! after three words, or markup: prose, not a value.
SENTENCE = re.compile(r"\S+\s+\S+\s+\S+.*[.?!]$", re.S)
MARKUP = re.compile(r"<[a-zA-Z/][^>]*>")


def reads_as_prose(text: str) -> bool:
    """True when an example string is a sentence or longer text rather than a name, id or label."""
    return len(text.split()) >= 6 or bool(SENTENCE.match(text.strip())) or bool(MARKUP.search(text))


def data(value: Any) -> Any:
    """An example value with its structure, keys and types kept and prose strings replaced."""
    if isinstance(value, dict):
        return {key: data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [data(item) for item in value]
    if isinstance(value, str) and reads_as_prose(value):
        return PLACEHOLDER
    return value


def node(value: Any) -> Any:
    """A grammar object (document, operation, parameter, schema, ...) with its prose fields removed."""
    if isinstance(value, list):
        return [node(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in PROSE_KEYS:
            continue
        if key == "title" and not (isinstance(item, str) and NAME.match(item)):
            continue
        if key in VERBATIM_KEYS:
            out[key] = item
        elif key in DATA_KEYS:
            out[key] = data(item)
        elif key == "examples":
            # Under a media type or parameter: named Example objects; under a schema (3.1): a list of values.
            out[key] = data(item) if isinstance(item, list) else {n: node(e) for n, e in item.items()}
        elif key == "responses" and isinstance(item, dict):
            out[key] = {code: response(child) for code, child in item.items()}
        elif key in NAMED_MAPS and isinstance(item, dict):
            out[key] = {name: node(child) for name, child in item.items()}
        elif key == "parameters" and isinstance(item, dict):  # components.parameters: named too
            out[key] = {name: node(child) for name, child in item.items()}
        else:
            out[key] = node(item)
    return out


def response(value: Any) -> Any:
    """A Response object: OpenAPI requires its `description`, so an empty one stands in for the prose."""
    out = node(value)
    if isinstance(out, dict) and "$ref" not in out:
        out["description"] = ""
    return out


def derive(spec: dict[str, Any]) -> dict[str, Any]:
    """The fixture for one parsed export."""
    fixture = node(spec)
    # OpenAPI requires info.title and info.version; keep the version, name the origin neutrally.
    fixture["info"] = {"title": "LearnWorlds API v2 test fixture", "version": str(spec["info"]["version"])}
    return fixture


def render(fixture: dict[str, Any]) -> str:
    return json.dumps(fixture, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the official OpenAPI export (YAML or JSON)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default {DEFAULT_OUT})")
    options = parser.parse_args(argv)
    text = options.export.read_text(encoding="utf-8")
    if options.export.suffix == ".json":
        spec = json.loads(text)
    else:
        try:
            import yaml
        except ImportError:
            print("derive_fixture: reading YAML needs PyYAML: pip install pyyaml", file=sys.stderr)
            return 2
        spec = yaml.safe_load(text)
    out = render(derive(spec))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(out, encoding="utf-8")
    print(f"wrote {options.out} ({len(out.encode()):,} bytes, {len(spec.get('paths', {}))} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
