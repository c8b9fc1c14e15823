"""The event catalog: published in the OpenAPI document's `webhooks`, complete, and what the code really emits."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from contracts.events import CATALOG
from contracts.export import generated_spec
from gateway.domain import escalations, lifecycle
from gateway.domain.clock import utcnow
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.notices import MEMBER_NOTICES, PARTNER_NOTICES
from gateway.domain.tmf import TmfApi
from gateway.services import deliveries as delivery_service
from gateway.services import hubs as hub_service
from gateway.services import subscriptions as subscription_service
from gateway.services.outbox import record_event
from gateway.store.models import OutboxEvent
from tests.support.event_validation import check_stored_events, event_errors, published_event_schemas, validators
from tests.support.seeding import Seeder, add_subscription

EVENT_NAMES = sorted(CATALOG)
STANDARD_WEBHOOK_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return generated_spec()


def test_the_catalog_names_exactly_the_event_types_the_code_can_emit():
    expected = {
        *lifecycle.EVENT_TYPES,
        *(event_type for event_type, _ in MEMBER_NOTICES),
        *(event_type for event_type, _ in PARTNER_NOTICES),
        "account.retention_expiring",
        "product_order.state_changed",  # services.product_orders, for each TMF622 order placed
        "subscription.created",  # services.subscriptions, for a partner with a TM Forum hub listening for it
        delivery_service.TEST_EVENT,
        escalations.EVENT_TYPE,
    }
    assert set(CATALOG) == expected


def test_the_webhooks_section_has_one_signed_post_per_event_type(spec):
    assert set(spec["webhooks"]) == set(CATALOG)
    parameters = spec["components"]["parameters"]
    for name, event in CATALOG.items():
        [method] = spec["webhooks"][name]
        operation = spec["webhooks"][name]["post"]
        assert method == "post"
        assert operation["summary"] == event.sent_when
        assert operation["description"]
        body = operation["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{event.component}"}
        assert body["example"] == event.example
        headers = [parameters[ref["$ref"].rsplit("/", 1)[1]] for ref in operation["parameters"]]
        assert {header["name"] for header in headers} == STANDARD_WEBHOOK_HEADERS
        assert all(header["in"] == "header" and header["required"] for header in headers)
        assert {"2XX", "410"} <= set(operation["responses"])


def test_the_served_document_carries_the_webhooks(client, spec):
    served = client.get("/openapi.json").json
    assert served["webhooks"] == spec["webhooks"]
    assert {name: served["components"]["schemas"][event.component] for name, event in CATALOG.items()} == {
        name: spec["components"]["schemas"][event.component] for name, event in CATALOG.items()
    }


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_example_validates_against_the_published_schema(name):
    example = CATALOG[name].example
    assert example["type"] == name
    assert event_errors(example) == []  # every object closed: the example uses documented keys only
    assert event_errors(example, strict=False) == []
    assert CATALOG[name].schema().validate(example) == {}  # the marshmallow schemas agree


def _missing_keys(schema: dict[str, Any], instance: Any, path: str) -> list[str]:
    """Documented properties absent from `instance`, at any depth."""
    if "anyOf" in schema:  # nullable: the branch that fits
        branches = [branch for branch in schema["anyOf"] if branch.get("type") != "null"]
        return [] if instance is None else _missing_keys(branches[0], instance, path)
    if not isinstance(instance, dict):
        return []
    missing = []
    for key, child in schema.get("properties", {}).items():
        if key not in instance:
            missing.append(f"{path}.{key}")
        else:
            missing += _missing_keys(child, instance[key], f"{path}.{key}")
    if isinstance(schema.get("additionalProperties"), dict):
        for key, value in instance.items():
            missing += _missing_keys(schema["additionalProperties"], value, f"{path}.{key}")
    return missing


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_example_is_complete(name):
    schema = published_event_schemas()[name]
    assert _missing_keys(schema, CATALOG[name].example, "event") == []


def test_subscription_events_carry_the_subscription_and_partner_events_do_not():
    for event in CATALOG.values():
        required = set(published_event_schemas()[event.name]["required"])
        assert {"id", "type", "occurred_at", "partner", "data"} <= required
        assert ({"subscription", "sequence"} <= required) is event.about_subscription, event.name
        assert ("subscription" in event.example) is event.about_subscription


def _broken(name: str, change) -> dict[str, Any]:
    event = copy.deepcopy(CATALOG[name].example)
    change(event)
    return event


BROKEN = {
    "a missing data key": ("subscription.suspended", lambda e: e["data"].pop("previous_status")),
    "a missing envelope key": ("subscription.activated", lambda e: e.pop("sequence")),
    "a subscription event without its subscription": ("subscription.purged", lambda e: e.pop("subscription")),
    "an actor outside the enumeration": ("subscription.resumed", lambda e: e["data"].update(actor="robot")),
    "a status this event cannot have": ("subscription.cancelled", lambda e: e["data"].update(status="active")),
    "a reason of another transition": ("subscription.suspended", lambda e: e["data"].update(reason="fraud")),
    "a number as text": ("subscription.resumed", lambda e: e.update(sequence="4")),
    "an amount as a number": ("sharing.extra_member_added", lambda e: e["data"]["price"].update(amount=4.99)),
    "a time that is not a date-time": ("subscription.suspended", lambda e: e["data"].update(effective_at="soon")),
    "a time without its offset": ("gateway.test", lambda e: e.update(occurred_at="2026-11-22T10:15:00")),
    "null where a value is required": ("subscription.activated", lambda e: e["data"].update(plan=None)),
    "an inactivity cancellation without its notice": ("subscription.cancelled", lambda e: e["data"].pop("notice")),
    "a notice missing its sms": ("account.keep_confirmed", lambda e: e["data"]["notice"].pop("sms")),
    "a misspelt optional key": (
        "subscription.cancelled",
        lambda e: e["data"].update(reason="fraud", notise=e["data"].pop("notice")),
    ),
    "an undocumented key": ("gateway.test", lambda e: e["data"].update(detail="x")),
    "an unknown event type": ("gateway.test", lambda e: e.update(type="gateway.tested")),
    "a type that is not its schema's": ("subscription.suspended", lambda e: e.update(type="subscription.resumed")),
    "a partner code in capitals": ("sharing.policy_effective", lambda e: e.update(partner="TELCO")),
    "an empty market list": ("sharing.policy_effective", lambda e: e["data"].update(markets=[])),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_event_is_refused(case):
    name, change = BROKEN[case]
    assert event_errors(_broken(name, change)) != []


def test_a_cancellation_for_another_reason_needs_no_notice():
    event = _broken("subscription.cancelled", lambda e: e["data"].update(reason="partner_churn"))
    event["data"].pop("notice")
    assert event_errors(event) == []
    assert CATALOG["subscription.cancelled"].schema().validate(event) == {}


def test_marshmallow_refuses_an_inactivity_cancellation_without_its_notice():
    event = _broken("subscription.cancelled", lambda e: e["data"].pop("notice"))
    assert "notice" in CATALOG["subscription.cancelled"].schema().validate(event)["data"]


def test_last_viewed_at_is_null_for_a_member_who_never_watched():
    event = _broken(
        "account.inactivity_warning", lambda e: e["data"].update(inactivity="never_watched", last_viewed_at=None)
    )
    assert event_errors(event) == []


def test_the_published_schemas_are_open_so_partners_keep_validating_when_fields_are_added(spec):
    event = _broken("sharing.policy_announced", lambda e: e.update(api_version="2027-01"))
    event["data"]["new_field"] = 1
    event["data"]["notice"]["html"] = "<p>…</p>"
    event["data"]["extra_member"]["prices"]["DE"]["tax_included"] = True
    assert validators(strict=False)["sharing.policy_announced"].is_valid(event)
    assert len(event_errors(event)) == 4  # and the suite's closed copy names each
    schemas = spec["components"]["schemas"]
    for event_type in CATALOG.values():
        assert schemas[event_type.component]["additionalProperties"] is True
        assert schemas[event_type.data_component]["additionalProperties"] is True


# -- what the code emits -------------------------------------------------------------------------------------------


def _apply(session, subscription, command: Command, actor: Actor, reason: str, now, **options) -> None:
    subscription_service.apply_command(session, subscription, command, actor=actor, reason=reason, now=now, **options)


def _warn(subscription, now) -> None:
    # Campaigns warn in bulk (the inactivity campaign); the warning's sub-state is all the commands need here.
    subscription.inactivity_warned_at, subscription.inactivity_respond_by = now, now + timedelta(days=14)


def test_the_events_the_use_cases_record_match_the_catalog(store):
    Seeder(store).partner("nordlink")
    now = utcnow()
    with store.transaction() as session:  # a TM Forum hub listening for creations: subscription.created is recorded
        hub_service.register_hub(
            session,
            "nordlink",
            TmfApi.PRODUCT_INVENTORY,
            callback="https://hooks.example.net/tmf",
            query="eventType=ProductCreateEvent",
            allow_private=False,
            now=now,
        )
    with store.transaction() as session:
        lives = add_subscription(session, "nordlink", "lives", now=now)
        _apply(session, lives, Command.CHANGE_PLAN, Actor.PARTNER, "", now, plan="premium")
        _apply(session, lives, Command.CHANGE_PLAN, Actor.MEMBER, "", now, plan="standard_with_ads")
        subscription_service.apply_pending_downgrade(session, lives, lives.pending_plan_at)  # the scheduler's part
        _apply(session, lives, Command.SUSPEND, Actor.PARTNER, "non_payment", now)
        _apply(session, lives, Command.RESUME, Actor.PARTNER, "payment_recovered", now)
        _apply(session, lives, Command.SCHEDULE_CANCELLATION, Actor.PARTNER, "member_request", now)
        _apply(session, lives, Command.REVERT_CANCELLATION, Actor.PARTNER, "member_request", now)
        _apply(session, lives, Command.SCHEDULE_CANCELLATION, Actor.PARTNER, "member_request", now)
        in_app = add_subscription(session, "nordlink", "in-app", now=now, billed_by="service")
        _apply(session, in_app, Command.SCHEDULE_CANCELLATION, Actor.MEMBER, "member_request", now)
        _apply(session, in_app, Command.REVERT_CANCELLATION, Actor.MEMBER, "member_request", now)
        ended = lives.access_until
        _apply(session, lives, Command.END_PERIOD, Actor.SCHEDULER, "billing_period_ended", ended)
        _apply(session, lives, Command.REJOIN, Actor.MEMBER, "member_rejoined", ended)
        _apply(session, lives, Command.CANCEL_NOW, Actor.SERVICE, "fraud", ended)
        subscription_service.record_subscription_notice(
            session,
            lives,
            "account.retention_expiring",
            reason="retention_expiring",
            actor=Actor.SCHEDULER,
            now=now,
            data={"retention_until": lives.retention_until.isoformat()},
            context={"retention_until": lives.retention_until},
        )
        _apply(session, lives, Command.PURGE, Actor.SCHEDULER, "retention_expired", lives.retention_until)

        never = add_subscription(session, "nordlink", "never", now=now, active=False)
        _apply(session, never, Command.EXPIRE_ACTIVATION, Actor.SCHEDULER, "activation_expired", now)

        idle = add_subscription(session, "nordlink", "idle", now=now)
        _warn(idle, now)
        _apply(session, idle, Command.CONFIRM_KEEP, Actor.MEMBER, "viewing_activity", now)
        _warn(idle, now)
        _apply(session, idle, Command.CANCEL_INACTIVE, Actor.SCHEDULER, "inactivity", now)
        delivery_service.send_test_event(session, "nordlink", now=now)

    check_stored_events(store.engine)
    with store.read() as session:
        emitted = set(session.scalars(select(OutboxEvent.event_type)))
    assert emitted == {
        *(name for name in CATALOG if name.startswith("subscription.")),
        "account.keep_confirmed",
        "account.retention_expiring",
        "gateway.test",
    }


def test_an_event_off_the_catalog_fails_the_check_naming_it(store):
    Seeder(store).partner("nordlink")
    with store.transaction() as session:
        wrong = record_event(
            session,
            partner_code="nordlink",
            event_type="gateway.test",
            occurred_at=utcnow(),
            data={"message": 42},
        )
        event_id = wrong.event_id
    with pytest.raises(AssertionError, match=rf"gateway\.test {event_id}: data/message: 42 is not of type"):
        check_stored_events(store.engine)
    with store.transaction() as session:  # leave nothing for the database fixture's own check to refuse
        session.execute(delete(OutboxEvent).where(OutboxEvent.event_id == event_id))
