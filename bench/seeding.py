"""Bulk set-up shared by the benchmarks: a partner and many active subscriptions, written straight to the tables.

Set-up, not the thing measured: rows go in with plain bulk inserts instead of the use cases, so seeding a
million subscriptions takes seconds rather than minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from gateway.services.partners import add_partner
from gateway.store.db import Store
from gateway.store.models import Subscription

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
