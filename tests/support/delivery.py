"""Delivery test helpers: loopback partners, recorded events, quick dispatchers (in or out of process), a test clock."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.config import load_settings
from gateway.delivery.dispatcher import Dispatcher, DispatchSettings
from gateway.domain.clock import utcnow
from gateway.domain.delivery import RetryPolicy
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.store.db import Store
from tests.support.seeding import Seeder, add_subscription

STOP = threading.Event()  # never set: `run(STOP, until_idle=True)` runs until nothing is due
IMMEDIATE_RETRY = RetryPolicy([timedelta(0)] * 10, timedelta(0))  # retries fall due at once


def settings(**changes) -> DispatchSettings:
    base = DispatchSettings.from_settings({**load_settings({}), "ALLOW_PRIVATE_ENDPOINTS": True})
    return replace(base, **{"timeout": 2.0, "idle_wait": 0.05, **changes})


def dispatcher(store: Store, *, clock=utcnow, name: str | None = None, **changes) -> Dispatcher:
    return Dispatcher(store, settings(**changes), name=name, clock=clock, rng=random.Random(7))


@dataclass
class Clock:
    """A clock the test moves: retry timing without sleeping."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def partner_with_endpoint(store: Store, code: str, url: str, flavour: str = "standard") -> str:
    """The partner's endpoint secret."""
    seeder = Seeder(store)
    seeder.partner(code, flavour=flavour)
    return seeder.endpoint_with_secret(code, url)[1]


def record_events(
    store: Store, partner_code: str, subscribers: int, changes_each: int, now=None, prefix: str = "ref"
) -> list[str]:
    """`subscribers` subscriptions, each created, activated, then suspended/resumed `changes_each` times:
    1 + changes_each events per subscriber (activated, suspended, resumed, ...). The subscription ids."""
    ids = []
    now = now or utcnow()
    with store.transaction() as session:
        for index in range(subscribers):
            subscription = add_subscription(session, partner_code, f"{prefix}-{index}", now=now)
            for change in range(changes_each):
                command = Command.SUSPEND if change % 2 == 0 else Command.RESUME
                reason = "non_payment" if command == Command.SUSPEND else "payment_recovered"
                subscription_service.apply_command(
                    session, subscription, command, actor=Actor.PARTNER, reason=reason, now=now
                )
            ids.append(subscription.id)
    return ids


def dispatch_process(database, **settings: str) -> subprocess.Popen:
    """`gateway dispatch` as a process of its own on `database`, with GATEWAY_<name> settings (loopback allowed;
    stderr kept for the test's messages)."""
    environment = {
        **os.environ,
        "GATEWAY_DATABASE_URL": database.url,
        "GATEWAY_ALLOW_PRIVATE_ENDPOINTS": "true",
        "GATEWAY_LOG_LEVEL": "WARNING",
        **{f"GATEWAY_{name}": value for name, value in settings.items()},
    }
    if database.schema:
        environment["GATEWAY_DATABASE_SCHEMA"] = database.schema
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "dispatch"], env=environment, stderr=subprocess.PIPE, text=True
    )
