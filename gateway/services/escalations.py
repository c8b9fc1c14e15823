"""Escalation use cases: open (once per subscriber and category), read, list, comment and move through the
status machine; every change is appended to the case's history and sent as `escalation.updated` in the same
transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain import escalations as rules
from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.escalations import Action, Side, SlaPolicy, Status
from gateway.domain.ids import new_id
from gateway.domain.partners import NOT_A_LOCALE, normalize_locale
from gateway.services.outbox import record_event
from gateway.services.partners import get_partner
from gateway.services.subscriptions import find_by_partner_ref
from gateway.store.models import Escalation, EscalationEntry, Subscription, created_after

ESCALATION_ID = re.compile(r"^esc_[0-9a-f]{20}$")  # gateway.domain.ids.new_id("esc")
CATEGORIES = [str(category) for category in rules.Category]
PRIORITIES = [str(priority) for priority in rules.Priority]
NEEDS_COMMENT = {
    Action.RESOLVE: "Say what was done: the partner's agent reads it to the customer.",
    Action.REOPEN: "Say why the case is not settled.",
}


@dataclass(frozen=True)
class Opened:
    """The result of opening: the case, and whether this call created it (False: one was open already); with
    open_or_add_comment, whether what was typed was added to the case already open as a comment."""

    escalation: Escalation
    created: bool
    commented: bool = False


def _subscriber(session: Session, partner_code: str, partner_ref: str) -> Subscription:
    subscription = find_by_partner_ref(session, partner_code, partner_ref)
    if subscription is None:
        raise NotFound("subscriber", partner_ref)  # another partner's subscriber looks exactly like none
    return subscription


def _unresolved_case(session: Session, key: str) -> Escalation | None:
    return session.scalar(select(Escalation).where(Escalation.open_key == key))


def open_escalation(
    session: Session,
    *,
    partner_code: str,
    partner_ref: str,
    category: str,
    priority: str,
    description: str,
    agent_ref: str,
    now: datetime,
    sla: SlaPolicy,
    locale: str | None = None,
) -> Opened:
    """Open a case about one of the partner's subscribers, due by the SLA of its priority; when one is already
    unresolved for this subscriber and category, that one is returned instead (nothing is changed)."""
    errors = {}
    if category not in CATEGORIES:
        errors["category"] = f"One of {', '.join(CATEGORIES)}."
    if priority not in PRIORITIES:
        errors["priority"] = f"One of {', '.join(PRIORITIES)}."
    chosen_locale = normalize_locale(locale) if locale else get_partner(session, partner_code).default_locale
    if chosen_locale is None:
        errors["locale"] = NOT_A_LOCALE
    if errors:  # the API's schema checks these first; other callers (the console) get the same answer
        raise InvalidInput(errors)
    subscription = _subscriber(session, partner_code, partner_ref)
    key = rules.open_key(subscription.id, category)
    existing = _unresolved_case(session, key)
    if existing is not None:
        return Opened(existing, created=False)
    escalation = Escalation(
        id=new_id("esc"),
        partner_code=partner_code,
        subscription_id=subscription.id,
        category=str(category),
        priority=str(priority),
        status=Status.OPEN,
        description=description,
        agent_ref=agent_ref,
        locale=chosen_locale,
        open_key=key,
        sla_due_at=sla.due_at(priority, now),
        version=1,
        created_at=now,
        updated_at=now,
    )
    try:
        # A savepoint: when another agent's case for the same subscriber and category commits first, the
        # unique open_key refuses this insert (on PostgreSQL after waiting for that commit), and the
        # transaction goes on to answer with the winner's case.
        with session.begin_nested():
            session.add(escalation)
            session.flush()
    except IntegrityError:
        existing = _unresolved_case(session, key)
        if existing is None:
            raise
        return Opened(existing, created=False)
    _log_change(
        session, escalation, subscription, "opened", rules.OPENED, Side.PARTNER, agent_ref, now, to_status=Status.OPEN
    )
    session.flush()
    return Opened(escalation, created=True)


def open_or_add_comment(session: Session, **opening: Any) -> Opened:
    """Open a case as open_escalation does (`opening`: its arguments); when one is already unresolved for this
    subscriber and category, the typed description is added to it as the agent's comment (in the caller's
    transaction, the case locked), so what the agent typed is kept. Not when the case already holds that very
    text (the same form sent twice): then nothing is changed."""
    opened = open_escalation(session, **opening)
    if opened.created:
        return opened
    escalation = opened.escalation
    session.refresh(escalation, with_for_update=True)  # as it is now, and no change of another request in between
    description = opening["description"]
    held = [escalation.description, *(entry.comment for entry in history(session, escalation))]
    if any(text is not None and text.strip() == description.strip() for text in held):
        return opened
    author, now = opening["agent_ref"], opening["now"]
    add_comment(session, escalation, side=Side.PARTNER, author=author, comment=description, now=now)
    return Opened(escalation, created=False, commented=True)


def resolution(escalation: Escalation, entries: list[EscalationEntry]) -> EscalationEntry | None:
    """The service's resolution in force (what the partner's agent reads out): the last `resolved` entry of the
    history, while the case is resolved or closed; None before, and after a reopening."""
    if Status(escalation.status) not in {Status.RESOLVED, Status.CLOSED}:
        return None
    return next((entry for entry in reversed(entries) if entry.to_status == Status.RESOLVED), None)


def get_escalation(
    session: Session, escalation_id: str, *, partner_code: str | None = None, for_update: bool = False
) -> Escalation:
    """One escalation; with `partner_code`, another partner's escalation is reported as missing."""
    if not ESCALATION_ID.match(escalation_id):
        raise NotFound("escalation", escalation_id)  # not one we issued: nothing to look up
    query = select(Escalation).where(Escalation.id == escalation_id)
    if partner_code is not None:
        query = query.where(Escalation.partner_code == partner_code)
    if for_update:
        query = query.with_for_update()
    escalation = session.scalar(query)
    if escalation is None:
        raise NotFound("escalation", escalation_id)
    return escalation


def subscriber_of(session: Session, escalation: Escalation) -> Subscription:
    """The subscription the case is about (its partner_ref is how the partner knows the subscriber)."""
    return session.get(Subscription, escalation.subscription_id)


def history(session: Session, escalation: Escalation) -> list[EscalationEntry]:
    """The opening, every status change and every comment, oldest first."""
    query = select(EscalationEntry).where(EscalationEntry.escalation_id == escalation.id).order_by(EscalationEntry.id)
    return list(session.scalars(query))


def _overdue(now: datetime):
    return and_(Escalation.status.in_([str(status) for status in rules.UNRESOLVED]), Escalation.sla_due_at < now)


def list_escalations(
    session: Session,
    *,
    limit: int,
    now: datetime,
    partner_code: str | None = None,
    after: tuple[datetime, str] | None = None,
    status: str | None = None,
    category: str | None = None,
    priority: str | None = None,
    partner_ref: str | None = None,
    subscription_id: str | None = None,
    overdue: bool | None = None,
) -> list[tuple[Escalation, str]]:
    """Escalations oldest first after the (created_at, id) cursor, each with its subscriber's partner_ref;
    `partner_code` None: across partners (the service's side). `overdue`: unresolved and past the SLA (True)
    or not (False)."""
    query: Select = (
        select(Escalation, Subscription.partner_ref)
        .join(Subscription, Subscription.id == Escalation.subscription_id)
        .order_by(Escalation.created_at, Escalation.id)
        .limit(limit)
    )
    conditions = {
        Escalation.partner_code: partner_code,
        Escalation.status: status,
        Escalation.category: category,
        Escalation.priority: priority,
        Subscription.partner_ref: partner_ref,
        Escalation.subscription_id: subscription_id,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(created_after(Escalation, after))
    if overdue is not None:
        query = query.where(_overdue(now) if overdue else not_(_overdue(now)))
    return [(escalation, ref) for escalation, ref in session.execute(query)]


def unresolved_escalations(session: Session, subscription_id: str) -> list[Escalation]:
    """The subscriber's cases not yet resolved (at most one per category), oldest first: for the lookup."""
    query = (
        select(Escalation)
        .where(Escalation.subscription_id == subscription_id, Escalation.open_key.is_not(None))
        .order_by(Escalation.created_at, Escalation.id)
    )
    return list(session.scalars(query))


def add_comment(
    session: Session, escalation: Escalation, *, side: Side, author: str, comment: str, now: datetime
) -> Escalation:
    """A comment from either side, on any case that is not closed. Load the case with for_update=True."""
    side = Side(side)
    rules.check_comment(Status(escalation.status))
    _touch(escalation, now)
    subscription = subscriber_of(session, escalation)
    _log_change(session, escalation, subscription, "comment", rules.COMMENTED, side, author, now, comment=comment)
    session.flush()
    return escalation


def change_status(
    session: Session,
    escalation: Escalation,
    action: Action,
    *,
    side: Side,
    author: str,
    now: datetime,
    sla: SlaPolicy,
    comment: str | None = None,
) -> Escalation:
    """Apply one action of the status machine (the service acknowledges, starts and resolves; the partner
    closes or reopens a resolved case). Load the case with for_update=True."""
    action, side, previous = Action(action), Side(side), Status(escalation.status)
    transition = rules.check_transition(previous, action, side)
    if transition.needs_comment and not comment:
        raise InvalidInput({"comment": NEEDS_COMMENT[action]})
    escalation.status = transition.target
    if transition.target is Status.RESOLVED:
        escalation.resolved_at = now
        escalation.open_key = None  # from now on a new case for this subscriber and category may be opened
    elif transition.target is Status.CLOSED:
        escalation.closed_at = now
    if action is Action.REOPEN:
        _reclaim_open_key(session, escalation)
        escalation.resolved_at = None
        escalation.sla_due_at = sla.due_at(escalation.priority, now)  # the service owes a new answer
    _touch(escalation, now)
    _log_change(
        session,
        escalation,
        subscriber_of(session, escalation),
        "status",
        transition.change,
        side,
        author,
        now,
        from_status=previous,
        to_status=transition.target,
        comment=comment,
    )
    session.flush()
    return escalation


def _reclaim_open_key(session: Session, escalation: Escalation) -> None:
    """A reopened case is unresolved again, unless a newer case for the same subscriber and category is."""
    key = rules.open_key(escalation.subscription_id, escalation.category)
    newer = _unresolved_case(session, key)
    if newer is not None:
        raise Conflict(f"Escalation {newer.id} is open for this subscriber and category since; add to that one.")
    escalation.open_key = key
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # opened by another agent a moment ago
        raise Conflict("Another escalation for this subscriber and category was opened just now.") from None


def _touch(escalation: Escalation, now: datetime) -> None:
    escalation.version += 1
    escalation.updated_at = now


def _log_change(
    session: Session,
    escalation: Escalation,
    subscription: Subscription,
    kind: str,
    change: str,
    side: Side,
    author: str,
    now: datetime,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    comment: str | None = None,
) -> None:
    """Every change of a case, in one place: a history entry and the partner's escalation.updated."""
    session.add(
        EscalationEntry(
            escalation_id=escalation.id,
            kind=kind,
            side=side,
            author=author,
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            occurred_at=now,
        )
    )
    # A case is not a change of the subscription: it has no place in the subscription's `sequence`, so the
    # event carries the partner envelope (the subscriber is in data) and is ordered by data.version. The
    # dispatcher still delivers it in order with the subscriber's other events.
    record_event(
        session,
        partner_code=escalation.partner_code,
        event_type=rules.EVENT_TYPE,
        occurred_at=now,
        data=event_data(escalation, subscription, change, from_status, side, author, comment),
        in_order_with_subscription=subscription.id,
    )


def event_data(
    escalation: Escalation,
    subscription: Subscription,
    change: str,
    previous_status: Status | None,
    side: Side,
    author: str,
    comment: str | None,
) -> dict[str, Any]:
    """The `data` of escalation.updated: the case as it is after the change, and the change itself."""
    return {
        "escalation_id": escalation.id,
        "subscription": {"id": subscription.id, "partner_ref": subscription.partner_ref},
        "category": escalation.category,
        "priority": escalation.priority,
        "status": escalation.status,
        "previous_status": str(previous_status) if previous_status is not None else None,
        "change": change,
        "side": str(side),
        # The partner reads this: a person's name, never the key the service acted with.
        "author": rules.author_shown_to_partner(author),
        "comment": comment,
        "description": escalation.description,
        "sla_due_at": escalation.sla_due_at.isoformat(),
        "opened_at": escalation.created_at.isoformat(),
        "version": escalation.version,
    }
