"""The lifecycle commands a partner's agent issues for a customer, and what each would leave behind.

The agent console offers these as buttons and confirms each with the situation it leads to, worded by the same
situation texts the lookup reads (gateway.domain.situation): the outcome is `decide`'s own decision applied to the
facts, so the confirmation and the command can never disagree about the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from gateway.domain.lifecycle import TRANSITIONS, Actor, Command, Status, allowed_commands
from gateway.domain.situation import INACTIVITY_COMMANDS, Explanation, SubscriberFacts, explain, text_language
from gateway.domain.situation_texts import TEXTS
from gateway.domain.subscription import Decision, SubscriptionState, decide

# What an agent may do for a customer, in the order the buttons show them: what the customer most often calls for
# first, the partner's own measures last.
PARTNER_COMMANDS: tuple[Command, ...] = (
    Command.CONFIRM_KEEP,
    Command.REVERT_CANCELLATION,
    Command.RESUME,
    Command.CHANGE_PLAN,
    Command.SCHEDULE_CANCELLATION,
    Command.SUSPEND,
    Command.CANCEL_NOW,
)

# The reason a partner gives each command, as the partner API gives it; a plan change's is worked out from the plans
# (`decide`), and an immediate cancellation's is chosen (CANCEL_NOW_REASONS).
PARTNER_REASONS: dict[Command, str] = {
    Command.CONFIRM_KEEP: "partner_confirmed",
    Command.REVERT_CANCELLATION: "member_request",
    Command.RESUME: "payment_recovered",
    Command.CHANGE_PLAN: "",
    Command.SCHEDULE_CANCELLATION: "member_request",
    Command.SUSPEND: "non_payment",
}
CANCEL_NOW_REASONS: tuple[str, ...] = tuple(sorted(TRANSITIONS[Command.CANCEL_NOW].reasons))

# The subscription's columns a decision may change, as the situation's key dates name them.
_DATE_OF_COLUMN = {
    "activation_expires_at": "activation_expires",
    "inactivity_respond_by": "respond_by",
    "cancelled_at": "cancelled",
    "access_until": "access_until",
    "retention_until": "retention_until",
}


def offered(status: Status, *, warned: bool, billed_by: str) -> list[Command]:
    """The partner's commands possible from here, in PARTNER_COMMANDS' order."""
    allowed = set(allowed_commands(status, Actor.PARTNER, warned=warned, billed_by=billed_by))
    return [command for command in PARTNER_COMMANDS if command in allowed]


def reason_for(command: Command, chosen: str | None = None) -> str | None:
    """The reason to send with `command`; for an immediate cancellation the `chosen` one, None when it is not one
    of CANCEL_NOW_REASONS."""
    if command is Command.CANCEL_NOW:
        return chosen if chosen in CANCEL_NOW_REASONS else None
    return PARTNER_REASONS[command]


def cancel_now_reasons(locale: str | None) -> dict[str, str]:
    """The reasons an immediate cancellation may give, each as the lookup words it afterwards (the "why")."""
    reasons = TEXTS[text_language(locale)].reasons
    return {code: reasons[code] for code in CANCEL_NOW_REASONS}


def facts_after(facts: SubscriberFacts, decision: Decision) -> SubscriberFacts:
    """The facts as they will be once `decision` is applied."""
    changes = decision.changes
    dates = replace(
        facts.dates,
        **{field: changes[column] for column, field in _DATE_OF_COLUMN.items() if column in changes},
    )
    status = Status(changes.get("status", facts.status))
    cancelled_now = status is Status.CANCELLED and facts.status is not Status.CANCELLED
    inactivity_step = Command(decision.command) if decision.command in INACTIVITY_COMMANDS else None
    return replace(
        facts,
        status=status,
        reason=changes.get("status_reason", facts.reason),
        plan=changes.get("plan", facts.plan),
        pending_plan=changes.get("pending_plan", facts.pending_plan),
        dates=dates,
        last_inactivity_command=inactivity_step or facts.last_inactivity_command,
        keep_reason=decision.reason if inactivity_step is Command.CONFIRM_KEEP else facts.keep_reason,
        cancelled_by=decision.actor if cancelled_now else facts.cancelled_by,
    )


@dataclass(frozen=True)
class Outcome:
    """What a command would do, in the agent's language: the situation after it, and when it takes hold."""

    decision: Decision
    facts: SubscriberFacts  # after the command
    explanation: Explanation  # of those facts
    reason_text: str  # the reason the command records, as the lookup words it afterwards
    effective_at: datetime


def outcome(
    state: SubscriptionState,
    facts: SubscriberFacts,
    command: Command,
    *,
    reason: str,
    now: datetime,
    locale: str | None,
    plan: str | None = None,
) -> Outcome:
    """What the partner issuing `command` now would leave behind; raises decide's refusal when it may not."""
    decision = decide(state, command, actor=Actor.PARTNER, reason=reason, now=now, plan=plan)
    after = facts_after(facts, decision)
    reason_text = TEXTS[text_language(locale)].reasons.get(decision.reason, decision.reason)
    return Outcome(decision, after, explain(after, locale), reason_text, decision.effective_at)
