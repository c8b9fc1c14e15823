"""The committed contract is what the code serves, and it says what partners need to know."""

from __future__ import annotations

import json

from contracts.export import COMMITTED_SPEC, generated_spec, render

AUDIENCE_TAGS = {"partner", "callcenter", "service", "admin"}


def test_committed_spec_matches_the_code():
    committed = COMMITTED_SPEC.read_text(encoding="utf-8")
    assert render(generated_spec()) == committed, (
        "contracts/openapi.json is out of date: run `make spec` and review the diff"
    )


def test_the_served_document_is_the_committed_one(client):
    assert client.get("/openapi.json").json == json.loads(COMMITTED_SPEC.read_text(encoding="utf-8"))


def test_spec_is_openapi_3_1_with_a_bearer_scheme():
    spec = generated_spec()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A gateway API key: gw_<prefix>_<secret>.",
    }


def test_every_operation_has_an_audience_tag_a_summary_a_scope_and_problem_errors():
    spec = generated_spec()
    errors = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(errors) == ["application/problem+json"]
    seen_tags = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            label = f"{method.upper()} {path}"
            [tag] = operation["tags"]
            seen_tags.add(tag)
            assert operation.get("summary"), f"{label} needs a docstring"
            assert operation["security"][0]["bearerAuth"], f"{label} names no scope"
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}
    assert seen_tags == AUDIENCE_TAGS


def test_docs_ui_is_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.get_data(as_text=True)
