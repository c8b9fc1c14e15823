"""The sharing-policy commands of `gateway`: list policies and see which partners have acknowledged one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.cli.common import command_transaction, print_rows
from gateway.domain.sharing import PolicyStatus
from gateway.services import sharing as sharing_service
from gateway.services.sharing import NoticeCounts

PAGE = 10_000  # a command prints everything; partners and policies are few


def _time(value) -> str:
    return value.isoformat(timespec="minutes") if value is not None else ""


@click.group()
def sharing() -> None:
    """Sharing-policy announcements: policies, and who has acknowledged them."""


@sharing.command("list")
@click.option("--status", type=click.Choice([status.value for status in PolicyStatus]), help="Only in this state.")
@with_appcontext
def sharing_list(status: str | None) -> None:
    """List sharing policies, oldest first, with how many partners were told and have acknowledged."""
    with command_transaction() as session:
        policies = sharing_service.list_policies(session, limit=PAGE, status=status)
        counts = sharing_service.notice_counts(session, [policy.id for policy in policies])
        rows = []
        for policy in policies:
            count = counts.get(policy.id, NoticeCounts())
            rows.append(
                {
                    "id": policy.id,
                    "markets": ",".join(policy.markets),
                    "rule": policy.rule,
                    "status": policy.status,
                    "announce_at": _time(policy.announce_at),
                    "effective_at": _time(policy.effective_at),
                    "acknowledged": f"{count.acknowledged}/{count.notified}",
                }
            )
    print_rows(rows, ["id", "markets", "rule", "status", "announce_at", "effective_at", "acknowledged"])


@sharing.command("acknowledgements")
@click.argument("policy_id")
@click.option("--pending", is_flag=True, help="Only the partners that have not acknowledged yet.")
@with_appcontext
def sharing_acknowledgements(policy_id: str, pending: bool) -> None:
    """The partners told of POLICY_ID and whether each has acknowledged (reminders sent, next one due)."""
    with command_transaction() as session:
        found = sharing_service.list_policy_notices(
            session, policy_id, limit=PAGE, acknowledged=False if pending else None
        )
        rows = [
            {
                "partner": notice.partner_code,
                "markets": ",".join(notice.markets),
                "announced": _time(notice.announced_at),
                "acknowledged": _time(notice.acknowledged_at) or "no",
                "reminders": notice.reminders_sent,
                "next_reminder": _time(notice.next_reminder_at),
            }
            for notice, _partner in found
        ]
    print_rows(rows, ["partner", "markets", "announced", "acknowledged", "reminders", "next_reminder"])
