"""The words the console shows for codes: escalation categories, priorities and statuses, notice deliveries, the
events a notice reported, why a delivery failed, and subscription statuses, in the agent's language.

Escalation and delivery words come from the console's catalogs; a subscription's status from the lookup's own
texts (gateway.domain.situation_texts), so a status reads the same in the list of candidates and on the customer.
"""

from __future__ import annotations

import re

from gateway.console.i18n import N_, current_language, gettext
from gateway.domain.escalations import Category, Priority, Status
from gateway.domain.events import EventType
from gateway.domain.situation import NoticeDelivery
from gateway.domain.situation_texts import TEXTS

CATEGORIES = {
    Category.BILLING: N_("Billing"),
    Category.DOUBLE_BILLING: N_("Double billing"),
    Category.ACTIVATION: N_("Activation"),
    Category.CANCELLATION: N_("Cancellation"),
    Category.INACTIVITY_CANCELLATION: N_("Cancellation for inactivity"),
    Category.DATA_RETENTION: N_("Data retention"),
    Category.PASSWORD_SHARING: N_("Password sharing"),
    Category.PLAN_CHANGE: N_("Plan change"),
    Category.TECHNICAL: N_("Technical problem"),
    Category.OTHER: N_("Other"),
}
PRIORITIES = {
    Priority.URGENT: N_("Urgent"),
    Priority.HIGH: N_("High"),
    Priority.NORMAL: N_("Normal"),
    Priority.LOW: N_("Low"),
}
ESCALATION_STATUSES = {
    Status.OPEN: N_("Open"),
    Status.ACKNOWLEDGED: N_("Acknowledged"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.RESOLVED: N_("Resolved"),
    Status.CLOSED: N_("Closed"),
}
DELIVERIES = {
    NoticeDelivery.QUEUED: N_("Queued"),
    NoticeDelivery.IN_FEED: N_("In the event feed"),
    NoticeDelivery.PENDING: N_("On its way"),
    NoticeDelivery.DELIVERED: N_("Delivered"),
    NoticeDelivery.DEAD: N_("Failed"),
    NoticeDelivery.ARCHIVED: N_("Archived"),
}
# What a notice was about, by the type of the event that carried it: every type has a name, so no code of the
# partner API reaches the agent whatever the history records.
EVENTS = {
    EventType.SUBSCRIPTION_CREATED: N_("Subscription created"),
    EventType.SUBSCRIPTION_ACTIVATED: N_("Membership activated"),
    EventType.SUBSCRIPTION_PLAN_CHANGED: N_("Plan changed"),
    EventType.SUBSCRIPTION_SUSPENDED: N_("Membership suspended"),
    EventType.SUBSCRIPTION_RESUMED: N_("Membership resumed"),
    EventType.SUBSCRIPTION_CANCELLATION_SCHEDULED: N_("Cancellation scheduled"),
    EventType.SUBSCRIPTION_CANCELLATION_REVERTED: N_("Cancellation withdrawn"),
    EventType.SUBSCRIPTION_CANCELLED: N_("Membership cancelled"),
    EventType.SUBSCRIPTION_REACTIVATED: N_("Membership reactivated"),
    EventType.SUBSCRIPTION_PURGED: N_("Account data deleted"),
    EventType.ACCOUNT_INACTIVITY_WARNING: N_("Inactivity warning"),
    EventType.ACCOUNT_KEEP_CONFIRMED: N_("Membership kept"),
    EventType.ACCOUNT_RETENTION_EXPIRING: N_("Account data to be deleted soon"),
    EventType.SHARING_HOUSEHOLD_VERIFICATION_REQUIRED: N_("Household verification required"),
    EventType.SHARING_EXTRA_MEMBER_ADDED: N_("Extra member added"),
    EventType.SHARING_EXTRA_MEMBER_REMOVED: N_("Extra member removed"),
    EventType.SHARING_POLICY_ANNOUNCED: N_("Sharing policy announced"),
    EventType.SHARING_POLICY_EFFECTIVE: N_("Sharing policy in effect"),
    EventType.SHARING_ACKNOWLEDGEMENT_REMINDER: N_("Sharing policy reminder"),
    EventType.ESCALATION_UPDATED: N_("Escalation updated"),
    EventType.PRODUCT_ORDER_STATE_CHANGED: N_("Product order updated"),
    EventType.GATEWAY_TEST: N_("Test event"),
}
UNKNOWN_EVENT = N_("Other notice")

# Why a delivery failed, from what the dispatcher recorded (gateway.delivery.outcomes: "HTTP 500: <excerpt>",
# "<error class> after <n> ms", "Retries exhausted after <n> attempts; last: ...", and the deleted endpoint's
# note): a summary in the agent's language. The recorded text is the partner's server's own English or the
# dispatcher's, for the API and the operators, and is not shown.
_EXHAUSTED = re.compile(r"Retries exhausted after (\d+) attempts; last: (.*)", re.S)
_HTTP = re.compile(r"HTTP (\d{3})\b")
_TIMED_OUT = re.compile(r"^\w*(Timeout|Deadline|TimedOut)\w* after ", re.I)
_UNREACHABLE = re.compile(r"^\w+ after \d+ ms")
_DELETED = "The endpoint was deleted on "
GAVE_UP = N_("Given up after %(attempts)s attempts.")
ANSWERED = N_("Your endpoint answered with HTTP status %(status)s.")
TIMED_OUT = N_("Your endpoint did not answer in time.")
UNREACHABLE = N_("Your endpoint could not be reached.")
DELETED = N_("Your endpoint was deleted before the notice reached it.")
UNEXPLAINED = N_("The notice could not be delivered.")


def delivery_problem(last_error: str | None) -> str:
    """Why a delivery has not succeeded (yet), in the agent's words; empty when nothing went wrong."""
    if not last_error:
        return ""
    exhausted = _EXHAUSTED.match(last_error)
    if exhausted:
        attempts, last = int(exhausted.group(1)), exhausted.group(2)
        return f"{gettext(GAVE_UP, attempts=attempts)} {delivery_problem(last)}"
    if last_error.startswith(_DELETED):
        return gettext(DELETED)
    http = _HTTP.match(last_error)
    if http:
        return gettext(ANSWERED, status=http.group(1))
    if _TIMED_OUT.match(last_error):
        return gettext(TIMED_OUT)
    if _UNREACHABLE.match(last_error):
        return gettext(UNREACHABLE)
    return gettext(UNEXPLAINED)


def event_name(event_type: str | None) -> str:
    """What a notice was about, in the agent's words."""
    return gettext(EVENTS.get(event_type or "", UNKNOWN_EVENT))


# Who bills the member (Subscription.billed_by), as "Billed by: …" names them.
BILLERS = {"partner": N_("you (partner)"), "service": N_("the streaming service")}
WORDS: dict[str, str] = {**CATEGORIES, **PRIORITIES, **ESCALATION_STATUSES, **DELIVERIES}


def label(code: str | None) -> str:
    """The agent's word for a code; a code the console has no word for is shown as it is (a test keeps that from
    happening for every code the console shows)."""
    if not code:
        return ""
    if code in WORDS:
        return gettext(WORDS[code])
    subscription_statuses = TEXTS.get(current_language(), TEXTS["en"]).status_labels
    return subscription_statuses.get(code, code)


def biller(code: str) -> str:
    """Who bills the member, in the agent's words; the code as it is for one the console does not know."""
    return gettext(BILLERS[code]) if code in BILLERS else code
