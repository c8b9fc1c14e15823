"""Step 1 of the due-notice run: brief partners on a policy once its announcement is due (never before
`publish_at`, the embargo): one notice and one `sharing.policy_announced` event per active partner serving one of
its markets. A partner that becomes eligible later (onboarded, resumed, a market added) is briefed on a later
run, until the policy takes effect."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.events import EventType
from gateway.domain.ids import new_id
from gateway.domain.notices import NOTICE_LOCALES, format_money, market_name
from gateway.domain.partners import PartnerStatus
from gateway.services.notice_text import Markets, Plans
from gateway.services.notices import partner_notice
from gateway.services.outbox import record_event
from gateway.services.sharing.policies import ANNOUNCED, SCHEDULED, policy_terms
from gateway.store.db import Store
from gateway.store.models import Partner, PartnerNotice, SharingPolicy

POLICY_ANNOUNCED = EventType.SHARING_POLICY_ANNOUNCED


def announce_due(store: Store, *, now: datetime, first_wait: timedelta | None) -> int:
    """One policy per transaction: due scheduled policies, and announced ones not yet in effect (for partners
    that became eligible since); how many partners were briefed."""
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
            markets=Markets(markets),
            effective_at=policy.effective_at,
            rule=policy.rule,
            prices=_prices_text(partner, terms["extra_member"]["prices"]),
            plans=Plans(terms["extra_member"]["plans"]),
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


def _language(partner: Partner) -> str:
    language = partner.default_locale.split("-")[0].lower()
    return language if language in NOTICE_LOCALES else "en"


def _prices_text(partner: Partner, prices: dict[str, dict[str, str]]) -> str:
    """e.g. "Deutschland: 4,99 €; Österreich: € 4,99" in the partner's language, each amount as its market writes it."""
    language = _language(partner)
    amounts = {
        market: format_money(Decimal(price["amount"]), price["currency"], language, market)
        for market, price in prices.items()
    }
    return "; ".join(f"{market_name(market, language)}: {amount}" for market, amount in amounts.items())
