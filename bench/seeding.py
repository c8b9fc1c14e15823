"""Bulk set-up shared by the benchmarks: a partner and many active subscriptions, written straight to the tables.

Set-up, not the thing measured: rows go in with plain bulk inserts instead of the use cases, so seeding a
million subscriptions takes seconds rather than minutes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from gateway.services.partners import add_endpoint, add_partner
from gateway.store.db import Store
from gateway.store.models import OutboxEvent, Subscription

PARTNER = "bench-telco"
PLANS = ["standard_with_ads", "standard", "premium"]


def subscription_id(index: int) -> str:
    return f"sub_{index:020d}"


def partner_ref(index: int) -> str:
    return f"cust-{index:08d}"


def seed_partner_and_subscriptions(
    store: Store, count: int, batch: int = 20_000, extra: Callable[[int], dict[str, Any]] | None = None
) -> None:
    """PARTNER with `count` active subscriptions; subscription i has id subscription_id(i) and plan PLANS[i % 3],
    and whatever columns `extra(i)` gives."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        add_partner(
            session,
            code=PARTNER,
            display_name="Bench",
            markets=["DE"],
            default_locale="de",
            flavour="standard",
            now=now,
        )
    for start in range(0, count, batch):
        rows = [
            {
                "id": subscription_id(index),
                "partner_code": PARTNER,
                "partner_ref": partner_ref(index),
                "plan": PLANS[index % 3],
                "market": "DE",
                "locale": "de",
                "billing_anchor": date(2026, 1, 15),
                "status": "active",
                "status_reason": "account_linked",
                "member_id": f"m-{index}",
                "sequence": 1,
                "version": 2,
                "created_at": now,
                "updated_at": now,
                **(extra(index) if extra else {}),
            }
            for index in range(start, min(start + batch, count))
        ]
        with store.transaction() as session:
            session.execute(insert(Subscription), rows)


def event_rows(partner: str, count: int, now: datetime, subscribers: int = 2000) -> list[dict]:
    """`count` outbox rows for `partner`, spread over `subscribers` (each gets its events in sequence), so that
    order per subscriber holds little back."""
    rows = []
    for index in range(count):
        subscriber, sequence = index % subscribers, index // subscribers + 1
        event_id = f"evt_{secrets.token_hex(10)}"
        subscription = f"sub_{partner}_{subscriber:08d}"[:40]
        rows.append(
            {
                "event_id": event_id,
                "partner_code": partner,
                "subscription_id": subscription,
                "sequence": sequence,
                "event_type": "subscription.suspended",
                "payload": {
                    "id": event_id,
                    "type": "subscription.suspended",
                    "occurred_at": now.isoformat(),
                    "partner": partner,
                    "subscription": {"id": subscription, "partner_ref": partner_ref(subscriber)},
                    "sequence": sequence,
                    "data": {"status": "suspended", "previous_status": "active", "reason": "non_payment"},
                },
                "created_at": now,
            }
        )
    return rows


def seed_partner_with_events(
    store: Store, partner: str, flavour: str, url: str, count: int, subscribers: int = 2000
) -> list[str]:
    """A partner with one endpoint and `count` committed events (written straight to the outbox); their
    bodies, as the dispatcher sends them."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        add_partner(
            session, code=partner, display_name=partner, markets=["DE"], default_locale="de", flavour=flavour, now=now
        )
        add_endpoint(session, partner, url=url, description="bench", allow_private=True, now=now)
    rows = event_rows(partner, count, now, subscribers)
    for start in range(0, count, 5000):
        with store.transaction() as session:
            session.execute(insert(OutboxEvent), rows[start : start + 5000])
    return [json.dumps(row["payload"], separators=(",", ":")) for row in rows]
