"""Principals a process authenticated recently, kept until the store says keys or partners changed.

On the status lookup, reading the key and its partner cost about a tenth of the gateway's throughput. A kept
principal is used again while the store's key-change marker (gateway.store.key_changes) is unchanged, its key
has not reached its expiry, and it is younger than GATEWAY_KEY_CACHE_SECONDS (the bound for changes made
around the gateway, e.g. by hand in the database). Without a marker (PostgreSQL), or with the setting at 0,
every request reads the store, as before.

Only successful authentications are kept, under the token's hash, never the token: a refused token is looked
up again each time, so a key issued a moment ago works at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from gateway.domain.keys import hash_token, token_prefix
from gateway.services.keys import Principal, authenticate
from gateway.store.hot_reads import RawConnection
from gateway.store.key_changes import KeyChangeMarker


class _Kept(NamedTuple):
    principal: Principal
    marker: bytes  # the marker as it was read before the store was
    read_at: float  # monotonic seconds


class PrincipalCache:
    MAX_ENTRIES = 1024  # partners hold a few keys each; past this the cache starts over rather than sweeping

    def __init__(
        self, marker: KeyChangeMarker | None, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._marker = marker if seconds > 0 else None
        self._seconds = seconds
        self._clock = clock
        self._kept: dict[str, _Kept] = {}

    def authenticate(self, rows: RawConnection, token: str, *, now: datetime) -> Principal:
        """As gateway.services.keys.authenticate, from what this process kept when nothing has changed."""
        if self._marker is None or token_prefix(token) is None:  # a malformed token: authenticate says why
            return authenticate(rows, token, now=now)
        digest = hash_token(token)
        marker = self._marker.read()  # before the store, so a change committed meanwhile shows next time
        kept = self._kept.get(digest)
        if (
            kept is not None
            and kept.marker == marker
            and self._clock() - kept.read_at < self._seconds
            and (kept.principal.expires_at is None or now < kept.principal.expires_at)
        ):
            return kept.principal
        self._kept.pop(digest, None)
        read_at = self._clock()
        principal = authenticate(rows, token, now=now)
        if len(self._kept) >= self.MAX_ENTRIES:
            self._kept.clear()
        self._kept[digest] = _Kept(principal, marker, read_at)
        return principal
