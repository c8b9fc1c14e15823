"""The `batch` flavour: up to N events per request as NDJSON (one event per line), signed with Standard Webhooks.

The partner answers 2xx for the whole batch, optionally with {"results": [{"id": ..., "status": ...,
"detail": ...}]} naming events it treated differently (e.g. 422 for one it refuses, 503 for one to retry);
events it does not name share the request's status. Any other answer applies to every event of the batch.
"""

from __future__ import annotations

import hashlib
import json
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

NDJSON = "application/x-ndjson"


def batch_id(events: Sequence[OutgoingEvent]) -> str:
    """The same events in the same order get the same webhook-id, so a retried batch is recognisable."""
    digest = hashlib.sha256("\n".join(event.event_id for event in events).encode()).hexdigest()
    return f"batch_{digest[:24]}"


def _per_event_statuses(excerpt: str | None) -> dict[str, tuple[int, str | None]]:
    try:
        results = json.loads(excerpt or "").get("results", [])
    except (ValueError, AttributeError):
        return {}
    statuses = {}
    for result in results if isinstance(results, list) else []:
        if isinstance(result, dict) and isinstance(result.get("id"), str) and isinstance(result.get("status"), int):
            statuses[result["id"]] = (result["status"], result.get("detail"))
    return statuses


class BatchAdapter:
    name = "batch"
    accepts_batches = True

    async def send(
        self, http: ClientSession, target: Target, event: OutgoingEvent, *, timeout: float, clock: Clock
    ) -> EventResult:
        return (await self.send_batch(http, target, [event], timeout=timeout, clock=clock))[0]

    async def send_batch(
        self, http: ClientSession, target: Target, events: Sequence[OutgoingEvent], *, timeout: float, clock: Clock
    ) -> list[EventResult]:
        body = "".join(f"{event.body}\n" for event in events)
        headers = {"Content-Type": NDJSON, **signed_headers(target.secrets, batch_id(events), clock(), body)}
        attempts = await post_with_quick_retry(
            http, target.url, body=body.encode(), headers=headers, timeout=timeout, clock=clock
        )
        final = attempts[-1]
        statuses = _per_event_statuses(final.excerpt) if final.status and 200 <= final.status < 300 else {}
        results = []
        for event in events:
            status, detail = statuses.get(event.event_id, (None, None))
            results.append(EventResult(event.event_id, attempts, status, detail))
        return results

    def parse_callback(self, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> InboundEvent:
        return parse_signed_json(body, headers, secrets)
