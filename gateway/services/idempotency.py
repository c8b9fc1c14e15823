"""Idempotency keys: the first response to a POST is stored with the key and replayed for retries.

Most commands claim the key in the same transaction as their effect, so the effect and its stored response
commit together or not at all. Two concurrent requests with one key: the second one's insert waits on the
first's uncommitted row (PostgreSQL's unique index; SQLite's single writer) and then finds the stored
response, so the command runs exactly once.

A long command that commits in chunks (a reconciliation) cannot hold one transaction that long: it commits
the claim with its first step, so the key is visibly in progress (no response yet) while it runs, records the
response at the end, and releases the key if it fails. A retry meanwhile finds the claim in progress. Such a
claim is leased, and its runner renews the lease as it goes: a runner that died (a killed worker) cannot release
the key, so once the lease has run out a retry with the key takes the claim over and runs the command afresh.
A claim is its runner's while it holds the time the runner claimed it (`claimed_at`, the record's created_at):
renewing, completing and releasing touch only that claim, never one a retry has taken over since.

A secret shown once (a whsec_ signing or inbound secret, a gw_ key token) is never kept with a response: the
stored copy has null in its place and `<field>_withheld: true` beside it, so a retry gets the same status and
resource without the secret (`withhold_secrets`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.errors import InvalidInput
from gateway.store.models import IdempotencyRecord
from partners.signing import SECRET_PREFIX

HEADER = "Idempotency-Key"
IN_PROGRESS = 0  # the status code of a claim whose response is not recorded yet
# What a secret shown once looks like: a Standard Webhooks secret (partners.signing), a gateway key token
# (gateway.domain.keys.TOKEN_PATTERN).
SHOWN_ONCE = re.compile(rf"{SECRET_PREFIX}[A-Za-z0-9+/=]+|gw_[0-9a-f]{{12}}_[0-9a-f]{{48}}")
WITHHELD_SUFFIX = "_withheld"
WITHHELD_TEXT = "[withheld]"


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What tells one request from another: the method, the path and the body as parsed. A JSON body counts by
    what it says, so a retry that sends the same document with its keys in another order or other white space is
    the same request (a client's JSON library need not keep either). Any other body counts by its bytes."""
    return streamed_fingerprint(method, path, [canonical_json(body) or body])


def fingerprint_as_bytes(method: str, path: str, body: bytes) -> str:
    """The fingerprint of a body by its bytes alone, as keys claimed before JSON bodies were compared as parsed
    still hold it: a retry of such a request, sent again byte for byte, must still be recognised (`claim`'s
    `earlier_fingerprint`). Needed until the last of those keys has expired (GATEWAY_IDEMPOTENCY_TTL_HOURS)."""
    return streamed_fingerprint(method, path, [body])


def canonical_json(body: bytes) -> bytes | None:
    """A JSON body written one way (keys sorted, no white space, text as UTF-8); None for a body that is not JSON
    (empty, or unreadable: the view refuses it, and a refused request keeps no key)."""
    if not body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse (the view says 400)
        return None
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def streamed_fingerprint(method: str, path: str, parts: Iterable[bytes]) -> str:
    """The fingerprint of a request whose body (and anything else that tells requests apart) comes in parts,
    so a body of gigabytes is hashed as it goes by; the same as `fingerprint` for the parts joined."""
    digest = hashlib.sha256(b"\n".join([method.encode(), path.encode(), b""]))
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def withhold_secrets(body: str) -> str:
    """A response body as it is kept for replays: every field whose value is a secret shown once becomes null, with
    `<field>_withheld: true` beside it (a secret inside a longer text becomes "[withheld]"). Bodies without one
    (nearly all) are kept as they are."""
    if SHOWN_ONCE.search(body) is None:
        return body
    try:
        document = json.loads(body)
    except ValueError:
        return SHOWN_ONCE.sub(WITHHELD_TEXT, body)
    return json.dumps(_withheld(document), separators=(",", ":"))


def _withheld(value: Any) -> Any:
    if isinstance(value, dict):
        kept, withheld = {}, []
        for name, item in value.items():
            if isinstance(item, str) and SHOWN_ONCE.fullmatch(item):
                kept[name] = None
                withheld.append(f"{name}{WITHHELD_SUFFIX}")
            else:
                kept[name] = _withheld(item)
        kept.update(dict.fromkeys(withheld, True))  # over a `secret_withheld: false` the first response had
        return kept
    if isinstance(value, list):
        return [_withheld(item) for item in value]
    if isinstance(value, str):
        return SHOWN_ONCE.sub(WITHHELD_TEXT, value)
    return value


def in_progress(record: IdempotencyRecord) -> bool:
    return record.status_code == IN_PROGRESS


def claim(
    session: Session,
    *,
    owner: str,
    key: str,
    request_fingerprint: str,
    now: datetime,
    ttl: timedelta,
    headers: dict[str, str] | None = None,
    lease: timedelta | None = None,
    earlier_fingerprint: str | None = None,
) -> IdempotencyRecord | None:
    """None when this request is the first with the key (a record is reserved, with `headers` to show a retry
    while it is in progress, and leased for `lease` when given); else the record to replay, or one still in
    progress (see `in_progress`). A claim whose lease has run out is taken over: None again.

    A key claimed with `request_fingerprint` or, when given, `earlier_fingerprint` (how an earlier release of the
    gateway fingerprinted this same request) is this request's; one claimed with any other is a 422."""
    existing = session.get(IdempotencyRecord, (owner, key))
    if existing is not None and existing.created_at <= now - ttl:
        session.delete(existing)  # expired: the key may be used afresh
        session.flush()
        existing = None
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyRecord(
                        owner=owner,
                        key=key,
                        fingerprint=request_fingerprint,
                        status_code=IN_PROGRESS,
                        body="",
                        headers=headers or {},
                        created_at=now,
                        lease_until=None if lease is None else now + lease,
                    )
                )
            return None
        except IntegrityError:  # a concurrent request with this key committed first
            existing = session.get(IdempotencyRecord, (owner, key), populate_existing=True)
    if existing.fingerprint not in (request_fingerprint, earlier_fingerprint):
        raise InvalidInput(
            {HEADER: "This key was used for a different request; use a new key for a new request."},
            location="header",
        )
    runner_died = in_progress(existing) and existing.lease_until is not None and existing.lease_until <= now
    if runner_died and _take_over(session, existing, now=now, headers=headers or {}, lease=lease):
        return None
    return existing


def _take_over(
    session: Session, record: IdempotencyRecord, *, now: datetime, headers: dict[str, str], lease: timedelta | None
) -> bool:
    """Claim a key whose runner died, as if it were new; False when another retry took it over first.

    The update only matches the lease this request saw: of two retries at once, PostgreSQL makes the second wait
    for the first's row and then finds the lease renewed; SQLite has one writer at a time."""
    taken = session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.owner == record.owner,
            IdempotencyRecord.key == record.key,
            IdempotencyRecord.status_code == IN_PROGRESS,
            IdempotencyRecord.lease_until == record.lease_until,
        )
        .values(created_at=now, headers=headers, lease_until=None if lease is None else now + lease)
        .execution_options(synchronize_session=False)
    )
    session.expire(record)
    return taken.rowcount == 1


def _own_claim(owner: str, key: str, claimed_at: datetime):
    return (
        (IdempotencyRecord.owner == owner)
        & (IdempotencyRecord.key == key)
        & (IdempotencyRecord.status_code == IN_PROGRESS)
        & (IdempotencyRecord.created_at == claimed_at)
    )


def renew(session: Session, *, owner: str, key: str, claimed_at: datetime, until: datetime) -> bool:
    """Extend the lease of the runner's claim, still in progress: the runner is alive and working. False when the
    claim is no longer the runner's (a retry took it over after the lease had run out)."""
    renewed = session.execute(
        update(IdempotencyRecord)
        .where(_own_claim(owner, key, claimed_at))
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return renewed.rowcount == 1


def complete(
    session: Session,
    *,
    owner: str,
    key: str,
    claimed_at: datetime,
    status_code: int,
    body: str,
    headers: dict[str, str],
) -> None:
    """Keep the response on the runner's claim, its secrets withheld. Nothing when the claim is gone (a long command
    outlived the key's lifetime) or a retry has taken it over: that retry's response is the one to replay."""
    record = session.get(IdempotencyRecord, (owner, key))
    if record is None or not in_progress(record) or record.created_at != claimed_at:
        return
    record.status_code, record.body, record.headers = status_code, withhold_secrets(body), headers
    session.flush()


def release(session: Session, *, owner: str, key: str, claimed_at: datetime) -> None:
    """Give up the runner's claim, still in progress (its command failed), so a retry with the key runs afresh."""
    session.execute(
        delete(IdempotencyRecord).where(_own_claim(owner, key, claimed_at)).execution_options(synchronize_session=False)
    )
