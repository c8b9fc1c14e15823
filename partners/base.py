"""The partner adapter interface: how events are sent to a partner and how its callbacks are read.

Adapters speak HTTP through the session they are given and never touch the database: the dispatcher hands
them plain values and records what they report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPException
from typing import Any, Protocol

import requests
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential
from urllib3.exceptions import HTTPError

from partners.deadlines import current_deadline, hard_deadline
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

    def send(
        self, http: requests.Session, target: Target, event: OutgoingEvent, *, timeout: float, clock: Clock
    ) -> EventResult: ...

    def send_batch(
        self, http: requests.Session, target: Target, events: Sequence[OutgoingEvent], *, timeout: float, clock: Clock
    ) -> list[EventResult]: ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> InboundEvent: ...


def post(
    http: requests.Session, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float, now: datetime
) -> Attempt:
    """One POST, its outcome as an Attempt: transport errors become an error class, never an exception.

    At most EXCERPT_LIMIT bytes of the answer are read (inflated from gzip or deflate no further than that);
    a longer body's connection is dropped instead of read to its end. Under a hard deadline (partners.deadlines)
    an error after it passed is `DeadlineExceeded`.
    """
    started = time.perf_counter()
    try:
        response = http.post(url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True)
    except requests.RequestException as error:
        return Attempt(now, _since(started), error_class=_error_class(error))
    deadline = current_deadline()
    if deadline is not None and deadline.expired:  # the headers were cut short (http.client takes that as their end)
        response.raw.close()
        return Attempt(now, _since(started), error_class="DeadlineExceeded")
    excerpt, broken = _read_excerpt(response)
    return Attempt(
        now,
        _since(started),
        response.status_code,
        _error_class(broken) if broken else None,  # the status stands: the body broke off after it
        excerpt,
        response.headers.get("Retry-After"),
    )


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _read_excerpt(response: requests.Response) -> tuple[str | None, BaseException | None]:
    """The body's first EXCERPT_LIMIT bytes, and what broke the read if something did. A body that ended
    within them leaves its connection to be reused; any other is closed."""
    data, broken = b"", None
    try:
        data = response.raw.read(EXCERPT_LIMIT + 1, decode_content=True)
    except (HTTPError, HTTPException, OSError, ValueError) as error:
        broken = error
    if broken is not None or len(data) > EXCERPT_LIMIT:
        response.raw.close()  # drops the connection: the rest of the body is never read
    response.close()
    return (data[:EXCERPT_LIMIT].decode("utf-8", "replace") or None), broken


def _error_class(error: BaseException) -> str:
    """The error's name; DeadlineExceeded once the request's deadline passed (the watchdog's shutdown is what
    the error reports); ForbiddenAddress when the address check refused the connection underneath it."""
    deadline = current_deadline()
    if deadline is not None and deadline.expired:
        return "DeadlineExceeded"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ForbiddenAddress):
            return "ForbiddenAddress"
        cause = cause.__cause__ or cause.__context__
    return type(error).__name__


# Connection errors (nothing reached the partner) are retried at once, a few times, before the durable
# schedule takes over: a dropped keep-alive connection or a restart of the partner's proxy should cost
# milliseconds, not the schedule's first wait. Timeouts are not retried here: the partner may be working.
# Every attempt fits in the one deadline of the send.
QUICK_RETRY_ERRORS = frozenset({"ConnectionError", "ChunkedEncodingError"})
QUICK_RETRY_LEAST_SECONDS = 0.5  # a retry is not started with less of the deadline left
DEADLINE_FIRST_SECONDS = 0.5


def _deadline_near(_state) -> bool:
    deadline = current_deadline()
    return deadline is not None and deadline.remaining() < QUICK_RETRY_LEAST_SECONDS


QUICK_RETRY = Retrying(
    stop=stop_after_attempt(3) | _deadline_near,
    wait=wait_exponential(multiplier=0.05, max=0.5),
    retry=retry_if_result(lambda attempt: attempt.status is None and attempt.error_class in QUICK_RETRY_ERRORS),
    retry_error_callback=lambda state: state.outcome.result(),
    reraise=True,
)


def post_with_quick_retry(
    http: requests.Session, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float, clock: Clock
) -> list[Attempt]:
    """Every attempt made, oldest first: one, or up to three when the connection failed; all of them over
    within `timeout` seconds, whatever the partner does."""
    attempts: list[Attempt] = []
    with hard_deadline(timeout) as deadline:

        def once() -> Attempt:
            # Socket timeouts a little past the deadline: the watchdog ends the request first, and names it.
            seconds = deadline.remaining() + DEADLINE_FIRST_SECONDS
            attempts.append(post(http, url, body=body, headers=headers, timeout=seconds, now=clock()))
            return attempts[-1]

        QUICK_RETRY(once)
    return attempts


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
