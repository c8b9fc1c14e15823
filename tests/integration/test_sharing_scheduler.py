"""The sharing-policy steps of the scheduler on SQLite and PostgreSQL: on time, each partner once, also with
several schedulers at once, reminders on the schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.delivery import parse_schedule
from gateway.services import sharing as sharing_service
from gateway.services.partners import set_partner_status
from gateway.services.scheduler import run_due_transitions
from gateway.services.sharing import run_due_sharing_notices
from gateway.store.models import OutboxEvent, PartnerNotice, SharingPolicy
from tests.support.parallel import all_at_once
from tests.support.seeding import Seeder
from tests.support.sharing import assert_notice

REMINDERS = parse_schedule("3d,4d,7d")
LEAD = timedelta(days=30)


def _schedule(store, now, *, markets=("DE", "AT"), effective_in=timedelta(days=40), publish_at=None) -> SharingPolicy:
    with store.transaction() as session:
        return sharing_service.create_policy(
            session,
            markets=list(markets),
            rule="one_household",
            extra_member={"plans": ["premium"], "prices": {"DE": {"amount": "4.99", "currency": "EUR"}}},
            effective_at=now + effective_in,
            publish_at=publish_at,
            lead=LEAD,
            now=now,
        )


def _count(store, event_type: str, partner_code: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == event_type)
    if partner_code is not None:
        query = query.where(OutboxEvent.partner_code == partner_code)
    with store.read() as session:
        return session.scalar(query)


def _events(store, partner_code: str) -> list[dict]:
    with store.read() as session:
        query = select(OutboxEvent).where(OutboxEvent.partner_code == partner_code).order_by(OutboxEvent.id)
        return [event.payload for event in session.scalars(query)]


@pytest.fixture
def partners(store):
    seed = Seeder(store)
    seed.partner("rheinfunk", markets=["DE"], locale="de-DE")
    seed.partner("alpenwelle", markets=["AT", "CH"], locale="en")
    seed.partner("hexagone", markets=["FR"], locale="fr-FR")
    seed.partner("schlummer", markets=["DE"], locale="de-DE")
    with store.transaction() as session:
        set_partner_status(session, "schlummer", "suspended", now=utcnow())
    return seed


def test_a_policy_goes_from_announcement_to_effect_with_reminders(store, partners):
    now = utcnow()
    policy = _schedule(store, now)
    assert policy.announce_at == policy.effective_at - LEAD

    steps = [
        (policy.announce_at - timedelta(seconds=1), (0, 0, 0)),
        (policy.announce_at, (2, 0, 0)),
        (policy.announce_at + timedelta(days=3), (0, 0, 2)),
        (policy.announce_at + timedelta(days=7), (0, 0, 2)),
        (policy.announce_at + timedelta(days=14), (0, 0, 2)),
        (policy.announce_at + timedelta(days=20), (0, 0, 0)),  # the schedule is exhausted
        (policy.effective_at, (0, 2, 0)),
        (policy.effective_at + timedelta(days=1), (0, 0, 0)),
    ]
    for moment, expected in steps:
        report = run_due_sharing_notices(store, now=moment, reminder_schedule=REMINDERS)
        assert (report.announced, report.effective, report.reminders) == expected, moment

    types = [event["type"] for event in _events(store, "rheinfunk")]
    assert types == ["sharing.policy_announced"] + ["sharing.acknowledgement_reminder"] * 3 + [
        "sharing.policy_effective"
    ]
    assert _events(store, "hexagone") == [] and _events(store, "schlummer") == []
    for event in _events(store, "rheinfunk"):
        assert "subscription" not in event
        template = event["type"].split(".")[1]
        assert_notice(event["data"]["notice"], template, "de-DE")
    with store.read() as session:
        assert session.get(SharingPolicy, policy.id).status == "effective"


def test_the_embargo_wins_over_the_lead_time(store, partners):
    now = utcnow()
    policy = _schedule(store, now, effective_in=timedelta(days=10), publish_at=now + timedelta(days=2))
    assert policy.announce_at == policy.publish_at

    assert run_due_sharing_notices(store, now=now, reminder_schedule=REMINDERS).announced == 0
    assert (
        run_due_sharing_notices(
            store, now=policy.publish_at - timedelta(seconds=1), reminder_schedule=REMINDERS
        ).announced
        == 0
    )
    assert run_due_sharing_notices(store, now=policy.publish_at, reminder_schedule=REMINDERS).announced == 2


def test_acknowledging_ends_the_reminders(store, partners):
    now = utcnow()
    policy = _schedule(store, now)
    run_due_sharing_notices(store, now=policy.announce_at, reminder_schedule=REMINDERS)
    with store.read() as session:
        notice_id = session.scalar(select(PartnerNotice.id).where(PartnerNotice.partner_code == "rheinfunk"))
    with store.transaction() as session:
        sharing_service.acknowledge(session, "rheinfunk", notice_id, key_id="key_test", now=policy.announce_at)
    with store.transaction() as session:
        first = sharing_service.acknowledge(session, "rheinfunk", notice_id, key_id="key_other", now=now + LEAD)[0]
        assert (first.acknowledged_at, first.acknowledged_by) == (policy.announce_at, "key_test")

    for days in (3, 7, 14):
        run_due_sharing_notices(store, now=policy.announce_at + timedelta(days=days), reminder_schedule=REMINDERS)

    assert _count(store, "sharing.acknowledgement_reminder", "rheinfunk") == 0
    assert _count(store, "sharing.acknowledgement_reminder", "alpenwelle") == 3


def test_the_scheduler_run_includes_the_sharing_steps(store, partners):
    now = utcnow()
    policy = _schedule(store, now)

    report = run_due_transitions(store, now=policy.announce_at, sharing_reminders=[timedelta(days=1)])
    later = run_due_transitions(
        store, now=policy.announce_at + timedelta(days=1), sharing_reminders=[timedelta(days=1)]
    )
    last = run_due_transitions(store, now=policy.announce_at + timedelta(days=9), sharing_reminders=[timedelta(days=1)])

    assert (report.sharing.announced, later.sharing.reminders, last.sharing.reminders) == (2, 2, 0)


def test_schedulers_running_together_tell_each_partner_once(store):
    seed = Seeder(store)
    codes = [f"telco-{index:02d}" for index in range(12)]
    for code in codes:
        seed.partner(code, markets=["DE"], locale="de-DE")
    now = utcnow()
    policies = [_schedule(store, now, effective_in=timedelta(days=40 + index)) for index in range(3)]
    last = max(policy.effective_at for policy in policies)

    def run(offset_days: int):
        moments = [policies[0].announce_at + timedelta(days=offset_days), last]
        return [run_due_sharing_notices(store, now=moment, reminder_schedule=REMINDERS) for moment in moments]

    reports = [report for pair in all_at_once(4, lambda _index: run(3)) for report in pair]

    assert sum(report.announced for report in reports) == len(codes) * len(policies)
    assert sum(report.effective for report in reports) == len(codes) * len(policies)
    assert _count(store, "sharing.policy_announced") == len(codes) * len(policies)
    assert _count(store, "sharing.policy_effective") == len(codes) * len(policies)
    # By `last` the first reminder of every notice is due, once: the next is due four days after it was sent.
    assert _count(store, "sharing.acknowledgement_reminder") == len(codes) * len(policies)
    assert sum(report.reminders for report in reports) == len(codes) * len(policies)
    with store.read() as session:
        assert set(session.scalars(select(PartnerNotice.reminders_sent))) == {1}
    for code in codes:
        assert _count(store, "sharing.policy_announced", code) == len(policies)
