"""The bundled-subscription lifecycle as one explicit transition table: who may do what, from where, and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.domain.errors import Conflict, InvalidInput
from gateway.domain.events import EventType as E


class Status(enum.StrEnum):
    PENDING_ACTIVATION = "pending_activation"  # sold by the partner; the member has not linked an account yet
    ACTIVE = "active"
    SUSPENDED = "suspended"  # the partner reported non-payment
    CANCELLATION_SCHEDULED = "cancellation_scheduled"  # access continues until the billing period ends
    CANCELLED = "cancelled"  # no access; profile kept for the retention window, rejoin restores it
    PURGED = "purged"  # member data deleted; only the audit trail remains


class Actor(enum.StrEnum):
    PARTNER = "partner"  # the partner's systems (its customer asked, or its billing decided)
    SERVICE = "service"  # the streaming service's systems on their own account
    MEMBER = "member"  # the member, acting in the streaming service's app and reported by the service
    SCHEDULER = "scheduler"  # `gateway scheduler run`, when a date passes


class Command(enum.StrEnum):
    ACTIVATE = "activate"
    EXPIRE_ACTIVATION = "expire_activation"
    SUSPEND = "suspend"
    RESUME = "resume"
    SCHEDULE_CANCELLATION = "schedule_cancellation"
    REVERT_CANCELLATION = "revert_cancellation"
    END_PERIOD = "end_period"
    CANCEL_NOW = "cancel_now"
    CHANGE_PLAN = "change_plan"
    REJOIN = "rejoin"
    PURGE = "purge"
    # The inactivity sub-state of an active subscription (gateway.domain.inactivity): warned, kept or cancelled.
    WARN_INACTIVITY = "warn_inactivity"
    CONFIRM_KEEP = "confirm_keep"
    CANCEL_INACTIVE = "cancel_inactive"


class WarningState(enum.StrEnum):
    """What a command needs of the inactivity sub-state (only an active subscription is ever warned)."""

    ANY = "any"
    WARNED = "warned"  # an inactivity warning is open: respond-by date set, no answer yet
    NOT_WARNED = "not_warned"


@dataclass(frozen=True)
class Transition:
    command: Command
    sources: frozenset[Status]
    target: Status | None  # None: the status stays (a plan change)
    actors: frozenset[Actor]
    reasons: frozenset[str]
    event: E
    warning: WarningState = WarningState.ANY
    by_biller: bool = False  # a member's own request: taken by whoever bills the member (actors_for)

    def actors_for(self, billed_by: str) -> frozenset[Actor]:
        """Who may issue the command for a subscription billed by `billed_by` (partner or service).

        A member's own cancellation, and its revert, is made with whoever bills the member: with the partner
        for a plan in the partner's bundle (the app sends such members to the partner), in the app when the
        streaming service bills it. The one who does not bill cannot stop or restart the billing.
        """
        if not self.by_biller:
            return self.actors
        return frozenset({Actor.PARTNER if billed_by == PARTNER_BILLED else Actor.MEMBER})

    def admits(self, status: Status, warned: bool) -> bool:
        if status not in self.sources:
            return False
        if self.warning is WarningState.WARNED:
            return warned
        return not warned if self.warning is WarningState.NOT_WARNED else True


def _t(command, sources, target, actors, reasons, event, warning=WarningState.ANY, by_biller=False) -> Transition:
    return Transition(
        command, frozenset(sources), target, frozenset(actors), frozenset(reasons), event, warning, by_biller
    )


PARTNER_BILLED, SERVICE_BILLED = "partner", "service"  # who bills the member (Subscription.billed_by)


S, A = Status, Actor
LIVE = {S.ACTIVE, S.SUSPENDED, S.CANCELLATION_SCHEDULED}

# fmt: off
TRANSITIONS: dict[Command, Transition] = {
    t.command: t
    for t in [
        _t(Command.ACTIVATE, {S.PENDING_ACTIVATION}, S.ACTIVE, {A.SERVICE, A.MEMBER},
           {"account_linked", "account_created"}, E.SUBSCRIPTION_ACTIVATED),
        _t(Command.EXPIRE_ACTIVATION, {S.PENDING_ACTIVATION}, S.CANCELLED, {A.SCHEDULER},
           {"activation_expired"}, E.SUBSCRIPTION_CANCELLED),
        _t(Command.SUSPEND, {S.ACTIVE}, S.SUSPENDED, {A.PARTNER}, {"non_payment"}, E.SUBSCRIPTION_SUSPENDED),
        _t(Command.RESUME, {S.SUSPENDED}, S.ACTIVE, {A.PARTNER}, {"payment_recovered"}, E.SUBSCRIPTION_RESUMED),
        # The member's own cancellation and its revert: with the partner or in the app, by who bills (by_biller).
        _t(Command.SCHEDULE_CANCELLATION, {S.ACTIVE}, S.CANCELLATION_SCHEDULED, {A.PARTNER, A.MEMBER},
           {"member_request"}, E.SUBSCRIPTION_CANCELLATION_SCHEDULED, by_biller=True),
        _t(Command.REVERT_CANCELLATION, {S.CANCELLATION_SCHEDULED}, S.ACTIVE, {A.PARTNER, A.MEMBER},
           {"member_request"}, E.SUBSCRIPTION_CANCELLATION_REVERTED, by_biller=True),
        _t(Command.END_PERIOD, {S.CANCELLATION_SCHEDULED}, S.CANCELLED, {A.SCHEDULER},
           {"billing_period_ended"}, E.SUBSCRIPTION_CANCELLED),
        # A member's request never ends access early, whoever relays it: it is a SCHEDULE_CANCELLATION.
        _t(Command.CANCEL_NOW, {S.PENDING_ACTIVATION, *LIVE}, S.CANCELLED, {A.PARTNER, A.SERVICE},
           {"partner_churn", "account_closed", "fraud"}, E.SUBSCRIPTION_CANCELLED),
        _t(Command.CHANGE_PLAN, {S.ACTIVE}, None, {A.PARTNER, A.MEMBER}, {"upgrade", "downgrade"},
           E.SUBSCRIPTION_PLAN_CHANGED),
        _t(Command.REJOIN, {S.CANCELLED}, S.ACTIVE, {A.MEMBER}, {"member_rejoined"}, E.SUBSCRIPTION_REACTIVATED),
        _t(Command.PURGE, {S.CANCELLED}, S.PURGED, {A.SCHEDULER}, {"retention_expired"}, E.SUBSCRIPTION_PURGED),
        # Inactivity: the campaign warns, the member (or the partner for them) keeps, or the scheduler cancels
        # once the respond-by date passes. Watching something counts as keeping.
        _t(Command.WARN_INACTIVITY, {S.ACTIVE}, None, {A.SCHEDULER}, {"inactivity"},
           E.ACCOUNT_INACTIVITY_WARNING, WarningState.NOT_WARNED),
        _t(Command.CONFIRM_KEEP, {S.ACTIVE}, None, {A.MEMBER, A.PARTNER},
           {"member_confirmed", "partner_confirmed", "viewing_activity"}, E.ACCOUNT_KEEP_CONFIRMED,
           WarningState.WARNED),
        _t(Command.CANCEL_INACTIVE, {S.ACTIVE}, S.CANCELLED, {A.SCHEDULER}, {"inactivity"},
           E.SUBSCRIPTION_CANCELLED, WarningState.WARNED),
    ]
}
# fmt: on


@dataclass(frozen=True)
class ScheduledChange:
    """A change the scheduler makes by itself when a date an earlier command set passes, leaving the status as it
    is. Nobody issues it, so it is no command of the table; it is reported with the earlier command's event."""

    name: str  # as the history names it
    sources: frozenset[Status]
    actors: frozenset[Actor]
    reasons: frozenset[str]
    event: E
    target: None = None


# A downgrade (change_plan) waits for the end of the billing period; then the scheduler makes it.
APPLY_DOWNGRADE = ScheduledChange(
    "apply_downgrade",
    frozenset({S.ACTIVE}),
    frozenset({A.SCHEDULER}),
    frozenset({"billing_period_ended"}),
    E.SUBSCRIPTION_PLAN_CHANGED,
)
SCHEDULED_CHANGES = (APPLY_DOWNGRADE,)

EVENT_TYPES = sorted({transition.event for transition in TRANSITIONS.values()})


def event_of_entry(command: str, details: dict) -> str | None:
    """The type of the event a history entry was reported with (its command, or for a notice the type it names);
    None for the creation, which sends none."""
    if command == "notice":
        return details.get("event")
    if command in TRANSITIONS:
        return TRANSITIONS[Command(command)].event
    return next((change.event for change in SCHEDULED_CHANGES if change.name == command), None)


def changes_sending(event_type: str) -> list[Transition | ScheduledChange]:
    """The transitions and scheduled changes reported with `event_type`: what its data may say."""
    return [change for change in (*TRANSITIONS.values(), *SCHEDULED_CHANGES) if change.event == event_type]


class InvalidTransition(Conflict):
    """The command is not allowed from the current status (a 409 naming what is allowed).

    `allowed` are the commands this actor may apply from here. `why` says what else stands in the way when the
    table would allow the command but one of its own conditions does not hold (a rejoin after the retention
    window); the API names what the caller may do instead, in its own words (gateway.api.shared.subscription_actions).
    """

    def __init__(
        self,
        status: Status,
        command: Command,
        allowed: list[Command],
        warned: bool = False,
        why: str | None = None,
        billed_by: str = PARTNER_BILLED,
    ) -> None:
        state = f"{status} with an open inactivity warning" if warned else str(status)
        if status is Status.ACTIVE and not warned and TRANSITIONS[command].warning is WarningState.WARNED:
            state = "active without an open inactivity warning"
        if why is not None:
            state = f"{state}: {why}"
        super().__init__(
            refusal_text(command, state, allowed),
            current_status=str(status),
            allowed_transitions=[str(name) for name in allowed],
        )
        self.status = status
        self.command = command
        self.allowed = allowed
        self.warned = warned
        self.billed_by = billed_by
        self.state = state  # how the detail describes where the subscription stands


# How a refusal says what was refused, where "Cannot <action> a subscription" does not read as English; by the
# command's name, or an API action's with its hyphens as underscores.
REFUSED_PHRASES = {
    "change_plan": "change the plan of",
    "revert_cancellation": "revert the cancellation of",
    "schedule_cancellation": "schedule the cancellation of",
    "expire_activation": "expire the activation of",
    "end_period": "end the billing period of",
    "cancel_now": "cancel",
    "warn_inactivity": "send an inactivity warning for",
    "confirm_keep": "keep",
    "cancel_inactive": "cancel for inactivity",
}


def refusal_text(action: str, state: str, allowed: list[str]) -> str:
    """The detail of a refused command, in the caller's words: `action` as it names the command (a lifecycle
    command, or an API's action), `state` where the subscription stands and why, `allowed` what it may do."""
    return f"Cannot {refused_phrase(action)} a subscription that is {state}; allowed: {', '.join(allowed) or 'none'}."


def refused_phrase(action: str) -> str:
    """What doing `action` to a subscription is called in a sentence: "change the plan of", "suspend"."""
    name = action.replace("-", "_")
    return REFUSED_PHRASES.get(name, name.replace("_", " "))


class ActorNotAllowed(Conflict):
    """This actor may not issue this command (e.g. a partner rejoining on the member's behalf)."""


PERIOD_END, IMMEDIATELY = "period_end", "immediately"
OWN_CANCELLATION = "member_request"


def cancellation_command(when: str, reason: str, field: str = "reason") -> Command:
    """The command a cancellation request is, whoever relays it (partner API, partner callback, service API).

    A member's own cancellation keeps the access they paid for until the billing period ends; only the
    partner's or the service's own reasons (churn, account closed, fraud) end it at once. `field` names the
    reason in the caller's input, for the error.
    """
    if when == PERIOD_END:
        if reason != OWN_CANCELLATION:
            raise InvalidInput({field: "Only a member's own request is cancelled at the period end."})
        return Command.SCHEDULE_CANCELLATION
    if reason == OWN_CANCELLATION:
        raise InvalidInput(
            {
                field: "A member's own cancellation takes effect at the period end, whoever relays it: send "
                "when \"period_end\". Immediately is for the partner's or the service's own reasons."
            }
        )
    return Command.CANCEL_NOW


def rejoin_refusal(reason: str, cancelled_by: Actor | None) -> str | None:
    """Why a member's rejoin may not undo a cancellation (`reason`, made by `cancelled_by`), or None if it may.

    A cancellation for fraud stands, whoever made it; so does one the partner made for its own reasons (churn,
    the customer's account closed with it): the member subscribes anew with the partner instead.
    """
    if reason == "fraud":
        return "it was cancelled for fraud"
    if cancelled_by is Actor.PARTNER and reason in TRANSITIONS[Command.CANCEL_NOW].reasons:
        return f"the partner cancelled it for its own reasons ({reason})"
    return None


def allowed_commands(
    status: Status, actor: Actor | None = None, *, warned: bool = False, billed_by: str = PARTNER_BILLED
) -> list[Command]:
    """The commands that may be applied from `status` and the inactivity sub-state to a subscription billed by
    `billed_by` (by `actor`, when given)."""
    return [
        command
        for command, transition in TRANSITIONS.items()
        if transition.admits(status, warned) and (actor is None or actor in transition.actors_for(billed_by))
    ]


BILLER_TAKES_IT = {
    PARTNER_BILLED: "The partner bills this subscription: the member cancels it, or keeps it, with the partner "
    "(the app sends them there).",
    SERVICE_BILLED: "The streaming service bills this subscription: the member cancels it, or keeps it, in the app.",
}


def check_transition(
    status: Status,
    command: Command,
    actor: Actor,
    reason: str,
    *,
    warned: bool = False,
    billed_by: str = PARTNER_BILLED,
) -> Transition:
    """The transition to apply, or the reason it may not be applied."""
    transition = check_command(status, command, actor, warned=warned, billed_by=billed_by)
    if reason not in transition.reasons:
        raise ValueError(f"reason {reason!r} is not one of {sorted(transition.reasons)} for {command}")
    return transition


def check_command(
    status: Status, command: Command, actor: Actor, *, warned: bool = False, billed_by: str = PARTNER_BILLED
) -> Transition:
    """The transition, if `actor` may issue `command` from `status` whatever the reason; or why not."""
    transition = TRANSITIONS[command]
    if actor not in transition.actors_for(billed_by):
        if actor in transition.actors:
            raise ActorNotAllowed(BILLER_TAKES_IT[billed_by])
        raise ActorNotAllowed(f"A {actor} may not {refused_phrase(command)} a subscription.")
    if not transition.admits(status, warned):
        allowed = allowed_commands(status, actor, warned=warned, billed_by=billed_by)
        why = PURGED_WHY if status is Status.PURGED else None
        raise InvalidTransition(status, command, allowed, warned, why=why, billed_by=billed_by)
    return transition


# What is left to do once a subscription is purged: nothing on it; the member starts again with the partner.
PURGED_WHY = (
    "its retention window ended and the member's data was deleted; the member subscribes anew with the partner, "
    "who may use the same partner_ref again"
)
