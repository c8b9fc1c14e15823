"""API keys: who may hold which scope, the token format, and how a token is hashed for storage."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass


class KeyKind(enum.StrEnum):
    """Who a key belongs to."""

    PARTNER = "partner"  # a telecom partner's systems or its call center
    OPERATOR = "operator"  # the partnerships operations team (admin API)
    SERVICE = "service"  # the streaming service's own systems


class Scope(enum.StrEnum):
    SUBSCRIPTIONS_READ = "subscriptions:read"
    SUBSCRIPTIONS_WRITE = "subscriptions:write"
    CALLCENTER = "callcenter"
    EVENTS_READ = "events:read"
    ADMIN = "admin"
    SERVICE = "service"


SCOPES_BY_KIND: dict[KeyKind, frozenset[Scope]] = {
    KeyKind.PARTNER: frozenset(
        {Scope.SUBSCRIPTIONS_READ, Scope.SUBSCRIPTIONS_WRITE, Scope.CALLCENTER, Scope.EVENTS_READ}
    ),
    KeyKind.OPERATOR: frozenset({Scope.ADMIN}),
    KeyKind.SERVICE: frozenset({Scope.SERVICE}),
}

# gw_<12 hex: the visible, indexed prefix>_<48 hex: the secret>. Fixed lengths make a malformed token easy to
# tell from an unknown one, and the `gw_` marker lets log scrubbing and secret scanners recognise a leaked key.
TOKEN_PATTERN = re.compile(r"^(gw_[0-9a-f]{12})_([0-9a-f]{48})$")
TOKEN_LIKE = re.compile(r"gw_[0-9a-f]{12}_[0-9a-f]{6,}")


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: `token` is shown once, `prefix` and `secret_hash` are stored."""

    token: str
    prefix: str
    secret_hash: str


def hash_token(token: str) -> str:
    """SHA-256 of the whole token.

    A slow password hash is not needed: the token carries 192 random bits, so a stolen hash table
    cannot be brute-forced, and a fast hash keeps authentication off the request's critical path.
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def generate_token() -> NewToken:
    prefix = "gw_" + secrets.token_hex(6)
    token = f"{prefix}_{secrets.token_hex(24)}"
    return NewToken(token=token, prefix=prefix, secret_hash=hash_token(token))


def token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, or None when the token is malformed."""
    match = TOKEN_PATTERN.match(token)
    return match.group(1) if match else None


def token_matches(token: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return secrets.compare_digest(hash_token(token), secret_hash)


def check_scopes(kind: KeyKind, scopes: set[str]) -> dict[str, str]:
    """Field errors for scopes a key of this kind may not hold (empty when all is well)."""
    allowed = SCOPES_BY_KIND[kind]
    if not scopes:
        return {"scopes": "A key needs at least one scope."}
    unknown = sorted(scope for scope in scopes if scope not in allowed)
    if unknown:
        allowed_text = ", ".join(sorted(allowed))
        return {"scopes": f"A {kind} key may not hold {', '.join(unknown)}; allowed: {allowed_text}."}
    return {}
