"""Agent console sign-in: a partner key with the `callcenter` scope, checked against the store on every request.

The console's session remembers only the key's id, never the token: a copied cookie cannot be replayed against
the API, and revoking, expiring or suspending takes effect on the agent's next click.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.keys import KeyKind, Scope
from gateway.domain.partners import PartnerStatus
from gateway.services.keys import AuthenticationFailed, PartnerSuspended, Principal, authenticate
from gateway.store.models import ApiKey, Partner

__all__ = ["AuthenticationFailed", "NotAnAgentKey", "PartnerSuspended", "check_agent_key", "sign_in"]


class NotAnAgentKey(Exception):
    """A valid key that may not use the console: not a partner's, or without the `callcenter` scope."""


def _require_agent(principal: Principal) -> Principal:
    if principal.kind is not KeyKind.PARTNER or Scope.CALLCENTER not in principal.scopes:
        raise NotAnAgentKey(principal.key_prefix)
    return principal


def sign_in(session: Session, token: str, *, now: datetime) -> Principal:
    """The agent behind a presented key; raises AuthenticationFailed, PartnerSuspended or NotAnAgentKey."""
    return _require_agent(authenticate(session, token.strip(), now=now))


def check_agent_key(session: Session, key_id: str, *, now: datetime) -> Principal:
    """The agent a console session was opened for, if its key still may sign in: the checks `authenticate`
    makes on a token, made on the stored key."""
    found = session.execute(
        select(ApiKey, Partner.status)
        .outerjoin(Partner, Partner.code == ApiKey.partner_code)
        .where(ApiKey.id == key_id)
    ).first()
    if found is None:
        raise AuthenticationFailed("unknown")
    key, partner_status = found
    if key.revoked_at is not None:
        raise AuthenticationFailed("revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationFailed("expired")
    if key.partner_code is not None and partner_status != PartnerStatus.ACTIVE:
        raise PartnerSuspended(key.partner_code)
    return _require_agent(
        Principal(
            key_id=key.id,
            key_prefix=key.prefix,
            kind=KeyKind(key.kind),
            partner_code=key.partner_code,
            scopes=frozenset(key.scopes),
        )
    )
