"""Agents opening the same case at the same moment get one escalation: the store's unique open_key decides, and
the loser answers with the winner's case (real SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import escalations as escalation_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.models import Escalation, EscalationEntry, OutboxEvent
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription

AGENTS = 8
SLA = rules.parse_sla_policy(rules.DEFAULT_SLA)
CASE = {"partner_ref": "cust-1", "category": "double_billing", "priority": "urgent", "description": "Billed twice."}


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Escalation)),
            session.scalar(select(func.count()).select_from(EscalationEntry)),
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == rules.EVENT_TYPE)
            ),
        )


def test_agents_opening_the_same_case_at_once_over_http_get_one_escalation(backend_app):
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink")
    with store.transaction() as session:
        add_subscription(session, "nordlink", "cust-1")
    headers = bearer(seed.token(KeyKind.PARTNER, "nordlink", {"callcenter"}))
    barrier = threading.Barrier(AGENTS)

    def post(index: int):
        client = backend_app.test_client()
        barrier.wait()
        response = client.post(
            "/v1/callcenter/escalations", json={**CASE, "agent_ref": f"agent-{index}"}, headers=headers
        )
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(AGENTS) as pool:
        results = list(pool.map(post, range(AGENTS)))

    assert sorted(status for status, _ in results) == [200] * (AGENTS - 1) + [201], results
    assert len({body["id"] for _, body in results}) == 1
    assert _counts(store) == (1, 1, 1)  # one case, one history entry, one event


@pytest.fixture
def postgres_store(postgres_database):
    engine = make_engine(postgres_database.url, postgres_database.schema)
    migrate.upgrade(engine)
    yield Store(engine)
    engine.dispose()


def _waiting_locks(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))


def test_the_agent_whose_insert_loses_on_the_unique_key_gets_the_winners_case(postgres_store):
    """The race made certain: the second agent's transaction has looked and found nothing (the first one's
    case is not committed yet), inserts, and waits on the unique index until the first commits; then it must
    answer with the first case rather than fail or open a second one."""
    store = postgres_store
    Seeder(store).partner("nordlink")
    with store.transaction() as session:
        add_subscription(session, "nordlink", "cust-1")
    first_inserted, release_first = threading.Event(), threading.Event()
    results = {}

    def first() -> None:
        with store.transaction() as session:
            results["first"] = escalation_service.open_escalation(
                session, partner_code="nordlink", agent_ref="agent-1", now=utcnow(), sla=SLA, **CASE
            )
            first_inserted.set()
            assert release_first.wait(10)
        results["first_id"] = results["first"].escalation.id

    def second() -> None:
        assert first_inserted.wait(10)
        with store.transaction() as session:
            opened = escalation_service.open_escalation(
                session, partner_code="nordlink", agent_ref="agent-2", now=utcnow(), sla=SLA, **CASE
            )
            results["second"] = (opened.created, opened.escalation.id, opened.escalation.agent_ref)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_inserted.wait(10)
    deadline = time.monotonic() + 10
    while _waiting_locks(store) == 0:  # the second insert is blocked on the first's uncommitted key
        assert time.monotonic() < deadline, "the second agent's insert never waited on the first"
        time.sleep(0.02)
    release_first.set()
    for thread in threads:
        thread.join(15)

    assert results["first"].created is True
    assert results["second"] == (False, results["first_id"], "agent-1")
    assert _counts(store) == (1, 1, 1)
