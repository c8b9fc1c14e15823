"""Bearer-key authentication and scope checks, declared on each view with `@requires(scope)`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from gateway.api.http.docs import manual_doc
from gateway.api.http.uow import request_rows
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.http.problems import problem
from gateway.runtime import principals
from gateway.services.keys import AuthenticationFailed, PartnerSuspended, Principal

SECURITY_SCHEME = "bearerAuth"
REQUIRED_SCOPE_ATTRIBUTE = "required_scope"

_AUTH_FAILURE_DETAIL = {
    "missing": "Send an API key as 'Authorization: Bearer <key>'.",
    "malformed": "The Authorization header does not carry a well-formed gateway key.",
    "unknown": "The API key is not known.",
    "revoked": "The API key has been revoked.",
    "expired": "The API key has expired (it was rotated and its overlap window ended).",
}


class _Refused(Exception):
    def __init__(self, response) -> None:
        self.response = response


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        raise AuthenticationFailed("missing")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("malformed")
    return token.strip()


AUTHENTICATION = "authentication"


def request_principal() -> Principal:
    """Who the request's bearer key belongs to, worked out once per request: the rate limiter asks before
    the view runs, `@requires` asks again. Raises AuthenticationFailed or PartnerSuspended."""
    context = g._get_current_object()
    outcome = context.get(AUTHENTICATION)
    if outcome is None:
        try:
            outcome = principals().authenticate(request_rows(), _bearer_token(), now=utcnow())
        except (AuthenticationFailed, PartnerSuspended) as failure:
            outcome = failure
        setattr(context, AUTHENTICATION, outcome)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _authenticate_request(scope: Scope) -> Principal:
    try:
        principal = request_principal()
    except AuthenticationFailed as failure:
        raise _Refused(
            problem(
                "unauthenticated",
                _AUTH_FAILURE_DETAIL[failure.reason],
                headers={"WWW-Authenticate": 'Bearer realm="gateway"'},
            )
        ) from None
    except PartnerSuspended:
        raise _Refused(problem("partner-suspended", "This partner is suspended.")) from None
    if scope not in principal.scopes:
        raise _Refused(
            problem(
                "insufficient-scope",
                f"This operation needs the '{scope}' scope.",
                headers={"WWW-Authenticate": f'Bearer realm="gateway", error="insufficient_scope", scope="{scope}"'},
            )
        )
    return principal


def requires(scope: Scope) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only callers whose key holds `scope` reach the view; `g.principal` tells the view who they are.

    Put it above the flask-smorest decorators so a caller without a key learns that first, before any
    validation of what it sent. The scope is recorded on the view (the auth matrix test reads it) and in
    the OpenAPI document as the operation's security requirement.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                g.principal = _authenticate_request(scope)
            except _Refused as refused:
                return refused.response
            return view(*args, **kwargs)

        setattr(guarded, REQUIRED_SCOPE_ATTRIBUTE, scope)
        documented = manual_doc(guarded, view)
        documented["security"] = [{SECURITY_SCHEME: [str(scope)]}]
        # Every authenticated call spends its partner's budget for the audience (gateway.api.http.rate_limits), and
        # reads the key from the store: while the store is out it is a 503 to retry (gateway.http.problems).
        documented.setdefault("responses", {})["429"] = "TOO_MANY_REQUESTS"
        documented["responses"]["503"] = "SERVICE_UNAVAILABLE"
        return guarded

    return decorator


def current_partner_code() -> str:
    """The authenticated partner; every partner-scoped query filters by it."""
    code = g.principal.partner_code
    if code is None:  # only partner scopes lead here, and only partner keys hold them
        raise RuntimeError("partner route reached without a partner key")
    return code
