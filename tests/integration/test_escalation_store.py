"""The escalation use cases as other callers (the agent console, the lookup) use them, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.services import escalations as escalation_service
from gateway.store.models import Escalation, OutboxEvent
from tests.support.seeding import Seeder, add_subscription

SLA = rules.parse_sla_policy(rules.DEFAULT_SLA)


@pytest.fixture
def subscriber(store) -> str:
    Seeder(store).partner("nordlink")
    with store.transaction() as session:
        return add_subscription(session, "nordlink", "cust-1").id


def _values(**changes):
    return {
        "partner_code": "nordlink",
        "partner_ref": "cust-1",
        "category": "billing",
        "priority": "normal",
        "description": "Charged twice.",
        "agent_ref": "agent-1",
        "now": utcnow(),
        "sla": SLA,
        **changes,
    }


def _open(session, **changes):
    return escalation_service.open_escalation(session, **_values(**changes))


def test_values_a_form_got_wrong_are_named_and_nothing_is_written(store, subscriber):
    with pytest.raises(InvalidInput) as refused, store.transaction() as session:
        _open(session, category="complaint", priority="asap", locale="not a locale")
    assert set(refused.value.errors) == {"category", "priority", "locale"}
    with pytest.raises(NotFound), store.transaction() as session:
        _open(session, partner_ref="nobody")
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_the_status_machine_takes_plain_strings_and_the_lookup_sees_only_unresolved_cases(store, subscriber):
    with store.transaction() as session:
        billing = _open(session).escalation.id
        technical = _open(session, category="technical").escalation.id
    now = utcnow()
    with store.transaction() as session:
        case = escalation_service.get_escalation(session, technical, partner_code="nordlink", for_update=True)
        for action in ("acknowledge", "start"):
            escalation_service.change_status(session, case, action, side="service", author="s", now=now, sla=SLA)
        escalation_service.change_status(
            session, case, "resolve", side="service", author="s", now=now, sla=SLA, comment="Fixed."
        )
    with store.read() as session:
        assert [case.id for case in escalation_service.unresolved_escalations(session, subscriber)] == [billing]
    with store.transaction() as session:
        case = escalation_service.get_escalation(session, technical, for_update=True)
        escalation_service.change_status(session, case, "close", side="partner", author="agent-1", now=now, sla=SLA)
    with pytest.raises(Conflict, match="closed"), store.transaction() as session:
        case = escalation_service.get_escalation(session, technical, for_update=True)
        escalation_service.add_comment(session, case, side="partner", author="agent-1", comment="Hi", now=now)
    with store.read() as session:
        assert escalation_service.get_escalation(session, technical).status == "closed"
        changes = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.event_type == rules.EVENT_TYPE).order_by(OutboxEvent.id)
        )
        assert [payload["data"]["change"] for payload in changes] == [
            "opened",
            "opened",
            "acknowledged",
            "started",
            "resolved",
            "closed",
        ]  # the refused comment left nothing behind


def test_another_partners_case_is_not_found(store, subscriber):
    Seeder(store).partner("other")
    with store.transaction() as session:
        case = _open(session).escalation.id
    with pytest.raises(NotFound), store.read() as session:
        escalation_service.get_escalation(session, case, partner_code="other")


def test_opening_again_adds_the_typed_text_to_the_open_case_once_and_tells_the_partner(store, subscriber):
    with store.transaction() as session:
        first = escalation_service.open_or_add_comment(
            session, **{**_values(), "description": "Charged twice."}
        ).escalation.id
    with store.transaction() as session:
        again = escalation_service.open_or_add_comment(session, **{**_values(), "description": "And a third time."})
        assert (again.escalation.id, again.created, again.commented) == (first, False, True)
    with store.transaction() as session:
        twice = escalation_service.open_or_add_comment(session, **{**_values(), "description": "And a third time."})
        assert (twice.created, twice.commented) == (False, False)  # the same form sent again: nothing more
    with store.read() as session:
        case = escalation_service.get_escalation(session, first)
        entries = escalation_service.history(session, case)
        assert [(entry.kind, entry.comment) for entry in entries] == [
            ("opened", None),
            ("comment", "And a third time."),
        ]
        assert case.version == 2 and session.scalar(select(func.count()).select_from(Escalation)) == 1
        updates = select(func.count()).where(OutboxEvent.event_type == str(rules.EVENT_TYPE))
        assert session.scalar(updates) == 2  # opened, commented
