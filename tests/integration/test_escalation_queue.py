"""The escalations an agent sees first, and a subscriber's latest case updates, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.escalations import Action, Side
from gateway.services import escalation_queue
from gateway.services import escalations as escalation_service
from tests.support.seeding import Seeder, add_subscription

SLA = rules.parse_sla_policy(rules.DEFAULT_SLA)


def _open(session, partner_code: str, partner_ref: str, *, category: str = "billing", at, priority: str = "normal"):
    return escalation_service.open_escalation(
        session,
        partner_code=partner_code,
        partner_ref=partner_ref,
        category=category,
        priority=priority,
        description="Charged twice.",
        agent_ref="agent-1",
        now=at,
        sla=SLA,
    ).escalation


def _service(session, case, *actions: Action, at, comment: str | None = None) -> None:
    for action in actions:
        escalation_service.change_status(
            session,
            case,
            action,
            side=Side.SERVICE,
            author="key:gw_0123456789ab",
            now=at,
            sla=SLA,
            comment=comment if action is Action.RESOLVE else None,
        )


def _seeded(store):
    """Cases of every kind for nordlink (and one of another partner's), each named by its partner_ref."""
    seed = Seeder(store)
    seed.partner("nordlink")
    seed.partner("sudwind")
    now = utcnow()
    refs = ["late", "later", "calm", "resolved", "asked", "replied", "closed", "late-asked"]
    with store.transaction() as session:
        for ref in refs:
            add_subscription(session, "nordlink", ref)
        add_subscription(session, "sudwind", "theirs")
        cases = {ref: _open(session, "nordlink", ref, at=now - timedelta(days=10)) for ref in refs}
        cases["theirs"] = _open(session, "sudwind", "theirs", at=now - timedelta(days=10))
        cases["late"].sla_due_at = now - timedelta(hours=1)
        cases["later"].sla_due_at = now - timedelta(hours=5)  # overdue longer: listed first
        cases["theirs"].sla_due_at = now - timedelta(hours=9)
        cases["calm"].sla_due_at = now + timedelta(hours=5)
        _service(
            session,
            cases["resolved"],
            Action.ACKNOWLEDGE,
            Action.START,
            Action.RESOLVE,
            at=now - timedelta(hours=2),
            comment="Refunded.",
        )
        for ref in ("asked", "replied", "late-asked"):
            cases[ref].sla_due_at = now + timedelta(days=1)
            _service(session, cases[ref], Action.ACKNOWLEDGE, at=now - timedelta(hours=4))
            escalation_service.add_comment(
                session,
                cases[ref],
                side=Side.SERVICE,
                author="Sam",
                comment="Which card?",
                now=now - timedelta(hours=3),
            )
        escalation_service.add_comment(
            session, cases["replied"], side=Side.PARTNER, author="Ana", comment="Visa.", now=now - timedelta(hours=1)
        )
        cases["late-asked"].sla_due_at = now - timedelta(minutes=5)  # overdue and asked: listed once, as overdue
        _service(session, cases["closed"], Action.ACKNOWLEDGE, Action.START, Action.RESOLVE, at=now, comment="Done.")
        escalation_service.change_status(
            session, cases["closed"], Action.CLOSE, side=Side.PARTNER, author="Ana", now=now, sla=SLA
        )
        ids = {ref: case.id for ref, case in cases.items()}
    return ids, now


def test_overdue_cases_then_answers_waiting_for_the_partner(store):
    _, now = _seeded(store)

    with store.read() as session:
        queue = escalation_queue.needing_attention(session, partner_code="nordlink", now=now)

    listed = [(row.partner_ref, row.why) for row in queue.rows]
    assert listed == [
        ("later", "overdue"),
        ("late", "overdue"),
        ("late-asked", "overdue"),
        ("asked", "answered"),  # the service's question, 3 hours ago
        ("resolved", "answered"),  # its resolution, 2 hours ago
    ]
    assert queue.more is False
    assert queue.rows[0].since == queue.rows[0].case.sla_due_at
    assert queue.rows[-1].since < now


def test_the_queue_follows_the_status_filter_and_says_when_there_are_more(store):
    _, now = _seeded(store)

    with store.read() as session:
        resolved = escalation_queue.needing_attention(session, partner_code="nordlink", now=now, status="resolved")
        closed = escalation_queue.needing_attention(session, partner_code="nordlink", now=now, status="closed")
        short = escalation_queue.needing_attention(session, partner_code="nordlink", now=now, limit=1)

    assert [row.partner_ref for row in resolved.rows] == ["resolved"]
    assert closed.rows == [] and closed.more is False
    assert [row.partner_ref for row in short.rows] == ["later", "asked"] and short.more is True


def test_a_subscribers_latest_case_updates_newest_first(store):
    ids, _ = _seeded(store)

    with store.read() as session:
        subscription_id = escalation_service.get_escalation(session, ids["replied"]).subscription_id
        updates = escalation_queue.latest_updates(session, subscription_id)
        others = escalation_queue.latest_updates(session, "sub_nobody")

    assert [(update.entry.kind, update.entry.side) for update in updates] == [
        ("comment", "partner"),
        ("comment", "service"),
        ("status", "service"),
        ("opened", "partner"),
    ]
    assert {update.case.id for update in updates} == {ids["replied"]}
    assert others == []
