"""Property-based run over the TM Forum operations the gateway serves, against the official specs (the served
documents of contracts/tmf/served/: the official operations, where the gateway serves them): no 5xx, every
response conforming to its documented status and schema, and every body also to the spec's definition held
strict (tests/support/tmf_conformance.py).

Add an operation of a spec already fuzzed to FUZZED, one line each (what its bodies must be is read from the
served document); another spec needs its schema fixture and test too (see tmf637_schema). Generated ids mostly
name no product; a share of them is swapped for real ones (the partner's products in several states, and another
partner's), and a share of the queries keeps to the rules, so found products and pages are checked as well as
refusals.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contracts.tmf_served import SPECS, served_spec
from gateway import create_app
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.tmf_products import PRODUCT_ATTRIBUTES
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate
from tests.support.api import app_store, bearer
from tests.support.event_validation import check_stored_events
from tests.support.seeding import Seeder, add_subscription
from tests.support.tmf_conformance import assert_conforms

MAX_EXAMPLES = 60

# (spec, method, path as the spec writes it): the operations fuzzed, one line each.
FUZZED = [
    ("TMF637", "GET", "/product"),
    ("TMF637", "GET", "/product/{id}"),
]
PRODUCT_IDS: list[str] = []  # alpha's products and one of beta's, filled by the app fixture
TOKEN: dict[str, str] = {}


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
    TOKEN["alpha"] = seed.token(KeyKind.PARTNER, "alpha", scopes=[Scope.SUBSCRIPTIONS_READ])
    yield app
    PRODUCT_IDS.clear()
    TOKEN.clear()
    check_stored_events(store.engine)
    store.dispose()


def _fuzzed(spec_name: str):
    def wanted(context) -> bool:
        operation = context.operation
        return (spec_name, operation.method.upper(), operation.path) in FUZZED

    return wanted


@pytest.fixture(scope="module")
def tmf637_schema(fuzzed_tmf_app):
    loaded = schemathesis.openapi.from_dict(served_spec("TMF637"))
    loaded.app = fuzzed_tmf_app

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters or "id" not in path_parameters:
            return st.just(path_parameters)
        real = st.sampled_from(PRODUCT_IDS).map(lambda product_id: {**path_parameters, "id": product_id})
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

    return loaded.include(_fuzzed("TMF637"))


tmf637 = schemathesis.pytest.from_fixture("tmf637_schema")


@tmf637.parametrize()
@settings(
    derandomize=os.environ.get("CI") == "true",
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_every_served_tmf637_operation_conforms(case, fuzzed_tmf_app):
    _check(case, "TMF637")


def _check(case, spec_name: str) -> None:
    response = case.call(headers={**(case.headers or {}), **bearer(TOKEN["alpha"])})
    # schemathesis's own checks: no 5xx, a documented status, content type and headers, the documented schema.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    if case.method.upper() != case.operation.method.upper():  # schemathesis also tries methods not served
        assert response.status_code == (200 if case.method.upper() == "OPTIONS" else 405), response.text
        if response.status_code == 405:
            assert_conforms(response.json(), "Error")
        return
    body = response.json()
    if response.status_code >= 400:
        assert_conforms(body, "Error", spec_name=spec_name)
        assert body["status"] == str(response.status_code)
    else:
        definition = _documented_definition(spec_name, case, response.status_code)
        for item in body if isinstance(body, list) else [body]:
            assert_conforms(item, definition, spec_name=spec_name)
    if case.operation.method.upper() == "GET":
        _assert_the_query_rules_decide(case, response, spec_name)


def _documented_definition(spec_name: str, case, status: int) -> str:
    """The definition the spec says a response of `status` is (the items' one for an array)."""
    schema = served_spec(spec_name)["paths"][case.operation.path][case.operation.method.lower()]["responses"]
    schema = schema[str(status)]["schema"]
    return schema.get("items", schema)["$ref"].removeprefix("#/definitions/")


def _query_rules(spec_name: str, definition: str):
    """What a GET's query may hold beyond what its schema states (the TMF specs type offset and limit as any
    integer and fields as any string): a generated value breaking one must be a 400 naming it, and one keeping
    them all must be taken. `fields` names attributes of the resource, as its definition lists them."""
    attributes = set(served_spec(spec_name)["definitions"][definition]["properties"])
    return {
        "offset": lambda value: re.fullmatch("[0-9]+", str(value)) is not None,
        "limit": lambda value: re.fullmatch("[0-9]+", str(value)) is not None,
        "fields": lambda value: (
            bool(str(value).strip()) and all(name.strip() in attributes for name in str(value).split(","))
        ),
    }


def _assert_the_query_rules_decide(case, response, spec_name: str) -> None:
    """schemathesis's acceptance check, with the rules the spec cannot state: data that keeps them is taken,
    data that breaks one is a 400 naming the parameter."""
    if case.meta is None or case.meta.generation.mode.name != "POSITIVE":
        return
    if "\x00" in str(case.query):  # text no store can hold: the gateway's guard refuses it before any rule
        assert response.status_code == 400, response.text
        return
    rules = _query_rules(spec_name, _documented_definition(spec_name, case, 200))
    broken = sorted(name for name, value in (case.query or {}).items() if not rules[name](value))
    if broken:
        assert response.status_code == 400, response.text
        assert response.json()["message"].split(":")[0] in broken, response.text
    else:
        assert response.status_code in (200, 206, 404), response.text


def test_every_fuzzed_operation_is_served():
    for spec_name, method, path in FUZZED:
        assert method.lower() in served_spec(spec_name)["paths"][path], f"{method} {path} is not in {spec_name}"
    assert {spec_name for spec_name, _, _ in FUZZED} <= set(SPECS)
