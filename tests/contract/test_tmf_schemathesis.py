"""Property-based run over the TM Forum operations the gateway serves, against the served documents of
contracts/tmf/served/ (the official operations, with the filters, responses and hub read the gateway adds): no
5xx, every response conforming to its documented status and schema, and every body also to the spec's definition
held strict (tests/support/tmf_conformance.py). This file fuzzes TMF637 and both APIs' hubs;
tests/contract/test_tmf622_schemathesis.py fuzzes TMF622's orders, and between them every served operation is
fuzzed (test_every_served_operation_is_fuzzed).

FUZZED lists the paths fuzzed, every served method of each. Generated ids mostly name nothing; a share of them is
swapped for real ones (the partner's products in several states and hubs on both APIs, and another partner's), a
share of the queries and hub registrations keeps to the rules, so found products, pages and hubs are checked as
well as refusals. The key holds every scope these operations need (hubs: subscriptions:write to register and
remove, events:read to read).
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from contracts.tmf_served import SERVED, SPECS, served_spec
from gateway import create_app
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.partner_refs import MAX_LENGTH, PATTERN
from gateway.domain.tmf import TmfApi
from gateway.domain.tmf_events import emitted_on
from gateway.domain.tmf_products import PRODUCT_ATTRIBUTES
from gateway.services import hubs as hub_service
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate
from tests.support.api import app_store, bearer
from tests.support.event_validation import check_stored_events
from tests.support.seeding import Seeder, add_subscription
from tests.support.tmf_conformance import assert_conforms

MAX_EXAMPLES = 25

# (spec, path as the spec writes it): the paths fuzzed, every served method of each (the loader filters by path).
FUZZED = [
    ("TMF637", "/product"),
    ("TMF637", "/product/{id}"),
    ("TMF637", "/hub"),
    ("TMF637", "/hub/{id}"),
    ("TMF622", "/hub"),
    ("TMF622", "/hub/{id}"),
]
# The operations tests/contract/test_tmf622_schemathesis.py fuzzes.
FUZZED_ELSEWHERE = {
    ("TMF622", "POST", "/productOrder"),
    ("TMF622", "GET", "/productOrder"),
    ("TMF622", "GET", "/productOrder/{id}"),
    ("TMF622", "POST", "/cancelProductOrder"),
}
API_OF = {"TMF637": TmfApi.PRODUCT_INVENTORY, "TMF622": TmfApi.PRODUCT_ORDERING}
PRODUCT_IDS: list[str] = []  # alpha's products and one of beta's, filled by the app fixture
HUB_IDS: dict[str, list[str]] = {}  # per spec: alpha's hubs and one of beta's
TOKEN: dict[str, str] = {}
# Registrations that keep the gateway's rules start their callback so: schemathesis thinks it sent what it
# generated, so a swap for a negative case must not count as invalid data accepted.
SWAPPED_CALLBACK = "https://hooks.example.net/swapped-"


@pytest.fixture(scope="module")
def fuzzed_tmf_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tmf-schemathesis")
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'gateway.sqlite3'}",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS": "",  # thousands of calls: they test the operations, not the budget
        }
    )
    store = app_store(app)
    migrate.upgrade(store.engine)
    seed = Seeder(store)
    seed.partner("alpha")
    seed.partner("beta")
    with store.transaction() as session:
        for index in range(12):
            subscription = add_subscription(session, "alpha", f"cust-{index}", active=index % 3 != 0)
            if index % 4 == 1:
                subscription_service.apply_command(
                    session, subscription, Command.CANCEL_NOW, actor=Actor.PARTNER, reason="partner_churn",
                    now=subscription.created_at,
                )  # fmt: skip
            PRODUCT_IDS.append(subscription.id)
        PRODUCT_IDS.append(add_subscription(session, "beta", "cust-beta").id)  # another partner's: a 404
        for spec_name, api in API_OF.items():
            HUB_IDS[spec_name] = [
                hub_service.register_hub(
                    session, partner_code, api, callback=f"https://hooks.example.net/{partner_code}-{index}",
                    query=query, allow_private=False, now=utcnow(),
                ).id
                for index, (partner_code, query) in enumerate(
                    [("alpha", None), ("alpha", f"eventType={emitted_on(api)[0]}"), ("alpha", ""), ("beta", None)]
                )
            ]  # fmt: skip
    scopes = [Scope.SUBSCRIPTIONS_READ, Scope.SUBSCRIPTIONS_WRITE, Scope.EVENTS_READ]
    TOKEN["alpha"] = seed.token(KeyKind.PARTNER, "alpha", scopes=scopes)
    yield app
    PRODUCT_IDS.clear()
    HUB_IDS.clear()
    TOKEN.clear()
    check_stored_events(store.engine)
    store.dispose()


def _real_ids(spec_name: str, path: str) -> list[str]:
    return PRODUCT_IDS if path.startswith("/product/") else HUB_IDS[spec_name]


@st.composite
def _registrations(draw, spec_name: str) -> dict:
    """A hub registration keeping the gateway's rules (an https callback on a public host; a query naming event
    types of the API, or none)."""
    names = [str(name) for name in emitted_on(API_OF[spec_name])]
    body = {"callback": SWAPPED_CALLBACK + draw(st.text("abcdefgh0123456789-", max_size=12))}
    kind = draw(st.sampled_from(["none", "empty", "types"]))
    if kind == "empty":
        body["query"] = ""
    elif kind == "types":
        body["query"] = "eventType=" + ",".join(draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)))
    return body


def _schema(spec_name: str, app):
    loaded = schemathesis.openapi.from_dict(served_spec(spec_name))
    loaded.app = app

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        ids = _real_ids(spec_name, context.operation.path)
        real = st.sampled_from(ids).map(lambda real_id: {**path_parameters, "id": real_id})
        return st.one_of(st.just(path_parameters), real)

    @loaded.hook
    def flatmap_query(context, query):
        # Random text is rarely a list of attributes, nor a random integer a page: keep a share of the queries to
        # the rules, so the pages and selections they find are checked as well as the refusals.
        if not query or context.operation.method.upper() != "GET":
            return st.just(query)
        valid = {
            "fields": st.lists(st.sampled_from(sorted(PRODUCT_ATTRIBUTES)), min_size=1).map(",".join),
            "offset": st.integers(min_value=0, max_value=15).map(str),
            "limit": st.integers(min_value=0, max_value=15).map(str),
        }
        kept = st.fixed_dictionaries({name: valid.get(name, st.just(value)) for name, value in query.items()})
        return st.one_of(st.just(query), kept)

    @loaded.hook
    def flatmap_body(context, body):
        if context.operation.path == "/hub" and context.operation.method.upper() == "POST":
            return st.one_of(st.just(body), _registrations(spec_name))
        return st.just(body)

    return loaded


@pytest.fixture(scope="module")
def tmf637_schema(fuzzed_tmf_app):
    return _schema("TMF637", fuzzed_tmf_app)


@pytest.fixture(scope="module")
def tmf622_hub_schema(fuzzed_tmf_app):
    return _schema("TMF622", fuzzed_tmf_app)


def _fuzzed_paths(spec_name: str) -> list[str]:
    return sorted(path for name, path in FUZZED if name == spec_name)


# Filtered on the lazy schema: pytest's loader replaces the filters of the schema a fixture returns with its own.
tmf637 = schemathesis.pytest.from_fixture("tmf637_schema").include(path=_fuzzed_paths("TMF637"))
tmf622_hubs = schemathesis.pytest.from_fixture("tmf622_hub_schema").include(path=_fuzzed_paths("TMF622"))
SETTINGS = settings(
    derandomize=os.environ.get("CI") == "true",
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


@tmf637.parametrize()
@SETTINGS
def test_every_served_tmf637_operation_conforms(case, fuzzed_tmf_app):
    _check(case, "TMF637")


@tmf622_hubs.parametrize()
@SETTINGS
def test_every_tmf622_hub_operation_conforms(case, fuzzed_tmf_app):
    _check(case, "TMF622")


def _check(case, spec_name: str) -> None:
    response = case.call(headers={**(case.headers or {}), **bearer(TOKEN["alpha"])})
    swapped = isinstance(case.body, dict) and str(case.body.get("callback", "")).startswith(SWAPPED_CALLBACK)
    excluded = [positive_data_acceptance, *([negative_data_rejection] if swapped else [])]
    # schemathesis's own checks: no 5xx, a documented status, content type and headers, the documented schema.
    case.validate_response(response, excluded_checks=excluded)
    if case.method.upper() != case.operation.method.upper():  # schemathesis also tries methods not served
        assert response.status_code == (200 if case.method.upper() == "OPTIONS" else 405), response.text
        if response.status_code == 405:
            assert_conforms(response.json(), "Error", spec_name=spec_name)
        return
    if response.status_code == 204:  # a hub removed: no body
        assert case.operation.method.upper() == "DELETE" and response.content == b"", response.text
        return
    body = response.json()
    if response.status_code >= 400:
        assert_conforms(body, "Error", spec_name=spec_name)
        assert body["status"] == str(response.status_code)
    else:
        definition = _documented_definition(spec_name, case, response.status_code)
        for item in body if isinstance(body, list) else [body]:
            assert_conforms(item, definition, spec_name=spec_name)
    if case.operation.method.upper() == "GET" and case.operation.path.startswith("/product"):
        _assert_the_query_rules_decide(case, response, spec_name)
    if swapped:  # a registration keeping the rules: registered as sent, or a conflict (the same one, or too many)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 201:
            assert {name: body[name] for name in case.body} == case.body


def _documented_definition(spec_name: str, case, status: int) -> str:
    """The definition the spec says a response of `status` is (the items' one for an array)."""
    schema = served_spec(spec_name)["paths"][case.operation.path][case.operation.method.lower()]["responses"]
    schema = schema[str(status)]["schema"]
    return schema.get("items", schema)["$ref"].removeprefix("#/definitions/")


def _query_rules(spec_name: str, definition: str, operation) -> dict:
    """What a GET's query may hold beyond what its schema states (the TMF specs type offset and limit as any
    integer and fields as any string): a generated value breaking one must be a 400 naming it, and one keeping
    them all must be taken. `fields` names attributes of the resource, as its definition lists them; a filter of
    choices takes a comma-separated list of them, a date-time filter an ISO 8601 moment."""
    attributes = set(served_spec(spec_name)["definitions"][definition]["properties"])
    rules = {
        "offset": lambda value: re.fullmatch("[0-9]+", str(value)) is not None,
        "limit": lambda value: re.fullmatch("[0-9]+", str(value)) is not None,
        "fields": lambda value: (
            bool(str(value).strip()) and all(name.strip() in attributes for name in str(value).split(","))
        ),
    }
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if "enum" in parameter.get("items", {}):
            rules[name] = lambda value, known=frozenset(parameter["items"]["enum"]): all(
                part in known for part in _text(value).split(",")
            )
        elif parameter.get("format") == "date-time":
            rules[name] = _is_a_moment
        elif "pattern" in parameter:  # relatedParty.id: a party reference
            rules[name] = lambda value: len(_text(value)) <= MAX_LENGTH and re.search(PATTERN, _text(value)) is not None
    return rules


def _text(value) -> str:
    """A query value as sent: a list as its comma-separated text (collectionFormat csv)."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _is_a_moment(value) -> bool:
    try:
        datetime.fromisoformat(_text(value))
    except ValueError:
        return False
    return True


def _assert_the_query_rules_decide(case, response, spec_name: str) -> None:
    """schemathesis's acceptance check, with the rules the spec cannot state: data that keeps them is taken,
    data that breaks one is a 400 naming the parameter."""
    if case.meta is None or case.meta.generation.mode.name != "POSITIVE":
        return
    # Text no store can hold: the gateway's guard refuses it before any rule. (Not `in str(case.query)`: a dict's
    # text shows a NUL escaped, as the four characters \\x00.)
    if any("\x00" in _text(value) for value in (case.query or {}).values()):
        assert response.status_code == 400, response.text
        return
    path = served_spec(spec_name)["paths"][case.operation.path]
    rules = _query_rules(spec_name, _documented_definition(spec_name, case, 200), path["get"])
    broken = sorted(name for name, value in (case.query or {}).items() if not rules[name](value))
    if broken:
        assert response.status_code == 400, response.text
        assert response.json()["message"].split(":")[0] in broken, response.text
    else:
        assert response.status_code in (200, 206, 404), response.text


def _served_operations() -> set[tuple[str, str, str]]:
    return {
        (spec_name, method.upper(), path)
        for spec_name in SPECS
        for path, item in served_spec(spec_name)["paths"].items()
        for method in item
    }


def test_every_served_operation_is_fuzzed():
    """The paths here and the operations the TMF622 run fuzzes are every served operation, extensions included,
    and each of those is routed (tests/contract/test_tmf_served.py holds the documents to the app's routes)."""
    served = _served_operations()
    here = {(spec_name, method, path) for spec_name, method, path in served if (spec_name, path) in FUZZED}
    assert {(spec_name, path) for spec_name, _, path in here} == set(FUZZED), "a FUZZED path is not served"
    assert here | FUZZED_ELSEWHERE == served, "a served operation no schemathesis run fuzzes"
    assert not here & FUZZED_ELSEWHERE
    assert {("TMF637", "GET", "/hub/{id}"), ("TMF622", "DELETE", "/hub/{id}")} <= here
    assert {(name, path) for name, path, _ in SERVED} <= {(name, path) for name, _, path in served}


def test_the_other_run_fuzzes_what_this_one_leaves_to_it():
    from tests.contract import test_tmf622_schemathesis as ordering

    assert {(ordering.SPEC, method, path) for method, path in ordering.FUZZED} == FUZZED_ELSEWHERE
