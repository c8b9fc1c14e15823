"""A partner's agent acting on a customer from the console: the partner API's lifecycle command, version check and
idempotency, with the agent named in the subscription's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway.domain.errors import StaleVersion
from gateway.domain.keys import Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.services import idempotency
from gateway.services.subscriptions import apply_command, get_subscription
from gateway.store.models import ApiKey, IdempotencyRecord, Subscription


def may_change_subscriptions(session: Session, key_id: str) -> bool:
    """Whether the agent's key, besides `callcenter`, holds `subscriptions:write`: without it the console offers
    no actions and refuses them, as the API would refuse the key."""
    key = session.get(ApiKey, key_id)
    return key is not None and Scope.SUBSCRIPTIONS_WRITE in key.scopes


def owner_of(partner_code: str) -> str:
    """The idempotency keys' owner: the partner, whose keys share one key space in the API too."""
    return f"partner:{partner_code}"


@dataclass(frozen=True)
class Request:
    """One action form as sent: what the command is, and the page it was confirmed on."""

    partner_code: str
    subscription_id: str
    command: Command
    reason: str
    plan: str | None
    expected_version: int  # the subscription's version the confirmation page showed
    agent: str  # who confirmed it (the name given at sign-in)

    def fingerprint(self) -> str:
        """What tells this request from another sent with the same token (the token comes with the page)."""
        what = [self.subscription_id, self.command, self.reason, self.plan or "", str(self.expected_version)]
        return idempotency.fingerprint("POST", "console-action", "\n".join(what).encode())


def act(session: Session, request: Request, *, now: datetime) -> Subscription:
    """Apply the command as the partner API does (the subscription locked, at the version the page showed, through
    the lifecycle's use case); raises StaleVersion when it changed since, and the lifecycle's refusals."""
    subscription = get_subscription(
        session, request.subscription_id, partner_code=request.partner_code, for_update=True
    )
    if subscription.version != request.expected_version:
        raise StaleVersion(f"The subscription is at version {subscription.version}, not {request.expected_version}.")
    return apply_command(
        session,
        subscription,
        request.command,
        actor=Actor.PARTNER,
        reason=request.reason,
        now=now,
        plan=request.plan,
        agent=request.agent,
    )


def act_once(
    session: Session, request: Request, *, token: str, done_at: str, now: datetime, ttl: timedelta
) -> IdempotencyRecord | None:
    """`act` at most once per form token, in the caller's transaction: None when this request did it (the token is
    then kept with `done_at`, where the console sends the agent next); the record of the first request with the
    token otherwise, whose effect stands. A refusal raises and, rolled back with the transaction, leaves the token
    unused (the page that refused is no answer worth replaying: the next try shows the customer as they are then).
    """
    owner = owner_of(request.partner_code)
    earlier = idempotency.claim(
        session, owner=owner, key=token, request_fingerprint=request.fingerprint(), now=now, ttl=ttl
    )
    if earlier is not None:
        return earlier
    act(session, request, now=now)
    idempotency.complete(
        session, owner=owner, key=token, claimed_at=now, status_code=303, body="", headers={"Location": done_at}
    )
    return None
