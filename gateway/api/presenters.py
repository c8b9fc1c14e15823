"""Turn stored rows into response bodies where a field is derived rather than stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.services.keys import key_status
from gateway.store.models import ApiKey


def key_body(key: ApiKey, now: datetime, token: str | None = None) -> dict[str, Any]:
    body = {
        "id": key.id,
        "prefix": key.prefix,
        "kind": key.kind,
        "partner_code": key.partner_code,
        "name": key.name,
        "scopes": list(key.scopes),
        "status": key_status(key, now),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "replaced_by": key.replaced_by,
    }
    if token is not None:
        body["token"] = token
    return body
