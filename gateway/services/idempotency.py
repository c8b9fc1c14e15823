"""Idempotency keys: the first response to a POST is stored with the key and replayed for retries.

The record is written in the same transaction as the command's effect, so the effect and its stored
response commit together or not at all. Two concurrent requests with one key: the second one's insert
waits on the first's uncommitted row (PostgreSQL's unique index; SQLite's single writer) and then finds
the stored response, so the command runs exactly once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.errors import InvalidInput
from gateway.store.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def claim(
    session: Session, *, owner: str, key: str, request_fingerprint: str, now: datetime, ttl: timedelta
) -> IdempotencyRecord | None:
    """None when this request is the first with the key (a record is reserved); else the record to replay."""
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
                        status_code=0,
                        body="",
                        headers={},
                        created_at=now,
                    )
                )
            return None
        except IntegrityError:  # a concurrent request with this key committed first
            existing = session.get(IdempotencyRecord, (owner, key), populate_existing=True)
    if existing.fingerprint != request_fingerprint:
        raise InvalidInput(
            {HEADER: "This key was used for a different request; use a new key for a new request."},
            location="header",
        )
    return existing


def complete(session: Session, *, owner: str, key: str, status_code: int, body: str, headers: dict[str, str]) -> None:
    record = session.get(IdempotencyRecord, (owner, key))
    record.status_code, record.body, record.headers = status_code, body, headers
    session.flush()
