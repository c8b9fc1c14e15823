"""What the partner and service subscription views share: loading under a lock, If-Match, the response."""

from __future__ import annotations

from typing import Any

from flask import url_for

from gateway.api import uow
from gateway.api.etags import etag, expected_version
from gateway.api.presenters import subscription_body
from gateway.api.state import setting
from gateway.domain.clock import utcnow
from gateway.domain.errors import StaleVersion
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service

ETAG_HEADER = {
    "ETag": {"description": "The subscription's version; send it as If-Match.", "schema": {"type": "string"}}
}


def subscription_response(subscription) -> tuple[dict[str, Any], dict[str, str]]:
    body = subscription_body(subscription, setting("ACTIVATION_URL"))
    return body, {"ETag": etag(subscription.version)}


def check_if_match(version: int) -> None:
    """412 when If-Match names a version other than the current one; no header, no precondition."""
    expected = expected_version()
    if expected is not None and expected != version:
        raise StaleVersion(f"The subscription is at version {version}, not {expected}; read it again.")


def run_command(
    subscription_id: str,
    command: Command,
    *,
    actor: Actor,
    reason: str,
    partner_code: str | None,
    plan: str | None = None,
):
    """Apply one lifecycle command in the request's transaction and answer with the new representation."""
    with uow.command() as session:
        subscription = subscription_service.get_subscription(
            session, subscription_id, partner_code=partner_code, for_update=True
        )
        check_if_match(subscription.version)
        subscription_service.apply_command(
            session, subscription, command, actor=actor, reason=reason, now=utcnow(), plan=plan
        )
        return subscription_response(subscription)


def location_of(subscription_id: str) -> str:
    return url_for("partner.SubscriptionItem", subscription_id=subscription_id)
