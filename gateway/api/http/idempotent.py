"""`@idempotent`: a POST with an Idempotency-Key runs once; retries get the first response again.

The view runs in the request's one write transaction, passed to it as `session` (as under
gateway.api.http.uow.in_transaction): with a key, the same transaction records the key and the response, so they
commit together with the effect.

`@idempotent_in_steps` with `first_step` does the same for a long command that commits in chunks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Response, g, request
from sqlalchemy.orm import Session

from gateway.api.http.docs import manual_doc
from gateway.api.http.uow import in_transaction
from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, InvalidInput, NotFound, StaleVersion
from gateway.domain.leases import RUNNER_LEASE, lease_minutes
from gateway.http.problems import handle_gateway_error, problem
from gateway.runtime import setting, store
from gateway.services import idempotency
from gateway.services.keys import Principal
from gateway.store.models import IdempotencyRecord

ACCEPTABLE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "ETag", "Location")
IN_PROGRESS_RETRY_SECONDS = 5
# A long command's claim is leased (RUNNER_LEASE) and renewed as the command goes (keep_claim); a retry after the
# lease has run out finds a runner that died, and runs the command afresh.
CLAIM_RENEWAL_SECONDS = 60  # renewing is a write: once a minute is plenty for a lease of minutes
_KEY_DOC = (
    "Any unique string (a UUID): a retry with the same key and body gets the first response again instead of "
    "repeating the effect; the same key with another body is a 422. Kept 24 hours."
)
_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": ACCEPTABLE_KEY.pattern}
HEADER_DOC = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "description": f"{_KEY_DOC} A refusal for the state the request met (404, 409, 412) is a first response too, "
    "replayed even if the state has changed since; a request refused for its input (400, 422) leaves the key "
    "unused.",
    "schema": _KEY_SCHEMA,
}
IN_STEPS_HEADER_DOC = {
    **HEADER_DOC,
    "description": f"{_KEY_DOC} The key is claimed as the job starts: a request refused before that (400, 404, "
    "409, 422), or whose job fails, leaves it unused. While the first request with the key is still running, a "
    "retry is a 409 (problem+json, with Retry-After and the Location of the job it is working on). If that "
    f"request's process died, a retry about {lease_minutes()} minutes after its last progress runs the request "
    "afresh.",
}
CLAIM = "idempotency_claim"
# A command refused for the state it met is answered like any other: a retry with the key gets the same refusal,
# even if the state has changed since (a new attempt takes a new key). One refused for its input is not kept:
# the client corrects the body, and the key, never used for anything, is free for it.
REPLAYED_REFUSALS = (Conflict, NotFound, StaleVersion)


def _owner(principal: Principal) -> str:
    # A partner's keys share one key space, so a retry after a key rotation is still recognised.
    return f"partner:{principal.partner_code}" if principal.partner_code else str(principal.kind)


def _checked_key() -> str | None:
    key = request.headers.get(idempotency.HEADER)
    if key is not None and not ACCEPTABLE_KEY.match(key):
        raise InvalidInput({idempotency.HEADER: "1-255 printable ASCII characters, no spaces."}, "header")
    return key


def _record(session: Session, owner: str, key: str, claimed_at: datetime, response: Response) -> None:
    """Keep the response on the claimed key, for retries to get it again."""
    kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    body = response.get_data(as_text=True)
    idempotency.complete(
        session,
        owner=owner,
        key=key,
        claimed_at=claimed_at,
        status_code=response.status_code,
        body=body,
        headers=kept,
    )


def _answer(record: IdempotencyRecord) -> Response:
    """What a request with a key already claimed gets: the first response, or a 409 while there is none yet."""
    if idempotency.in_progress(record):
        return problem(
            "conflict",
            f"A request with this {idempotency.HEADER} is still in progress; retry after {IN_PROGRESS_RETRY_SECONDS} "
            "seconds to get its response.",
            headers={**record.headers, "Retry-After": str(IN_PROGRESS_RETRY_SECONDS)},
        )
    response = Response(record.body, status=record.status_code)
    for name, value in record.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _ttl() -> timedelta:
    return timedelta(hours=setting("IDEMPOTENCY_TTL_HOURS"))


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Place it under `@requires` (the caller is known, then the key is claimed, then the view runs) and above
    flask-smorest's decorators, which pass the view its `session` on."""
    without_key = in_transaction(view)

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = _checked_key()
        if key is None:
            return without_key(*args, **kwargs)
        owner = _owner(g.principal)
        body = request.get_data()
        claimed_at = utcnow()
        with store().transaction() as session:
            stored = idempotency.claim(
                session,
                owner=owner,
                key=key,
                request_fingerprint=idempotency.fingerprint(request.method, request.path, body),
                earlier_fingerprint=idempotency.fingerprint_as_bytes(request.method, request.path, body),
                now=claimed_at,
                ttl=_ttl(),
            )
            if stored is not None:
                return _answer(stored)
            try:
                with session.begin_nested():  # the effect, undone on its own when the command is refused
                    response = view(*args, session=session, **kwargs)
            except REPLAYED_REFUSALS as refused:
                response = handle_gateway_error(refused)
            # Any other error (the input refused, a fault) rolls back the claim with the effect: the key stays free.
            _record(session, owner, key, claimed_at, response)
        return response

    manual_doc(guarded, view).setdefault("parameters", []).append(HEADER_DOC)
    return guarded


@dataclass
class _Claim:
    owner: str
    key: str
    claimed_at: datetime | None = None  # once committed: the claim is this request's while it holds this time
    renewed_at: float = 0.0  # monotonic seconds

    @property
    def committed(self) -> bool:
        return self.claimed_at is not None


class _KeyAlreadyClaimed(Exception):
    """Raised out of `first_step` (rolling its transaction back) with the answer `idempotent_in_steps` gives."""

    def __init__(self, answer: Response) -> None:
        super().__init__(answer.status)
        self.answer = answer


@dataclass
class FirstStep:
    session: Session
    headers: dict[str, str] = field(default_factory=dict)  # shown to a retry while the command runs (Location)


def idempotent_in_steps(view: Callable[..., Any]) -> Callable[..., Any]:
    """`@idempotent` for a long command that commits in chunks; place it under `@requires`.

    No write transaction stays open while the command runs (on SQLite it would hold every other writer up for
    minutes): the view claims the key in its `first_step`, a short transaction of its own; the response is
    recorded when the view returns, and the key released if it fails. A retry meanwhile is a 409.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = _checked_key()
        if key is None:
            return view(*args, **kwargs)
        claim = _Claim(_owner(g.principal), key)
        setattr(g, CLAIM, claim)
        try:
            response = view(*args, **kwargs)
        except _KeyAlreadyClaimed as claimed:
            return claimed.answer
        except BaseException:
            if claim.committed:
                with store().transaction() as session:
                    idempotency.release(session, owner=claim.owner, key=key, claimed_at=claim.claimed_at)
            raise
        finally:
            g.pop(CLAIM, None)
        if claim.committed:
            with store().transaction() as session:
                _record(session, claim.owner, key, claim.claimed_at, response)
        return response

    manual_doc(guarded, view).setdefault("parameters", []).append(IN_STEPS_HEADER_DOC)
    return guarded


def key_sent() -> bool:
    """Whether this request, in a view under `@idempotent_in_steps`, carries an Idempotency-Key."""
    return g.get(CLAIM) is not None


@contextmanager
def first_step(request_fingerprint: str | None, earlier_fingerprint: str | None = None) -> Iterator[FirstStep]:
    """The first transaction of a view under `@idempotent_in_steps`. With an Idempotency-Key (`key_sent()`) it
    claims the key for the request's fingerprint, in the same commit as whatever the view does in it
    (`earlier_fingerprint`: as `idempotency.claim` takes it)."""
    claim: _Claim | None = g.get(CLAIM)
    if claim is not None and request_fingerprint is None:
        raise TypeError("a request with an Idempotency-Key needs its fingerprint")
    claimed_at = utcnow()
    with store().transaction() as session:
        step = FirstStep(session)
        yield step
        if claim is not None:
            stored = idempotency.claim(
                session,
                owner=claim.owner,
                key=claim.key,
                request_fingerprint=request_fingerprint,
                now=claimed_at,
                ttl=_ttl(),
                headers=step.headers,
                lease=RUNNER_LEASE,
                earlier_fingerprint=earlier_fingerprint,
            )
            if stored is not None:
                raise _KeyAlreadyClaimed(_answer(stored))  # rolls back what the view did in this step
    if claim is not None:
        claim.claimed_at, claim.renewed_at = claimed_at, time.monotonic()


def keep_claim(_progress: int = 0) -> None:
    """The progress callback of a command under `@idempotent_in_steps`: renews the lease of the request's claim
    (at most once a minute), so a retry sees a live runner. Does nothing for a request without a key."""
    claim: _Claim | None = g.get(CLAIM)
    if claim is None or not claim.committed or time.monotonic() - claim.renewed_at < CLAIM_RENEWAL_SECONDS:
        return
    with store().transaction() as session:
        # False once a retry has taken the claim over (this runner looked dead): the command goes on, and the
        # retry's response is the one kept.
        idempotency.renew(
            session, owner=claim.owner, key=claim.key, claimed_at=claim.claimed_at, until=utcnow() + RUNNER_LEASE
        )
    claim.renewed_at = time.monotonic()
