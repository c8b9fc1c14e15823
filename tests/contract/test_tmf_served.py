"""The committed TM Forum contract (contracts/tmf/served/) is the official specs cut down to what the app routes:
generated from contracts.tmf_served.SERVED and EXTENSIONS, and those lists are the app's TMF routes, no more and no
fewer. The official operations are as published but for exactly the documented additions (responses the gateway
gives, the filters its collections take), and those filters are the ones the views read."""

from __future__ import annotations

import json
import re

import pytest

from contracts.tmf_served import (
    ADDED_RESPONSES,
    EXTENSIONS,
    OPERATION_RESPONSES,
    POST_RESPONSES,
    QUERY_FILTERS,
    SERVED,
    SPECS,
    TMF_DIR,
    render,
    served_path,
    served_spec,
)
from gateway.api.tmf.inventory import PRODUCT_QUERY
from gateway.api.tmf.ordering import ORDER_QUERY
from gateway.api.tmf.query import FIELDS, LIMIT, OFFSET

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
    extensions = {(path, method) for name, path, methods, _ in EXTENSIONS if name == spec_name for method in methods}
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if (path, method) in extensions:
                assert operation.pop("x-gateway-extension") is True
                assert method not in official["paths"].get(path, {})
                published = {**operation, "responses": {**operation["responses"]}}
                for status in ADDED_RESPONSES:
                    del published["responses"][status]
            else:
                published = official["paths"][path][method]
            added = dict(operation["responses"])
            for status, response in published["responses"].items():
                assert added.pop(status) == response  # every official response, as published
            filters = QUERY_FILTERS.get((spec_name, path, method), [])
            parameters = operation.get("parameters", [])
            assert parameters[len(parameters) - len(filters) :] == filters  # the filters, after the official ones
            official_parameters = parameters[: len(parameters) - len(filters)]
            assert {**operation, "responses": published["responses"], "parameters": official_parameters} == published
            own = {
                **(POST_RESPONSES if method == "post" else {}),
                **OPERATION_RESPONSES.get((spec_name, path, method), {}),
            }
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


@pytest.mark.parametrize(
    ("spec_name", "path", "collection"),
    [("TMF637", "/product", PRODUCT_QUERY), ("TMF622", "/productOrder", ORDER_QUERY)],
)
def test_the_documented_filters_are_the_ones_the_collection_reads(spec_name, path, collection):
    parameters = served_spec(spec_name)["paths"][path]["get"]["parameters"]
    filters = {parameter["name"] for parameter in QUERY_FILTERS[spec_name, path, "get"]}
    assert filters == collection.parameter_names() - {FIELDS, OFFSET, LIMIT}
    assert {parameter["name"] for parameter in parameters} == collection.parameter_names()
    for parameter in QUERY_FILTERS[spec_name, path, "get"]:
        choices = collection.filters.get(parameter["name"])
        if choices is not None and choices.choices:
            assert set(parameter["items"]["enum"]) == choices.choices, parameter["name"]


def test_every_extension_is_documented_as_one():
    for name, path, methods, _why in EXTENSIONS:
        for method in methods:
            operation = served_spec(name)["paths"][path][method]
            assert operation["x-gateway-extension"] is True
            assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/EventSubscription"}


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
