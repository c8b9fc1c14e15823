"""The committed TM Forum contract (contracts/tmf/served/) is the official specs cut down to what the app routes:
generated from contracts.tmf_served.SERVED, and that list is the app's TMF routes, no more and no fewer."""

from __future__ import annotations

import json
import re

import pytest

from contracts.tmf_served import (
    ADDED_RESPONSES,
    EXTENSIONS,
    OPERATION_RESPONSES,
    SERVED,
    SPECS,
    TMF_DIR,
    render,
    served_path,
    served_spec,
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_the_committed_served_contract_is_the_generated_one(spec_name):
    assert served_path(spec_name).read_text(encoding="utf-8") == render(served_spec(spec_name)), (
        f"{served_path(spec_name)} is out of date: run `python -m contracts.tmf_served` and review the diff"
    )


@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_the_served_operations_are_the_official_ones_with_the_responses_the_gateway_adds(spec_name):
    official = json.loads((TMF_DIR / SPECS[spec_name].file).read_text(encoding="utf-8"))
    served = served_spec(spec_name)
    assert served["basePath"] == SPECS[spec_name].base_path
    for path, item in served["paths"].items():
        for method, operation in item.items():
            published = official["paths"][path][method]
            added = dict(operation["responses"])
            for status, response in published["responses"].items():
                assert added.pop(status) == response  # every official response, as published
            assert {**operation, "responses": published["responses"]} == published
            own = OPERATION_RESPONSES.get((spec_name, path, method), {})
            expected = set(ADDED_RESPONSES) | set(own) | ({"206"} if "206" in added else set())
            assert set(added) == expected
            for status in (*ADDED_RESPONSES, *own):
                assert added[status]["schema"] == {"$ref": "#/definitions/Error"}
            if "206" in added:  # a collection's partial page: the 200's body and count headers
                assert published["responses"]["200"]["schema"]["type"] == "array"
                assert {**added["206"], "description": ""} == {**published["responses"]["200"], "description": ""}
    for name, definition in served["definitions"].items():
        assert definition == official["definitions"][name]
    assert served["info"] == official["info"]


def test_an_operation_the_official_spec_lacks_cannot_be_listed_as_served(monkeypatch):
    monkeypatch.setattr("contracts.tmf_served.SERVED", [*SERVED, ("TMF637", "/product/{id}", ("put",))])
    with pytest.raises(ValueError, match=re.escape("TMF637 has no PUT /product/{id}")):
        served_spec("TMF637")


def _normalised(path: str) -> str:
    """A path with its parameters unnamed: /product/<id> and /product/{id} alike read /product/{}."""
    return re.sub(r"<(?:\w+:)?\w+>|\{\w+\}", "{}", path)


def _operations_listed() -> set[tuple[str, str, str]]:
    listed = {(name, _normalised(path), method.upper()) for name, path, methods in SERVED for method in methods}
    for name, path, methods, _why in EXTENSIONS:
        listed |= {(name, _normalised(path), method.upper()) for method in methods}
    return listed


def test_every_tmf_route_is_listed_and_every_listed_operation_is_routed(app):
    routed = set()
    for rule in app.url_map.iter_rules():
        for name, tmf in SPECS.items():
            if rule.rule.startswith(tmf.base_path + "/"):
                path = _normalised(rule.rule.removeprefix(tmf.base_path))
                routed |= {(name, path, method) for method in rule.methods - IGNORED_METHODS}
    listed = _operations_listed()
    assert routed - listed == set(), "routed on a TMF API but not in contracts.tmf_served (SERVED or EXTENSIONS)"
    assert listed - routed == set(), "listed in contracts.tmf_served but the app does not route it"
