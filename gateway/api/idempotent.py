"""`@idempotent`: a POST with an Idempotency-Key runs once; retries get the first response again."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, g, request

from gateway.api.docs import manual_doc
from gateway.api.state import setting, store
from gateway.api.uow import COMMAND_SESSION
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput
from gateway.services import idempotency
from gateway.services.keys import Principal

ACCEPTABLE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "ETag", "Location")
HEADER_DOC = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "description": "Any unique string (a UUID): a retry with the same key and body gets the first response "
    "again instead of repeating the effect; the same key with another body is a 422. Kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": ACCEPTABLE_KEY.pattern},
}


def _owner(principal: Principal) -> str:
    # A partner's keys share one key space, so a retry after a key rotation is still recognised.
    return f"partner:{principal.partner_code}" if principal.partner_code else str(principal.kind)


def _replay(record) -> Response:
    response = Response(record.body, status=record.status_code)
    for name, value in record.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Place it under `@requires`: the caller is known, then the key is claimed, then the view runs."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not ACCEPTABLE_KEY.match(key):
            raise InvalidInput({idempotency.HEADER: "1-255 printable ASCII characters, no spaces."}, "header")
        owner = _owner(g.principal)
        request_fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data())
        ttl = timedelta(hours=setting("IDEMPOTENCY_TTL_HOURS"))
        with store().transaction() as session:
            stored = idempotency.claim(
                session, owner=owner, key=key, request_fingerprint=request_fingerprint, now=utcnow(), ttl=ttl
            )
            if stored is not None:
                return _replay(stored)
            g.setdefault(COMMAND_SESSION, session)
            try:
                response = view(*args, **kwargs)  # an error raised here rolls back the claim with the effect
            finally:
                g.pop(COMMAND_SESSION, None)
            kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
            idempotency.complete(
                session,
                owner=owner,
                key=key,
                status_code=response.status_code,
                body=response.get_data(as_text=True),
                headers=kept,
            )
        return response

    manual_doc(guarded, view).setdefault("parameters", []).append(HEADER_DOC)
    return guarded
