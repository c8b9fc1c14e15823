"""Subscription use cases: create, read, and apply lifecycle commands, each recorded in history and the outbox."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain import lifecycle
from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.events import EventType, change_event_data, creation_event_data, subscription_ref
from gateway.domain.ids import new_id
from gateway.domain.lifecycle import Actor, Command, Status
from gateway.domain.partners import normalize_locale
from gateway.domain.subscription import (
    VIEWING_KEEPS,
    Decision,
    SubscriptionState,
    decide,
    decide_pending_downgrade,
)
from gateway.services import hubs
from gateway.services.notices import member_notice
from gateway.services.outbox import record_event
from gateway.services.partners import get_partner
from gateway.store.hot_reads import PARTNERS_SUBSCRIPTION_BY_ID, SUBSCRIPTION_BY_ID, RawConnection
from gateway.store.models import (
    Escalation,
    EscalationEntry,
    OutboxEvent,
    Subscription,
    SubscriptionChange,
    created_after,
)

# Activation codes are read aloud and typed by members: no 0/O or 1/I.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_activation_code() -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups)


def create_subscription(
    session: Session,
    *,
    partner_code: str,
    partner_ref: str,
    plan: str,
    market: str,
    billing_anchor: date,
    now: datetime,
    activation_window: timedelta,
    locale: str | None = None,
    billed_by: str = "partner",
) -> Subscription:
    """A new bundled subscription, pending until the member links or creates a streaming account."""
    partner = get_partner(session, partner_code)
    errors = {}
    if market not in partner.markets:
        errors["market"] = f"This partner sells in {', '.join(partner.markets)}, not {market}."
    chosen_locale = normalize_locale(locale) if locale else partner.default_locale
    if chosen_locale is None:
        errors["locale"] = "Not a BCP 47 language tag such as 'de' or 'de-AT'."
    if errors:
        raise InvalidInput(errors)
    # A purged subscription's reference is free: the member comes back under it as a new subscription.
    same_ref = (
        (Subscription.partner_code == partner_code)
        & (Subscription.partner_ref == partner_ref)
        & (Subscription.status != Status.PURGED)
    )
    existing = session.scalar(select(Subscription.id).where(same_ref))
    if existing is not None:
        raise Conflict(f"Subscription {existing} already has partner_ref {partner_ref!r}.")
    subscription = Subscription(
        id=new_id("sub"),
        partner_code=partner_code,
        partner_ref=partner_ref,
        plan=plan,
        market=market,
        locale=chosen_locale,
        billed_by=billed_by,
        billing_anchor=billing_anchor,
        status=Status.PENDING_ACTIVATION,
        status_reason="created",
        activation_code=new_activation_code(),
        activation_expires_at=now + activation_window,
        sequence=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(subscription)
            session.add(
                SubscriptionChange(
                    subscription_id=subscription.id,
                    sequence=0,
                    command="create",
                    from_status=None,
                    to_status=subscription.status,
                    reason="created",
                    actor=Actor.PARTNER,
                    occurred_at=now,
                    details={},
                )
            )
    except IntegrityError:
        # Two creates with one partner_ref at once: both found none above, and PostgreSQL's unique index held
        # this one until the other committed. The loser is told as it would have been a moment later.
        existing = session.scalar(select(Subscription.id).where(same_ref))
        if existing is None:
            raise
        raise Conflict(f"Subscription {existing} already has partner_ref {partner_ref!r}.") from None
    _record_creation(session, subscription, now)
    return subscription


def _record_creation(session: Session, subscription: Subscription, now: datetime) -> None:
    """subscription.created, for the partner's endpoints that ask for it (a TM Forum hub's ProductCreateEvent).
    Recorded only while one does: the event is opt-in (plain webhook endpoints never get it), and a row per
    creation that no one receives would only fill the outbox and the feed."""
    if not hubs.listens_for(session, subscription.partner_code, EventType.SUBSCRIPTION_CREATED):
        return
    record_event(
        session,
        partner_code=subscription.partner_code,
        event_type=EventType.SUBSCRIPTION_CREATED,
        occurred_at=now,
        subscription=subscription_ref(subscription.id, subscription.partner_ref),
        sequence=0,  # the creation's own entry in the history
        data=creation_event_data(
            status=subscription.status,
            actor=Actor.PARTNER,
            plan=subscription.plan,
            market=subscription.market,
            locale=subscription.locale,
            billed_by=subscription.billed_by,
            billing_anchor=subscription.billing_anchor,
            activation_expires_at=subscription.activation_expires_at,
        ),
    )


def find_by_partner_ref(session: Session, partner_code: str, partner_ref: str) -> Subscription | None:
    """The partner's subscription with this reference: the live one (there is at most one), else the latest
    purged one (a reference is free again once its subscription is purged)."""
    return session.scalar(
        select(Subscription)
        .where(Subscription.partner_code == partner_code, Subscription.partner_ref == partner_ref)
        .order_by(Subscription.status == Status.PURGED, Subscription.created_at.desc())
        .limit(1)
    )


def get_subscription(
    session: Session, subscription_id: str, *, partner_code: str | None = None, for_update: bool = False
) -> Subscription:
    """One subscription; with `partner_code`, another partner's subscription is reported as missing."""
    query = select(Subscription).where(Subscription.id == subscription_id)
    if partner_code is not None:
        query = query.where(Subscription.partner_code == partner_code)
    if for_update:
        query = query.with_for_update()
    subscription = session.scalar(query)
    if subscription is None:
        raise NotFound("subscription", subscription_id)
    return subscription


def read_subscription(
    session: Session | Connection | RawConnection, subscription_id: str, *, partner_code: str | None = None
):
    """One subscription as a read-only row (attribute access like the mapped class, without its overhead).

    The status lookup is the hottest read partners make: see gateway.store.hot_reads.
    """
    if partner_code is None:
        row = SUBSCRIPTION_BY_ID.first(session, subscription_id)
    else:
        row = PARTNERS_SUBSCRIPTION_BY_ID.first(session, subscription_id, partner_code)
    if row is None:
        raise NotFound("subscription", subscription_id)
    return row


def list_subscriptions(
    session: Session,
    *,
    partner_code: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
    partner_ref: str | None = None,
    status: str | None = None,
) -> list[Subscription]:
    """A partner's subscriptions, oldest first, after the (created_at, id) cursor."""
    query = (
        select(Subscription)
        .where(Subscription.partner_code == partner_code)
        .order_by(Subscription.created_at, Subscription.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(created_after(Subscription, after))
    if partner_ref is not None:
        query = query.where(Subscription.partner_ref == partner_ref)
    if status is not None:
        query = query.where(Subscription.status == status)
    return list(session.scalars(query))


def history(session: Session, subscription: Subscription) -> list[SubscriptionChange]:
    query = (
        select(SubscriptionChange)
        .where(SubscriptionChange.subscription_id == subscription.id)
        .order_by(SubscriptionChange.sequence)
    )
    return list(session.scalars(query))


def cancelled_by(session: Session, subscription: Subscription) -> Actor | None:
    """Who made the subscription's last cancellation, from its history (None: never cancelled)."""
    actor = session.scalar(
        select(SubscriptionChange.actor)
        .where(SubscriptionChange.subscription_id == subscription.id, SubscriptionChange.to_status == Status.CANCELLED)
        .order_by(SubscriptionChange.sequence.desc())
        .limit(1)
    )
    return Actor(actor) if actor is not None else None


# What older history entries held of the member (activations recorded the member id until the purge had to
# scrub it); entries written now hold none.
MEMBER_DETAILS = frozenset({"member_id"})
PURGED_TEXT = "(removed with the member's data)"  # in place of free text about the member, once purged


def _forget_member(session: Session, subscription: Subscription) -> None:
    """Delete the member's data beyond the row's own fields, which the purge's decision clears
    (gateway.domain.subscription.MEMBER_FIELDS): the member's language (the column takes the partner's default),
    member data in older history entries and in the events the feed keeps, and what agents wrote about the
    member in escalations (their descriptions and comments). What stays is the partner's: partner_ref, plan,
    market, billing dates, the history of changes (scrubbed of member data) and the escalations' course (who
    changed what, when) for the audit."""
    subscription.locale = get_partner(session, subscription.partner_code).default_locale
    entries = select(SubscriptionChange).where(SubscriptionChange.subscription_id == subscription.id)
    for entry in session.scalars(entries):
        if MEMBER_DETAILS & set(entry.details):
            entry.details = {name: value for name, value in entry.details.items() if name not in MEMBER_DETAILS}
    _redact_events(session, subscription)
    cases = Escalation.subscription_id == subscription.id
    session.execute(
        update(Escalation).where(cases).values(description=PURGED_TEXT, version=Escalation.version + 1),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(EscalationEntry)
        .where(EscalationEntry.escalation_id.in_(select(Escalation.id).where(cases)))
        .where(EscalationEntry.comment.is_not(None))
        .values(comment=PURGED_TEXT),
        execution_options={"synchronize_session": False},
    )


def _redact_events(session: Session, subscription: Subscription) -> None:
    """The member's data in the events the feed still keeps (and any delivery not yet sent): the notices' texts
    and language, and the last viewing time of an inactivity warning. The events keep their shape: a notice
    stays a notice, in the partner's default language (the subscription's locale by now), saying it was
    removed; the viewing time becomes null, as for a member who never watched."""
    events = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.partner_code == subscription.partner_code, OutboxEvent.subscription_id == subscription.id
        )
    )
    removed = {"locale": subscription.locale, "subject": PURGED_TEXT, "body": PURGED_TEXT, "sms": PURGED_TEXT}
    for event in events:
        data = dict(event.payload.get("data") or {})
        if "notice" in data:
            data["notice"] = removed
        if data.get("last_viewed_at") is not None:
            data["last_viewed_at"] = None
        if data != event.payload.get("data"):
            event.payload = {**event.payload, "data": data}


def _append_change(
    session: Session,
    subscription: Subscription,
    command: str,
    previous: str,
    reason: str,
    actor: Actor,
    now: datetime,
    details: dict[str, Any],
) -> None:
    """Bump the sequence and version and add the history entry every change of a subscription gets."""
    subscription.sequence += 1
    subscription.version += 1
    subscription.updated_at = now
    session.add(
        SubscriptionChange(
            subscription_id=subscription.id,
            sequence=subscription.sequence,
            command=command,
            from_status=previous,
            to_status=subscription.status,
            reason=reason,
            actor=actor,
            occurred_at=now,
            details=details,
        )
    )


def record_subscription_notice(
    session: Session,
    subscription: Subscription,
    event_type: str,
    *,
    reason: str,
    actor: Actor,
    now: datetime,
    data: dict[str, Any],
    context: dict[str, Any],
) -> OutboxEvent:
    """A notice about one subscription that changes no status (retention expiring, household verification,
    extra member): in the history like every change, with the next sequence number, and in the outbox.

    `data` is the event's fields as JSON (times as ISO 8601 text); `context` what the member's text needs.
    """
    _append_change(
        session, subscription, "notice", subscription.status, reason, actor, now, {"event": event_type, **data}
    )
    notice = member_notice(session, subscription, event_type, **context)
    return record_event(
        session,
        partner_code=subscription.partner_code,
        event_type=event_type,
        occurred_at=now,
        subscription=subscription_ref(subscription.id, subscription.partner_ref),
        sequence=subscription.sequence,
        data={"status": subscription.status, "reason": reason, "actor": actor, **data, "notice": notice},
    )


def apply_pending_downgrade(session: Session, subscription: Subscription, now: datetime) -> None:
    """The downgrade announced when it was asked takes hold: reported like every change, with the history entry
    and its event under the same sequence number."""
    try:
        decision = decide_pending_downgrade(SubscriptionState.of(subscription))
    except ValueError:
        raise ValueError(f"subscription {subscription.id} has no downgrade to apply") from None
    _apply(session, subscription, decision, now)


def apply_command(
    session: Session,
    subscription: Subscription,
    command: Command,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    plan: str | None = None,
    member_id: str | None = None,
    agent: str | None = None,
) -> Subscription:
    """Apply one lifecycle command: decide (gateway.domain.subscription), change the row, append the history
    entry and the outbox event. `agent`: the partner's agent who issued it in the console, named in the history
    entry (details["agent"]) and not in the event."""
    # Who made the last cancellation matters to a rejoin alone; the other commands skip the query.
    made_by = cancelled_by(session, subscription) if command is Command.REJOIN else None
    state = SubscriptionState.of(subscription, cancelled_by=made_by)
    decision = decide(state, command, actor=actor, reason=reason, now=now, plan=plan, member_id=member_id)
    _apply(session, subscription, decision, now, agent)
    session.flush()
    return subscription


def _apply(
    session: Session, subscription: Subscription, decision: Decision, now: datetime, agent: str | None = None
) -> None:
    """Write what was decided: the row's fields, the member's data elsewhere for a purge, the history entry
    and the outbox event."""
    for name, value in decision.changes.items():
        setattr(subscription, name, value)
    if decision.forgets_member:
        _forget_member(session, subscription)
    details = dict(decision.details)
    if agent:
        details["agent"] = agent
    _append_change(
        session, subscription, decision.command, decision.previous, decision.reason, decision.actor, now, details
    )
    _record_change_event(session, subscription, decision, now)


def _notice_context(subscription: Subscription, decision: Decision) -> dict[str, Any]:
    """What the member's text may mention: the dates that matter after this change, and the plan."""
    return {
        "plan": subscription.plan,
        "billed_by": subscription.billed_by,
        "access_until": subscription.access_until,
        "billing_stop_at": subscription.cancelled_at,
        "retention_until": subscription.retention_until,
        "effective_at": decision.effective_at,
    }


def _record_change_event(session: Session, subscription: Subscription, decision: Decision, now: datetime) -> None:
    """The outbox event of the change _append_change just recorded, with its sequence number."""
    event_type, reason = decision.event, decision.reason
    notice = member_notice(session, subscription, event_type, reason, **_notice_context(subscription, decision))
    data = change_event_data(
        status=subscription.status,
        previous_status=decision.previous,
        reason=reason,
        actor=decision.actor,
        effective_at=decision.effective_at,
        plan=subscription.plan,
        details=decision.details,
        notice=notice,
    )
    record_event(
        session,
        partner_code=subscription.partner_code,
        event_type=event_type,
        occurred_at=now,
        subscription=subscription_ref(subscription.id, subscription.partner_ref),
        sequence=subscription.sequence,
        data=data,
    )


def activate_by_code(session: Session, code: str, *, member_id: str, reason: str, now: datetime) -> Subscription:
    """The member linked (or created) a streaming account with the code the partner gave them."""
    subscription = session.scalar(
        select(Subscription).where(Subscription.activation_code == code.strip().upper()).with_for_update()
    )
    if subscription is None or (subscription.activation_expires_at and subscription.activation_expires_at <= now):
        raise NotFound("activation code", code)
    return apply_command(
        session, subscription, Command.ACTIVATE, actor=Actor.SERVICE, reason=reason, now=now, member_id=member_id
    )


def _answers_warning(subscription: Subscription, viewed_at: datetime) -> bool:
    """Watching something after an inactivity warning, by its respond-by date, keeps the membership, as
    confirming would (even reported after that date, as long as the scheduler has not cancelled yet)."""
    return (
        subscription.inactivity_respond_by is not None
        and subscription.status == Status.ACTIVE
        and subscription.inactivity_warned_at < viewed_at <= subscription.inactivity_respond_by
    )


class ViewingResult(NamedTuple):
    updated: int  # subscriptions whose latest viewing time moved forward
    unknown: list[str]  # ids of no subscription
    skipped: list[str]  # ids of subscriptions the member no longer (or not yet) holds: nothing stored for them
    before_joining: list[str]  # ids whose reported time is before the member joined: nothing stored for them


# How far ahead of the gateway's clock a viewing time may be (the reporting system's clock may run a little fast).
VIEWING_CLOCK_SKEW = timedelta(minutes=5)


def _refuse_future_views(views: list[tuple[str, datetime]], now: datetime) -> None:
    """A viewing time after now is a mistake, and stored it would hold back every true report after it."""
    latest_possible = now + VIEWING_CLOCK_SKEW
    future = {
        f"items.{index}.last_viewed_at": f"{viewed_at.isoformat()} is in the future (the gateway's clock says "
        f"{now.isoformat(timespec='seconds')}): report when the member last watched."
        for index, (_, viewed_at) in enumerate(views)
        if viewed_at > latest_possible
    }
    if future:
        raise InvalidInput(future)


def record_viewing(session: Session, views: Iterable[tuple[str, datetime]], *, now: datetime) -> ViewingResult:
    """Store the latest viewing time per live subscription; an older report never moves it back. A member with an
    open inactivity warning who watched after it keeps the membership (account.keep_confirmed).

    A report for a subscription that is pending activation, cancelled or purged is not applied: there is no
    membership to keep, and after the purge no member data may come back. A time before the member joined is
    not applied either: it would make a new member look idle for as long. A time in the future refuses the
    whole report (InvalidInput, nothing applied); one stored before that rule is replaced by the next report.
    """
    views = list(views)
    _refuse_future_views(views, now)
    latest: dict[str, datetime] = {}
    for subscription_id, viewed_at in views:
        if subscription_id not in latest or viewed_at > latest[subscription_id]:
            latest[subscription_id] = viewed_at
    # Locked, in id order (so two reports never wait on each other in a circle): a command committing between
    # this read and the write would otherwise leave its representation under the version this one bumps from.
    found = {
        subscription.id: subscription
        for subscription in session.scalars(
            select(Subscription).where(Subscription.id.in_(list(latest))).order_by(Subscription.id).with_for_update()
        )
    }
    updated = 0
    skipped, before_joining = [], []
    for subscription_id, viewed_at in latest.items():
        subscription = found.get(subscription_id)
        if subscription is None:
            continue
        stored = subscription.last_viewed_at
        if subscription.status not in lifecycle.LIVE:
            skipped.append(subscription_id)
        elif subscription.activated_at is not None and viewed_at < subscription.activated_at:
            before_joining.append(subscription_id)
        elif stored is None or viewed_at > stored or stored > now + VIEWING_CLOCK_SKEW:
            # No new version, event or sequence: the version (the ETag) counts the changes a partner acts on, and a
            # viewing time is none; bumped, it would fail the partner's next If-Match for nothing it could see
            # coming. A viewing that answers a warning keeps the membership: that command bumps it.
            subscription.last_viewed_at = viewed_at
            updated += 1
            if _answers_warning(subscription, viewed_at):
                apply_command(
                    session, subscription, Command.CONFIRM_KEEP, actor=Actor.MEMBER, reason=VIEWING_KEEPS, now=now
                )
    session.flush()
    return ViewingResult(updated, sorted(set(latest) - set(found)), sorted(skipped), sorted(before_joining))
