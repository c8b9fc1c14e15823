"""Sharing policies: an operator schedules an announcement, partners are briefed on time and reminded until they
acknowledge, and the service sends per-account notices once a policy is in effect.

The package, one job per module:

- policies: create, get and list policies; what a partner is told; which one is in effect; the FAQ embargo
- partner_notices: a policy's notices to partners, listed, read and acknowledged
- due_notices: the scheduler's run, in three steps: announcements, effective_notices, reminders
- account_notices: household verification and extra-member notices for one membership

Callers use the names below.
"""

from gateway.services.sharing.account_notices import HOUSEHOLD_VERIFICATION, send_account_notice
from gateway.services.sharing.due_notices import SharingReport, run_due_sharing_notices
from gateway.services.sharing.partner_notices import (
    NoticeCounts,
    acknowledge,
    get_partner_notice,
    list_partner_notices,
    list_policy_notices,
    notice_counts,
)
from gateway.services.sharing.policies import (
    ANNOUNCED,
    EFFECTIVE,
    SCHEDULED,
    create_policy,
    embargoed_articles,
    get_policy,
    list_policies,
    policy_in_effect,
    policy_terms,
)

__all__ = [
    "ANNOUNCED",
    "EFFECTIVE",
    "HOUSEHOLD_VERIFICATION",
    "SCHEDULED",
    "NoticeCounts",
    "SharingReport",
    "acknowledge",
    "create_policy",
    "embargoed_articles",
    "get_partner_notice",
    "get_policy",
    "list_partner_notices",
    "list_policies",
    "list_policy_notices",
    "notice_counts",
    "policy_in_effect",
    "policy_terms",
    "run_due_sharing_notices",
    "send_account_notice",
]
