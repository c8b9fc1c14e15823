"""Escalations from partners' call centers: categories, priorities and their SLA, and the status machine."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.domain.errors import Conflict
from gateway.domain.events import EventType

EVENT_TYPE = EventType.ESCALATION_UPDATED  # every change of an escalation reaches its partner as this event


class Category(enum.StrEnum):
    """What the case is about: the situations the call centers cannot settle on their own."""

    BILLING = "billing"  # a charge the customer disputes
    DOUBLE_BILLING = "double_billing"  # billed by the partner and by the streaming service at once
    ACTIVATION = "activation"  # the activation code does not work or the account will not link
    CANCELLATION = "cancellation"  # a cancellation that did not take, or access that ended too early
    INACTIVITY_CANCELLATION = "inactivity_cancellation"  # cancelled for inactivity although the member watched
    DATA_RETENTION = "data_retention"  # a profile, list or settings missing after a rejoin, or a deletion request
    PASSWORD_SHARING = "password_sharing"  # noqa: S105 (a category, not a secret): household, extra members
    PLAN_CHANGE = "plan_change"  # a plan change that did not apply, or applied at the wrong time
    TECHNICAL = "technical"  # playback, sign-in, devices
    OTHER = "other"


class Priority(enum.StrEnum):
    URGENT = "urgent"  # the member has no access and should have it
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Status(enum.StrEnum):
    OPEN = "open"  # raised by the partner, not yet seen by the service
    ACKNOWLEDGED = "acknowledged"  # the service has seen it
    IN_PROGRESS = "in_progress"  # the service is working on it
    RESOLVED = "resolved"  # the service says it is settled; the partner closes it or reopens it
    CLOSED = "closed"  # final


class Side(enum.StrEnum):
    PARTNER = "partner"  # the partner's call-center agents
    SERVICE = "service"  # the streaming service's support, through the admin API


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


# Until it is resolved a case counts against its SLA, blocks a second case for the same subscriber and
# category (the store's open_key), and can be overdue.
UNRESOLVED = frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS})


@dataclass(frozen=True)
class Transition:
    action: Action
    source: Status
    target: Status
    side: Side
    change: str  # the past tense, as the event's `change` names it
    needs_comment: bool = False  # a resolution says what was done; a reopening says why it is not settled


# fmt: off
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in [
        Transition(Action.ACKNOWLEDGE, Status.OPEN, Status.ACKNOWLEDGED, Side.SERVICE, "acknowledged"),
        Transition(Action.START, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Side.SERVICE, "started"),
        Transition(Action.RESOLVE, Status.IN_PROGRESS, Status.RESOLVED, Side.SERVICE, "resolved", needs_comment=True),
        Transition(Action.CLOSE, Status.RESOLVED, Status.CLOSED, Side.PARTNER, "closed"),
        # Reopened cases go back to the service's queue of unseen ones, with a fresh SLA clock: the resolution
        # did not settle it, and the service owes a new answer.
        Transition(Action.REOPEN, Status.RESOLVED, Status.OPEN, Side.PARTNER, "reopened", needs_comment=True),
    ]
}
# fmt: on

OPENED, COMMENTED = "opened", "commented"  # the changes that are no transition
CHANGES = (OPENED, COMMENTED, *(transition.change for transition in TRANSITIONS.values()))


class InvalidTransition(Conflict):
    """The action is not possible from the current status (a 409 naming the status and what is allowed)."""

    def __init__(self, status: Status, action: Action, side: Side) -> None:
        allowed = allowed_actions(status, side)
        names = ", ".join(allowed) or "none"
        super().__init__(
            f"Cannot {action} an escalation that is {status}; allowed for the {side}: {names}.",
            current_status=str(status),
            allowed_transitions=[str(name) for name in allowed],
        )
        self.status = status
        self.action = action


class SideNotAllowed(Conflict):
    """This side never takes this action (e.g. a partner acknowledging its own case)."""


class ClosedCase(Conflict):
    """A closed escalation takes no more comments: open a new one."""


def allowed_actions(status: Status | str, side: Side | str | None = None) -> list[Action]:
    """The actions possible from `status` (by `side`, when given), in the table's order."""
    status, side = Status(status), (Side(side) if side is not None else None)
    return [
        action
        for action, transition in TRANSITIONS.items()
        if transition.source is status and (side is None or transition.side is side)
    ]


def check_transition(status: Status | str, action: Action | str, side: Side | str) -> Transition:
    """The transition to apply, or why it may not be applied."""
    status, action, side = Status(status), Action(action), Side(side)
    transition = TRANSITIONS[action]
    if transition.side is not side:
        raise SideNotAllowed(f"Only the {transition.side} may {action} an escalation.")
    if transition.source is not status:
        raise InvalidTransition(status, action, side)
    return transition


def check_comment(status: Status | str) -> None:
    """Both sides comment on a case at any point until it is closed."""
    if Status(status) is Status.CLOSED:
        raise ClosedCase(
            "This escalation is closed and takes no more comments; open a new one.",
            current_status=str(status),
            allowed_transitions=[],
        )


KEY_AUTHOR_PREFIX = "key:"  # the author the operator API records for an action without one: "key:<key prefix>"


def author_shown_to_partner(author: str | None) -> str | None:
    """The author a partner's agent may read: a person's name, never the key the service acted with (None)."""
    if not author or author.startswith(KEY_AUTHOR_PREFIX):
        return None
    return author


def open_key(subscription_id: str, category: str) -> str:
    """The value of the store's unique open_key while a case is unresolved: one such case per subscriber and
    category."""
    return f"{subscription_id}/{category}"


# -- SLA -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """A response time: calendar hours, or business days (Monday to Friday, counted in UTC)."""

    amount: int
    business_days: bool = False

    def after(self, start: datetime) -> datetime:
        if not self.business_days:
            return start + timedelta(hours=self.amount)
        due, counted = start, 0
        while counted < self.amount:
            due += timedelta(days=1)
            if due.weekday() < 5:
                counted += 1
        return due

    def __str__(self) -> str:
        return f"{self.amount}{'bd' if self.business_days else 'h'}"


DEFAULT_SLA = "urgent=4h,high=1bd,normal=3bd,low=5bd"
_SLA_PART = re.compile(r"^\s*([a-z_]+)\s*=\s*(\d+)\s*(h|d|bd)\s*$")


@dataclass(frozen=True)
class SlaPolicy:
    """How long the service has to resolve a case, per priority."""

    due_within: dict[Priority, Duration]

    def due_at(self, priority: Priority | str, start: datetime) -> datetime:
        return self.due_within[Priority(priority)].after(start)


def parse_sla_policy(text: str) -> SlaPolicy:
    """'urgent=4h,high=1bd,normal=3d,low=5bd' -> the policy. h: hours; d: calendar days; bd: business days.
    Every priority must be given once."""
    due_within: dict[Priority, Duration] = {}
    for part in text.split(","):
        match = _SLA_PART.match(part)
        if match is None:
            raise ValueError(f"{part.strip()!r} is not PRIORITY=DURATION such as high=1bd, urgent=4h or low=5d")
        name, amount, unit = match.groups()
        if name not in {priority.value for priority in Priority}:
            raise ValueError(f"{name!r} is not a priority ({', '.join(Priority)})")
        if Priority(name) in due_within:
            raise ValueError(f"{name} is given twice")
        if int(amount) == 0:
            raise ValueError(f"{name}: a response time of zero")
        if unit == "bd":
            due_within[Priority(name)] = Duration(int(amount), business_days=True)
        else:
            due_within[Priority(name)] = Duration(int(amount) * (24 if unit == "d" else 1))
    missing = [str(priority) for priority in Priority if priority not in due_within]
    if missing:
        raise ValueError(f"no response time for {', '.join(missing)}")
    return SlaPolicy(due_within)


def is_overdue(status: Status | str, sla_due_at: datetime, now: datetime) -> bool:
    """An unresolved case past its due time. A resolved or closed case is never overdue."""
    return Status(status) in UNRESOLVED and sla_due_at < now
