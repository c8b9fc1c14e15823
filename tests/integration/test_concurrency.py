"""Concurrent callers on a real store: one effect per Idempotency-Key, each due transition applied once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import IdempotencyRecord, OutboxEvent, Subscription
from tests.support.api import app_store, bearer
from tests.support.parallel import all_at_once
from tests.support.seeding import Seeder, add_subscription

CALLERS = 8


def test_parallel_requests_with_one_key_have_exactly_one_effect(backend_app):
    seed = Seeder(app_store(backend_app))
    seed.partner("nordlink", markets=["DE"])
    headers = {**bearer(seed.token(KeyKind.PARTNER, "nordlink")), "Idempotency-Key": "one-effect"}
    body = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}

    def post(_index):
        response = backend_app.test_client().post("/v1/subscriptions", json=body, headers=headers)
        return response.status_code, response.get_json()

    results = all_at_once(CALLERS, post)

    assert {status for status, _ in results} == {201}
    assert len({answer["id"] for _, answer in results}) == 1
    with app_store(backend_app).read() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_parallel_actions_with_one_key_apply_once(backend_app):
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    now = utcnow()
    with store.transaction() as session:
        subscription = add_subscription(session, "nordlink", "c", now=now)
    path = f"/v1/subscriptions/{subscription.id}/suspend"

    def post(_index):
        client = backend_app.test_client()
        return client.post(path, json={}, headers={**partner, "Idempotency-Key": "suspend-once"}).status_code

    assert set(all_at_once(CALLERS, post)) == {200}
    with store.read() as session:
        suspended = select(func.count()).where(OutboxEvent.event_type == "subscription.suspended")
        assert session.scalar(suspended) == 1


def test_schedulers_running_together_apply_each_due_transition_once(backend_app):
    """Four schedulers at once, over every kind of due work the lifecycle has: each row changes once."""
    store = app_store(backend_app)
    Seeder(store).partner("nordlink", markets=["DE"])
    now = utcnow()
    later = now + timedelta(days=32)
    due = 20

    def command(session, subscription, name, reason, at, **options):
        subscription_service.apply_command(session, subscription, name, reason=reason, now=at, **options)

    with store.transaction() as session:
        for index in range(due):
            ending = add_subscription(session, "nordlink", f"end{index}", now=now)
            command(session, ending, Command.SCHEDULE_CANCELLATION, "member_request", now, actor=Actor.PARTNER)
            add_subscription(session, "nordlink", f"late{index}", now=later - timedelta(days=31), active=False)
            smaller = add_subscription(session, "nordlink", f"down{index}", now=now)
            command(session, smaller, Command.CHANGE_PLAN, "", now, actor=Actor.PARTNER, plan="standard_with_ads")
            long_ago = now - timedelta(days=335)  # cancelled 11 months ago: the 10-month retention has ended
            gone = add_subscription(session, "nordlink", f"gone{index}", now=long_ago)
            command(session, gone, Command.CANCEL_NOW, "partner_churn", long_ago, actor=Actor.PARTNER)

    reports = all_at_once(4, lambda _index: run_due_transitions(store, now=later, batch_size=5))

    for work in ("period_ended", "activation_expired", "downgrade_applied", "purged"):
        assert sum(report.counts[work] for report in reports) == due, work
    with store.read() as session:
        events = dict(
            session.execute(select(OutboxEvent.event_type, func.count()).group_by(OutboxEvent.event_type)).all()
        )
        statuses = dict(session.execute(select(Subscription.status, func.count()).group_by(Subscription.status)).all())
        plans = session.scalars(select(Subscription.plan).where(Subscription.partner_ref.like("down%"))).all()
    # Each cancellation and purge once: the ending and expired ones now, the purged ones 11 months ago.
    assert events["subscription.cancelled"] == 3 * due and events["subscription.purged"] == due
    assert events["subscription.plan_changed"] == 2 * due  # asked for, then applied
    assert statuses == {"cancelled": 2 * due, "active": due, "purged": due}
    assert plans == ["standard_with_ads"] * due


def test_parallel_creates_of_one_partner_ref_make_one_subscription_and_409s(backend_app):
    """Different keys (or none), one customer: the creates that lose the race are told of the one that won,
    never given a 500 (on PostgreSQL the losers only learn of the winner from its unique index)."""
    seed = Seeder(app_store(backend_app))
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    body = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}

    def post(index):
        headers = {**partner, "Idempotency-Key": f"create-{index}"} if index % 2 else partner
        response = backend_app.test_client().post("/v1/subscriptions", json=body, headers=headers)
        return response.status_code, response.get_json()

    results = all_at_once(CALLERS, post)

    assert sorted(status for status, _ in results) == [201] + [409] * (CALLERS - 1)
    created = next(answer["id"] for status, answer in results if status == 201)
    for status, answer in results:
        if status == 409:
            assert answer["type"] == "/problems/conflict" and created in answer["detail"]
    with app_store(backend_app).read() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == CALLERS // 2  # every key
    loser = next(index for index, (status, _) in enumerate(results) if status == 409 and index % 2)
    retry = backend_app.test_client().post(
        "/v1/subscriptions", json=body, headers={**partner, "Idempotency-Key": f"create-{loser}"}
    )
    assert (retry.status_code, retry.json, retry.headers["Idempotent-Replayed"]) == (409, results[loser][1], "true")
