"""What a lifecycle command does to one subscription, decided without touching the store.

`decide` takes where the subscription stands (a `SubscriptionState`), the command, who issues it and why, and
returns a `Decision`: the fields to change, the history entry's command and reason, the event to emit and what
it says beyond the status. Or it raises the refusal, with everything needed to word it (`InvalidTransition`,
`ActorNotAllowed`, `InvalidInput`). The use case (gateway.services.subscriptions.apply_command) loads the row,
decides, applies the changes, and writes the history entry and the outbox event.

The transition table (gateway.domain.lifecycle) says who may issue a command from where; this module adds the
rules of each command's own: the dates it sets, and the conditions that can still refuse it (a revert after the
period ended, a rejoin after the retention window, a keep after the respond-by date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gateway.domain import lifecycle
from gateway.domain.errors import InvalidInput
from gateway.domain.events import EventType
from gateway.domain.lifecycle import Actor, Command, InvalidTransition, Status
from gateway.domain.periods import period_end, retention_end
from gateway.domain.plans import plan_change

VIEWING_KEEPS = "viewing_activity"  # the reason of a keep by watching something after the warning

# The member's data on the row, cleared when it is purged (the rest of what the purge forgets is in other
# tables and in the partner's default language: gateway.services.subscriptions.forget_member).
MEMBER_FIELDS = (
    "member_id",
    "activated_at",
    "last_viewed_at",
    "activation_code",
    "activation_expires_at",
    "inactivity_warned_at",
    "inactivity_respond_by",
    "retention_notice_at",
)


@dataclass(frozen=True)
class SubscriptionState:
    """Where a subscription stands: what the decision reads of it."""

    status: Status
    status_reason: str
    billed_by: str
    billing_anchor: date
    plan: str
    member_id: str | None
    access_until: datetime | None
    inactivity_respond_by: datetime | None
    cancelled_at: datetime | None
    retention_until: datetime | None
    pending_plan: str | None
    pending_plan_at: datetime | None
    cancelled_by: Actor | None = None  # who made the last cancellation; read from the history for a rejoin only

    @classmethod
    def of(cls, row: Any, cancelled_by: Actor | None = None) -> SubscriptionState:
        """The state of a stored subscription (any object with the columns as attributes)."""
        return cls(
            status=Status(row.status),
            status_reason=row.status_reason,
            billed_by=row.billed_by,
            billing_anchor=row.billing_anchor,
            plan=row.plan,
            member_id=row.member_id,
            access_until=row.access_until,
            inactivity_respond_by=row.inactivity_respond_by,
            cancelled_at=row.cancelled_at,
            retention_until=row.retention_until,
            pending_plan=row.pending_plan,
            pending_plan_at=row.pending_plan_at,
            cancelled_by=cancelled_by,
        )

    @property
    def warned(self) -> bool:
        """An inactivity warning is open: sent, not answered yet."""
        return self.inactivity_respond_by is not None


@dataclass(frozen=True)
class Decision:
    """A command's outcome: the row's new field values, its history entry and the event reporting it."""

    command: str  # as the history names it
    actor: Actor
    reason: str
    previous: Status
    event: EventType
    changes: Mapping[str, Any]  # column name -> new value, the status among them when it moves
    effective_at: datetime  # when the change takes hold (the period end, for a scheduled cancellation)
    details: Mapping[str, Any] = field(default_factory=dict)  # kept in history and sent in the event's data
    forgets_member: bool = False  # a purge: the member's data elsewhere goes too


def refusal(state: SubscriptionState, command: Command, actor: Actor, why: str) -> InvalidTransition:
    """A command the table allows from here but this subscription cannot take (`why`), naming what else the
    actor could do."""
    allowed = lifecycle.allowed_commands(state.status, actor, warned=state.warned, billed_by=state.billed_by)
    others = [other for other in allowed if other is not command]
    return InvalidTransition(state.status, command, others, warned=state.warned, why=why, billed_by=state.billed_by)


def decide(
    state: SubscriptionState,
    command: Command,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    plan: str | None = None,
    member_id: str | None = None,
) -> Decision:
    """What `command`, issued by `actor` for `reason` at `now`, does to a subscription in `state`; or why not.

    A plan change's reason is the direction of the change, worked out from the plans (`plan` is the new one).
    """
    if command is Command.CHANGE_PLAN:
        reason = _plan_change_kind(state, actor, plan)
    transition = lifecycle.check_transition(
        state.status, command, actor, reason, warned=state.warned, billed_by=state.billed_by
    )
    changes, effective_at, details = _effects(state, command, actor, reason, now, plan, member_id)
    status = state.status
    if transition.target is not None:
        status = changes["status"] = transition.target
        changes["status_reason"] = reason
    if command is Command.CONFIRM_KEEP or status is not Status.ACTIVE:
        # An open warning belongs to an active membership: answered, or moot once it is suspended or ends.
        # inactivity_warned_at stays: it keeps the member from being warned again too soon.
        changes["inactivity_respond_by"] = None
    return Decision(
        command=command,
        actor=actor,
        reason=reason,
        previous=state.status,
        event=transition.event,
        changes=changes,
        effective_at=effective_at,
        details=details,
        forgets_member=command is Command.PURGE,
    )


def decide_pending_downgrade(state: SubscriptionState) -> Decision:
    """The downgrade announced when it was asked (subscription.plan_changed with effective_at) takes hold at the
    period end: the scheduler's change, reported like every change."""
    change = lifecycle.APPLY_DOWNGRADE
    if state.status not in change.sources or state.pending_plan is None:
        raise ValueError("the subscription has no downgrade to apply")
    [reason], [actor] = change.reasons, change.actors
    return Decision(
        command=change.name,
        actor=actor,
        reason=reason,
        previous=state.status,
        event=change.event,
        changes={"plan": state.pending_plan, "pending_plan": None, "pending_plan_at": None},
        effective_at=state.pending_plan_at,
        details={"plan": state.pending_plan, "previous_plan": state.plan, "change": "downgrade"},
    )


Effects = tuple[dict[str, Any], datetime, dict[str, Any]]  # field changes, effective at, details


def _effects(
    state: SubscriptionState,
    command: Command,
    actor: Actor,
    reason: str,
    now: datetime,
    plan: str | None,
    member_id: str | None,
) -> Effects:
    """The field changes of each command beyond the status, which the transition table sets."""
    match command:
        case Command.ACTIVATE:
            if not member_id:
                raise ValueError("an activation links a member's streaming account: member_id is required")
            # The member id goes on the row only: the history keeps no member data.
            cleared = dict.fromkeys(("activation_code", "activation_expires_at"))
            return {"member_id": member_id, "activated_at": now, **cleared}, now, {}
        case Command.SCHEDULE_CANCELLATION:
            access_until = period_end(state.billing_anchor, now)
            changes = {"access_until": access_until, "pending_plan": None, "pending_plan_at": None}
            return changes, access_until, {"access_until": access_until.isoformat()}
        case Command.REVERT_CANCELLATION:
            # Once the period is over the cancellation has taken effect, whether or not the scheduler has run yet.
            if state.access_until <= now:
                why = f"its billing period ended at {state.access_until.isoformat()}, and the cancellation with it"
                raise refusal(state, command, actor, why)
            return {"access_until": None}, now, {}
        case Command.WARN_INACTIVITY:
            # Campaigns warn in bulk (gateway.services.campaigns); there is no one-subscription form.
            raise ValueError("inactivity warnings are given by a campaign run")
        case Command.CONFIRM_KEEP:
            return _confirm_keep(state, actor, reason, now)
        case Command.END_PERIOD | Command.CANCEL_NOW | Command.EXPIRE_ACTIVATION | Command.CANCEL_INACTIVE:
            return _cancel(state, command, now)
        case Command.CHANGE_PLAN:
            return _change_plan(state, plan, now)
        case Command.REJOIN:
            return _rejoin(state, actor, now)
        case Command.PURGE:
            return {"purged_at": now, **dict.fromkeys(MEMBER_FIELDS)}, now, {}
        case _:
            return {}, now, {}


def _confirm_keep(state: SubscriptionState, actor: Actor, reason: str, now: datetime) -> Effects:
    """The respond-by date is the deadline, as the period end is a revert's: once it has passed, the membership
    ends for inactivity even if the scheduler has not got to it yet. A viewing reported late still counts when it
    was watched by then (record_viewing checks that time, not now)."""
    respond_by = state.inactivity_respond_by
    if respond_by <= now and reason != VIEWING_KEEPS:
        why = (
            f"its respond-by date passed at {respond_by.isoformat()}, and the membership ends for inactivity: the "
            "member can rejoin once it has"
        )
        raise refusal(state, Command.CONFIRM_KEEP, actor, why)
    return {}, now, {"respond_by": respond_by.isoformat()}


# What a cancellation makes moot: access until a period end, a plan change due, an activation still open.
ENDED_WITH_ACCESS = ("access_until", "pending_plan", "pending_plan_at", "activation_code", "activation_expires_at")


def _cancel(state: SubscriptionState, command: Command, now: datetime) -> Effects:
    ended = billing_stop(state, command, now)
    retention_until = retention_end(ended)
    changes = {
        "cancelled_at": ended,
        "retention_until": retention_until,
        "retention_notice_at": None,  # a new retention window, with its own notice
        **dict.fromkeys(
            ("access_until", "pending_plan", "pending_plan_at", "activation_code", "activation_expires_at")
        ),
    }
    # The partner stops charging from `ended`.
    return changes, ended, {"billing_stop_at": ended.isoformat(), "retention_until": retention_until.isoformat()}


def billing_stop(state: SubscriptionState, command: Command, now: datetime) -> datetime:
    """When access and billing stop for a cancellation: at the period end or the respond-by date it was due
    at, however late the scheduler gets to it; at once otherwise, but never after a period end already past."""
    if command is Command.END_PERIOD:
        return state.access_until
    if command is Command.CANCEL_INACTIVE:
        return min(now, state.inactivity_respond_by)
    return min(now, state.access_until or now)


def _plan_change_kind(state: SubscriptionState, actor: Actor, plan: str | None) -> str:
    """Whether moving to `plan` is an upgrade or a downgrade (the command's reason). A change to the plan the
    subscription is on depends on where it stands, not on the input: refused like the table's refusals (409)."""
    if plan is None:
        raise InvalidInput({"plan": "A plan change names the new plan."})
    if plan == state.plan:
        # The table's own refusal first: a suspended subscription's plan cannot change, whatever the plan.
        lifecycle.check_command(
            state.status, Command.CHANGE_PLAN, actor, warned=state.warned, billed_by=state.billed_by
        )
        raise refusal(state, Command.CHANGE_PLAN, actor, f"it is already on the {plan} plan")
    try:
        return plan_change(state.plan, plan)
    except ValueError as error:
        raise InvalidInput({"plan": str(error)}) from None


def _change_plan(state: SubscriptionState, plan: str, now: datetime) -> Effects:
    kind = plan_change(state.plan, plan)
    details = {"plan": plan, "previous_plan": state.plan, "change": kind}
    if kind == "upgrade":  # the member gets more at once
        return {"plan": plan, "pending_plan": None, "pending_plan_at": None}, now, details
    # Already paid for this period: the cheaper plan starts with the next one.
    effective_at = period_end(state.billing_anchor, now)
    return {"pending_plan": plan, "pending_plan_at": effective_at}, effective_at, details


def _rejoin(state: SubscriptionState, actor: Actor, now: datetime) -> Effects:
    """What the gateway restores is what it kept: the link to the member's streaming account, the plan and the
    member's language (profiles, list and settings are the streaming service's, kept there)."""
    if state.member_id is None:
        raise refusal(state, Command.REJOIN, actor, "it was never activated, so there is no member to restore")
    standing = lifecycle.rejoin_refusal(state.status_reason, state.cancelled_by)
    if standing is not None:
        why = f"{standing}, which a member's rejoin does not undo: the member subscribes anew with the partner"
        raise refusal(state, Command.REJOIN, actor, why)
    if state.retention_until is None or state.retention_until <= now:
        ended = state.retention_until or state.cancelled_at
        why = f"its retention window ended at {ended.isoformat()}: the member must subscribe anew"
        raise refusal(state, Command.REJOIN, actor, why)
    return {"cancelled_at": None, "retention_until": None}, now, {"restored": True}
