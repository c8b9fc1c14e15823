"""What the partner and service subscription views share: loading under a lock, If-Match, the response, and
refusals named in the caller's own terms."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from gateway.api.http.etags import expected_version
from gateway.api.shared.presenters import subscription_body
from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, StaleVersion
from gateway.domain.lifecycle import Actor, Command, InvalidTransition, Status, allowed_commands, refusal_text
from gateway.runtime import setting
from gateway.services import subscriptions as subscription_service

# What each API calls the lifecycle commands its callers may issue, as its paths name them
# (/v1/subscriptions/{id}/<action>, /v1/service/subscriptions/{id}/<action>): the one place they are named.
PARTNER_ACTIONS = {
    Command.CHANGE_PLAN: "change-plan",
    Command.SUSPEND: "suspend",
    Command.RESUME: "resume",
    Command.SCHEDULE_CANCELLATION: "cancel",
    Command.CANCEL_NOW: "cancel",
    Command.REVERT_CANCELLATION: "revert-cancellation",
    Command.CONFIRM_KEEP: "keep",
}
SERVICE_ACTIONS = {
    Command.SCHEDULE_CANCELLATION: "cancel",
    Command.CANCEL_NOW: "cancel",
    Command.REVERT_CANCELLATION: "revert-cancellation",
    Command.CHANGE_PLAN: "change-plan",
    Command.REJOIN: "rejoin",
    Command.CONFIRM_KEEP: "keep",
}


@dataclass(frozen=True)
class Caller:
    """Who calls an API's subscription actions: the lifecycle actors it speaks for, and its actions' names."""

    actors: frozenset[Actor]
    actions: Mapping[Command, str]
    actions_from: Callable[[str, bool, str], list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # What the caller may do from a status and sub-state never changes: worked out once for each (the
        # representation names it on every read).
        object.__setattr__(self, "actions_from", cache(self._actions_from))

    def _actions_from(self, status: str, warned: bool, billed_by: str) -> list[str]:
        return self.allowed_actions(Status(status), warned=warned, billed_by=billed_by)

    def allowed_actions(
        self, status: Status, *, warned: bool, billed_by: str, refused: Command | None = None
    ) -> list[str]:
        """The caller's actions possible from `status` and the inactivity sub-state, for a subscription billed by
        `billed_by`, less the `refused` command, as its API's paths name them."""
        allowed = {
            command
            for actor in self.actors
            for command in allowed_commands(status, actor, warned=warned, billed_by=billed_by)
        }
        return sorted(
            {self.actions[command] for command in allowed if command in self.actions and command is not refused}
        )

    def refusal(self, refused: InvalidTransition) -> Conflict:
        """The 409 for a refused command: where the subscription stands and what this caller may do instead,
        worded as the lifecycle words it (refusal_text) with this API's action names."""
        # The refused command is never among them: either the table does not allow it from here, or a condition
        # of its own rules it out (a rejoin after the retention window).
        names = self.allowed_actions(
            refused.status, warned=refused.warned, billed_by=refused.billed_by, refused=refused.command
        )
        action = self.actions.get(refused.command, refused.command)
        return Conflict(
            refusal_text(action, refused.state, names),
            current_status=str(refused.status),
            allowed_transitions=names,
        )


PARTNER_CALLER = Caller(frozenset({Actor.PARTNER}), PARTNER_ACTIONS)
# The service reports what the member did in the app, and closes accounts on its own account.
SERVICE_CALLER = Caller(frozenset({Actor.MEMBER, Actor.SERVICE}), SERVICE_ACTIONS)


@contextmanager
def refusals_for(caller: Caller) -> Iterator[None]:
    """Turn a refused lifecycle command into the caller's 409 (the lifecycle names commands, not API actions)."""
    try:
        yield
    except InvalidTransition as refused:
        raise caller.refusal(refused) from None


ETAG_HEADER = {
    "ETag": {"description": "The subscription's version; send it as If-Match.", "schema": {"type": "string"}}
}


def subscription_response(subscription, caller: Caller = PARTNER_CALLER) -> tuple[dict[str, Any], dict[str, str]]:
    """The representation for `caller`, whose actions it names, and its ETag header."""
    body = subscription_body(subscription, setting("ACTIVATION_URL"), caller.actions_from)
    return body, {"ETag": body["etag"]}


def check_if_match(version: int) -> None:
    """412 when If-Match names a version other than the current one; no header, no precondition."""
    expected = expected_version()
    if expected is not None and expected != version:
        raise StaleVersion(f"The subscription is at version {version}, not {expected}; read it again.")


def run_command(
    session: Session,
    subscription_id: str,
    command: Command,
    *,
    actor: Actor,
    reason: str,
    partner_code: str | None,
    plan: str | None = None,
):
    """Apply one lifecycle command in the request's transaction (`session`) and answer with the new
    representation.

    A partner acts with its own key (`partner_code`); without one, the service acts for the member or itself.
    """
    caller = PARTNER_CALLER if partner_code is not None else SERVICE_CALLER
    with refusals_for(caller):
        subscription = subscription_service.get_subscription(
            session, subscription_id, partner_code=partner_code, for_update=True
        )
        check_if_match(subscription.version)
        subscription_service.apply_command(
            session, subscription, command, actor=actor, reason=reason, now=utcnow(), plan=plan
        )
        return subscription_response(subscription, caller)


def location_of(subscription_id: str) -> str:
    return url_for("partner.subscriptions.SubscriptionItem", subscription_id=subscription_id)
