"""The inactivity campaign: find inactive members, warn each one once, a chunk per transaction, resumable.

A run is a job row (campaigns). Each chunk warns the next members in id order after the run's cursor and,
in the same transaction, moves the cursor and the counts: a crash loses at most the chunk in flight, and the
next run (`gateway campaigns resume`, or the scheduler once the lease has run out) carries on from the cursor.
Nobody is warned twice: the search itself leaves out every member with a warning on record (until the
policy's idle window has passed since a warning they answered by keeping the membership).

The writes are set-based (per chunk: one UPDATE marks the members warned, one executemany each adds their history
entries and outbox events): a campaign may warn tens of thousands of members, and a per-member unit of work would
cost far more than the search. The run's lease is the one every long job holds (gateway.services.jobs).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from gateway.domain.errors import NotFound
from gateway.domain.events import change_event_data, subscription_ref
from gateway.domain.ids import new_id
from gateway.domain.inactivity import InactivityPolicy, MarketPolicies, parse_market_policies
from gateway.domain.jobs import JobStatus
from gateway.domain.lifecycle import TRANSITIONS, Actor, Command, Status, check_transition
from gateway.services import jobs
from gateway.services.notice_text import renderer
from gateway.services.notices import notice_settings
from gateway.services.outbox import outbox_row, record_events
from gateway.store.chunks import scanned_in_key_order, skipping_locked
from gateway.store.db import Store
from gateway.store.lists import one_of
from gateway.store.models import Campaign, Partner, Subscription, SubscriptionChange, created_after

INACTIVITY = "inactivity"
WARN = TRANSITIONS[Command.WARN_INACTIVITY]
S = Subscription


def _inactive_under(policy: InactivityPolicy, now: datetime) -> ColumnElement[bool]:
    never_watched = S.last_viewed_at.is_(None) & (S.activated_at <= policy.joined_before(now))
    idle = S.last_viewed_at <= policy.viewed_before(now)
    # Warned before and kept: asked again only once the idle window has passed since that warning.
    not_warned = S.inactivity_warned_at.is_(None) | (
        S.inactivity_respond_by.is_(None) & (S.inactivity_warned_at <= policy.viewed_before(now))
    )
    return (never_watched | idle) & not_warned


def warnable(policies: MarketPolicies, now: datetime) -> ColumnElement[bool]:
    """Members to warn at `now`: in a status the transition table lets a warning start from, no warning
    open, and inactive under their market's policy."""
    configured = [market for market, _ in policies.by_market]
    by_market = [(S.market == market) & _inactive_under(policy, now) for market, policy in policies.by_market]
    elsewhere = _inactive_under(policies.default, now)
    if configured:
        elsewhere = S.market.not_in(configured) & elsewhere
    return and_(
        S.status.in_(sorted(WARN.sources)),
        S.inactivity_respond_by.is_(None),
        S.activated_at.is_not(None),
        or_(*by_market, elsewhere),
    )


def count_key(partner_code: str, market: str) -> str:
    return f"{partner_code}/{market}"


def count_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """A run's counts as rows: partner, market, members."""
    rows = []
    for key, members in counts.items():
        partner, market = key.split("/")
        rows.append({"partner": partner, "market": market, "members": members})
    return rows


def preview(session: Session, policies: MarketPolicies, now: datetime) -> dict[str, int]:
    """How many members a run would warn now, by partner and market ("partner/market" -> count)."""
    rows = session.execute(
        select(S.partner_code, S.market, func.count())
        .where(warnable(policies, now))
        .group_by(S.partner_code, S.market)
        .order_by(S.partner_code, S.market)
    )
    return {count_key(partner_code, market): count for partner_code, market, count in rows}


def respond_by_for(now: datetime, respond_days: int) -> datetime:
    """The end (UTC) of the day `respond_days` from now: the date the member reads is the whole last day."""
    last_day = (now + timedelta(days=respond_days)).date()
    return datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=now.tzinfo)


def start_campaign(
    session: Session, *, dry_run: bool, policies: MarketPolicies, respond_days: int, now: datetime
) -> Campaign:
    """A new run. A dry run is complete at once (its counts are the preview); a real one waits to be run."""
    counts = preview(session, policies, now)
    campaign = Campaign(
        id=new_id("cmp"),
        kind=INACTIVITY,
        status=JobStatus.COMPLETED if dry_run else JobStatus.PENDING,
        dry_run=dry_run,
        respond_by=respond_by_for(now, respond_days),
        candidates=sum(counts.values()),
        warned=0,
        counts=counts if dry_run else {},
        created_at=now,
        finished_at=now if dry_run else None,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def list_campaigns(session: Session, *, limit: int, after: tuple[datetime, str] | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.created_at, Campaign.id).limit(limit)
    if after is not None:
        query = query.where(created_after(Campaign, after))
    return list(session.scalars(query))


def runnable_campaign_ids(session: Session, now: datetime) -> list[str]:
    """Runs waiting to start, and runs whose runner stopped renewing its lease (it crashed)."""
    query = select(Campaign.id).where(jobs.runnable(Campaign, now))
    return list(session.scalars(query.order_by(Campaign.created_at)))


@dataclass(frozen=True)
class CampaignSettings:
    policies: MarketPolicies
    chunk_size: int = 2000
    lease: timedelta = timedelta(minutes=5)  # a runner that stops renewing it (a crash) is taken over after it

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CampaignSettings:
        return cls(parse_market_policies(settings["INACTIVITY_POLICY"]), settings["CAMPAIGN_CHUNK_SIZE"])


def _claim(store: Store, campaign_id: str, owner: str, now: datetime, lease: timedelta) -> Campaign | None:
    """Take the run's lease; None when it is finished or another runner holds a live lease."""
    with store.transaction() as session:
        campaign = jobs.locked(session, Campaign, campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        if campaign.dry_run or not jobs.take_lease(campaign, owner=owner, now=now, lease=lease):
            return None
        campaign.started_at = campaign.started_at or now
        return campaign


class LeaseLost(jobs.LeaseLost):
    """Another runner took over this campaign (our lease ran out): stop without writing."""

    def __init__(self, campaign: Campaign) -> None:
        super().__init__(f"Campaign {campaign.id} is being run by {campaign.lease_owner}.")


def run_campaign(
    store: Store,
    campaign_id: str,
    settings: CampaignSettings,
    *,
    clock: Callable[[], datetime],
    on_chunk: Callable[[int], None] = lambda warned: None,
    owner: str | None = None,
) -> Campaign | None:
    """Warn every member the run still has to warn, a chunk per transaction. None when there is nothing to run
    (finished, or another runner holds it)."""
    owner = owner or f"campaign-runner-{secrets.token_hex(4)}"
    campaign = _claim(store, campaign_id, owner, clock(), settings.lease)
    if campaign is None:
        return None
    respond_days = (campaign.respond_by.date() - campaign.created_at.date()).days
    while True:
        with store.transaction() as session:
            warned, done = _warn_chunk(session, campaign_id, owner, settings, clock(), respond_days)
        on_chunk(warned)
        if done:
            break
    with store.read() as session:
        return get_campaign(session, campaign_id)


def _warn_chunk(
    session: Session, campaign_id: str, owner: str, settings: CampaignSettings, now: datetime, respond_days: int
) -> tuple[int, bool]:
    campaign = jobs.renew_lease(
        session, Campaign, campaign_id, now=now, lease=settings.lease, owner=owner, lost=LeaseLost
    )
    members = session.execute(_next_members(session, campaign, settings, now)).all()
    respond_by = respond_by_for(now, respond_days)
    if members:
        _write_warnings(session, campaign, members, settings.policies, now, respond_by)
    campaign.warned += len(members)
    done = len(members) < settings.chunk_size
    if done:
        jobs.finish(campaign, JobStatus.COMPLETED, now)
    return len(members), done


def _next_members(session: Session, campaign: Campaign, settings: CampaignSettings, now: datetime) -> Select:
    """The next chunk of members to warn: in id order, after the run's cursor."""
    condition = scanned_in_key_order(session, warnable(settings.policies, now))
    query = (
        select(S.id, S.partner_code, S.partner_ref, S.status, S.market, S.locale, S.plan, S.sequence, S.last_viewed_at)
        .where(condition)
        .order_by(S.id)
        .limit(settings.chunk_size)
    )
    if campaign.cursor is not None:
        query = query.where(S.id > campaign.cursor)
    return skipping_locked(session, query, of=S)


def _write_warnings(
    session: Session,
    campaign: Campaign,
    members: Sequence[Row],
    policies: MarketPolicies,
    now: datetime,
    respond_by: datetime,
) -> None:
    """Move a chunk of members into the warned sub-state: each row, its history entry and its warning event, one
    statement per table for the whole chunk."""
    [reason] = WARN.reasons
    for status in {member.status for member in members}:  # the search only finds members the table lets be warned
        check_transition(Status(status), Command.WARN_INACTIVITY, Actor.SCHEDULER, reason)
    texts = _WarningTexts(session, respond_by)
    details = {"respond_by": respond_by.isoformat(), "campaign_id": campaign.id}  # the same for the whole chunk
    changes, events = [], []
    for member in members:
        kind, months = _inactivity(member, policies)
        changes.append(_history_entry(member, reason, now, details))
        events.append(_warning_event(member, reason, kind, texts.notice(member, kind, months), now, details))
    _mark_warned(session, members, now, respond_by)
    session.execute(insert(SubscriptionChange.__table__), changes)
    record_events(session, events)
    campaign.counts = _merged_counts(campaign.counts, members)
    campaign.cursor = members[-1].id


def _inactivity(member: Row, policies: MarketPolicies) -> tuple[str, int]:
    """Why the member is warned (never watched since joining, or idle since the last viewing) and for how many
    months their market's policy allows that."""
    policy = policies.for_market(member.market)
    if member.last_viewed_at is None:
        return "never_watched", policy.never_watched_months
    return "idle", policy.idle_months


class _WarningTexts:
    """The members' texts for one chunk: members of one partner, language, plan and kind of inactivity read the
    same text, rendered once."""

    def __init__(self, session: Session, respond_by: datetime) -> None:
        self._partner_names = dict(session.execute(select(Partner.code, Partner.display_name)).all())
        self._settings = notice_settings()
        self._respond_by = respond_by
        self._rendered: dict[tuple, dict[str, str]] = {}

    def notice(self, member: Row, kind: str, months: int) -> dict[str, str]:
        key = (member.locale, member.partner_code, kind, months, member.plan)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = self._render(*key)
        return text

    def _render(self, locale: str, partner_code: str, kind: str, months: int, plan: str) -> dict[str, str]:
        return renderer().render(
            "inactivity_warning",
            locale,
            service=self._settings.service_name,
            partner=self._partner_names.get(partner_code, partner_code),
            keep_url=self._settings.keep_url,
            rejoin_url=self._settings.rejoin_url,
            respond_by=self._respond_by,
            reason=kind,
            months=months,
            plan=plan,
        )


def _history_entry(member: Row, reason: str, now: datetime, details: dict[str, str]) -> dict[str, Any]:
    """The member's history row for the warning (the status stays)."""
    return {
        "subscription_id": member.id,
        "sequence": member.sequence + 1,
        "command": Command.WARN_INACTIVITY.value,
        "from_status": member.status,
        "to_status": member.status,
        "reason": reason,
        "actor": Actor.SCHEDULER.value,
        "occurred_at": now,
        "details": details,
    }


def _warning_event(
    member: Row, reason: str, kind: str, notice: dict[str, str], now: datetime, details: dict[str, str]
) -> dict[str, Any]:
    """The member's account.inactivity_warning event, as an outbox row, with the history entry's sequence."""
    data = change_event_data(
        status=member.status,
        previous_status=member.status,
        reason=reason,
        actor=Actor.SCHEDULER.value,
        effective_at=now,
        plan=member.plan,
        details={
            "campaign_id": details["campaign_id"],
            "respond_by": details["respond_by"],
            "inactivity": kind,
            "last_viewed_at": member.last_viewed_at.isoformat() if member.last_viewed_at else None,
        },
        notice=notice,
    )
    return outbox_row(
        partner_code=member.partner_code,
        event_type=WARN.event,
        occurred_at=now,
        data=data,
        subscription=subscription_ref(member.id, member.partner_ref),
        sequence=member.sequence + 1,
    )


def _mark_warned(session: Session, members: Sequence[Row], now: datetime, respond_by: datetime) -> None:
    """The warned sub-state on the chunk's rows, in one statement (the chunk's ids bound as one list), each row
    taking the next sequence number: the one its history entry and event carry, as the rows are this
    transaction's until it commits (SQLite: it holds the write lock; PostgreSQL: they were read FOR UPDATE)."""
    table = S.__table__
    session.execute(
        update(table)
        .where(one_of(table.c.id, [member.id for member in members]))
        .values(
            inactivity_warned_at=now,
            inactivity_respond_by=respond_by,
            sequence=table.c.sequence + 1,
            version=table.c.version + 1,
            updated_at=now,
        )
    )


def _merged_counts(counts: dict[str, int], members: Sequence[Row]) -> dict[str, int]:
    """The run's counts by partner and market, with this chunk's members added."""
    merged = Counter(counts)
    merged.update(count_key(member.partner_code, member.market) for member in members)
    return dict(sorted(merged.items()))
