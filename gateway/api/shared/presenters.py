"""Turn stored rows into response bodies where a field is derived rather than stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from flask import Response

from gateway.api.http.etags import etag
from gateway.services.keys import key_status
from gateway.store.models import ApiKey, Subscription, SubscriptionChange


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


def subscription_body(
    subscription: Subscription, activation_url: str, allowed_actions: Callable[[str, bool, str], list[str]]
) -> dict[str, Any]:
    """The subscription as its schema shows it; `allowed_actions(status, warned, billed_by)` names what the
    caller may do (gateway.api.shared.subscription_actions.Caller.actions_from)."""
    activation = None
    if subscription.activation_code is not None:
        activation = {
            "code": subscription.activation_code,
            "url": f"{activation_url}?code={subscription.activation_code}",
            "expires_at": subscription.activation_expires_at,
        }
    warning = None
    if subscription.inactivity_respond_by is not None:
        warning = {"warned_at": subscription.inactivity_warned_at, "respond_by": subscription.inactivity_respond_by}
    scheduled = None
    if subscription.pending_plan is not None:
        scheduled = {"plan": subscription.pending_plan, "effective_at": subscription.pending_plan_at}
    return {
        "id": subscription.id,
        "partner_ref": subscription.partner_ref,
        "plan": subscription.plan,
        "scheduled_plan_change": scheduled,
        "market": subscription.market,
        "locale": subscription.locale,
        "billing_anchor": subscription.billing_anchor,
        "status": subscription.status,
        "status_reason": subscription.status_reason,
        "activation": activation,
        "activated_at": subscription.activated_at,
        "last_viewed_at": subscription.last_viewed_at,
        "access_until": subscription.access_until,
        "cancelled_at": subscription.cancelled_at,
        "retention_until": subscription.retention_until,
        "billed_by": subscription.billed_by,
        "inactivity_warning": warning,
        "allowed_actions": list(allowed_actions(subscription.status, warning is not None, subscription.billed_by)),
        "sequence": subscription.sequence,
        "etag": etag(subscription.version),
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


def direct_json(body: dict[str, Any], headers: dict[str, str]) -> Response:
    """A body already shaped like its schema's dump, serialised without the schema.

    Only for the status lookup, where the schema dump is a noticeable share of the request; the contract
    tests hold its output to the published schema like every other response. orjson writes datetimes and
    dates as ISO 8601 exactly as isoformat() does, several times faster than the json module.
    """
    # The content type as is (JSON takes no charset) and headers added one by one: werkzeug's general path
    # (a mapping of headers, a mimetype to complete) costs more than the rest of building the response.
    response = Response(orjson.dumps(body), content_type="application/json")
    for name, value in headers.items():
        response.headers.add(name, value)
    return response


def attributes(row: Any) -> dict[str, Any]:
    """A mapped row's column values as a dict, for a response that adds members before the schema dumps it."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def history_entry_body(entry: SubscriptionChange) -> dict[str, Any]:
    """One history entry as the partner API shows it (contracts.subscriptions.HistoryEntrySchema), with the agent
    who issued the change in the console, which the entry's details keep (the rest of them is the gateway's own)."""
    return {**attributes(entry), "agent": (entry.details or {}).get("agent")}
