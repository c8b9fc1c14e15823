"""Sandbox mode (issue 22, item 14): on a sandbox gateway, `gateway scheduler run --now TIME` moves the clock
forward for the API and the scheduler alike, so that a partner walks each program's long waits in minutes.
Refused on a production configuration, and on a gateway that is not a sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.config import ConfigError, load_settings
from gateway.domain.clock import run_ahead, utcnow
from gateway.domain.keys import KeyKind
from gateway.store.models import Delivery, SandboxClock
from tests.support.api import app_store, bearer
from tests.support.receivers import Answer, Receiver
from tests.support.seeding import Seeder
from tests.support.sharing import policy_body


@dataclass
class Sandbox:
    client: Any
    gateway: Any  # runs `gateway ARGS...` on the same store
    partner: dict[str, str]
    service: dict[str, str]
    operator: dict[str, str]
    store: Any

    def subscribe(self, partner_ref: str) -> dict:
        body = {"partner_ref": partner_ref, "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}
        created = self.client.post("/v1/subscriptions", json=body, headers=self.partner)
        assert created.status_code == 201, created.get_data(as_text=True)
        activation = {"code": created.json["activation"]["code"], "member_id": f"member-{partner_ref}"}
        activated = self.client.post("/v1/service/activations", json=activation, headers=self.service)
        assert activated.status_code == 200, activated.get_data(as_text=True)
        return activated.json

    def move_to(self, when: str) -> str:
        return self.gateway("scheduler", "run", "--now", when).output

    def subscription(self, subscription_id: str) -> dict:
        return self.client.get(f"/v1/subscriptions/{subscription_id}", headers=self.partner).json


@pytest.fixture
def world_clock():
    """Whatever a test does to this process's clock, the next test starts on the world's time."""
    yield
    run_ahead(timedelta(0))


@pytest.fixture
def sandbox(run, monkeypatch, world_clock) -> Sandbox:
    monkeypatch.setenv("GATEWAY_SANDBOX", "true")  # `run` has migrated the store; each command reads this
    app = create_app()
    seed = Seeder(app_store(app))
    seed.partner("nordlink", markets=["DE", "AT"])
    return Sandbox(
        client=app.test_client(),
        gateway=run,
        partner=bearer(seed.token(KeyKind.PARTNER, "nordlink")),
        service=bearer(seed.token(KeyKind.SERVICE)),
        operator=bearer(seed.token(KeyKind.OPERATOR)),
        store=app_store(app),
    )


def test_a_member_cancellation_walked_to_the_period_end_and_the_purge(sandbox):
    """Program 1 (partner-billed cancellation), then the 10-month retention, in sandbox time."""
    subscription = sandbox.subscribe("walk-1")
    path = f"/v1/subscriptions/{subscription['id']}"
    scheduled = sandbox.client.post(f"{path}/cancel", json={}, headers=sandbox.partner).json
    assert scheduled["status"] == "cancellation_scheduled"
    access_until = datetime.fromisoformat(scheduled["access_until"])

    output = sandbox.move_to(access_until.isoformat())

    assert f"sandbox time: {access_until.isoformat(timespec='seconds')}" in output and "period_ended: 1" in output
    ended = sandbox.subscription(subscription["id"])
    assert (ended["status"], ended["status_reason"]) == ("cancelled", "billing_period_ended")
    history = sandbox.client.get(f"{path}/history", headers=sandbox.partner).json["items"]
    assert datetime.fromisoformat(history[-1]["occurred_at"]) >= access_until  # recorded at the sandbox's time
    assert utcnow() >= access_until  # this process (the API) runs on the sandbox clock too

    back = sandbox.gateway("scheduler", "run", "--now", subscription["activated_at"], ok=False)
    assert back.exit_code == 1 and "only moves forward" in back.output

    retention_until = datetime.fromisoformat(ended["retention_until"])
    assert "retention_expiring: 1" in sandbox.move_to((retention_until - timedelta(days=30)).isoformat())
    assert "purged: 1" in sandbox.move_to(retention_until.isoformat())
    assert sandbox.subscription(subscription["id"])["status"] == "purged"
    again = sandbox.subscribe("walk-1")  # the member comes back under the same reference, months later
    assert datetime.fromisoformat(again["created_at"]) >= retention_until


def test_an_inactive_member_is_warned_then_cancelled_in_sandbox_time(sandbox):
    """Program 2 (inactivity): 12 months without watching, a warning, no answer by the respond-by date."""
    subscription = sandbox.subscribe("idle-1")
    assert "0 members would be warned" in sandbox.gateway("campaigns", "inactivity", "--dry-run").output
    sandbox.move_to((datetime.fromisoformat(subscription["activated_at"]) + timedelta(days=366)).isoformat())
    # every command runs at the sandbox's time, not only the scheduler: a new process starts on the world's
    # time and reads the sandbox clock from the store
    run_ahead(timedelta(0))
    assert "1 members would be warned" in sandbox.gateway("campaigns", "inactivity", "--dry-run").output
    run = sandbox.client.post(
        "/admin/v1/campaigns", json={"kind": "inactivity", "dry_run": False}, headers=sandbox.operator
    )
    assert run.status_code in (201, 202), run.get_data(as_text=True)
    assert "campaign run:" in sandbox.gateway("scheduler", "run").output  # the scheduler runs it, at sandbox time
    warning = sandbox.subscription(subscription["id"])["inactivity_warning"]
    assert warning is not None

    output = sandbox.move_to(warning["respond_by"])

    assert "inactivity_cancelled: 1" in output
    cancelled = sandbox.subscription(subscription["id"])
    assert (cancelled["status"], cancelled["status_reason"]) == ("cancelled", "inactivity")


def test_a_sharing_policy_walked_from_the_embargo_to_the_effective_day(sandbox):
    """Program 3 (sharing policy): nothing before publish_at, the briefing then, the effective notice on the day."""
    now = utcnow()
    body = policy_body(
        now,
        publish_at=(now + timedelta(days=20)).isoformat(),
        effective_at=(now + timedelta(days=40)).isoformat(),
    )
    policy = sandbox.client.post("/admin/v1/sharing-policies", json=body, headers=sandbox.operator)
    assert policy.status_code == 201, policy.get_data(as_text=True)
    assert "0 announced" in sandbox.gateway("scheduler", "run").output  # under embargo

    assert "1 announced" in sandbox.move_to(body["publish_at"])
    notices = sandbox.client.get("/v1/notices", headers=sandbox.partner).json["items"]
    assert len(notices) == 1
    assert "1 effective" in sandbox.move_to(body["effective_at"])


def test_a_dispatcher_retries_at_the_sandbox_time(sandbox, monkeypatch):
    """A retry falls due by the sandbox clock: moved past it, the dispatcher sends again."""
    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "true")
    with Receiver(lambda _received, count: Answer(503 if count == 1 else 204)) as receiver:
        Seeder(sandbox.store).endpoint("nordlink", receiver.url)
        sandbox.subscribe("retried")
        sandbox.gateway("dispatch", "--until-idle")  # 503: a retry is due 5 s later, by the sandbox clock
        assert len(receiver.received) == 1
        with sandbox.store.read() as session:
            delivery = session.scalars(select(Delivery)).one()
            assert delivery.status == "pending" and delivery.next_attempt_at > utcnow()

        sandbox.move_to((delivery.next_attempt_at + timedelta(hours=1)).isoformat())
        sandbox.gateway("dispatch", "--until-idle")

        assert len(receiver.received) == 2
        with sandbox.store.read() as session:
            assert session.scalars(select(Delivery)).one().status == "delivered"


def test_now_is_refused_on_a_gateway_that_is_not_a_sandbox(run):
    refused = run("scheduler", "run", "--now", "2030-01-01", ok=False)
    assert refused.exit_code == 2 and "sandbox gateway only (GATEWAY_SANDBOX=true)" in refused.output
    assert "period_ended" not in refused.output  # nothing ran


@pytest.mark.parametrize(
    ("given", "message"),
    [("next tuesday", "not an ISO 8601 time"), ("2030-01-01T09:00:00", "has no time zone")],
)
def test_a_sandbox_time_that_cannot_be_read_is_refused_and_the_clock_stays(sandbox, given, message):
    refused = sandbox.gateway("scheduler", "run", "--now", given, ok=False)
    assert refused.exit_code == 2 and message in refused.output
    with sandbox.store.read() as session:
        assert session.get(SandboxClock, 1) is None


def test_the_sandbox_is_refused_on_a_production_configuration(tmp_path, world_clock):
    with pytest.raises(ConfigError, match="GATEWAY_SANDBOX=true is refused with GATEWAY_ENVIRONMENT=production"):
        load_settings({"GATEWAY_SANDBOX": "true", "GATEWAY_ENVIRONMENT": "production"})
    with pytest.raises(ConfigError, match="refused"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SANDBOX": True, "ENVIRONMENT": "production"})
    assert load_settings({"GATEWAY_ENVIRONMENT": "production"})["SANDBOX"] is False  # off by default
