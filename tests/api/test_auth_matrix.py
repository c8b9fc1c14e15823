"""Every route of the app's URL map x every kind of caller -> the status that caller must get.

The routes come from the URL map, not from a list here: a new route that forgets `@requires` fails
`test_every_route_declares_a_scope` and the "no key" column, and a new route with a request body fails
until it has an example body below.
"""

from __future__ import annotations

import copy as copy_module
import io
import json
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.tmf_served import SPECS as TMF_SPECS
from contracts.tmf_served import served_spec
from gateway import create_app
from gateway.api import PUBLIC_ENDPOINTS
from gateway.api.http.auth import REQUIRED_SCOPE_ATTRIBUTE
from gateway.console.endpoints import CONSOLE_ENDPOINTS
from gateway.delivery.publisher import publish_events
from gateway.domain import escalations as escalation_rules
from gateway.domain.clock import utcnow
from gateway.domain.faq_articles import ArticleContent
from gateway.domain.inactivity import MarketPolicies
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.roster import RosterFormat, read_roster
from gateway.domain.tmf import TmfApi
from gateway.services import campaigns as campaign_service
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.services import hubs as hub_service
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import product_orders as order_service
from gateway.services import reconciliation
from gateway.services import sharing as sharing_service
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate
from gateway.store.models import Delivery
from partners.signing import new_webhook_secret, signed_headers
from tests.support.api import app_store, bearer
from tests.support.seeding import add_subscription, sharing_policy
from tests.support.store import Database, check_emitted_events
from tests.support.tmf_conformance import assert_conforms

IGNORED_METHODS = {"HEAD", "OPTIONS"}
PARTNER_SCOPES = SCOPES_BY_KIND[KeyKind.PARTNER]


@dataclass(frozen=True)
class RawBody:
    """A body that is not JSON."""

    content_type: str
    data: str
    headers: dict[str, str] = field(default_factory=dict)


def _signed_callback(world) -> RawBody:
    body = json.dumps({"type": "subscription.suspend", "data": {"subscription_id": world.subscriptions["active"]}})
    headers = signed_headers([world.inbound_secret], f"msg_{secrets.token_hex(8)}", utcnow(), body)
    return RawBody("application/json", body, headers)


# One valid body per operation that takes one, keyed by (rule, method).
EXAMPLE_BODIES = {
    ("/v1/reconciliations", "POST"): RawBody("text/csv", "partner_ref,status,plan\nactive,active,standard\n"),
    ("/admin/v1/partners", "POST"): {
        "code": "gamma",
        "display_name": "Gamma",
        "markets": ["FR"],
        "default_locale": "fr-FR",
    },
    ("/admin/v1/partners/<code>", "PATCH"): {"display_name": "Alpha renamed"},
    ("/admin/v1/partners/<code>/webhook-endpoints", "POST"): {"url": "https://hooks.example.net/alpha-2"},
    ("/admin/v1/partners/<code>/inventory", "PUT"): {"url": "https://inventory.example.net/productInventory/v4"},
    ("/admin/v1/keys", "POST"): {
        "kind": "partner",
        "partner": "alpha",
        "scopes": ["events:read"],
        "name": "x",
    },
    ("/admin/v1/keys/<key_id>/rotate", "POST"): {"overlap_hours": 1},
    ("/v1/subscriptions", "POST"): {
        "partner_ref": "new-customer",
        "plan": "standard",
        "market": "DE",
        "billing_anchor": "2026-01-15",
    },
    ("/v1/subscriptions/<subscription_id>/change-plan", "POST"): {"plan": "premium"},
    ("/v1/subscriptions/<subscription_id>/suspend", "POST"): {},
    ("/v1/subscriptions/<subscription_id>/resume", "POST"): {},
    ("/v1/subscriptions/<subscription_id>/cancel", "POST"): {"when": "period_end"},
    ("/v1/subscriptions/<subscription_id>/revert-cancellation", "POST"): {},
    ("/v1/service/activations", "POST"): lambda world: {"code": world.activation_code, "member_id": "m-1"},
    ("/v1/service/subscriptions/<subscription_id>/cancel", "POST"): {"when": "period_end"},
    ("/v1/service/subscriptions/<subscription_id>/revert-cancellation", "POST"): {},
    ("/v1/service/subscriptions/<subscription_id>/change-plan", "POST"): {"plan": "premium"},
    ("/v1/service/subscriptions/<subscription_id>/rejoin", "POST"): {},
    ("/v1/subscriptions/<subscription_id>/keep", "POST"): {},
    ("/v1/service/subscriptions/<subscription_id>/keep", "POST"): {},
    ("/admin/v1/campaigns", "POST"): {"kind": "inactivity", "dry_run": True},
    ("/v1/callbacks", "POST"): _signed_callback,
    ("/admin/v1/deliveries/replay", "POST"): {"partner": "alpha"},
    ("/admin/v1/sharing-policies", "POST"): lambda world: {
        "markets": ["DE"],
        "rule": "one_household",
        "effective_at": (utcnow() + timedelta(days=40)).isoformat(),
    },
    ("/v1/notices/<notice_id>/acknowledgement", "POST"): {},
    ("/v1/service/subscriptions/<subscription_id>/notices", "POST"): {"type": "household_verification_required"},
    ("/v1/service/activity", "POST"): lambda world: {
        "items": [{"subscription_id": world.subscriptions["active"], "last_viewed_at": "2026-11-01T20:00:00Z"}]
    },
    ("/admin/v1/faq", "POST"): {"slug": "matrix-new", "locale": "de", "title": "Neu", "body": "Ein neuer Artikel."},
    ("/admin/v1/faq/<slug>/<locale>", "PUT"): {"title": "Replaced", "body": "A replaced article."},
    # alpha's "billing" case for "active" is open in the world, so the right key gets the documented 200 (that one)
    # and another partner a 404 (it has no such subscriber).
    ("/v1/callcenter/escalations", "POST"): {
        "partner_ref": "active",
        "category": "billing",
        "priority": "high",
        "description": "Charged twice this month.",
        "agent_ref": "agent-1",
    },
    ("/v1/callcenter/escalations/<escalation_id>/comments", "POST"): {"agent_ref": "agent-1", "comment": "More."},
    ("/v1/callcenter/escalations/<escalation_id>/close", "POST"): {"agent_ref": "agent-1"},
    ("/v1/callcenter/escalations/<escalation_id>/reopen", "POST"): {"agent_ref": "agent-1", "comment": "Not fixed."},
    ("/admin/v1/escalations/<escalation_id>/acknowledge", "POST"): {},
    ("/admin/v1/escalations/<escalation_id>/start", "POST"): {"comment": "On it."},
    ("/admin/v1/escalations/<escalation_id>/resolve", "POST"): {"comment": "Refunded."},
    ("/admin/v1/escalations/<escalation_id>/comments", "POST"): {"comment": "Which invoice?"},
}
# TM Forum product orders (TMF622): an order adding a subscription for a new customer; a cancellation of alpha's
# order (always refused: see REFUSED_WITH_THE_RIGHT_KEY).
EXAMPLE_BODIES |= {
    ("/tmf-api/productOrdering/v4/productOrder", "POST"): {
        "productOrderItem": [
            {
                "id": "1",
                "action": "add",
                "productOffering": {"id": "standard"},
                "product": {
                    "relatedParty": [{"id": "matrix-order", "role": "customer", "@referredType": "Customer"}],
                    "productCharacteristic": [
                        {"name": "market", "value": "DE"},
                        {"name": "billingAnchor", "value": "2026-11-15"},
                    ],
                },
            }
        ]
    },
    ("/tmf-api/productOrdering/v4/cancelProductOrder", "POST"): lambda world: {"productOrder": {"id": world.order}},
}
# What the right key gets from an operation that always refuses what it is asked, once the caller is let in: no
# order can be cancelled (each is carried out when it is placed), so a cancellation reaches its 409.
REFUSED_WITH_THE_RIGHT_KEY = {("/tmf-api/productOrdering/v4/cancelProductOrder", "POST"): 409}
# TM Forum hubs (TMF630) register a callback on either TMF API: another than alpha's hub's (the world's), which
# the gateway refuses to register twice for the same query (a 409).
TMF_CALLBACK = "https://hooks.example.net/alpha-tmf"
EXAMPLE_BODIES |= {
    (f"/tmf-api/{api}/v4/hub", "POST"): {"callback": f"{TMF_CALLBACK}-{api}", "query": ""}
    for api in ("productInventory", "productOrdering")
}
# The query an operation needs, keyed by (rule, method).
EXAMPLE_QUERIES = {
    ("/v1/callcenter/lookup", "GET"): {"partner_ref": "active"},
    ("/v1/callcenter/faq/search", "GET"): {"q": "extra member"},
}
# Operations whose body (or query) names one of alpha's resources: another partner must find it missing.
BODY_NAMES_RESOURCE = {
    ("/v1/callbacks", "POST"),
    ("/v1/callcenter/lookup", "GET"),
    ("/v1/callcenter/escalations", "POST"),
    ("/tmf-api/productOrdering/v4/cancelProductOrder", "POST"),
}
# Routes whose path names a resource every partner shares (FAQ articles): another partner reads it too.
SHARED_PATH_RESOURCES = {"/v1/callcenter/faq/<slug>"}

# The state alpha's subscription must be in for the right key's call to succeed (active otherwise).
# The status alpha's escalation must be in for the right key's call to succeed (open otherwise).
ESCALATION_STATE = {
    "/admin/v1/escalations/<escalation_id>/start": "acknowledged",
    "/admin/v1/escalations/<escalation_id>/resolve": "in_progress",
    "/v1/callcenter/escalations/<escalation_id>/close": "resolved",
    "/v1/callcenter/escalations/<escalation_id>/reopen": "resolved",
}
SUBSCRIPTION_STATE = {
    "/v1/subscriptions/<subscription_id>/resume": "suspended",
    "/v1/subscriptions/<subscription_id>/revert-cancellation": "cancellation_scheduled",
    # The member cancels in the app, and reverts there, only what the service bills.
    "/v1/service/subscriptions/<subscription_id>/cancel": "service_billed",
    "/v1/service/subscriptions/<subscription_id>/revert-cancellation": "service_billed_cancellation_scheduled",
    "/v1/service/subscriptions/<subscription_id>/rejoin": "cancelled",
    "/v1/subscriptions/<subscription_id>/keep": "warned",
    "/v1/service/subscriptions/<subscription_id>/keep": "warned",
}


def _operations():
    app = create_app({"DATABASE_URL": "sqlite://"})
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - IGNORED_METHODS):
            handler = getattr(view.view_class, method.lower()) if hasattr(view, "view_class") else view
            openapi_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            operation = spec["paths"].get(openapi_path, {}).get(method.lower(), {})
            if _tmf_api(rule.rule):  # documented by the served TM Forum contract, not the OpenAPI document
                operation = _tmf_operation(rule.rule, method)
            yield rule.endpoint, rule.rule, method, handler, operation


def _tmf_api(rule: str) -> str | None:
    """The TM Forum spec a route belongs to (None: not a TMF route)."""
    return next((name for name, tmf in TMF_SPECS.items() if rule.startswith(tmf.base_path + "/")), None)


def _tmf_operation(rule: str, method: str) -> dict:
    """The operation as the served TMF contract states it, extensions included (its path parameters named as the
    spec names them)."""
    name = _tmf_api(rule)
    paths = served_spec(name)["paths"]
    path = re.sub(r"<(?:\w+:)?\w+>", "{}", rule.removeprefix(TMF_SPECS[name].base_path))
    found = {re.sub(r"\{\w+\}", "{}", documented): item for documented, item in paths.items()}
    return found.get(path, {}).get(method.lower(), {})


def _tmf_definition(operation: dict, status: int) -> str | None:
    """The definition the served TMF contract says a `status` answer's body is (an array's items'), None when it
    documents no body."""
    schema = operation["responses"].get(str(status), {}).get("schema")
    if schema is None:
        return None
    return schema.get("items", schema)["$ref"].removeprefix("#/definitions/")


ALL_OPERATIONS = list(_operations())
# The agent console's pages authenticate through its session cookie, not a bearer key: tests/console covers them
# (every console endpoint redirects to sign-in without a session, and refuses a form without its CSRF token).
PROTECTED = [op for op in ALL_OPERATIONS if op[0] not in PUBLIC_ENDPOINTS | CONSOLE_ENDPOINTS]
PROTECTED_IDS = [f"{method} {rule}" for _, rule, method, _, _ in PROTECTED]


def test_the_matrix_covers_every_audience():
    prefixes = {rule.split("/")[1] + "/" + rule.split("/")[2] for _, rule, _, _, _ in PROTECTED}
    assert {"v1/webhook-endpoints", "v1/callcenter", "v1/service", "admin/v1"} <= prefixes


@pytest.mark.parametrize(("endpoint", "rule", "method", "handler", "operation"), PROTECTED, ids=PROTECTED_IDS)
def test_every_route_declares_a_scope(endpoint, rule, method, handler, operation):
    scope = getattr(handler, REQUIRED_SCOPE_ATTRIBUTE, None)
    assert scope is not None, f"{method} {rule} has no @requires(scope): add one or list it as public"
    if _tmf_api(rule):
        return  # the official TMF specs state no security; the README names the scopes
    assert operation.get("security") == [{"bearerAuth": [str(scope)]}], "the spec must state the scope"
    if "requestBody" in operation:
        assert (rule, method) in EXAMPLE_BODIES, f"add an example body for {method} {rule} to EXAMPLE_BODIES"


# Methods that change something: a key holding only a read scope must not reach them.
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
WRITES = [op for op in PROTECTED if op[2] in WRITE_METHODS]


@pytest.mark.parametrize(
    ("endpoint", "rule", "method", "handler", "operation"), WRITES, ids=[f"{op[2]} {op[1]}" for op in WRITES]
)
def test_no_write_is_open_to_a_read_scope(endpoint, rule, method, handler, operation):
    """A read scope (events:read, subscriptions:read) is for systems that only watch: every write asks for more,
    e.g. redelivering, which makes the gateway send, needs subscriptions:write."""
    scope = str(getattr(handler, REQUIRED_SCOPE_ATTRIBUTE))
    assert not scope.endswith(":read"), f"{method} {rule} changes state but only needs {scope!r}"


def test_a_read_only_partner_key_cannot_ask_for_a_redelivery(matrix_app):
    app, world = matrix_app
    client = app.test_client()
    reader = bearer(world._issue(KeyKind.PARTNER, "alpha", {"events:read", "subscriptions:read"}).token)
    url = f"/v1/deliveries/{world.delivery}/redeliver"
    assert client.get(f"/v1/deliveries/{world.delivery}", headers=reader).status_code == 200
    refused = client.post(url, headers=reader)
    assert refused.status_code == 403 and refused.json["type"] == "/problems/insufficient-scope"
    assert "subscriptions:write" in refused.json["detail"]
    writer = bearer(world._issue(KeyKind.PARTNER, "alpha", {"subscriptions:write"}).token)
    assert client.post(url, headers=writer).status_code == 200


class World:
    """Two partners with endpoints and keys of every kind, built fresh for each test."""

    def __init__(self, app) -> None:
        store = self._store = app_store(app)
        now = utcnow()
        issue = self._issue

        with store.transaction() as session:
            for code, market in (("alpha", "DE"), ("beta", "DE"), ("dormant", "IT")):
                partner_service.add_partner(
                    session,
                    code=code,
                    display_name=code.title(),
                    markets=[market],
                    default_locale="en",
                    flavour="standard",
                    webhook_urls=[f"https://hooks.example.net/{code}"],
                    now=now,
                )
            self.endpoints = {code: partner_service.list_endpoints(session, code)[0].id for code in ("alpha", "beta")}
        self.alpha = issue(KeyKind.PARTNER, "alpha").token
        self.beta = issue(KeyKind.PARTNER, "beta").token
        self.dormant = issue(KeyKind.PARTNER, "dormant").token
        self.operator = issue(KeyKind.OPERATOR).token
        self.service = issue(KeyKind.SERVICE).token
        self.target_key_id = issue(KeyKind.PARTNER, "alpha").key.id
        revoked = issue(KeyKind.PARTNER, "alpha")
        with store.transaction() as session:
            key_service.revoke_key(session, revoked.key.id, now=now)
            partner_service.set_partner_status(session, "dormant", "suspended", now=now)
        self.revoked = revoked.token
        self.subscriptions, self.activation_code = _alpha_subscriptions(store, now)
        self.escalations = _alpha_escalations(store, now, "active")
        self.inbound_secret = new_webhook_secret()
        with store.transaction() as session:
            for code in ("alpha", "beta"):
                partner_service.get_partner(session, code).inbound_secret = self.inbound_secret
            publish_events(session, now)
            self.delivery = session.scalar(select(Delivery.id).where(Delivery.partner_code == "alpha").limit(1))
        self.reconciliation = reconciliation.start(store, "alpha", RosterFormat.CSV, now)
        roster = io.StringIO("partner_ref,status,plan\nsuspended,active,standard\n", newline="")
        reconciliation.run(store, self.reconciliation, read_roster(roster, RosterFormat.CSV))
        with store.transaction() as session:
            self.campaign = campaign_service.start_campaign(
                session, dry_run=True, policies=MarketPolicies(), respond_days=14, now=now
            ).id
        self.policy, self.notice = _announced_policy(store, now)
        sharing_policy(store, ["DE"], now=now, lead=timedelta(minutes=1), in_effect=True)  # per-account notices wait
        with store.transaction() as session:
            self.faq_slug = faq_service.create_article(
                session, "matrix-article", "en", ArticleContent.of("Extra member", "How to add one."), now=now
            ).slug
        with store.transaction() as session:  # alpha's TM Forum hub on each TMF API
            self.hubs = {
                api: hub_service.register_hub(
                    session, "alpha", api, callback=TMF_CALLBACK, query=None, allow_private=False, now=now
                ).id
                for api in TmfApi
            }
        with store.transaction() as session:  # alpha's TMF622 order, leaving its active subscription as it is
            item = {"id": "1", "action": "noChange", "product": {"id": self.subscriptions["active"]}}
            self.order = order_service.place_order(
                session,
                partner_code="alpha",
                body={"productOrderItem": [item]},
                now=now,
                activation_window=timedelta(days=30),
            ).order.id

    def path_values(self, rule: str) -> dict[str, str]:
        return {
            "code": "alpha",
            "endpoint_id": self.endpoints["alpha"],
            "key_id": self.target_key_id,
            "subscription_id": self.subscriptions[SUBSCRIPTION_STATE.get(rule, "active")],
            "product_id": self.subscriptions["active"],  # TMF637: a product is a subscription
            "order_id": self.order,
            "hub_id": self.hubs[TmfApi.PRODUCT_ORDERING if "/productOrdering/" in rule else TmfApi.PRODUCT_INVENTORY],
            "reconciliation_id": self.reconciliation,
            "delivery_id": str(self.delivery),
            "campaign_id": self.campaign,
            "policy_id": self.policy,
            "notice_id": self.notice,
            "slug": self.faq_slug,
            "locale": "en",
            "escalation_id": self.escalations[ESCALATION_STATE.get(rule, "open")],
        }

    def on(self, app) -> World:
        """This world in another app whose store is a copy of this one's (keys issued from now on go there)."""
        copy = copy_module.copy(self)
        copy._store = app_store(app)
        return copy

    def _issue(self, kind, partner=None, scopes=None):
        with self._store.transaction() as session:
            return key_service.issue_key(
                session,
                kind=kind,
                scopes=sorted(scopes or SCOPES_BY_KIND[kind]),
                name="matrix",
                partner_code=partner,
                now=utcnow(),
            )

    def right_key(self, scope) -> str:
        """The least-privileged key that may call: only the needed scope."""
        if scope in PARTNER_SCOPES:
            return self._issue(KeyKind.PARTNER, "alpha", {scope}).token
        kind = KeyKind.OPERATOR if scope in SCOPES_BY_KIND[KeyKind.OPERATOR] else KeyKind.SERVICE
        return self._issue(kind, None, {scope}).token

    def key_without(self, scope) -> str:
        """A key of the same audience holding everything but the needed scope (a full partner key otherwise)."""
        if scope in PARTNER_SCOPES:
            return self._issue(KeyKind.PARTNER, "alpha", PARTNER_SCOPES - {scope}).token
        return self.alpha


def _alpha_subscriptions(store, now) -> tuple[dict[str, str], str]:
    """One subscription of alpha's in each state the routes need, and a pending one's activation code."""
    steps = {
        "active": [],
        "suspended": [Command.SUSPEND],
        "cancellation_scheduled": [Command.SCHEDULE_CANCELLATION],
        "cancelled": [Command.CANCEL_NOW],
    }
    actor_reason = {
        Command.SUSPEND: "non_payment",
        Command.SCHEDULE_CANCELLATION: "member_request",
        Command.CANCEL_NOW: "account_closed",  # by the service: the member closed the account, and may rejoin
    }
    ids = {}
    with store.transaction() as session:
        pending = add_subscription(session, "alpha", "pending", now=now, active=False)
        for state, commands in steps.items():
            subscription = add_subscription(session, "alpha", state, now=now)
            for command in commands:
                actor = Actor.SERVICE if command is Command.CANCEL_NOW else Actor.PARTNER
                subscription_service.apply_command(
                    session, subscription, command, actor=actor, reason=actor_reason[command], now=now
                )
            ids[state] = subscription.id
        in_app = add_subscription(session, "alpha", "service-billed", now=now, billed_by="service")
        ids["service_billed"] = in_app.id
        scheduled_in_app = add_subscription(session, "alpha", "service-billed-scheduled", now=now, billed_by="service")
        subscription_service.apply_command(
            session,
            scheduled_in_app,
            Command.SCHEDULE_CANCELLATION,
            actor=Actor.MEMBER,
            reason="member_request",
            now=now,
        )
        ids["service_billed_cancellation_scheduled"] = scheduled_in_app.id
        warned = add_subscription(session, "alpha", "warned", now=now)  # as an inactivity campaign leaves it
        warned.inactivity_warned_at, warned.inactivity_respond_by = now, now + timedelta(days=14)
        ids["warned"] = warned.id
        return ids, pending.activation_code


def _alpha_escalations(store, now, subscription_ref: str) -> dict[str, str]:
    """One of alpha's escalations in each status the routes need, each of its own category (one open per
    subscriber and category)."""
    steps = {
        "open": ("billing", []),
        "acknowledged": ("activation", [escalation_rules.Action.ACKNOWLEDGE]),
        "in_progress": ("technical", [escalation_rules.Action.ACKNOWLEDGE, escalation_rules.Action.START]),
        "resolved": (
            "plan_change",
            [escalation_rules.Action.ACKNOWLEDGE, escalation_rules.Action.START, escalation_rules.Action.RESOLVE],
        ),
    }
    sla = escalation_rules.parse_sla_policy(escalation_rules.DEFAULT_SLA)
    ids = {}
    with store.transaction() as session:
        for status, (category, actions) in steps.items():
            escalation = escalation_service.open_escalation(
                session,
                partner_code="alpha",
                partner_ref=subscription_ref,
                category=category,
                priority="normal",
                description="A case.",
                agent_ref="agent-1",
                now=now,
                sla=sla,
            ).escalation
            for action in actions:
                escalation_service.change_status(
                    session, escalation, action, side=escalation_rules.Side.SERVICE, author="support", now=now,
                    sla=sla, comment="Done.",
                )  # fmt: skip
            ids[status] = escalation.id
    return ids


def _announced_policy(store, now) -> tuple[str, str]:
    """A sharing policy for DE announced to alpha and beta, and alpha's notice of it."""
    with store.transaction() as session:
        policy = sharing_service.create_policy(
            session,
            markets=["DE"],
            rule="one_household",
            extra_member={},
            effective_at=now + timedelta(days=40),
            lead=timedelta(days=40),
            now=now,
        )
    sharing_service.run_due_sharing_notices(store, now=now, reminder_schedule=[timedelta(days=3)])
    with store.read() as session:
        [(notice, _)] = sharing_service.list_partner_notices(session, "alpha", limit=1)
    return policy.id, notice.id


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: values[match.group(1)], rule)


def _call(client, rule, method, world, headers):
    body = EXAMPLE_BODIES.get((rule, method))
    if callable(body):
        body = body(world)
    url = _url(rule, world.path_values(rule))
    query = EXAMPLE_QUERIES.get((rule, method))
    if isinstance(body, RawBody):
        headers = {**body.headers, **headers}
        return client.open(
            url, method=method, data=body.data, content_type=body.content_type, headers=headers, query_string=query
        )
    return client.open(url, method=method, json=body, headers=headers, query_string=query)


def _success(operation) -> int:
    return min(int(code) for code in operation["responses"] if code.startswith("2"))


CASES = [
    "no key",
    "malformed",
    "unknown",
    "revoked",
    "suspended partner",
    "other partner",
    "wrong audience",
    "without scope",
    "right key",
]


@pytest.fixture(scope="module")
def world_template(tmp_path_factory) -> tuple[Path, World]:
    """A store holding the world, built once: each matrix case runs on a copy of the file (building the world
    for each of the hundreds of cases was most of the suite's time)."""
    folder = tmp_path_factory.mktemp("matrix-world")
    database = Database(f"sqlite:///{folder / 'gateway.sqlite3'}")
    app = create_app({"INSTANCE_PATH": str(folder), "LOG_LEVEL": "WARNING", **database.settings()})
    migrate.upgrade(app_store(app).engine)
    world = World(app)
    with app_store(app).engine.connect() as connection:  # everything into the main file before it is copied
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    app_store(app).dispose()
    check_emitted_events(database)
    return folder / "gateway.sqlite3", world


@pytest.fixture
def matrix_app(world_template, tmp_path):
    """A fresh app on a fresh copy of the world's store, and the world as that store holds it."""
    template, world = world_template
    database = Database(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    shutil.copyfile(template, tmp_path / "gateway.sqlite3")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "LOG_LEVEL": "WARNING", **database.settings()})
    yield app, world.on(app)
    app_store(app).dispose()
    check_emitted_events(database)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("endpoint", "rule", "method", "handler", "operation"), PROTECTED, ids=PROTECTED_IDS)
def test_auth_matrix(matrix_app, case, endpoint, rule, method, handler, operation):
    scope = getattr(handler, REQUIRED_SCOPE_ATTRIBUTE)
    app, world = matrix_app
    client = app.test_client()
    partner_route = scope in PARTNER_SCOPES
    owns_path_resource = ("<" in rule and rule not in SHARED_PATH_RESOURCES) or (rule, method) in BODY_NAMES_RESOURCE

    if case == "no key":
        headers, expected = {}, 401
    elif case == "malformed":
        headers, expected = {"Authorization": "Bearer not-a-gateway-key"}, 401
    elif case == "unknown":
        headers, expected = bearer(f"gw_{secrets.token_hex(6)}_{secrets.token_hex(24)}"), 401
    elif case == "revoked":
        headers, expected = bearer(world.revoked), 401
    elif case == "suspended partner":
        headers, expected = bearer(world.dormant), 403
    elif case == "other partner":
        # Another partner's resource must look missing (404), never forbidden (403, which would leak it).
        expected = (404 if owns_path_resource else _success(operation)) if partner_route else 403
        headers = bearer(world.beta)
    elif case == "wrong audience":
        headers, expected = bearer(world.service if scope != "service" else world.operator), 403
    elif case == "without scope":
        headers, expected = bearer(world.key_without(scope)), 403
    else:
        expected = REFUSED_WITH_THE_RIGHT_KEY.get((rule, method)) or _success(operation)
        headers = bearer(world.right_key(scope))

    response = _call(client, rule, method, world, headers)

    assert response.status_code == expected, response.get_data(as_text=True)
    if _tmf_api(rule):  # a TM Forum API answers its spec's definitions: an Error, or the documented resource
        definition = _tmf_definition(operation, expected)
        if expected >= 400:
            assert definition == "Error"
            assert response.json["status"] == str(expected)
        if definition is not None:
            assert response.mimetype == "application/json"
            body = response.json
            for item in body if isinstance(body, list) else [body]:
                assert_conforms(item, definition, spec_name=_tmf_api(rule))
        else:
            assert response.get_data() == b"", "a TMF answer documented without a body"
    elif expected >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == expected
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if case == "other partner" and expected < 400:
        # A list seen by the other partner holds none of alpha's resources.
        seen = response.get_data(as_text=True)
        assert world.endpoints["alpha"] not in seen
        assert not any(subscription_id in seen for subscription_id in world.subscriptions.values())
        assert not any(escalation_id in seen for escalation_id in world.escalations.values())
