"""API key use cases: issue, rotate with an overlap, revoke, and authenticate a presented token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.ids import new_id
from gateway.domain.keys import KeyKind, check_scopes, generate_token, token_matches, token_prefix
from gateway.domain.partners import PartnerStatus
from gateway.services.partners import get_partner
from gateway.store.hot_reads import KEY_BY_PREFIX, RawConnection
from gateway.store.models import ApiKey, created_after


@dataclass(frozen=True)
class IssuedKey:
    """A stored key and its token; the token exists only here and is never stored or logged."""

    key: ApiKey
    token: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's owner and what it may do."""

    key_id: str
    key_prefix: str
    kind: KeyKind
    partner_code: str | None
    scopes: frozenset[str]
    rate_limits: dict[str, str] | None = None  # the partner's own request budgets (gateway.domain.rate_limits)
    expires_at: datetime | None = None  # a rotated key's end: it stops then without any change in the store


class AuthenticationFailed(Exception):
    """The token is missing, malformed, unknown, revoked or expired: `reason` says which (a 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PartnerSuspended(Exception):
    """The key is valid but its partner is suspended (a 403)."""


def issue_key(
    session: Session,
    *,
    kind: KeyKind,
    scopes: list[str],
    name: str,
    partner_code: str | None = None,
    now: datetime,
) -> IssuedKey:
    errors = check_scopes(kind, set(scopes))
    if kind is KeyKind.PARTNER and partner_code is None:
        errors["partner"] = "A partner key names its partner."
    if kind is not KeyKind.PARTNER and partner_code is not None:
        errors["partner"] = f"A {kind} key belongs to no partner."
    if errors:
        raise InvalidInput(errors)
    if partner_code is not None:
        get_partner(session, partner_code)
    return _store_new_key(session, kind=kind, scopes=sorted(set(scopes)), name=name, partner_code=partner_code, now=now)


def _store_new_key(
    session: Session, *, kind: str, scopes: list[str], name: str, partner_code: str | None, now: datetime
) -> IssuedKey:
    generated = generate_token()
    key = ApiKey(
        id=new_id("key"),
        prefix=generated.prefix,
        secret_hash=generated.secret_hash,
        kind=kind,
        partner_code=partner_code,
        name=name,
        scopes=scopes,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=generated.token)


def get_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("key", key_id)
    return key


def list_keys(
    session: Session,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    partner_code: str | None = None,
    kind: str | None = None,
) -> list[ApiKey]:
    """Keys oldest first, starting after the (created_at, id) cursor."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id).limit(limit)
    if after is not None:
        query = query.where(created_after(ApiKey, after))
    if partner_code is not None:
        query = query.where(ApiKey.partner_code == partner_code)
    if kind is not None:
        query = query.where(ApiKey.kind == kind)
    return list(session.scalars(query))


def key_status(key: ApiKey, now: datetime) -> str:
    """active, expiring (rotated, still inside its overlap), expired or revoked."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is None:
        return "active"
    return "expiring" if key.expires_at > now else "expired"


def rotate_key(session: Session, key_id: str, *, overlap: timedelta, now: datetime) -> IssuedKey:
    """Issue a successor with the same owner and scopes; the old key keeps working for `overlap`, then expires."""
    old = get_key(session, key_id)
    if key_status(old, now) in ("revoked", "expired"):
        raise Conflict(f"Key {key_id!r} is revoked or expired; issue a new key instead of rotating it.")
    if old.replaced_by is not None:
        raise Conflict(f"Key {key_id!r} was already rotated; its successor is {old.replaced_by!r}.")
    issued = _store_new_key(
        session, kind=old.kind, scopes=list(old.scopes), name=old.name, partner_code=old.partner_code, now=now
    )
    old.expires_at = now + overlap
    old.replaced_by = issued.key.id
    return issued


def revoke_key(session: Session, key_id: str, *, now: datetime) -> ApiKey:
    """Stop a key at once. Revoking a revoked key is a no-op, so a retried call is harmless."""
    key = get_key(session, key_id)
    if key.revoked_at is None:
        key.revoked_at = now
    return key


def authenticate(session: Session | Connection | RawConnection, token: str, *, now: datetime) -> Principal:
    """The principal behind a bearer token, read from the store (the API keeps it while nothing changes, see
    gateway.services.key_cache, so revocation is still immediate).

    One query, key and partner status together, selecting only the columns needed: this runs on every call.
    """
    prefix = token_prefix(token)
    if prefix is None:
        raise AuthenticationFailed("malformed")
    key = KEY_BY_PREFIX.first(session, prefix)
    if key is None or not token_matches(token, key.secret_hash):
        raise AuthenticationFailed("unknown")
    if key.revoked_at is not None:
        raise AuthenticationFailed("revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationFailed("expired")
    if key.partner_code is not None and key.partner_status != PartnerStatus.ACTIVE:
        raise PartnerSuspended(key.partner_code)
    return Principal(
        key_id=key.id,
        key_prefix=key.prefix,
        kind=KeyKind(key.kind),
        partner_code=key.partner_code,
        scopes=frozenset(key.scopes),
        rate_limits=key.partner_rate_limits,
        expires_at=key.expires_at,
    )
