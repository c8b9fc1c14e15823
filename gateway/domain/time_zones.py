"""Which time zone names the gateway accepts: the IANA zones Python's zoneinfo knows on this machine."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

NOT_A_TIME_ZONE = "Not an IANA time zone name, e.g. Europe/Berlin."
MAX_LENGTH = 64  # partners.time_zone; the longest IANA name is about half of it


@cache
def _zones() -> frozenset[str]:
    # Read once: available_timezones() walks the tz database's folders on every call.
    return frozenset(available_timezones())


def is_time_zone(name: object) -> bool:
    """Whether `name` is an IANA zone name zoneinfo can load (Europe/Berlin), spelled as the database spells it."""
    return isinstance(name, str) and len(name) <= MAX_LENGTH and name in _zones()
