"""The inactive-membership policy: who counts as inactive, per market, and until when they may answer.

A member who has not watched anything within `never_watched_months` of joining, or whose last viewing is
`idle_months` old, is inactive (defaults from the program in the seed texts: 12 and 24 months). Each market
may set its own; `GATEWAY_INACTIVITY_POLICY` reads like `DE=12/24,FR=6/18` and covers the markets it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.periods import add_months


@dataclass(frozen=True)
class InactivityPolicy:
    never_watched_months: int = 12  # joined this long ago and never watched anything
    idle_months: int = 24  # the last viewing is this old

    def joined_before(self, now: datetime) -> datetime:
        return add_months(now, -self.never_watched_months)

    def viewed_before(self, now: datetime) -> datetime:
        return add_months(now, -self.idle_months)

    def is_inactive(self, *, activated_at: datetime | None, last_viewed_at: datetime | None, now: datetime) -> bool:
        if activated_at is None:  # not yet a member: nothing to be inactive in
            return False
        if last_viewed_at is None:
            return activated_at <= self.joined_before(now)
        return last_viewed_at <= self.viewed_before(now)


DEFAULT_POLICY = InactivityPolicy()
_ENTRY = re.compile(r"^([A-Z]{2})=(\d{1,3})/(\d{1,3})$")


@dataclass(frozen=True)
class MarketPolicies:
    """The policy of each market: its own where configured, the default elsewhere."""

    default: InactivityPolicy = DEFAULT_POLICY
    by_market: tuple[tuple[str, InactivityPolicy], ...] = ()

    def for_market(self, market: str) -> InactivityPolicy:
        return dict(self.by_market).get(market, self.default)


def parse_market_policies(text: str) -> MarketPolicies:
    """`DE=12/24,FR=6/18` (months never watched since joining / months since the last viewing); '' = defaults."""
    entries = []
    for raw in filter(None, (part.strip() for part in text.split(","))):
        match = _ENTRY.match(raw)
        if match is None:
            raise ValueError(f"{raw!r}: expected MARKET=MONTHS/MONTHS, e.g. DE=12/24")
        market, never_watched, idle = match.group(1), int(match.group(2)), int(match.group(3))
        if never_watched < 1 or idle < 1:
            raise ValueError(f"{raw!r}: months must be at least 1")
        entries.append((market, InactivityPolicy(never_watched, idle)))
    markets = [market for market, _ in entries]
    if len(set(markets)) != len(markets):
        raise ValueError("a market is named twice")
    return MarketPolicies(DEFAULT_POLICY, tuple(sorted(entries)))
