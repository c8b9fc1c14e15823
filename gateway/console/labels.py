"""The words the console shows for codes: escalation categories, priorities and statuses, notice deliveries, and
subscription statuses, in the agent's language.

Escalation and delivery words come from the console's catalogs; a subscription's status from the lookup's own
texts (gateway.domain.situation_texts), so a status reads the same in the list of candidates and on the customer.
"""

from __future__ import annotations

from gateway.console.i18n import N_, current_language, gettext
from gateway.domain.escalations import Category, Priority, Status
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
