"""The event catalog: every event partners receive, its schema, when it is sent, and a complete example.

Published as the `webhooks` section of the OpenAPI document (gateway.api.http.webhooks_doc); the suite validates every
event the code records against that document (tests/support/event_validation.py).

Every event is an envelope, {id, type, occurred_at, partner, data}, plus {subscription, sequence} for events about
one subscription. Each type's `data` has a schema of its own.

Forward compatibility: every object is open (`additionalProperties: true`). The gateway may add a field to an
event without notice and partners must ignore fields they do not know; a documented field is never removed,
renamed or retyped. The openness is for partners only: the suite validates what the code emits against a closed
copy of each schema, so a key missing from this catalog, misspelt or of the wrong type fails the test that emitted it.
Enumerations are built from the code's own tables (statuses, actors, reasons per transition), so they grow with it;
partners should treat a value they do not know as "something else happened" rather than as an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from gateway.domain import escalations
from gateway.domain.lifecycle import PARTNER_BILLED, SERVICE_BILLED, Actor, Status, changes_sending
from gateway.domain.partners import LOCALE, PARTNER_CODE
from gateway.domain.plans import PLANS
from gateway.domain.product_orders import FINAL_STATES, ITEM_STATES, ItemAction
from gateway.domain.sharing import RULES

UTC_TIME = "ISO 8601 date-time in UTC."
COUNTRY = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
AMOUNT = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")  # a decimal as text: no rounding on the way
CURRENCY = re.compile(r"^[A-Z]{3}$")  # ISO 4217


class EventSchema(Schema):
    """The base of every event shape: unknown fields are kept, so a partner's copy of these schemas keeps
    validating when the gateway adds a field (see the module docstring)."""

    class Meta:
        unknown = INCLUDE

    # Extra JSON Schema keywords for the published component, for rules marshmallow fields cannot state.
    json_schema_extra: ClassVar[dict[str, Any]] = {}


def _time(description: str, **options: Any) -> fields.DateTime:
    return fields.DateTime(required=True, metadata={"description": f"{description} {UTC_TIME}"}, **options)


def _one_of(values: Iterable[str], description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(sorted(str(value) for value in values)),
        metadata={"description": description},
    )


def _text(description: str, **options: Any) -> fields.String:
    return fields.String(required=True, metadata={"description": description}, **options)


def _markets() -> fields.List:
    return fields.List(
        fields.String(validate=validate.Regexp(COUNTRY)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "ISO 3166-1 alpha-2 country codes.", "example": ["DE", "AT"]},
    )


# -- shared parts ------------------------------------------------------------------------------------------------


class EventNoticeSchema(EventSchema):
    """Text rendered for the member (or, in sharing-policy events, the partner's call center), ready to send."""

    locale = _text(
        "BCP 47: the language the text is written in (the nearest one there is a text for).",
        validate=validate.Regexp(LOCALE),
    )
    subject = _text("For an email subject or a notification title.", validate=validate.Length(min=1))
    body = _text("Plain text; paragraphs separated by one blank line.", validate=validate.Length(min=1))
    sms = _text("Fits one SMS.", validate=validate.Length(min=1))


def _notice(required: bool = True) -> fields.Nested:
    return fields.Nested(EventNoticeSchema, required=required, metadata={"description": "The text to show."})


class EventSubscriptionRefSchema(EventSchema):
    """Which subscription the event is about."""

    id = _text("The gateway's subscription id.", validate=validate.Regexp(r"^sub_"))
    partner_ref = _text("The partner's own reference for it.", validate=validate.Length(min=1, max=100))


class EventPriceSchema(EventSchema):
    amount = _text("A decimal number as text, e.g. 4.99.", validate=validate.Regexp(AMOUNT))
    currency = _text("ISO 4217 code.", validate=validate.Regexp(CURRENCY))


class EventExtraMemberOfferSchema(EventSchema):
    """Who may add a member outside the household, and at what price per market."""

    plans = fields.List(fields.String(validate=validate.OneOf(PLANS)), required=True)
    prices = fields.Dict(
        keys=fields.String(validate=validate.Regexp(COUNTRY)),
        values=fields.Nested(EventPriceSchema),
        required=True,
        metadata={"description": "Per market (ISO 3166-1 alpha-2): the monthly price of an extra member."},
    )
    partner_billed_eligible = fields.Boolean(
        required=True, metadata={"description": "Whether partner-billed plans may add an extra member."}
    )


# -- envelopes ---------------------------------------------------------------------------------------------------


class EventEnvelopeSchema(EventSchema):
    id = _text(
        "Unique per event and the same on every retry (standard flavour: also the webhook-id): drop duplicates by it.",
        validate=validate.Regexp(r"^evt_[0-9a-f]+$"),
    )
    type = _text("The event type: one of the catalog's names.")
    occurred_at = _time("When the change happened.")
    partner = _text("The partner code.", validate=validate.Regexp(PARTNER_CODE))


class SubscriptionEventEnvelopeSchema(EventEnvelopeSchema):
    subscription = fields.Nested(EventSubscriptionRefSchema, required=True)
    sequence = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "Numbers the subscription's events 1, 2, 3, ... with no gap: every change in its "
            "history after the creation (which is 0) sends exactly one event, with the change's number. Apply a "
            "subscription's events in this order and ignore one older than one applied; a missing number is an "
            "event that has not reached you yet (read it from the event feed)."
        },
    )


class CreationEventEnvelopeSchema(EventEnvelopeSchema):
    """subscription.created: the creation is the subscription's history entry 0."""

    subscription = fields.Nested(EventSubscriptionRefSchema, required=True)
    sequence = fields.Integer(
        required=True,
        validate=validate.OneOf([0]),
        metadata={"description": "Always 0: the creation, before every change the subscription's other events number."},
    )


# -- lifecycle data ----------------------------------------------------------------------------------------------


class SubscriptionCreatedDataSchema(EventSchema):
    """The partner created the subscription (through /v1 or a TM Forum product order): it waits for the member to
    activate it by `activation_expires_at`. Sent only to endpoints that ask for it by type (TM Forum hubs
    listening for ProductCreateEvent), and recorded only while a partner has one: plain webhook endpoints never
    receive it."""

    status = _one_of([Status.PENDING_ACTIVATION], "The new subscription's status.")
    reason = _one_of(["created"], "Why the event is sent.")
    actor = _one_of([Actor.PARTNER], "Who created it.")
    plan = _one_of(PLANS, "Its plan.")
    market = _text("ISO 3166-1 alpha-2 country code.", validate=validate.Regexp(COUNTRY))
    locale = _text("BCP 47: the member's language.", validate=validate.Regexp(LOCALE))
    billed_by = _one_of([PARTNER_BILLED, SERVICE_BILLED], "Who bills the member.")
    billing_anchor = fields.Date(required=True, metadata={"description": "The day billing periods start from."})
    activation_expires_at = _time("Unless the member activates it by then, it is cancelled.")


def lifecycle_data(event_type: str) -> type[EventSchema]:
    """The keys every lifecycle event's data has, with the values the transition table allows for this event."""
    found = changes_sending(event_type)
    if not found:
        raise LookupError(f"no transition sends {event_type}")
    statuses = {status for t in found for status in ([t.target] if t.target is not None else t.sources)}
    attributes = {
        "status": _one_of(statuses, "The subscription's status after the change."),
        "previous_status": _one_of({s for t in found for s in t.sources}, "Its status before."),
        "reason": _one_of({r for t in found for r in t.reasons}, "Why it changed."),
        "actor": _one_of({a for t in found for a in t.actors}, "Who made the change."),
        "effective_at": _time("When the change takes effect."),
        "plan": _one_of(PLANS, "The subscription's plan after the change."),
    }
    return type(f"LifecycleData_{event_type.replace('.', '_')}", (EventSchema,), attributes)


class SubscriptionActivatedDataSchema(lifecycle_data("subscription.activated")):
    """The member linked or created a streaming account with the activation code: access starts."""


class SubscriptionPlanChangedDataSchema(lifecycle_data("subscription.plan_changed")):
    """An upgrade holds at once. A downgrade is sent twice: when it is asked for (reason `downgrade`, `effective_at`
    the start of the next billing period), and when it takes hold then (actor `scheduler`, reason
    `billing_period_ended`). `plan` is the new plan."""

    previous_plan = _one_of(PLANS, "The plan before the change.")
    change = _one_of(
        ["downgrade", "upgrade"],
        "The direction of the change (also the reason, unless the scheduler applies a downgrade asked for earlier).",
    )


class SubscriptionSuspendedDataSchema(lifecycle_data("subscription.suspended")):
    """The partner reported non-payment: no access until it is resumed."""


class SubscriptionResumedDataSchema(lifecycle_data("subscription.resumed")):
    """The partner reported the payment recovered: access is back."""


class SubscriptionCancellationScheduledDataSchema(lifecycle_data("subscription.cancellation_scheduled")):
    """The member asked to cancel: access continues until the billing period ends (`access_until`). Carries the
    member's confirmation."""

    access_until = _time("The end of the billing period: access and billing stop then.")
    notice = _notice()


class SubscriptionCancellationRevertedDataSchema(lifecycle_data("subscription.cancellation_reverted")):
    """The member changed their mind before the period ended: the subscription continues."""


NOTICE_REASONS = frozenset({"inactivity", "billing_period_ended"})  # cancellations the member is told of


class SubscriptionCancelledDataSchema(lifecycle_data("subscription.cancelled")):
    """No more access; stop billing at `billing_stop_at`. The profile is kept until `retention_until` (a rejoin
    restores it). A cancellation for inactivity (reason `inactivity`), and the member's own taking effect at
    the period end (reason `billing_period_ended`), carry the member's notice."""

    billing_stop_at = _time("Stop charging from this moment.")
    retention_until = _time("Profile, list and settings are kept until then.")
    notice = _notice(required=False)

    json_schema_extra: ClassVar[dict[str, Any]] = {
        "if": {"properties": {"reason": {"enum": sorted(NOTICE_REASONS)}}, "required": ["reason"]},
        "then": {"required": ["notice"]},
    }

    @validates_schema
    def _members_cancellations_carry_a_notice(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("reason") in NOTICE_REASONS and "notice" not in data:
            raise ValidationError("This cancellation carries the member's notice.", "notice")


class SubscriptionReactivatedDataSchema(lifecycle_data("subscription.reactivated")):
    """The member rejoined within the retention window: access is back, profile, list and settings restored."""

    restored = fields.Boolean(
        required=True, validate=validate.OneOf([True]), metadata={"description": "The kept profile is restored."}
    )
    notice = _notice()


class SubscriptionPurgedDataSchema(lifecycle_data("subscription.purged")):
    """The retention window ended: the member's data is deleted; only the partner reference and history remain."""


class AccountInactivityWarningDataSchema(lifecycle_data("account.inactivity_warning")):
    """An inactivity campaign found the membership unused: the member must confirm by `respond_by` to keep it."""

    campaign_id = _text("The campaign run that warned.")
    respond_by = _time("Without an answer (or viewing) by then, the subscription is cancelled.")
    inactivity = _one_of(["idle", "never_watched"], "Never watched since joining, or idle for too long.")
    last_viewed_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": f"The last viewing; null if never. {UTC_TIME}"}
    )
    notice = _notice()


class AccountKeepConfirmedDataSchema(lifecycle_data("account.keep_confirmed")):
    """The warned member confirmed (or the partner for them, or they watched something): the membership stays."""

    respond_by = _time("The answer date of the warning this closes.")
    notice = _notice()


# -- notices that change no status -------------------------------------------------------------------------------


class AccountRetentionExpiringDataSchema(EventSchema):
    """A cancelled member's kept profile is about to be deleted: rejoining before `retention_until` restores it."""

    status = _one_of([Status.CANCELLED], "The subscription's status (unchanged).")
    reason = _one_of(["retention_expiring"], "Why the event is sent.")
    actor = _one_of([Actor.SCHEDULER], "Who sent it.")
    retention_until = _time("The profile is deleted then.")
    notice = _notice()


class SharingHouseholdVerificationRequiredDataSchema(EventSchema):
    """The account is used outside its household: the member must verify the household by `verify_by`."""

    status = _one_of(Status, "The subscription's status (unchanged).")
    reason = _text("Why verification is required.")
    actor = _one_of([Actor.SERVICE], "Who asks.")
    verify_by = _time("The member verifies the household by then.")
    notice = _notice()


class SharingExtraMemberAddedDataSchema(EventSchema):
    """An extra member (outside the household) was added to the account at `price` a month."""

    status = _one_of(Status, "The subscription's status (unchanged).")
    reason = _text("Why it was added.")
    actor = _one_of(Actor, "Who added it.")
    price = fields.Nested(EventPriceSchema, required=True, metadata={"description": "The monthly price."})
    notice = _notice()


class SharingExtraMemberRemovedDataSchema(EventSchema):
    """The extra member was removed from the account."""

    status = _one_of(Status, "The subscription's status (unchanged).")
    reason = _text("Why it was removed.")
    actor = _one_of(Actor, "Who removed it.")
    notice = _notice()


# -- partner events (about no one subscription) ------------------------------------------------------------------


class SharingPolicyAnnouncedDataSchema(EventSchema):
    """A sharing-policy change for the partner's markets, ahead of its effective date: brief the call center.
    Acknowledge it, or reminders follow."""

    notice_id = _text("This partner's copy of the announcement: acknowledge it by this id.")
    policy_id = _text("The policy.")
    markets = _markets()
    rule = _one_of(RULES, "The rule the policy brings in.")
    rule_description = _text("The rule in plain words, for the call center.")
    effective_at = _time("When the rule takes effect.")
    publish_at = _time("The embargo: say nothing to customers before then.")
    extra_member = fields.Nested(EventExtraMemberOfferSchema, required=True)
    notice = _notice()


class SharingPolicyEffectiveDataSchema(EventSchema):
    """An announced sharing policy takes effect now in these markets."""

    notice_id = _text("This partner's copy of the announcement.")
    policy_id = _text("The policy.")
    markets = _markets()
    rule = _one_of(RULES, "The rule now in effect.")
    effective_at = _time("When it took effect.")
    notice = _notice()


class SharingAcknowledgementReminderDataSchema(EventSchema):
    """The partner has not acknowledged an announced sharing policy yet."""

    notice_id = _text("This partner's copy of the announcement: acknowledge it by this id.")
    policy_id = _text("The policy.")
    markets = _markets()
    effective_at = _time("When the policy takes effect.")
    reminder = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "1 for the first reminder, and so on."}
    )
    notice = _notice()


class GatewayTestDataSchema(EventSchema):
    """An operator asked for a test event: it travels the whole path (outbox, dispatcher, your endpoint)."""

    message = _text("Says it is a test; no action is needed.")


# -- product orders (TMF622; an order may touch several subscriptions, so it is about none) ----------------------


class ProductOrderItemOutcomeSchema(EventSchema):
    """How one item of the order went."""

    id = _text("The item's id, as the order named it.")
    action = _one_of(ItemAction, "What the item asked: add, modify, delete or noChange (TMF622 action).")
    state = _one_of(ITEM_STATES, "completed: carried out; failed: refused (see `refusal`), nothing of it applied.")
    product_id = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Regexp(r"^sub_"),
        metadata={
            "description": "The product (the gateway's subscription id) the item is about; for an add item, the one "
            "it created. Null for an add item that failed."
        },
    )
    refusal = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why a failed item was refused, as the /v1 API's 409 says it; null otherwise."},
    )


class ProductOrderStateChangedDataSchema(EventSchema):
    """A product order the partner placed through TMF622 reached its final state. The order's items drive the same
    lifecycle commands as /v1, each reported by its own subscription event as well; this event tells the order's
    outcome. A hub registered for ProductOrderStateChangeEvent receives it as that TMF event."""

    order_id = _text("The order (its TMF622 id).", validate=validate.Regexp(r"^po_"))
    external_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The partner's own id for the order (externalId)."}
    )
    state = _one_of(sorted(FINAL_STATES), "completed: every item carried out; failed: none; partial: some.")
    order_date = _time("When the order was placed.")
    completion_date = _time("When it reached this state.")
    items = fields.List(fields.Nested(ProductOrderItemOutcomeSchema), required=True, validate=validate.Length(min=1))


# -- escalations (about a subscriber, not a change of its subscription) -----------------------------------------


class EscalationUpdatedDataSchema(EventSchema):
    """A call-center escalation changed: opened, acknowledged, started, resolved, closed, reopened or commented.
    The case is not a change of the subscription, so the event has no `sequence`: order a case's events by
    `version` (it grows with every change; ignore one older than one applied). It is delivered in order with the
    subscriber's other events."""

    escalation_id = _text("The escalation.", validate=validate.Regexp(r"^esc_"))
    subscription = fields.Nested(EventSubscriptionRefSchema, required=True, metadata={"description": "The subscriber."})
    category = _one_of(escalations.Category, "What the case is about.")
    priority = _one_of(escalations.Priority, "Its priority; the SLA follows from it.")
    status = _one_of(escalations.Status, "The case's status after the change.")
    previous_status = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(sorted(escalations.Status)),
        metadata={"description": "Its status before; null when the change opened it or was a comment."},
    )
    change = _one_of(escalations.CHANGES, "What happened.")
    side = _one_of(escalations.Side, "Who made the change: the partner's call center or the streaming service.")
    author = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The agent (partner) or support member (service) who made it; null when the service "
            "acted through its systems (never the key it used)."
        },
    )
    comment = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The comment, resolution note or reason to reopen; null when there is none."},
    )
    description = _text("What the agent wrote when opening the case.")
    sla_due_at = _time("When the service should have resolved it (restarted by a reopening).")
    opened_at = _time("When the case was opened.")
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "The case's version after the change (its ETag is v<version>)."},
    )


# -- the catalog -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    sent_when: str  # one line
    data: type[EventSchema]
    example: dict[str, Any]
    about_subscription: bool
    schema: type[EventEnvelopeSchema]  # the whole event: envelope and data

    @property
    def component(self) -> str:
        """The event's name in the OpenAPI document's components/schemas."""
        return self.schema.__name__.removesuffix("Schema")

    @property
    def data_component(self) -> str:
        return self.data.__name__.removesuffix("Schema")


def _envelope(
    name: str, data: type[EventSchema], about_subscription: bool, base: type[EventEnvelopeSchema] | None = None
) -> type[EventEnvelopeSchema]:
    base = base or (SubscriptionEventEnvelopeSchema if about_subscription else EventEnvelopeSchema)
    title = "".join(part.title() for part in re.split(r"[._]", name))
    return type(
        f"{title}EventSchema",
        (base,),
        {
            "type": fields.String(required=True, validate=validate.OneOf([name]), metadata={"description": name}),
            "data": fields.Nested(data, required=True),
        },
    )


PARTNER = "telco-de"
SUBSCRIPTION = {"id": "sub_5d0c8e1f3a7b9c2e4f60", "partner_ref": "cust-000123"}


def _example(name: str, occurred_at: str, data: dict[str, Any], sequence: int | None) -> dict[str, Any]:
    event = {
        "id": "evt_" + hashlib.sha256(name.encode()).hexdigest()[:20],
        "type": name,
        "occurred_at": occurred_at,
        "partner": PARTNER,
    }
    if sequence is not None:
        event |= {"subscription": SUBSCRIPTION, "sequence": sequence}
    return event | {"data": data}


def _event(
    name: str,
    sent_when: str,
    data: type[EventSchema],
    occurred_at: str,
    example_data: dict,
    sequence: int | None,
    envelope: type[EventEnvelopeSchema] | None = None,
) -> CatalogEntry:
    about_subscription = sequence is not None
    example = _example(name, occurred_at, example_data, sequence)
    schema = _envelope(name, data, about_subscription, envelope)
    return CatalogEntry(name, sent_when, data, example, about_subscription, schema)


def _notice_text(subject: str, body: str, sms: str, locale: str = "en") -> dict[str, str]:
    return {"locale": locale, "subject": subject, "body": body, "sms": sms}


def _lifecycle(status, previous, reason, actor, effective_at, plan="standard", **more) -> dict[str, Any]:
    return {
        "status": status,
        "previous_status": previous,
        "reason": reason,
        "actor": actor,
        "effective_at": effective_at,
        "plan": plan,
        **more,
    }


RESTORED_NOTICE = _notice_text(
    "Welcome back to Streamly",
    "Your Streamly membership through Telco DE is active again.\n\n"
    "Your profiles, your list and your settings are just as you left them.",
    "Streamly: welcome back! Your membership through Telco DE is active again, profiles and list restored.",
)
INACTIVITY_CANCELLED_NOTICE = _notice_text(
    "Your Streamly membership has ended",
    "We did not hear from you, so your Streamly membership through Telco DE has ended and billing has "
    "stopped.\n\nWe keep your profiles, list and settings until 6 October 2027: rejoin before then at "
    "https://streaming.example/rejoin and everything is as you left it.",
    "Streamly: your membership through Telco DE has ended. Rejoin by 6 October 2027 to keep your profiles.",
)
CANCELLATION_CONFIRMED_NOTICE = _notice_text(
    "Your Streamly cancellation is confirmed",
    "As you asked, your Streamly membership through Telco DE ends on 2 December 2026. You can keep watching "
    "until then: that time is already paid for.\n\nTelco DE stops charging you for Streamly from that date. "
    "Changed your mind? Tell Telco DE before 2 December 2026 and your membership simply continues.",
    "Streamly: your cancellation is confirmed. You can keep watching until 2 December 2026.",
)
WARNING_NOTICE = _notice_text(
    "Do you still want your Streamly membership?",
    "You have not watched anything on Streamly for a long time. If you want to keep your membership through "
    "Telco DE, confirm by 6 December 2026 at https://streaming.example/keep or simply watch something.\n\n"
    "Otherwise the membership ends then and your partner stops billing for it.",
    "Streamly: keep your membership? Confirm by 6 December 2026 at https://streaming.example/keep",
)
KEPT_NOTICE = _notice_text(
    "Your Streamly membership stays active",
    "Thank you for letting us know. Your Streamly membership through Telco DE stays active and nothing "
    "changes for you.\n\nYou can keep watching as before.",
    "Streamly: thanks, your membership through Telco DE stays active.",
)
POLICY = {"notice_id": "ntc_0b6f2d8e4a1c3e5f7a90", "policy_id": "shp_7e3a1c9b5d2f4e6a8c01", "markets": ["DE", "AT"]}
ONE_HOUSEHOLD = "one_household"

# fmt: off
CATALOG: dict[str, CatalogEntry] = {
    event.name: event
    for event in [
        _event("subscription.created",
               "A subscription was created (only to endpoints that ask for it, such as TM Forum hubs).",
               SubscriptionCreatedDataSchema, "2026-11-01T16:00:00+00:00",
               {"status": "pending_activation", "reason": "created", "actor": "partner", "plan": "standard",
                "market": "DE", "locale": "de-DE", "billed_by": "partner", "billing_anchor": "2026-11-01",
                "activation_expires_at": "2026-12-01T16:00:00+00:00"},
               0, CreationEventEnvelopeSchema),
        _event("subscription.activated",
               "The member linked or created a streaming account with the activation code.",
               SubscriptionActivatedDataSchema, "2026-11-02T09:30:00+00:00",
               _lifecycle("active", "pending_activation", "account_linked", "service", "2026-11-02T09:30:00+00:00"),
               1),
        _event("subscription.plan_changed",
               "The plan changed: an upgrade at once; a downgrade when asked for and again when it takes hold at "
               "the next billing period.",
               SubscriptionPlanChangedDataSchema, "2026-11-10T14:00:00+00:00",
               _lifecycle("active", "active", "upgrade", "partner", "2026-11-10T14:00:00+00:00", plan="premium",
                          previous_plan="standard", change="upgrade"),
               2),
        _event("subscription.suspended",
               "The partner reported non-payment: access stops until it is resumed.",
               SubscriptionSuspendedDataSchema, "2026-11-12T08:00:00+00:00",
               _lifecycle("suspended", "active", "non_payment", "partner", "2026-11-12T08:00:00+00:00"),
               3),
        _event("subscription.resumed",
               "The partner reported the payment recovered: access is back.",
               SubscriptionResumedDataSchema, "2026-11-13T08:00:00+00:00",
               _lifecycle("active", "suspended", "payment_recovered", "partner", "2026-11-13T08:00:00+00:00"),
               4),
        _event("subscription.cancellation_scheduled",
               "The member asked to cancel: access continues until the billing period ends.",
               SubscriptionCancellationScheduledDataSchema, "2026-11-20T18:45:00+00:00",
               _lifecycle("cancellation_scheduled", "active", "member_request", "partner", "2026-12-02T00:00:00+00:00",
                          access_until="2026-12-02T00:00:00+00:00", notice=CANCELLATION_CONFIRMED_NOTICE),
               5),
        _event("subscription.cancellation_reverted",
               "The member withdrew a scheduled cancellation before the period ended.",
               SubscriptionCancellationRevertedDataSchema, "2026-11-21T10:00:00+00:00",
               _lifecycle("active", "cancellation_scheduled", "member_request", "partner",
                          "2026-11-21T10:00:00+00:00"),
               6),
        _event("subscription.cancelled",
               "The subscription ended (period end, at once, unused activation or inactivity): stop billing.",
               SubscriptionCancelledDataSchema, "2026-12-06T00:05:00+00:00",
               _lifecycle("cancelled", "active", "inactivity", "scheduler", "2026-12-06T00:05:00+00:00",
                          billing_stop_at="2026-12-06T00:05:00+00:00", retention_until="2027-10-06T00:05:00+00:00",
                          notice=INACTIVITY_CANCELLED_NOTICE),
               8),
        _event("subscription.reactivated",
               "A cancelled member rejoined within the retention window: access and profile are back.",
               SubscriptionReactivatedDataSchema, "2027-01-15T19:20:00+00:00",
               _lifecycle("active", "cancelled", "member_rejoined", "member", "2027-01-15T19:20:00+00:00",
                          restored=True, notice=RESTORED_NOTICE),
               9),
        _event("subscription.purged",
               "The retention window ended: the member's data is deleted.",
               SubscriptionPurgedDataSchema, "2027-10-06T00:05:00+00:00",
               _lifecycle("purged", "cancelled", "retention_expired", "scheduler", "2027-10-06T00:05:00+00:00"),
               10),
        _event("account.inactivity_warning",
               "An inactivity campaign warned the member: confirm by respond_by or the subscription is cancelled.",
               AccountInactivityWarningDataSchema, "2026-11-22T06:00:00+00:00",
               _lifecycle("active", "active", "inactivity", "scheduler", "2026-11-22T06:00:00+00:00",
                          campaign_id="cmp_3c5e7a9b1d2f4a6c8e00", respond_by="2026-12-06T00:00:00+00:00",
                          inactivity="idle", last_viewed_at="2024-10-03T21:14:00+00:00", notice=WARNING_NOTICE),
               7),
        _event("account.keep_confirmed",
               "The warned member confirmed (or the partner for them, or they watched something): nothing ends.",
               AccountKeepConfirmedDataSchema, "2026-11-24T12:00:00+00:00",
               _lifecycle("active", "active", "member_confirmed", "member", "2026-11-24T12:00:00+00:00",
                          respond_by="2026-12-06T00:00:00+00:00", notice=KEPT_NOTICE),
               8),
        _event("account.retention_expiring",
               "A cancelled member's kept profile will be deleted soon unless they rejoin.",
               AccountRetentionExpiringDataSchema, "2027-09-06T00:05:00+00:00",
               {"status": "cancelled", "reason": "retention_expiring", "actor": "scheduler",
                "retention_until": "2027-10-06T00:05:00+00:00",
                "notice": _notice_text(
                    "Your Streamly profile will be deleted on 6 October 2027",
                    "Your Streamly membership ended, but we kept your profiles, list and settings.\n\n"
                    "Rejoin at https://streaming.example/rejoin before 6 October 2027 to keep them.",
                    "Streamly: rejoin by 6 October 2027 to keep your profiles and list.")},
               9),
        _event("sharing.household_verification_required",
               "The account is used outside its household: the member must verify the household.",
               SharingHouseholdVerificationRequiredDataSchema, "2027-02-03T11:00:00+00:00",
               {"status": "active", "reason": "outside_household", "actor": "service",
                "verify_by": "2027-02-17T11:00:00+00:00",
                "notice": _notice_text(
                    "Bitte bestätige deinen Haushalt",
                    "Dein Streamly-Konto wird außerhalb deines Haushalts genutzt. Bitte bestätige deinen "
                    "Haushalt bis zum 17. Februar 2027.",
                    "Streamly: Bitte bestätige deinen Haushalt bis zum 17. Februar 2027.", locale="de")},
               11),
        _event("sharing.extra_member_added",
               "An extra member (someone outside the household) was added to the account.",
               SharingExtraMemberAddedDataSchema, "2027-02-05T16:30:00+00:00",
               {"status": "active", "reason": "member_request", "actor": "member",
                "price": {"amount": "4.99", "currency": "EUR"},
                "notice": _notice_text(
                    "An extra member was added to your Streamly account",
                    "An extra member now shares your Streamly account for 4.99 EUR a month.",
                    "Streamly: extra member added for 4.99 EUR a month.")},
               12),
        _event("sharing.extra_member_removed",
               "The extra member was removed from the account.",
               SharingExtraMemberRemovedDataSchema, "2027-03-01T09:00:00+00:00",
               {"status": "active", "reason": "member_request", "actor": "member",
                "notice": _notice_text(
                    "The extra member was removed from your Streamly account",
                    "The extra member no longer shares your Streamly account and is no longer charged.",
                    "Streamly: the extra member was removed from your account.")},
               13),
        _event("sharing.policy_announced",
               "A sharing-policy change for the partner's markets, ahead of its date: brief the call center.",
               SharingPolicyAnnouncedDataSchema, "2027-01-01T08:00:00+00:00",
               {**POLICY, "rule": ONE_HOUSEHOLD, "rule_description": RULES[ONE_HOUSEHOLD],
                "effective_at": "2027-02-01T00:00:00+00:00", "publish_at": "2027-01-01T08:00:00+00:00",
                "extra_member": {"plans": ["standard", "premium"],
                                 "prices": {"DE": {"amount": "4.99", "currency": "EUR"},
                                            "AT": {"amount": "4.99", "currency": "EUR"}},
                                 "partner_billed_eligible": False},
                "notice": _notice_text(
                    "Streamly: new sharing rules from 1 February 2027 (DE, AT)",
                    "From 1 February 2027 a Streamly account is shared by one household in Germany and Austria. "
                    "Members on the standard and premium plans may add an extra member for 4.99 EUR a month; "
                    "partner-billed plans may not.\n\nPlease brief your agents before that date.",
                    "Streamly: one household per account from 1 February 2027 (DE, AT).")},
               None),
        _event("sharing.policy_effective",
               "An announced sharing policy takes effect now.",
               SharingPolicyEffectiveDataSchema, "2027-02-01T00:00:00+00:00",
               {**POLICY, "rule": ONE_HOUSEHOLD, "effective_at": "2027-02-01T00:00:00+00:00",
                "notice": _notice_text(
                    "Streamly: the new sharing rules apply from today (DE, AT)",
                    "From today a Streamly account is shared by one household in Germany and Austria.",
                    "Streamly: one household per account from today (DE, AT).")},
               None),
        _event("sharing.acknowledgement_reminder",
               "The partner has not acknowledged an announced sharing policy yet.",
               SharingAcknowledgementReminderDataSchema, "2027-01-04T08:00:00+00:00",
               {**POLICY, "effective_at": "2027-02-01T00:00:00+00:00", "reminder": 1,
                "notice": _notice_text(
                    "Reminder: please acknowledge the new Streamly sharing rules",
                    "New sharing rules apply from 1 February 2027 in Germany and Austria. Please confirm that "
                    "your call center has been briefed.",
                    "Streamly: please acknowledge the sharing rules from 1 February 2027.")},
               None),
        _event(escalations.EVENT_TYPE,
               "A call-center escalation was opened, changed status or got a comment, from either side.",
               EscalationUpdatedDataSchema, "2026-11-25T10:40:00+00:00",
               {"escalation_id": "esc_4a8c2e6f0b1d3f5a7c90", "subscription": SUBSCRIPTION,
                "category": "inactivity_cancellation", "priority": "high", "status": "resolved",
                "previous_status": "in_progress", "change": "resolved", "side": "service", "author": "support-ana",
                "comment": "The member watched on 20 November; the cancellation was reverted and billing resumes.",
                "description": "Customer says the membership was cancelled for inactivity but they watch every week.",
                "sla_due_at": "2026-11-26T09:15:00+00:00", "opened_at": "2026-11-25T09:15:00+00:00", "version": 4},
               None),
        _event("product_order.state_changed",
               "A product order placed through TMF622 reached its final state: completed, failed or partial.",
               ProductOrderStateChangedDataSchema, "2026-11-18T10:00:00+00:00",
               {"order_id": "po_6a1f3c5e7b9d0e2f4a68", "external_id": "ORD-2026-00042", "state": "partial",
                "order_date": "2026-11-18T10:00:00+00:00", "completion_date": "2026-11-18T10:00:00+00:00",
                "items": [
                    {"id": "1", "action": "add", "state": "completed", "product_id": "sub_2b4d6f8a0c1e3a5c7e90",
                     "refusal": None},
                    {"id": "2", "action": "modify", "state": "failed", "product_id": SUBSCRIPTION["id"],
                     "refusal": "Cannot suspend a subscription that is suspended; allowed: delete, modify status "
                                "to active."},
                ]},
               None),
        _event("gateway.test",
               "An operator asked for a test event, to check the endpoint end to end.",
               GatewayTestDataSchema, "2026-11-22T10:15:00+00:00",
               {"message": "A test event from the partner gateway. No action is needed."},
               None),
    ]
}
# fmt: on
