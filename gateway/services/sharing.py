"""Sharing-policy use cases: schedule an announcement, brief partners on time, remind them, per-account notices.

A policy is scheduled by an operator; `run_due_sharing_notices` (called by the scheduler) then, each step in
transactions of its own and safe with several schedulers at once (rows locked FOR UPDATE SKIP LOCKED on
PostgreSQL and re-checked under the lock; SQLite has one writer):

1. announces it once `announce_at` has come (never before `publish_at`, the embargo): one notice and one
   `sharing.policy_announced` event per active partner serving one of its markets; a partner that becomes
   eligible later (onboarded, resumed, a market added) is briefed on a later run, until the policy takes effect;
2. sends `sharing.policy_effective` to every briefed partner once `effective_at` has come;
3. sends `sharing.acknowledgement_reminder` to partners that have not acknowledged, on the reminder schedule
   (the waits between reminders), until they acknowledge or the schedule runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.events import EventType
from gateway.domain.ids import new_id
from gateway.domain.lifecycle import Actor, Status
from gateway.domain.notices import NOTICE_LOCALES, format_money
from gateway.domain.partners import PartnerStatus
from gateway.domain.sharing import (
    POLICY_ARTICLES,
    RULES,
    Offer,
    announce_at,
    check_policy,
    extra_member_refusal,
)
from gateway.services.notice_text import Money
from gateway.services.notices import partner_notice
from gateway.services.outbox import record_event
from gateway.services.subscriptions import get_subscription, record_subscription_notice
from gateway.store.db import Store
from gateway.store.models import OutboxEvent, Partner, PartnerNotice, SharingPolicy, Subscription, created_after

SCHEDULED, ANNOUNCED, EFFECTIVE = "scheduled", "announced", "effective"
POLICY_ANNOUNCED = EventType.SHARING_POLICY_ANNOUNCED
POLICY_EFFECTIVE = EventType.SHARING_POLICY_EFFECTIVE
ACKNOWLEDGEMENT_REMINDER = EventType.SHARING_ACKNOWLEDGEMENT_REMINDER

HOUSEHOLD_VERIFICATION = "household_verification_required"
EXTRA_MEMBER_ADDED = "extra_member_added"
EXTRA_MEMBER_REMOVED = "extra_member_removed"
ACCOUNT_NOTICES = (HOUSEHOLD_VERIFICATION, EXTRA_MEMBER_ADDED, EXTRA_MEMBER_REMOVED)
# A sharing notice is about a membership the member still has.
NOTICE_STATUSES = (Status.ACTIVE, Status.SUSPENDED, Status.CANCELLATION_SCHEDULED)
VERIFY_WITHIN = timedelta(days=14)


# --- operators: schedule and follow policies -----------------------------------------------------------------


def create_policy(
    session: Session,
    *,
    markets: list[str],
    rule: str,
    extra_member: dict[str, Any],
    effective_at: datetime,
    lead: timedelta,
    now: datetime,
    publish_at: datetime | None = None,
) -> SharingPolicy:
    """Schedule a policy change; partners hear of it `lead` before `effective_at`, never before `publish_at`."""
    publish_at = (publish_at or now).astimezone(UTC)
    effective_at = effective_at.astimezone(UTC)
    plans = list(extra_member.get("plans", []))
    offers = {
        market: Offer(Decimal(price["amount"]), price["currency"])
        for market, price in extra_member.get("prices", {}).items()
    }
    errors = check_policy(
        markets=markets,
        rule=rule,
        prices=offers,
        plans=plans,
        publish_at=publish_at,
        effective_at=effective_at,
        now=now,
    )
    if errors:
        raise InvalidInput(errors)
    policy = SharingPolicy(
        id=new_id("shp"),
        markets=list(markets),
        rule=rule,
        extra_member={
            "plans": plans,
            "prices": {
                market: {"amount": f"{offer.amount:.2f}", "currency": offer.currency}
                for market, offer in sorted(offers.items())
            },
        },
        publish_at=publish_at,
        effective_at=effective_at,
        announce_at=announce_at(publish_at=publish_at, effective_at=effective_at, lead=lead),
        status=SCHEDULED,
        created_at=now,
        announced_at=None,
    )
    session.add(policy)
    session.flush()
    return policy


def get_policy(session: Session, policy_id: str) -> SharingPolicy:
    policy = session.get(SharingPolicy, policy_id)
    if policy is None:
        raise NotFound("sharing policy", policy_id)
    return policy


def list_policies(
    session: Session, *, limit: int, after: tuple[datetime, str] | None = None, status: str | None = None
) -> list[SharingPolicy]:
    """Policies, oldest first, after the (created_at, id) cursor."""
    query = select(SharingPolicy).order_by(SharingPolicy.created_at, SharingPolicy.id).limit(limit)
    if after is not None:
        query = query.where(created_after(SharingPolicy, after))
    if status is not None:
        query = query.where(SharingPolicy.status == status)
    return list(session.scalars(query))


@dataclass(frozen=True)
class NoticeCounts:
    notified: int = 0
    acknowledged: int = 0


def notice_counts(session: Session, policy_ids: list[str]) -> dict[str, NoticeCounts]:
    """How many partners each policy has briefed, and how many of them have acknowledged."""
    rows = session.execute(
        select(PartnerNotice.policy_id, func.count(), func.count(PartnerNotice.acknowledged_at))
        .where(PartnerNotice.policy_id.in_(policy_ids))
        .group_by(PartnerNotice.policy_id)
    )
    return {policy_id: NoticeCounts(notified, acknowledged) for policy_id, notified, acknowledged in rows}


def _notice_after(after: tuple[datetime, str]):
    announced_at, identifier = after
    return (PartnerNotice.announced_at > announced_at) | (
        (PartnerNotice.announced_at == announced_at) & (PartnerNotice.id > identifier)
    )


def list_policy_notices(
    session: Session,
    policy_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    acknowledged: bool | None = None,
) -> list[tuple[PartnerNotice, Partner]]:
    """A policy's partner notices (acknowledged or not), in the order they were sent, with their partners."""
    get_policy(session, policy_id)
    query = (
        select(PartnerNotice, Partner)
        .join(Partner, Partner.code == PartnerNotice.partner_code)
        .where(PartnerNotice.policy_id == policy_id)
        .order_by(PartnerNotice.announced_at, PartnerNotice.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(_notice_after(after))
    if acknowledged is not None:
        acknowledged_at = PartnerNotice.acknowledged_at
        query = query.where(acknowledged_at.is_not(None) if acknowledged else acknowledged_at.is_(None))
    return [(notice, partner) for notice, partner in session.execute(query)]


# --- partners: their notices and acknowledgements ------------------------------------------------------------


def list_partner_notices(
    session: Session, partner_code: str, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[tuple[PartnerNotice, SharingPolicy]]:
    """A partner's sharing-policy notices, oldest first, after the (announced_at, id) cursor."""
    query = (
        select(PartnerNotice, SharingPolicy)
        .join(SharingPolicy, SharingPolicy.id == PartnerNotice.policy_id)
        .where(PartnerNotice.partner_code == partner_code)
        .order_by(PartnerNotice.announced_at, PartnerNotice.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(_notice_after(after))
    return [(notice, policy) for notice, policy in session.execute(query)]


def _partner_notice_row(
    session: Session, partner_code: str, notice_id: str, *, for_update: bool = False
) -> PartnerNotice:
    query = select(PartnerNotice).where(PartnerNotice.id == notice_id, PartnerNotice.partner_code == partner_code)
    if for_update:
        query = query.with_for_update()
    notice = session.scalar(query)
    if notice is None:  # another partner's notice looks missing too
        raise NotFound("notice", notice_id)
    return notice


def get_partner_notice(session: Session, partner_code: str, notice_id: str) -> tuple[PartnerNotice, SharingPolicy]:
    notice = _partner_notice_row(session, partner_code, notice_id)
    return notice, get_policy(session, notice.policy_id)


def acknowledge(
    session: Session, partner_code: str, notice_id: str, *, key_id: str, now: datetime
) -> tuple[PartnerNotice, SharingPolicy]:
    """The partner has briefed its call center: no more reminders. Acknowledging again changes nothing."""
    notice = _partner_notice_row(session, partner_code, notice_id, for_update=True)
    if notice.acknowledged_at is None:
        notice.acknowledged_at = now
        notice.acknowledged_by = key_id
        notice.next_reminder_at = None
    return notice, get_policy(session, notice.policy_id)


# --- the scheduler's part ------------------------------------------------------------------------------------


def policy_terms(policy: SharingPolicy, markets: list[str]) -> dict[str, Any]:
    """What a partner serving `markets` is told: the rule, and the extra-member offer in those markets."""
    prices = policy.extra_member["prices"]
    return {
        "rule": policy.rule,
        "rule_description": RULES[policy.rule],
        "extra_member": {
            "plans": list(policy.extra_member["plans"]),
            "prices": {market: dict(prices[market]) for market in markets if market in prices},
            "partner_billed_eligible": False,
        },
        "publish_at": policy.publish_at,
        "effective_at": policy.effective_at,
    }


def _language(partner: Partner) -> str:
    language = partner.default_locale.split("-")[0].lower()
    return language if language in NOTICE_LOCALES else "en"


def _prices_text(partner: Partner, prices: dict[str, dict[str, str]]) -> str:
    """e.g. "DE: 4,99 €; AT: € 4,99" in the partner's language, each as written in its market."""
    language = _language(partner)
    return "; ".join(
        f"{market}: {format_money(Decimal(price['amount']), price['currency'], language, market)}"
        for market, price in prices.items()
    )


def _announce(session: Session, policy: SharingPolicy, *, now: datetime, first_wait: timedelta | None) -> int:
    """Brief every active partner in the policy's markets that has not been briefed yet; how many were."""
    briefed = set(session.scalars(select(PartnerNotice.partner_code).where(PartnerNotice.policy_id == policy.id)))
    partners = session.scalars(
        select(Partner).where(Partner.status == PartnerStatus.ACTIVE).order_by(Partner.code)
    ).all()
    count = 0
    for partner in partners:
        markets = [market for market in policy.markets if market in partner.markets]
        if not markets or partner.code in briefed:
            continue
        notice = PartnerNotice(
            id=new_id("ntc"),
            policy_id=policy.id,
            partner_code=partner.code,
            markets=markets,
            announced_at=now,
            effective_sent_at=None,
            acknowledged_at=None,
            acknowledged_by=None,
            reminders_sent=0,
            next_reminder_at=None if first_wait is None else now + first_wait,
        )
        session.add(notice)
        terms = policy_terms(policy, markets)
        text = partner_notice(
            partner,
            POLICY_ANNOUNCED,
            markets=", ".join(markets),
            effective_at=policy.effective_at,
            rule=policy.rule,
            prices=_prices_text(partner, terms["extra_member"]["prices"]),
            plans=", ".join(terms["extra_member"]["plans"]),
            notice_id=notice.id,
        )
        data = {
            "notice_id": notice.id,
            "policy_id": policy.id,
            "markets": markets,
            **terms,
            "effective_at": policy.effective_at.isoformat(),
            "publish_at": policy.publish_at.isoformat(),
            "notice": text,
        }
        record_event(session, partner_code=partner.code, event_type=POLICY_ANNOUNCED, occurred_at=now, data=data)
        count += 1
    if policy.status == SCHEDULED:
        policy.status = ANNOUNCED
        policy.announced_at = now
    return count


def _announce_due(store: Store, *, now: datetime, first_wait: timedelta | None) -> int:
    """Step 1, one policy per transaction: due scheduled policies, and announced ones not yet in effect (for
    partners that became eligible since)."""
    count = 0
    done: list[str] = []
    due = (SharingPolicy.announce_at <= now) & (SharingPolicy.publish_at <= now)
    pending = (SharingPolicy.status == SCHEDULED) | (
        (SharingPolicy.status == ANNOUNCED) & (SharingPolicy.effective_at > now)
    )
    while True:
        with store.transaction() as session:
            policy = session.scalar(
                select(SharingPolicy)
                .where(due & pending & SharingPolicy.id.not_in(done))
                .order_by(SharingPolicy.announce_at, SharingPolicy.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if policy is None:
                return count
            done.append(policy.id)
            count += _announce(session, policy, now=now, first_wait=first_wait)


def _partners(session: Session, codes: set[str]) -> dict[str, Partner]:
    return {partner.code: partner for partner in session.scalars(select(Partner).where(Partner.code.in_(codes)))}


def _send_effective(store: Store, *, now: datetime) -> int:
    """Step 2, one policy per transaction: `sharing.policy_effective` to every partner briefed on it."""
    count = 0
    while True:
        with store.transaction() as session:
            policy = session.scalar(
                select(SharingPolicy)
                .where(SharingPolicy.status == ANNOUNCED, SharingPolicy.effective_at <= now)
                .order_by(SharingPolicy.effective_at, SharingPolicy.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if policy is None:
                return count
            notices = session.scalars(
                select(PartnerNotice)
                .where(PartnerNotice.policy_id == policy.id, PartnerNotice.effective_sent_at.is_(None))
                .order_by(PartnerNotice.id)
                .with_for_update()
            ).all()
            partners = _partners(session, {notice.partner_code for notice in notices})
            for notice in notices:
                partner = partners[notice.partner_code]
                text = partner_notice(
                    partner,
                    POLICY_EFFECTIVE,
                    markets=", ".join(notice.markets),
                    effective_at=policy.effective_at,
                    rule=policy.rule,
                    notice_id=notice.id,
                    acknowledged=notice.acknowledged_at is not None,  # no "if you have not acknowledged yet"
                )
                data = {
                    "notice_id": notice.id,
                    "policy_id": policy.id,
                    "markets": list(notice.markets),
                    "rule": policy.rule,
                    "effective_at": policy.effective_at.isoformat(),
                    "notice": text,
                }
                record_event(
                    session, partner_code=partner.code, event_type=POLICY_EFFECTIVE, occurred_at=now, data=data
                )
                notice.effective_sent_at = now
            policy.status = EFFECTIVE
            count += len(notices)


def _send_reminders(store: Store, *, now: datetime, schedule: list[timedelta], batch_size: int) -> int:
    """Step 3, a batch of notices per transaction: remind partners that have not acknowledged."""
    count = 0
    while True:
        with store.transaction() as session:
            due = session.scalars(
                select(PartnerNotice)
                .where(PartnerNotice.acknowledged_at.is_(None), PartnerNotice.next_reminder_at <= now)
                .order_by(PartnerNotice.next_reminder_at, PartnerNotice.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            policies = {
                policy.id: policy
                for policy in session.scalars(
                    select(SharingPolicy).where(SharingPolicy.id.in_({notice.policy_id for notice in due}))
                )
            }
            partners = _partners(session, {notice.partner_code for notice in due})
            for notice in due:
                policy, partner = policies[notice.policy_id], partners[notice.partner_code]
                notice.reminders_sent += 1
                # The schedule holds the waits before each reminder: the first was used when it was announced.
                sent = notice.reminders_sent
                notice.next_reminder_at = now + schedule[sent] if sent < len(schedule) else None
                text = partner_notice(
                    partner,
                    ACKNOWLEDGEMENT_REMINDER,
                    markets=", ".join(notice.markets),
                    effective_at=policy.effective_at,
                    notice_id=notice.id,
                    reminder=sent,
                )
                data = {
                    "notice_id": notice.id,
                    "policy_id": policy.id,
                    "markets": list(notice.markets),
                    "effective_at": policy.effective_at.isoformat(),
                    "reminder": sent,
                    "notice": text,
                }
                record_event(
                    session, partner_code=partner.code, event_type=ACKNOWLEDGEMENT_REMINDER, occurred_at=now, data=data
                )
        count += len(due)
        if len(due) < batch_size:
            return count


@dataclass
class SharingReport:
    announced: int = 0  # partners briefed on a policy
    effective: int = 0  # partners told a policy is in effect
    reminders: int = 0  # reminders to acknowledge


def run_due_sharing_notices(
    store: Store, *, now: datetime, reminder_schedule: list[timedelta], batch_size: int = 500
) -> SharingReport:
    """Announce due policies, send effective notices on the day, remind partners that have not acknowledged."""
    first_wait = reminder_schedule[0] if reminder_schedule else None
    report = SharingReport()
    report.announced = _announce_due(store, now=now, first_wait=first_wait)
    report.effective = _send_effective(store, now=now)
    report.reminders = _send_reminders(store, now=now, schedule=reminder_schedule, batch_size=batch_size)
    return report


# --- the service: per-account notices ------------------------------------------------------------------------


def embargoed_articles(session: Session, markets: list[str]) -> frozenset[str]:
    """The FAQ articles an agent serving `markets` may not read yet: those about the sharing policy, until a
    policy covering one of those markets has been announced."""
    told = session.scalars(select(SharingPolicy.markets).where(SharingPolicy.status.in_([ANNOUNCED, EFFECTIVE])))
    if any(set(covered) & set(markets) for covered in told):
        return frozenset()
    return POLICY_ARTICLES


def policy_in_effect(session: Session, market: str) -> SharingPolicy | None:
    """The latest policy in effect that covers `market`, if any."""
    policies = session.scalars(
        select(SharingPolicy)
        .where(SharingPolicy.status == EFFECTIVE)
        .order_by(SharingPolicy.effective_at.desc(), SharingPolicy.id.desc())
    )
    return next((policy for policy in policies if market in policy.markets), None)


def _extra_member_price(session: Session, subscription: Subscription) -> dict[str, str]:
    policy = policy_in_effect(session, subscription.market)
    if policy is None:
        raise Conflict(f"No sharing policy in effect covers {subscription.market}.")
    offer = policy.extra_member
    refusal = extra_member_refusal(
        billed_by=subscription.billed_by,
        plan=subscription.plan,
        market=subscription.market,
        plans=offer["plans"],
        prices=offer["prices"],
    )
    if refusal is not None:
        raise Conflict(refusal)
    return dict(offer["prices"][subscription.market])


def send_account_notice(
    session: Session, subscription_id: str, kind: str, *, now: datetime, verify_by: datetime | None = None
) -> OutboxEvent:
    """Tell the partner (and, through the notice text, the member) about the account's household or extra
    member: household verification required, extra member added or removed."""
    if kind not in ACCOUNT_NOTICES:
        raise InvalidInput({"type": f"One of: {', '.join(ACCOUNT_NOTICES)}."})
    if verify_by is not None and kind != HOUSEHOLD_VERIFICATION:
        raise InvalidInput({"verify_by": f"Only for {HOUSEHOLD_VERIFICATION}."})
    if verify_by is not None and verify_by <= now:
        raise InvalidInput({"verify_by": "A time in the future."})
    subscription = get_subscription(session, subscription_id, for_update=True)
    if subscription.status not in NOTICE_STATUSES:
        raise Conflict(
            f"Subscription {subscription_id} is {subscription.status}: sharing notices are for active, "
            "suspended or cancellation_scheduled subscriptions.",
            current_status=subscription.status,
        )
    if policy_in_effect(session, subscription.market) is None:
        # The embargo: before a policy covering the market is announced and in effect, a notice about the
        # member's household or extra member would tell the partner, and the member, what nobody may know yet.
        raise Conflict(
            f"No sharing policy is in effect in {subscription.market}: per-account sharing notices go out once "
            "one covering the member's market has taken effect."
        )
    data: dict[str, Any] = {}
    context: dict[str, Any] = {}
    if kind == HOUSEHOLD_VERIFICATION:
        deadline = (verify_by or now + VERIFY_WITHIN).astimezone(UTC)
        data, context = {"verify_by": deadline.isoformat()}, {"verify_by": deadline}
    elif kind == EXTRA_MEMBER_ADDED:
        price = _extra_member_price(session, subscription)
        data, context = {"price": price}, {"price": Money(Decimal(price["amount"]), price["currency"])}
    return record_subscription_notice(
        session,
        subscription,
        f"sharing.{kind}",
        reason=kind,
        actor=Actor.SERVICE,
        now=now,
        data=data,
        context=context,
    )
