"""An agent's action from the console, at the service level, on SQLite and PostgreSQL: what the confirmation page
says it will do is what the lookup reads afterwards, and a form's token takes effect once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.domain import partner_actions
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput, NotFound, StaleVersion
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Command
from gateway.domain.subscription import SubscriptionState
from gateway.services import agent_actions
from gateway.services import lookup as lookup_service
from gateway.services.subscriptions import history
from gateway.store.models import IdempotencyRecord, Subscription
from tests.support.lookup import subscriber_in
from tests.support.seeding import Seeder

TTL = timedelta(hours=24)


def _request(subscription, command: Command, **changes) -> agent_actions.Request:
    values = {
        "partner_code": "nordlink",
        "subscription_id": subscription.id,
        "command": command,
        "reason": partner_actions.reason_for(command, "account_closed"),
        "plan": None,
        "expected_version": subscription.version,
        "agent": "Ana",
    }
    return agent_actions.Request(**{**values, **changes})


@pytest.mark.parametrize(
    ("situation", "command", "plan"),
    [
        ("warned", Command.CONFIRM_KEEP, None),
        ("cancellation_scheduled", Command.REVERT_CANCELLATION, None),
        ("suspended", Command.RESUME, None),
        ("active", Command.CHANGE_PLAN, "premium"),
        ("active", Command.CHANGE_PLAN, "standard_with_ads"),
        ("active", Command.SCHEDULE_CANCELLATION, None),
        ("active", Command.SUSPEND, None),
        ("warned", Command.CANCEL_NOW, None),
        ("pending_activation", Command.CANCEL_NOW, None),
    ],
)
def test_the_confirmed_outcome_is_what_the_lookup_reads_afterwards(store, situation, command, plan):
    Seeder(store).partner("nordlink")
    now = utcnow()
    with store.transaction() as session:
        subscription_id = subscriber_in(session, "nordlink", situation, now=now - timedelta(hours=1)).id
    with store.read() as session:
        subscription = session.get(Subscription, subscription_id)
        before = lookup_service.situation_of(session, subscription, locale="fr", now=now)
        reason = partner_actions.reason_for(command, "account_closed")
        promised = partner_actions.outcome(
            SubscriptionState.of(subscription), before.facts, command, reason=reason, now=now, locale="fr", plan=plan
        )
        asked = _request(subscription, command, plan=plan)

    with store.transaction() as session:
        agent_actions.act(session, asked, now=now)

    with store.read() as session:
        subscription = session.get(Subscription, subscription_id)
        after = lookup_service.situation_of(session, subscription, locale="fr", now=now)
        assert after.facts == promised.facts
        assert after.explanation == promised.explanation
        assert history(session, subscription)[-1].details["agent"] == "Ana"


def test_a_token_takes_effect_once_and_only_for_its_own_request(store):
    Seeder(store).partner("nordlink")
    now = utcnow()
    with store.transaction() as session:
        subscription = subscriber_in(session, "nordlink", "active", now=now)
        asked = _request(subscription, Command.SUSPEND)

    with store.transaction() as session:
        first = agent_actions.act_once(session, asked, token="t" * 32, done_at="/console/x", now=now, ttl=TTL)
    with store.transaction() as session:
        again = agent_actions.act_once(session, asked, token="t" * 32, done_at="/console/x", now=now, ttl=TTL)
    other = _request(subscription, Command.RESUME, expected_version=asked.expected_version + 1)
    with pytest.raises(InvalidInput), store.transaction() as session:
        agent_actions.act_once(session, other, token="t" * 32, done_at="/console/x", now=now, ttl=TTL)

    assert first is None
    assert again is not None and again.status_code == 303 and again.headers == {"Location": "/console/x"}
    with store.read() as session:
        subscription = session.get(Subscription, asked.subscription_id)
        assert subscription.status == "suspended" and subscription.version == asked.expected_version + 1
        assert [entry.command for entry in history(session, subscription)].count("suspend") == 1


def test_a_stale_request_changes_nothing_and_leaves_its_token_unused(store):
    Seeder(store).partner("nordlink")
    now = utcnow()
    with store.transaction() as session:
        subscription = subscriber_in(session, "nordlink", "active", now=now)
        stale = _request(subscription, Command.SUSPEND, expected_version=subscription.version - 1)

    with pytest.raises(StaleVersion), store.transaction() as session:
        agent_actions.act_once(session, stale, token="s" * 32, done_at="/console/x", now=now, ttl=TTL)

    with store.read() as session:
        assert session.get(Subscription, stale.subscription_id).status == "active"
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_another_partners_subscription_is_not_found(store):
    seed = Seeder(store)
    seed.partner("nordlink")
    seed.partner("sudwind")
    with store.transaction() as session:
        theirs = subscriber_in(session, "sudwind", "active")
        asked = _request(theirs, Command.SUSPEND)
    with pytest.raises(NotFound), store.transaction() as session:
        agent_actions.act(session, asked, now=utcnow())


def test_only_a_key_with_subscriptions_write_may_act(store):
    seed = Seeder(store)
    seed.partner("nordlink")
    acting = seed.key(KeyKind.PARTNER, "nordlink", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE})
    reading = seed.key(KeyKind.PARTNER, "nordlink", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_READ})
    with store.read() as session:
        assert agent_actions.may_change_subscriptions(session, acting.key.id)
        assert not agent_actions.may_change_subscriptions(session, reading.key.id)
        assert not agent_actions.may_change_subscriptions(session, "key_nobody")
