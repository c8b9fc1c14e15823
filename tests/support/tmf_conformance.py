"""Validating what the gateway's TM Forum face answers and emits against the official specs' `definitions`
(contracts/tmf/, Swagger 2.0 as TM Forum publishes them).

Objects are closed before compiling (strict): the specs leave them open, but a key the definition does not
name — `timeOccurred` for the spec's `timeOcurred`, a gateway field leaking into a Product — should fail a
test here rather than surprise a partner's validator. Formats (date-time, uri) are checked. Validators are
compiled once per process.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SPECS = Path(__file__).resolve().parents[2] / "contracts" / "tmf"
SPEC_FILES = {
    "TMF637": "TMF637-ProductInventory-v4.0.0.swagger.json",
    "TMF622": "TMF622-ProductOrdering-v4.0.0.swagger.json",
}


@cache
def spec(name: str) -> dict[str, Any]:
    """The official spec, as loaded from contracts/tmf/ (`name`: TMF637 or TMF622)."""
    return json.loads((SPECS / SPEC_FILES[name]).read_text(encoding="utf-8"))


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: (value if key == "properties" else _closed(value)) for key, value in node.items()}
    if "properties" in node:
        result["properties"] = {key: _closed(value) for key, value in node["properties"].items()}
        if result.get("additionalProperties", True) is True:
            result["additionalProperties"] = False
    return result


@cache
def _validator(spec_name: str, definition: str, strict: bool):
    definitions = copy.deepcopy(spec(spec_name)["definitions"])
    if definition not in definitions:
        raise KeyError(f"{spec_name} defines no {definition!r}")
    if strict:
        definitions = {name: _closed(schema) for name, schema in definitions.items()}
    schema = {"definitions": definitions, "$ref": f"#/definitions/{definition}"}
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True)


def violations(body: Any, definition: str, *, spec_name: str = "TMF637", strict: bool = True) -> list[str]:
    """What in `body` does not conform to `definition` of the spec (empty when it conforms)."""
    return [
        f"{'/'.join(str(part) for part in error.instance_path) or '<root>'}: {error.message}"
        for error in _validator(spec_name, definition, strict).iter_errors(body)
    ]


def assert_conforms(body: Any, definition: str, *, spec_name: str = "TMF637", strict: bool = True) -> None:
    """Fail with every violation when `body` is not a conforming `definition` of the spec."""
    found = violations(body, definition, spec_name=spec_name, strict=strict)
    assert not found, f"not a conforming {spec_name} {definition}:\n" + "\n".join(found)


def assert_all_conform(bodies: list[Mapping[str, Any]], definition: str, **options: Any) -> None:
    for body in bodies:
        assert_conforms(body, definition, **options)
