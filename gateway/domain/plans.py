"""The plans a partner may bundle, ranked so a change is an upgrade (at once) or a downgrade (next period)."""

from __future__ import annotations

PLAN_RANKS: dict[str, int] = {"standard_with_ads": 1, "standard": 2, "premium": 3}
PLANS = sorted(PLAN_RANKS, key=PLAN_RANKS.__getitem__)


def plan_change(current: str, new: str) -> str:
    """'upgrade' or 'downgrade'; a change to the same plan is not a change."""
    if PLAN_RANKS[new] == PLAN_RANKS[current]:
        raise ValueError(f"the subscription is already on {current}")
    return "upgrade" if PLAN_RANKS[new] > PLAN_RANKS[current] else "downgrade"
