"""The `standard` flavour: one JSON event per request, signed with Standard Webhooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import ClientSession

from partners.base import (
    Clock,
    EventResult,
    InboundEvent,
    OutgoingEvent,
    Target,
    parse_signed_json,
    post_with_quick_retry,
)
from partners.signing import signed_headers


class StandardAdapter:
    name = "standard"
    accepts_batches = False

    async def send(
        self, http: ClientSession, target: Target, event: OutgoingEvent, *, timeout: float, clock: Clock
    ) -> EventResult:
        headers = {
            "Content-Type": "application/json",
            **signed_headers(target.secrets, event.event_id, clock(), event.body),
        }
        attempts = await post_with_quick_retry(
            http, target.url, body=event.body.encode(), headers=headers, timeout=timeout, clock=clock
        )
        return EventResult(event.event_id, attempts)

    async def send_batch(
        self, http: ClientSession, target: Target, events: Sequence[OutgoingEvent], *, timeout: float, clock: Clock
    ) -> list[EventResult]:
        return [await self.send(http, target, event, timeout=timeout, clock=clock) for event in events]

    def parse_callback(self, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> InboundEvent:
        return parse_signed_json(body, headers, secrets)
