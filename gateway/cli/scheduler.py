"""`gateway scheduler run`: the transitions that fall due with time, once or again and again."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from gateway.domain.clock import utcnow
from gateway.domain.delivery import parse_schedule
from gateway.domain.errors import Conflict
from gateway.runtime import setting, store
from gateway.services import sandbox
from gateway.services.campaigns import CampaignSettings
from gateway.services.scheduler import DueSettings, run_due_transitions
from gateway.store.outages import repeat_through_outages


@click.group()
def scheduler() -> None:
    """Transitions that fall due with time."""


@scheduler.command("run")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Rows changed per transaction.",
)
@click.option(
    "--every",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Run again every SECONDS until stopped (SIGTERM/Ctrl-C), waiting out store outages, instead of once.",
)
@click.option(
    "--now",
    "moved_to",
    metavar="TIME",
    help="Sandbox only: move the sandbox clock forward to TIME (ISO 8601, e.g. 2027-10-01T09:00:00Z; a date "
    "alone is its midnight UTC) for the whole gateway, then apply what falls due by then.",
)
@with_appcontext
def scheduler_run(batch_size: int, every: float | None, moved_to: str | None) -> None:
    """Apply every due transition once (safe from cron, on several machines at once), or again and again."""
    sandboxed = setting("SANDBOX")
    if moved_to is not None:
        if not sandboxed:
            raise click.UsageError(
                "--now moves the clock of a sandbox gateway only (GATEWAY_SANDBOX=true); this one keeps the "
                "world's time"
            )
        if every is not None:
            raise click.UsageError("--now moves the clock once: it does not go with --every")
        try:
            moved = sandbox.move_to(store(), _sandbox_time(moved_to))
        except Conflict as error:
            raise click.ClickException(error.detail) from None
        click.echo(f"sandbox time: {moved.isoformat(timespec='seconds')}")
    if every is None:
        _run_scheduler_once(batch_size, sandboxed)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    repeat_through_outages(
        lambda: _run_scheduler_once(batch_size, sandboxed),
        stop=stop,
        every=every,
        log=logging.getLogger("gateway.scheduler"),
    )


def _sandbox_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        example = "2027-10-01T09:00:00Z"
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time such as {example}", param_hint="--now") from None
    if when.tzinfo is None:
        if len(text) > len("2027-10-01"):
            why = "has no time zone: add Z or an offset such as +02:00"
            raise click.BadParameter(f"{text!r} {why}", param_hint="--now")
        when = when.replace(tzinfo=UTC)  # a date alone: its midnight UTC
    return when.astimezone(UTC)


def _run_scheduler_once(batch_size: int, sandboxed: bool = False) -> None:
    now = sandbox.follow(store()) if sandboxed else utcnow()  # a sandbox runs at its own time
    report = run_due_transitions(
        store(),
        now=now,
        batch_size=batch_size,
        idempotency_ttl=timedelta(hours=setting("IDEMPOTENCY_TTL_HOURS")),
        event_retention=timedelta(days=setting("EVENT_RETENTION_DAYS")),
        due=DueSettings(retention_notice=timedelta(days=setting("RETENTION_NOTICE_DAYS"))),
        campaigns=CampaignSettings.from_settings(current_app.config["GATEWAY"]),
        sharing_reminders=parse_schedule(setting("SHARING_REMINDER_SCHEDULE")),
    )
    for name, count in report.counts.items():
        click.echo(f"{name}: {count}")
    click.echo(f"idempotency records removed: {report.idempotency_records_removed}")
    click.echo(f"events past the feed's retention removed: {report.expired_events_removed}")
    click.echo(f"partner callbacks past the retention forgotten: {report.callbacks_forgotten}")
    click.echo(f"reconciliations failed, their runner gone: {report.reconciliations_abandoned}")
    click.echo(
        f"sharing notices: {report.sharing.announced} announced, {report.sharing.effective} effective, "
        f"{report.sharing.reminders} reminders"
    )
    for campaign_id in report.campaigns_run:
        click.echo(f"campaign run: {campaign_id}")
