"""The TM Forum contract the gateway serves: the official specs (contracts/tmf/) cut down to the operations it
implements, one Swagger 2.0 document per API, committed under contracts/tmf/served/ and held to this list by
tests/contract/test_tmf_served.py. `python -m contracts.tmf_served` rewrites them.

Each document is the official one with only these changes: `paths` keeps the operations listed below,
`definitions` keeps what they reach, `basePath` is where the gateway serves the API, and `host` is left out (the
host serving the document; the specs say "serverRoot"). Each operation is as published plus the responses the
official documents omit although the gateway gives them (ADDED_RESPONSES): 206 for a page of a collection that is
not the whole result (TMF630 asks for it; same body and headers as the 200), 429 when the partner's request budget
is spent and 503 while the store is out of reach (both TMF Errors, with Retry-After); and an operation's own
(OPERATION_RESPONSES): 404 for a POST whose body names a product or order the partner does not have; and every
POST's 413 (a body over the size limit) and 415 (a body not sent as JSON), TMF Errors from the gateway's guards.

Beyond the official operations, the documents declare what the gateway adds to them: the TMF630 filters its
collections take (QUERY_FILTERS; the official documents declare only fields, offset and limit), and the operations
the specs lack (EXTENSIONS, each built by EXTENSION_OPERATIONS and marked `x-gateway-extension`).
tests/contract/test_tmf_served.py holds the documents to exactly these additions.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, NamedTuple

from gateway.domain import partner_refs
from gateway.domain.plans import PLANS
from gateway.domain.product_orders import ORDER_STATE_TYPES
from gateway.domain.tmf_products import PRODUCT_STATUS_TYPES

TMF_DIR = Path(__file__).with_name("tmf")
SERVED_DIR = TMF_DIR / "served"


class TmfSpec(NamedTuple):
    file: str  # the official document in contracts/tmf/
    base_path: str  # where the gateway serves it (gateway.api.tmf.blueprints)
    served_file: str  # the cut-down document in contracts/tmf/served/


SPECS = {
    "TMF637": TmfSpec(
        "TMF637-ProductInventory-v4.0.0.swagger.json", "/tmf-api/productInventory/v4", "TMF637-served.swagger.json"
    ),
    # The official basePath is /tmf-api/productOrderingManagement/v4; the gateway serves it as the issue and
    # operators name it, /tmf-api/productOrdering/v4.
    "TMF622": TmfSpec(
        "TMF622-ProductOrdering-v4.0.0.swagger.json", "/tmf-api/productOrdering/v4", "TMF622-served.swagger.json"
    ),
}

# (spec, path as the spec writes it, methods): the operations the gateway implements. One line per path; add
# yours here when a route of a TMF blueprint goes live (the test finds a route missing from this list, and a line
# naming an operation the app does not route).
SERVED: list[tuple[str, str, tuple[str, ...]]] = [
    ("TMF637", "/product", ("get",)),
    ("TMF637", "/product/{id}", ("get",)),
    ("TMF622", "/productOrder", ("get", "post")),
    ("TMF622", "/productOrder/{id}", ("get",)),
    ("TMF622", "/cancelProductOrder", ("post",)),
    ("TMF637", "/hub", ("post",)),
    ("TMF637", "/hub/{id}", ("delete",)),
    ("TMF622", "/hub", ("post",)),
    ("TMF622", "/hub/{id}", ("delete",)),
]

# Routes the gateway serves on a TMF API that its official spec does not describe, with why; the served documents
# describe them (EXTENSION_OPERATIONS builds each from the official document), marked `x-gateway-extension`, and
# the README lists them.
HUB_READ = "a registered listener read back (the v4 specs register and unregister a hub but have no GET for one)"
EXTENSIONS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("TMF637", "/hub/{id}", ("get",), HUB_READ),
    ("TMF622", "/hub/{id}", ("get",), HUB_READ),
]


ADDED_RESPONSES = {
    "429": {"description": "Too Many Requests: the partner's request budget is spent; retry after Retry-After"},
    "503": {"description": "Service Unavailable: the gateway's store is out of reach; retry after Retry-After"},
}
# (spec, path, method) -> status -> description: responses one operation gives beyond the official ones. A
# POST naming a product (an order item) or an order (a cancellation) the partner does not have answers 404, as a
# GET of it does: it is missing, not malformed.
OPERATION_RESPONSES: dict[tuple[str, str, str], dict[str, str]] = {
    ("TMF622", "/productOrder", "post"): {"404": "Not Found: an order item names a product the partner does not have"},
    ("TMF622", "/cancelProductOrder", "post"): {"404": "Not Found: no order of the partner's has this id"},
}
# Every POST's answers from the gateway's body guards (gateway/http/guards.py), as TMF Errors.
POST_RESPONSES = {
    "413": "Payload Too Large: the body exceeds the gateway's size limit",
    "415": "Unsupported Media Type: the body is not sent as application/json",
}
COMPARISONS = ("gt", "gte", "lt", "lte")


def _choices(name: str, values: Any, description: str) -> dict[str, Any]:
    # Several values comma-separated (TMF630): any of them matches.
    return {
        "name": name,
        "in": "query",
        "required": False,
        "type": "array",
        "items": {"type": "string", "enum": sorted(values)},
        "collectionFormat": "csv",
        "minItems": 1,
        "description": description + "; several comma-separated match any of them",
    }


def _text(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "type": "string", "description": description}


def _moments(attribute: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{attribute}.{operator}",
            "in": "query",
            "required": False,
            "type": "string",
            "format": "date-time",
            "description": f"Products whose {attribute} is {operator} this moment (a date alone is its midnight UTC)",
        }
        for operator in COMPARISONS
    ]


# (spec, path, method) -> the TMF630 filters the gateway's collection takes (gateway/api/tmf/inventory.py and
# ordering.py; tests/contract/test_tmf_served.py holds the two lists together), after the official parameters.
QUERY_FILTERS: dict[tuple[str, str, str], list[dict[str, Any]]] = {
    ("TMF637", "/product", "get"): [
        _choices("status", PRODUCT_STATUS_TYPES, "Products in this status"),
        {
            **_text("relatedParty.id", "Products of this party: the partner's code, or a customer's partner_ref"),
            "minLength": 1,
            "maxLength": partner_refs.MAX_LENGTH,
            "pattern": partner_refs.PATTERN,
        },
        _choices("productOffering.id", PLANS, "Products of this offering (the plan)"),
        *(
            parameter
            for attribute in ("orderDate", "startDate", "terminationDate")
            for parameter in _moments(attribute)
        ),
    ],
    ("TMF622", "/productOrder", "get"): [
        _choices("state", ORDER_STATE_TYPES, "Orders in this state"),
        _text("externalId", "The order the partner placed with this externalId"),
    ],
}


def _hub_read(official: dict[str, Any]) -> dict[str, Any]:
    """GET /hub/{id}: the DELETE's parameter and refusals, answering the registered EventSubscription."""
    delete = official["paths"]["/hub/{id}"]["delete"]
    refusals = {status: copy.deepcopy(response) for status, response in delete["responses"].items() if status != "204"}
    return {
        "operationId": "retrieveListener",
        "summary": "Retrieve a listener",
        "description": f"A gateway extension: {HUB_READ}.",
        "tags": list(delete.get("tags", [])),
        "parameters": copy.deepcopy(delete["parameters"]),
        "responses": {
            "200": {"description": "Success", "schema": {"$ref": "#/definitions/EventSubscription"}},
            **refusals,
        },
        "x-gateway-extension": True,
    }


# (path, method) of an EXTENSIONS line -> how its operation is written from the official document.
EXTENSION_OPERATIONS = {("/hub/{id}", "get"): _hub_read}
PARTIAL_CONTENT = "Partial Content (TMF630): a page that is not the whole result; X-Total-Count says how many match"


def _served_operation(
    published: dict[str, Any],
    method: str,
    own: dict[str, str] | None = None,
    filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The official operation with the responses and filters the gateway adds (see the module's docstring)."""
    operation = copy.deepcopy(published)
    if filters:
        operation["parameters"] = [*operation.get("parameters", []), *copy.deepcopy(filters)]
    responses = operation["responses"]
    success = responses.get("200", {})
    if success.get("schema", {}).get("type") == "array":  # a collection: paged
        responses["206"] = {**copy.deepcopy(success), "description": PARTIAL_CONTENT}
    for status, response in ADDED_RESPONSES.items():
        responses[status] = {**response, "schema": {"$ref": "#/definitions/Error"}}
    for status, description in {**(POST_RESPONSES if method == "post" else {}), **(own or {})}.items():
        responses[status] = {"description": description, "schema": {"$ref": "#/definitions/Error"}}
    return operation


def served_spec(spec_name: str) -> dict[str, Any]:
    """The official document of `spec_name` cut down to its SERVED operations and the definitions they reach."""
    tmf = SPECS[spec_name]
    official = json.loads((TMF_DIR / tmf.file).read_text(encoding="utf-8"))
    paths: dict[str, Any] = {}
    for name, path, methods in SERVED:
        if name != spec_name:
            continue
        published = official["paths"].get(path)
        missing = [method for method in methods if method not in (published or {})]
        if missing:
            named = ", ".join(method.upper() for method in missing)
            raise ValueError(f"{spec_name} has no {named} {path}: list it in EXTENSIONS")
        item = paths.setdefault(path, {})
        for method in methods:
            key = (spec_name, path, method)
            item[method] = _served_operation(
                published[method], method, OPERATION_RESPONSES.get(key), QUERY_FILTERS.get(key, [])
            )
    for name, path, methods, _why in EXTENSIONS:
        if name == spec_name:
            item = paths.setdefault(path, {})
            item.update(
                {method: _served_operation(EXTENSION_OPERATIONS[path, method](official), method) for method in methods}
            )
    document = {key: copy.deepcopy(value) for key, value in official.items() if key not in ("paths", "definitions")}
    document.pop("host", None)
    document["basePath"] = tmf.base_path
    document["paths"] = paths
    document["definitions"] = {
        name: copy.deepcopy(official["definitions"][name]) for name in sorted(_reached(paths, official["definitions"]))
    }
    used_tags = {tag for item in paths.values() for operation in item.values() for tag in operation.get("tags", [])}
    document["tags"] = [tag for tag in official.get("tags", []) if tag["name"] in used_tags]
    return document


def _reached(node: Any, definitions: dict[str, Any], found: set[str] | None = None) -> set[str]:
    """The names of the definitions `node` refers to, directly or through other definitions."""
    found = set() if found is None else found
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/definitions/"):
            name = reference.removeprefix("#/definitions/")
            if name not in found:
                found.add(name)
                _reached(definitions[name], definitions, found)
        for value in node.values():
            _reached(value, definitions, found)
    elif isinstance(node, list):
        for value in node:
            _reached(value, definitions, found)
    return found


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def served_path(spec_name: str) -> Path:
    return SERVED_DIR / SPECS[spec_name].served_file


def main() -> None:
    SERVED_DIR.mkdir(exist_ok=True)
    for spec_name in SPECS:
        served_path(spec_name).write_text(render(served_spec(spec_name)), encoding="utf-8")
        print(f"wrote {served_path(spec_name)}")


if __name__ == "__main__":
    main()
