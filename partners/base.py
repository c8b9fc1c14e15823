"""The partner adapter interface: how events are sent to a partner and how its callbacks are read.

Adapters speak HTTP through the aiohttp client they are given (partners.transport), as coroutines, and never
touch the database: the dispatcher hands them plain values and records what they report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from aiohttp import ClientSession
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential

from partners.signing import WebhookVerificationError, verify
from partners.transport import ForbiddenAddress

EXCERPT_LIMIT = 2048  # bytes of a partner's response kept with each attempt

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OutgoingEvent:
    event_id: str  # the webhook-id: the same on every retry, so a partner can drop duplicates
    event_type: str
    body: str  # the event as JSON text, exactly as committed


@dataclass(frozen=True)
class Target:
    url: str
    secrets: Sequence[str]  # the current signing secret, then the previous one while a rotation overlaps


@dataclass(frozen=True)
class Attempt:
    """One HTTP exchange: either a status (and an excerpt of the body) or the class of the error it raised."""

    started_at: datetime
    duration_ms: float
    status: int | None = None
    error_class: str | None = None
    excerpt: str | None = None
    retry_after: str | None = None


@dataclass(slots=True)  # one per event of every send: a frozen dataclass's __init__ costs several times more
class EventResult:
    """What one event of a send came to: the attempts made for it (the last one counts) and, for a batch,
    the status the partner reported for this event, which overrides the request's status."""

    event_id: str
    attempts: Sequence[Attempt]
    status: int | None = None
    detail: str | None = None

    @property
    def attempt(self) -> Attempt:
        return self.attempts[-1]

    @property
    def http_status(self) -> int | None:
        return self.status if self.status is not None else self.attempt.status


@dataclass(frozen=True)
class InboundEvent:
    """A partner's own change, verified: its id (for deduplication), type and data."""

    event_id: str
    event_type: str
    data: Mapping[str, Any] = field(default_factory=dict)


class CallbackRejected(Exception):
    """An inbound callback that is not signed by the partner or cannot be read; the message says which."""


class PartnerAdapter(Protocol):
    name: str
    accepts_batches: bool

    async def send(
        self, http: ClientSession, target: Target, event: OutgoingEvent, *, timeout: float, clock: Clock
    ) -> EventResult: ...

    async def send_batch(
        self, http: ClientSession, target: Target, events: Sequence[OutgoingEvent], *, timeout: float, clock: Clock
    ) -> list[EventResult]: ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> InboundEvent: ...


async def post(
    http: ClientSession, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float, now: datetime
) -> Attempt:
    """One POST, over within `timeout` seconds whatever the partner does (connect, send, status, headers and
    the body's excerpt all count); its outcome as an Attempt, never an exception.

    At most EXCERPT_LIMIT bytes of the answer are read; a longer body's connection is dropped, not read to
    its end, and a compressed one is inflated no further than the excerpt. An answer whose body breaks off
    keeps its status (the partner answered) and names what broke it.
    """
    started = time.perf_counter()
    status, retry_after, excerpt, broken = None, None, None, None
    try:
        async with asyncio.timeout(timeout):
            async with http.post(url, data=body, headers=dict(headers), allow_redirects=False) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                encoding = response.headers.get("Content-Encoding")
                try:
                    raw = await _read_at_most(response.content, EXCERPT_LIMIT + 1)
                except (aiohttp.ClientError, OSError) as error:
                    broken = error
                else:
                    excerpt = _excerpt(raw, encoding)
                    if len(raw) > EXCERPT_LIMIT:
                        response.close()  # drops the connection: the rest of the body is never read
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
        broken = error
    error_class = error_class_of(broken) if broken is not None else None
    return Attempt(now, (time.perf_counter() - started) * 1000, status, error_class, excerpt, retry_after)


async def _read_at_most(stream: aiohttp.StreamReader, limit: int) -> bytes:
    data = bytearray()
    while len(data) < limit:
        chunk = await stream.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


_INFLATE_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _excerpt(raw: bytes, encoding: str | None) -> str | None:
    """The body's first EXCERPT_LIMIT bytes as text, inflated from gzip or deflate no further than that."""
    wbits = _INFLATE_WBITS.get((encoding or "").strip().lower())
    if wbits is not None:
        with contextlib.suppress(zlib.error):  # not what it claims to be: kept as it came
            raw = zlib.decompressobj(wbits).decompress(raw, EXCERPT_LIMIT)
    # NUL cannot be stored in a PostgreSQL text column: a partner answering zeros must not stop the recording.
    return raw[:EXCERPT_LIMIT].decode("utf-8", "replace").replace("\x00", "\ufffd") or None


def error_class_of(error: BaseException) -> str:
    """A stable name for what went wrong, whichever library raised it (recorded with each attempt)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ForbiddenAddress):
            return "ForbiddenAddress"  # the address check refused the connection
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, TimeoutError):
        return "DeadlineExceeded"
    for kind, name in _ERROR_NAMES:
        if isinstance(error, kind):
            return name
    return type(error).__name__


_ERROR_NAMES: tuple[tuple[type[BaseException], str], ...] = (
    (aiohttp.ClientConnectorDNSError, "NameResolutionError"),
    (aiohttp.ClientConnectorCertificateError, "TLSError"),
    (aiohttp.ClientSSLError, "TLSError"),
    (aiohttp.ClientConnectorError, "ConnectionError"),  # nothing reached the partner
    (aiohttp.ServerDisconnectedError, "ConnectionError"),  # dropped before an answer
    (aiohttp.ClientPayloadError, "PayloadError"),  # the body broke off
    (aiohttp.ClientResponseError, "InvalidResponse"),  # not HTTP as it should be
    (aiohttp.ClientOSError, "ConnectionError"),
    (aiohttp.ClientConnectionError, "ConnectionError"),
    (OSError, "ConnectionError"),
)


# Connection errors are retried at once, a few times, before the durable schedule takes over: a dropped
# keep-alive connection or a restart of the partner's proxy should cost milliseconds, not the schedule's
# first wait. Timeouts are not retried here: the partner may be working. Every attempt fits in the send's
# one deadline.
QUICK_RETRY_ERRORS = frozenset({"ConnectionError"})
QUICK_RETRY_ATTEMPTS = 3
QUICK_RETRY_LEAST_SECONDS = 0.5  # a retry is not started with less of the deadline left


async def post_with_quick_retry(
    http: ClientSession, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float, clock: Clock
) -> list[Attempt]:
    """Every attempt made, oldest first: one, or up to three when the connection failed; all of them over
    within `timeout` seconds, whatever the partner does."""
    deadline = time.monotonic() + timeout
    attempts: list[Attempt] = []

    async def once() -> Attempt:
        remaining = max(deadline - time.monotonic(), 0.001)
        attempts.append(await post(http, url, body=body, headers=headers, timeout=remaining, now=clock()))
        return attempts[-1]

    first = await once()
    if not _worth_a_quick_retry(first):
        return attempts  # the common case costs no retry machinery (a tenacity round is a third of a send's CPU)
    made = [first]

    async def first_then_more() -> Attempt:
        return made.pop() if made else await once()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(QUICK_RETRY_ATTEMPTS)
        | (lambda _state: deadline - time.monotonic() < QUICK_RETRY_LEAST_SECONDS),
        wait=wait_exponential(multiplier=0.05, max=0.5),
        retry=retry_if_result(_worth_a_quick_retry),
        retry_error_callback=lambda state: state.outcome.result(),
    )
    await retrying(first_then_more)
    return attempts


def _worth_a_quick_retry(attempt: Attempt) -> bool:
    return attempt.status is None and attempt.error_class in QUICK_RETRY_ERRORS


def parse_signed_json(body: bytes, headers: Mapping[str, str], secrets_in_use: Sequence[str]) -> InboundEvent:
    """A callback signed with Standard Webhooks whose body is {"type": ..., "data": {...}}."""
    headers = {name.lower(): value for name, value in headers.items()}
    try:
        verify(secrets_in_use, body, headers)
    except WebhookVerificationError as error:
        raise CallbackRejected(f"The signature does not verify: {error}.") from None
    try:
        document = json.loads(body)
    except ValueError:
        raise CallbackRejected("The body is not JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise CallbackRejected("The body must be an object with a 'type'.")
    data = document.get("data", {})
    if not isinstance(data, dict):
        raise CallbackRejected("'data' must be an object.")
    return InboundEvent(headers["webhook-id"], document["type"], data)
