"""The tables, as SQLAlchemy 2 mapped classes. The migrations in `migrations/versions` must build exactly these."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.store.types import UTCDateTime

# Explicit constraint names, so migrations can refer to them identically on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def created_after(model, after: tuple[datetime, str]):
    """Rows after (created_at, id) in the oldest-first order that cursor-paged lists use."""
    created_at, identifier = after
    return (model.created_at > created_at) | ((model.created_at == created_at) & (model.id > identifier))


class Partner(Base):
    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    markets: Mapped[list[str]] = mapped_column(JSON)
    default_locale: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(16))
    flavour: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)  # bumped on every change; the ETag
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Delivery: an operator can hold all of a partner's deliveries; a rate (events/s) spaces them out
    # across every dispatcher, which reserve send slots by moving next_send_at forward.
    deliveries_paused: Mapped[bool] = mapped_column(Boolean, server_default=false())
    delivery_rate: Mapped[float | None] = mapped_column(Float)
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inbound_secret: Mapped[str | None] = mapped_column(String(80))  # verifies the partner's signed callbacks
    # Surge protection: this partner's own request budget per audience, e.g. {"callcenter": "100/minute"};
    # audiences left out use GATEWAY_RATE_LIMITS (gateway.domain.rate_limits).
    rate_limits: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # The partner's own TMF637 Product Inventory, read as its roster by a reconciliation (--from-tmf): the API's
    # base URL (…/productInventory/v4) and the bearer token the gateway presents to it.
    inventory_url: Mapped[str | None] = mapped_column(Text)
    inventory_token: Mapped[str | None] = mapped_column(Text)
    # The IANA zone (Europe/Berlin) its agents read times in, set by an operator; none: the one its default locale
    # and markets suggest (gateway.console.i18n.partner_time_zone).
    time_zone: Mapped[str | None] = mapped_column(String(64))


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(200))
    # enabled, disabled, deleted (gateway.domain.delivery.EndpointStatus). A deleted endpoint's row stays: its
    # deliveries and their attempts are history the operator and the partner still read (the deliveries' foreign
    # key would delete them with it), and nothing sends to it or lists it any more.
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Standard Webhooks signing secret (whsec_...); after a rotation the previous one also signs until it expires.
    secret: Mapped[str] = mapped_column(String(80), server_default="")
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Health: see gateway.domain.delivery.EndpointHealth.
    circuit_state: Mapped[str] = mapped_column(String(16), server_default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    circuit_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # A TM Forum hub (TMF630 listener registration) is an endpoint too, so its events take the same outbox,
    # dispatcher, retries, breaker and dead letters: hub_api names the API it was registered on
    # (productInventory, productOrdering), hub_query keeps its query as given, and flavour overrides the
    # partner's (hubs are spoken to as `tmf`). A plain webhook endpoint has none of the three.
    hub_api: Mapped[str | None] = mapped_column(String(32))
    hub_query: Mapped[str | None] = mapped_column(Text)
    flavour: Mapped[str | None] = mapped_column(String(32))
    # Only these event types are delivered to the endpoint (EndpointEventType rows); off: every event.
    filters_events: Mapped[bool] = mapped_column(Boolean, server_default=false())


class EndpointEventType(Base):
    """One event type an endpoint that filters events receives (the publisher's fan-out joins on it)."""

    __tablename__ = "endpoint_event_types"

    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_partner_code_created_at", "partner_code", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    partner_code: Mapped[str | None] = mapped_column(ForeignKey("partners.code"))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when rotated: end of the overlap
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by: Mapped[str | None] = mapped_column(String(40))  # the key that rotation issued in its place


class Subscription(Base):
    """A bundled subscription: sold and billed by a partner, used by a member of the streaming service."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_partner_ref", "partner_code", "partner_ref"),
        # One live subscription per partner_ref: a purged one leaves its reference free for the member's return.
        Index(
            "ux_subscriptions_live_partner_ref",
            "partner_code",
            "partner_ref",
            unique=True,
            postgresql_where=text("status <> 'purged'"),
            sqlite_where=text("status <> 'purged'"),
        ),
        Index("ix_subscriptions_partner_code_status", "partner_code", "status"),
        # The console's lookup in any letter case and by prefix (gateway.services.lookup.find_candidates): on
        # PostgreSQL with text_pattern_ops, so that LIKE 'prefix%' reads it whatever the database's collation.
        Index(
            "ix_subscriptions_partner_ref_lower",
            "partner_code",
            func.lower(text("partner_ref")).label("partner_ref_lower"),
            postgresql_ops={"partner_ref_lower": "text_pattern_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    partner_ref: Mapped[str] = mapped_column(String(100))  # the partner's own customer reference, opaque
    plan: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(2))
    locale: Mapped[str] = mapped_column(String(35))
    billing_anchor: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(String(100))  # the streaming account, once linked
    activation_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_plan: Mapped[str | None] = mapped_column(String(32))  # a downgrade waiting for the period end
    pending_plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    access_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # cancellation scheduled
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retention_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    billed_by: Mapped[str] = mapped_column(String(16), server_default="partner")  # gateway.domain.sharing.BILLED_BY
    # The inactivity sub-state of an active subscription: warned by a campaign, answer expected by respond_by.
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inactivity_respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    retention_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # account.retention_expiring sent
    sequence: Mapped[int] = mapped_column(Integer)  # of the last event; events carry it so partners can order
    version: Mapped[int] = mapped_column(Integer)  # the ETag
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriptionChange(Base):
    """The audit trail: every transition, whoever made it. Survives the purge of member data."""

    __tablename__ = "subscription_history"
    __table_args__ = (UniqueConstraint("subscription_id", "sequence", name="uq_subscription_history_sequence"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON)


class OutboxEvent(Base):
    """An event for a partner, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    subscription_id: Mapped[str | None] = mapped_column(String(40), index=True)
    sequence: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The event's place in its partner's feed, given after commit by the publisher (gateway.delivery.publisher):
    # ids are taken before commit, so concurrent transactions can make them visible out of order; positions
    # are handed out by one publisher at a time, to committed rows only, and so only ever grow.
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True, index=True)


class Delivery(Base):
    """One event on its way to one webhook endpoint: its state, lease and schedule; attempts are kept apart."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Each endpoint's pending deliveries in the order of their events: where a claim reads (delivery.claims).
        Index(
            "ix_deliveries_endpoint_pending",
            "endpoint_id",
            "position",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # ... and by when they are due: which endpoints have work, and the oldest due delivery.
        Index(
            "ix_deliveries_endpoint_due",
            "endpoint_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_deliveries_partner_dead",
            "partner_code",
            postgresql_where=text("status = 'dead'"),
            sqlite_where=text("status = 'dead'"),
        ),
        Index("ix_deliveries_partner_created", "partner_code", "created_at"),
        UniqueConstraint("event_id", "endpoint_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    partner_code: Mapped[str] = mapped_column(String(32))
    subscription_id: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(BigInteger)  # the event's feed position: the order per subscriber
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # gateway.domain.delivery.DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[OutboxEvent] = relationship(lazy="joined", innerjoin=True)

    @property
    def webhook_id(self) -> str:
        """The id the partner sees (webhook-id): the event's, the same for every attempt and endpoint."""
        return self.event.event_id


class DeliveryAttempt(Base):
    """One HTTP request (or one event's share of a batch request) and what came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_class: Mapped[str | None] = mapped_column(String(100))
    response_excerpt: Mapped[str | None] = mapped_column(Text)  # at most 2 KB
    outcome: Mapped[str] = mapped_column(String(16))  # gateway.domain.delivery.Outcome
    dispatcher: Mapped[str] = mapped_column(String(64))


class OperatorEvent(Base):
    """Something an operator should know about, such as an endpoint disabled after failing for days."""

    __tablename__ = "operator_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    partner_code: Mapped[str | None] = mapped_column(String(32), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class InboundEvent(Base):
    """A partner's signed callback, remembered by its webhook-id so a redelivered one is answered as the first
    time: applied once, or refused once."""

    __tablename__ = "inbound_events"

    partner_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # The answer the first delivery got, replayed to duplicates: 200 and the result, or a refusal's status and
    # problem body.
    status_code: Mapped[int] = mapped_column(Integer, server_default="200")
    result: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def applied(self) -> bool:
        return self.status_code == 200


class IdempotencyRecord(Base):
    """The first response to a POST carrying an Idempotency-Key, replayed for retries with the same key."""

    __tablename__ = "idempotency_records"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)  # the partner, or the service/operator
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of method, path and body
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # A claim in progress of a command that commits in steps: past this, its runner is taken for dead and a
    # retry with the key runs the command afresh. None for claims that commit with their response.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reconciliation(Base):
    """A roster comparison job: its progress and counts; the rows are in reconciliation_items."""

    __tablename__ = "reconciliations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    roster_format: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # running, completed, failed
    rows: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict] = mapped_column(JSON)  # drift kind -> number of items
    # Bad rows naming no usable partner_ref: with one, who is missing cannot be said.
    unreadable_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    # Set as the job completes: it listed nobody only at the gateway because who is missing cannot be said.
    only_at_gateway_withheld: Mapped[bool] = mapped_column(Boolean, server_default=false())
    repaired: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While running: renewed at every chunk; past it the runner is taken for dead and the scheduler fails the job.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReconciliationItem(Base):
    """One finding of a reconciliation: a bad row or a drift, with the repair applying would make."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (Index("ix_reconciliation_items_job_kind", "reconciliation_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    reconciliation_id: Mapped[str] = mapped_column(ForeignKey("reconciliations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    line: Mapped[int | None] = mapped_column(Integer)
    partner_ref: Mapped[str | None] = mapped_column(String(100))
    partner_status: Mapped[str | None] = mapped_column(String(16))
    partner_plan: Mapped[str | None] = mapped_column(String(32))
    subscription_id: Mapped[str | None] = mapped_column(String(40))
    gateway_status: Mapped[str | None] = mapped_column(String(32))
    gateway_plan: Mapped[str | None] = mapped_column(String(32))
    repair: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A run of the inactivity campaign: a job with its progress, resumable from its cursor after a crash."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # inactivity
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, running, completed, failed
    dry_run: Mapped[bool] = mapped_column(Boolean)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)  # the answer date every warning of the run carries
    candidates: Mapped[int] = mapped_column(Integer)  # inactive and not yet warned when the run started
    warned: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict] = mapped_column(JSON)  # "partner/market" -> members found (dry run) or warned
    cursor: Mapped[str | None] = mapped_column(String(40))  # the last subscription id a committed chunk covered
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SharingPolicy(Base):
    """An announced change of the sharing rules for some markets, and where its announcement stands."""

    __tablename__ = "sharing_policies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    markets: Mapped[list[str]] = mapped_column(JSON)
    rule: Mapped[str] = mapped_column(String(32))
    extra_member: Mapped[dict] = mapped_column(JSON)  # {"plans": [...], "prices": {market: {amount, currency}}}
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime)  # embargo: nobody hears of it before
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    announce_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # scheduled, announced, effective
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerNotice(Base):
    """One partner's copy of a policy announcement: what it was sent, and whether it has acknowledged it."""

    __tablename__ = "partner_notices"
    __table_args__ = (UniqueConstraint("policy_id", "partner_code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("sharing_policies.id"), index=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    markets: Mapped[list[str]] = mapped_column(JSON)  # the policy's markets this partner serves
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(40))  # the key that acknowledged
    reminders_sent: Mapped[int] = mapped_column(Integer)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class FaqArticle(Base):
    """One FAQ article in one locale. Loaded from gateway/faq/articles by `gateway faq load`, editable by operators."""

    __tablename__ = "faq_articles"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)  # BCP 47, as the article file's folder
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    tags: Mapped[list[str]] = mapped_column(JSON)
    related_events: Mapped[list[str]] = mapped_column(JSON)  # event types whose situation the article explains
    source: Mapped[str] = mapped_column(String(16))  # file (from the repo) or admin (edited through the API)
    content_hash: Mapped[str] = mapped_column(String(64))  # of title, body, tags and events: a load skips equals
    version: Mapped[int] = mapped_column(Integer)  # bumped on every change; with the slug and locale, the ETag
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Escalation(Base):
    """A case a partner's agent raised with the streaming service, with its SLA and where it stands."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_partner_code_created_at", "partner_code", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    agent_ref: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(35))
    # "<subscription id>/<category>" while the case is not resolved or closed, else NULL: the unique constraint
    # keeps one open case per subscriber and category even when two agents open it at the same moment.
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer)  # the ETag
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EscalationEntry(Base):
    """The history of an escalation: its opening, every status change and every comment, from either side."""

    __tablename__ = "escalation_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # opened, status, comment
    side: Mapped[str] = mapped_column(String(16))  # partner or service
    author: Mapped[str] = mapped_column(String(100))  # the agent reference or the service's key prefix
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProductOrder(Base):
    """A TMF622 product order: its items drive lifecycle commands; `body` is the order as the partner reads it
    (items with their state and any refusal), kept whole so GET returns what POST answered."""

    __tablename__ = "product_orders"
    __table_args__ = (
        Index("ix_product_orders_partner_code_created_at", "partner_code", "created_at"),
        # externalId makes an order idempotent per partner: the same order is returned, never a second effect.
        Index(
            "ux_product_orders_external_id",
            "partner_code",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
            sqlite_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    external_id: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))  # acknowledged, inProgress, completed, failed, partial, cancelled
    body: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the order asked (gateway.domain.product_orders.request_fingerprint): a retry with its externalId is
    # this order again only when it asks the same. None for orders stored before it was kept.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))


class SandboxClock(Base):
    """A sandbox gateway's clock: how far ahead of the world's it was moved (one row; none: not moved)."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    ahead_seconds: Mapped[float] = mapped_column(Float)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the sandbox time it was last moved to
