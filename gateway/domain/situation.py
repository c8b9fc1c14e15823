"""A subscriber's situation for a call-center agent: what it is in plain words, what can happen next, what to read.

Pure: the services gather the facts from the store (gateway.services.lookup); everything said about them is
decided here, from the transition table in gateway.domain.lifecycle.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.domain.lifecycle import (
    PARTNER_BILLED,
    SERVICE_BILLED,
    TRANSITIONS,
    Actor,
    Command,
    Status,
    allowed_commands,
    rejoin_refusal,
)
from gateway.domain.notices import NOTICE_LOCALES, format_date, locale_chain
from gateway.domain.situation_texts import TEXTS, LanguageTexts


class Inactivity(enum.StrEnum):
    """The inactivity sub-state of a subscription, as the agent needs to know it."""

    NOT_WARNED = "not_warned"
    WARNED = "warned"  # a warning is open: the member must confirm by the respond-by date
    KEPT = "kept"  # the last warning was answered (confirmed, or the member watched again)
    CANCELLED = "cancelled"  # the last warning went unanswered: cancelled for inactivity (until a rejoin)


# The lifecycle commands that make up the inactivity story, in the history: the last one says where it stands.
INACTIVITY_COMMANDS = frozenset({Command.WARN_INACTIVITY, Command.CONFIRM_KEEP, Command.CANCEL_INACTIVE})

ACTOR_ORDER = (Actor.PARTNER, Actor.MEMBER, Actor.SERVICE, Actor.SCHEDULER)


@dataclass(frozen=True)
class KeyDates:
    joined: datetime | None = None  # the member linked or created an account
    last_activity: datetime | None = None  # the last viewing the service reported
    activation_expires: datetime | None = None
    inactivity_warned: datetime | None = None
    respond_by: datetime | None = None
    cancelled: datetime | None = None  # billing stopped
    access_until: datetime | None = None  # a scheduled cancellation takes effect
    retention_until: datetime | None = None  # profile, list and settings are deleted after this


@dataclass(frozen=True)
class SubscriberFacts:
    """What the store knows about one subscription that bears on its situation."""

    status: Status
    reason: str  # the reason of the last status change
    plan: str
    pending_plan: str | None
    dates: KeyDates
    last_inactivity_command: Command | None = None  # from the history
    keep_reason: str | None = None  # why the last warning was answered, when it was
    billed_by: str = PARTNER_BILLED  # who bills the member: the partner, in its bundle, or the service
    cancelled_by: Actor | None = None  # who made the last cancellation, from the history


@dataclass(frozen=True)
class AvailableAction:
    command: Command
    actors: tuple[Actor, ...]
    due_at: datetime | None  # for what the scheduler does by itself: when


@dataclass(frozen=True)
class Explanation:
    """The situation in one language: the texts an agent reads out."""

    locale: str
    status_label: str
    status_text: str
    reason_text: str
    inactivity_text: str | None  # only for a membership the inactivity policy applies to now


def inactivity_of(facts_respond_by: datetime | None, last_inactivity_command: Command | None) -> Inactivity:
    """Warned while a respond-by date is open; kept when the last inactivity step was the member keeping it."""
    if facts_respond_by is not None:
        return Inactivity.WARNED
    if last_inactivity_command is Command.CONFIRM_KEEP:
        return Inactivity.KEPT
    return Inactivity.NOT_WARNED


def inactivity(facts: SubscriberFacts) -> Inactivity:
    if facts.status is Status.CANCELLED and facts.reason == "inactivity":  # CANCEL_INACTIVE was the last change
        return Inactivity.CANCELLED
    return inactivity_of(facts.dates.respond_by, facts.last_inactivity_command)


def text_language(locale: str | None) -> str:
    """The console language for a BCP 47 locale: de-AT -> de; English when none of ours fits."""
    for candidate in locale_chain(locale):
        language = candidate.split("-")[0].lower()
        if language in NOTICE_LOCALES:
            return language
    return "en"


class _Dates(Mapping[str, str]):
    """The key dates by name, written in one language; a missing date reads as 'date unknown', never fails."""

    def __init__(self, dates: KeyDates, language: str, texts: LanguageTexts) -> None:
        self._dates, self._language, self._texts = dates, language, texts

    def __getitem__(self, name: str) -> str:
        if name == "last_access_day":  # the period ends at midnight: the day before is the last one with access
            value = self._dates.access_until and self._dates.access_until - timedelta(microseconds=1)
        else:
            value = getattr(self._dates, name, None)
        return self._texts.unknown_date if value is None else format_date(value, self._language)

    def __iter__(self):
        return iter(KeyDates.__dataclass_fields__)

    def __len__(self) -> int:
        return len(KeyDates.__dataclass_fields__)


def _fill(template: str, dates: Mapping[str, str]) -> str:
    return string.Formatter().vformat(template, (), dates)


def rejoin_refused(facts: SubscriberFacts) -> bool:
    """A cancelled subscription the member may not rejoin (fraud, or the partner's own reasons)."""
    return facts.status is Status.CANCELLED and rejoin_refusal(facts.reason, facts.cancelled_by) is not None


def explain(facts: SubscriberFacts, locale: str | None) -> Explanation:
    """Status, reason and inactivity sub-state in plain words, in the agent's language."""
    language = text_language(locale)
    texts = TEXTS[language]
    dates = _Dates(facts.dates, language, texts)
    state = inactivity(facts)
    inactivity_text = None
    if facts.status is Status.ACTIVE or state is Inactivity.CANCELLED:
        inactivity_text = _fill(texts.inactivity[state], dates)
        if state is Inactivity.KEPT and facts.keep_reason in texts.reasons:
            inactivity_text = f"{inactivity_text} {texts.reasons[facts.keep_reason]}"
    status_text = texts.status_explanations[facts.status]
    if rejoin_refused(facts):  # the usual text promises a rejoin restores the profile: not this time
        status_text = texts.cancelled_no_rejoin
    return Explanation(
        locale=language,
        status_label=texts.status_labels[facts.status],
        status_text=_fill(status_text, dates),
        reason_text=texts.reasons.get(facts.reason, facts.reason.replace("_", " ")),
        inactivity_text=inactivity_text,
    )


# When the scheduler applies a command by itself: the date that triggers it.
_SCHEDULED_BY = {
    Command.EXPIRE_ACTIVATION: "activation_expires",
    Command.END_PERIOD: "access_until",
    Command.CANCEL_INACTIVE: "respond_by",
    Command.PURGE: "retention_until",
}


def available_actions(facts: SubscriberFacts, now: datetime) -> list[AvailableAction]:
    """What can happen to the subscription from here, and who can make it happen (the transition table's view,
    narrowed by the dates: a rejoin after the retention window is no longer possible)."""
    warned = inactivity(facts) is Inactivity.WARNED
    found = []
    for command in allowed_commands(facts.status, warned=warned, billed_by=facts.billed_by):
        if command is Command.REJOIN and (
            facts.dates.retention_until is None or facts.dates.retention_until <= now or rejoin_refused(facts)
        ):
            continue
        who = TRANSITIONS[command].actors_for(facts.billed_by)
        actors = tuple(actor for actor in ACTOR_ORDER if actor in who)
        due_field = _SCHEDULED_BY.get(command)
        found.append(AvailableAction(command, actors, getattr(facts.dates, due_field) if due_field else None))
    return found


def action_label(command: Command, locale: str | None) -> str:
    return TEXTS[text_language(locale)].actions[command]


def actor_label(actor: Actor, locale: str | None) -> str:
    return TEXTS[text_language(locale)].actors[actor]


# Which FAQ articles explain a situation, most relevant first. Slugs are the required articles of the call-center
# FAQ (gateway/faq/articles); how to escalate is always worth having at hand, so it closes every list.
ESCALATION_ARTICLE = "contact-support-escalation"
REJOIN_ARTICLE = "rejoin-restore-profile"
FAQ_BY_STATUS: dict[Status, tuple[str, ...]] = {
    Status.PENDING_ACTIVATION: ("activate-bundle", "double-billing-existing-account"),
    Status.ACTIVE: ("plan-change-timing", "cancel-partner-billed", "paid-sharing-household", "extra-member"),
    Status.SUSPENDED: ("suspended-non-payment",),
    Status.CANCELLATION_SCHEDULED: (
        "access-until-billing-period-end",
        "cancellation-confirmation-email",
        "cancel-partner-billed",
    ),
    Status.CANCELLED: (REJOIN_ARTICLE, "data-retention-deletion", "cancellation-confirmation-email"),
    Status.PURGED: ("data-retention-deletion",),
}
FAQ_BY_INACTIVITY: dict[Inactivity, tuple[str, ...]] = {
    Inactivity.WARNED: ("keep-membership-confirmation", "inactive-membership-cancellation"),
    Inactivity.KEPT: ("keep-membership-confirmation",),
}
FAQ_CANCELLED_FOR_INACTIVITY = ("inactive-membership-cancellation", "rejoin-restore-profile", "data-retention-deletion")
FAQ_PENDING_DOWNGRADE = ("plan-change-timing",)
# Articles that only hold for one way of billing: a service-billed member does not cancel with the partner.
_NOT_FOR = {PARTNER_BILLED: frozenset(), SERVICE_BILLED: frozenset({"cancel-partner-billed"})}


def faq_slugs(facts: SubscriberFacts) -> list[str]:
    """The FAQ articles that explain this situation, most relevant first, each once."""
    slugs: list[str] = []
    if facts.status is Status.ACTIVE:
        slugs += FAQ_BY_INACTIVITY.get(inactivity(facts), ())
        if facts.pending_plan is not None:
            slugs += FAQ_PENDING_DOWNGRADE
    if facts.status is Status.CANCELLED and facts.reason == "inactivity":
        slugs += FAQ_CANCELLED_FOR_INACTIVITY
    slugs += [slug for slug in FAQ_BY_STATUS[facts.status] if slug not in _NOT_FOR[facts.billed_by]]
    if rejoin_refused(facts):  # the article promises a rejoin restores the profile
        slugs.remove(REJOIN_ARTICLE)
    slugs.append(ESCALATION_ARTICLE)
    return list(dict.fromkeys(slugs))


class NoticeDelivery(enum.StrEnum):
    """Where a notice to the partner stands, over all its webhook deliveries."""

    QUEUED = "queued"  # committed, not yet handed to the dispatcher
    IN_FEED = "in_feed"  # published; no webhook endpoint: the partner reads it from the event feed
    PENDING = "pending"  # on its way, possibly retrying
    DELIVERED = "delivered"  # every endpoint took it
    DEAD = "dead"  # retries ran out at some endpoint: an operator can replay it
    # Delivered or dead long ago: its delivery records went with the event past the feed's retention
    # (GATEWAY_EVENT_RETENTION_DAYS); the subscription's history still says it was sent.
    ARCHIVED = "archived"


def notice_delivery(published: bool, delivery_statuses: list[str]) -> NoticeDelivery:
    """One status for a notice: the one needing attention first (dead, then pending) over all its endpoints."""
    if not published:
        return NoticeDelivery.QUEUED
    if not delivery_statuses:
        return NoticeDelivery.IN_FEED
    for worst in (NoticeDelivery.DEAD, NoticeDelivery.PENDING):
        if worst in delivery_statuses:
            return worst
    return NoticeDelivery.DELIVERED


# Every article a situation can point to: each must exist in the FAQ (a test checks the article files).
SITUATION_SLUGS = frozenset(
    {
        ESCALATION_ARTICLE,
        *FAQ_CANCELLED_FOR_INACTIVITY,
        *FAQ_PENDING_DOWNGRADE,
        *(slug for slugs in FAQ_BY_STATUS.values() for slug in slugs),
        *(slug for slugs in FAQ_BY_INACTIVITY.values() for slug in slugs),
    }
)
