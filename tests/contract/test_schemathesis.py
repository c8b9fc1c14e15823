"""Property-based run over every operation of /openapi.json: no 5xx, and every response matches the spec.

The keys are real: each generated call carries a key holding exactly the scope its operation declares,
so generated data reaches the views instead of stopping at a 401.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway import create_app
from gateway.domain.clock import utcnow
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind, Scope
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.store import migrate
from tests.support.api import app_store
from tests.support.event_validation import check_stored_events

MAX_EXAMPLES = 30

# Rules a schema cannot state, so schema-valid data may still be refused with a 422 naming these fields:
# a cursor must be one the gateway issued; a key's scopes and partner must fit its kind; a subscription's
# market must be one its partner sells in; a cancellation's reason must fit when it takes effect; an
# Idempotency-Key must not be reused for a different request; a CSV roster starts with its header line;
# a sharing policy takes effect in the future, after its embargo, and prices its extra member only in its
# markets (for named plans); a household verification deadline is in the future.
RULES_BEYOND_THE_SCHEMA = {
    "cursor",
    "scopes",
    "partner",
    "market",
    "reason",
    "Idempotency-Key",
    "roster",
    "rate_limits",
}
RULES_BEYOND_THE_SCHEMA |= {"effective_at", "publish_at", "extra_member", "verify_by"}
RULES_BEYOND_THE_SCHEMA |= {"items"}  # a viewing time may not lie in the future: the clock, not the schema, says
# An FAQ title or body of only control characters Python counts as white space (\x1c-\x1f, \x85) is blank once
# normalised, which the schema's pattern (white space as JSON Schema tools agree on it) does not say.
RULES_BEYOND_THE_SCHEMA |= {"title", "body"}
# A partner's time zone is one of the IANA names zoneinfo knows on the machine: the schema gives its length only.
RULES_BEYOND_THE_SCHEMA |= {"time_zone"}


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemathesis")
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'gateway.sqlite3'}",
            "LOG_LEVEL": "WARNING",
            # Thousands of generated calls from one partner: they test the operations, not its budget
            # (tests/api/test_rate_limits.py does).
            "RATE_LIMITS": "",
        }
    )
    store = app_store(app)
    migrate.upgrade(store.engine)
    now = utcnow()
    tokens = {}
    with store.transaction() as session:
        partner_service.add_partner(
            session,
            code="alpha",
            display_name="Alpha",
            markets=["DE"],
            default_locale="de-DE",
            flavour="standard",
            webhook_urls=["https://hooks.example.net/alpha"],
            now=now,
        )
        for kind, scopes in SCOPES_BY_KIND.items():
            for scope in scopes:
                tokens[str(scope)] = key_service.issue_key(
                    session,
                    kind=kind,
                    scopes=[scope],
                    name=f"fuzz {scope}",
                    partner_code="alpha" if kind is KeyKind.PARTNER else None,
                    now=now,
                ).token
    TOKENS.update(tokens)
    yield app
    TOKENS.clear()
    check_stored_events(store.engine)  # whatever the generated calls made the gateway emit matches the catalog
    store.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)


schema = schemathesis.pytest.from_fixture("api_schema")
TOKENS: dict[str, str] = {}  # scope -> a key holding only that scope; filled by the fuzzed_app fixture


def _declares_security(context) -> bool:
    return "security" in context.operation.definition.raw


# Registered for every schema of the process, so it keeps to the gateway's own document's operations, which
# declare their scope: the TM Forum runs (official specs, which declare none) bring their own key.
@schemathesis.auth(refresh_interval=None).apply_to(_declares_security)
class ScopedKey:
    """Gives each operation a real key with the scope it declares (no caching: scopes differ by operation).

    Declared as schemathesis auth, so its checks know the key is deliberate and probe the operation
    without it and with a forged one, expecting a 401.
    """

    def get(self, case, context) -> str:
        return _token_for(case, TOKENS)

    def set(self, case, data, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _token_for(case, tokens) -> str:
    [requirement] = case.operation.definition.raw["security"]
    [scope] = requirement["bearerAuth"]
    assert scope in {str(s) for s in Scope}
    return tokens[scope]


@schema.parametrize()
@settings(
    # CI gates on a fixed set of examples; a developer's `make test` explores new ones on every run.
    derandomize=os.environ.get("CI") == "true",
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_conforms(case, fuzzed_app):
    response = case.call()
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    _assert_schema_valid_data_accepted(case, response)


def _assert_schema_valid_data_accepted(case, response) -> None:
    """schemathesis's own acceptance check, less the fields listed in RULES_BEYOND_THE_SCHEMA."""
    if case.meta is None or case.meta.generation.mode.name != "POSITIVE":
        return
    if response.status_code in (400, 422):
        assert response.status_code == 422, response.text
        refused = {error["field"].split(".")[0] for error in response.json()["errors"]}
        assert refused <= RULES_BEYOND_THE_SCHEMA, f"schema-valid data refused: {response.text}"
