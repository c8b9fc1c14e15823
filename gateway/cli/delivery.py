"""The delivery commands of `gateway`: the dispatcher process and the operators' delivery tools."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from prometheus_client import start_http_server

from gateway.cli.common import command_transaction, print_rows
from gateway.delivery.dispatcher import DispatchConfigError, Dispatcher, DispatchSettings
from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus
from gateway.domain.events import EventType
from gateway.runtime import setting, store
from gateway.services import deliveries as delivery_service
from gateway.services import sandbox
from gateway.services.deliveries import DeliveryFilter


@click.command("dispatch")
@click.option("--until-idle", is_flag=True, help="Stop once nothing is due (instead of running until stopped).")
@click.option("--metrics-port", type=int, help="Serve this dispatcher's Prometheus metrics on this port.")
@click.option("--name", help="This dispatcher's name in leases and attempts (default: host:pid:random).")
@with_appcontext
def dispatch(until_idle: bool, metrics_port: int | None, name: str | None) -> None:
    """Deliver events to partners until stopped (SIGTERM/Ctrl-C: the sends in flight end, each within the
    delivery deadline, and are recorded; claims not yet sent are released)."""
    try:
        settings = DispatchSettings.from_settings(current_app.config["GATEWAY"])
    except DispatchConfigError as error:
        raise click.UsageError(str(error)) from None
    dispatcher = Dispatcher(store(), settings, name=name)
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=dispatcher.metrics.registry)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if setting("SANDBOX"):  # retries fall due at the sandbox's time, as it moves (the app read it at start)
        sandbox.keep_following(store(), stop)
    click.echo(f"dispatcher {dispatcher.name} running", err=True)
    try:
        dispatcher.run(stop, until_idle=until_idle)
    finally:
        stop.set()  # and the sandbox clock's thread with it


@click.group()
def deliveries() -> None:
    """Deliveries of events to partners: list, show, replay, pause, test."""


def _filter(partner: str | None, status: str | None, event_type: str | None, since, until) -> DeliveryFilter:
    return DeliveryFilter(partner_code=partner, status=status, event_type=event_type, since=since, until=until)


FILTER_OPTIONS = [
    click.option("--partner", help="Only this partner's (its code)."),
    click.option(
        "--type",
        "event_type",
        type=click.Choice([kind.value for kind in EventType]),
        metavar="TYPE",
        help="Only events of this type, e.g. gateway.test.",
    ),
    click.option("--since", type=click.DateTime(), help="Created at or after (UTC)."),
    click.option("--until", type=click.DateTime(), help="Created before (UTC)."),
]


def _with_filter_options(command):
    for option in reversed(FILTER_OPTIONS):
        command = option(command)
    return command


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


@deliveries.command("list")
@_with_filter_options
@click.option("--status", type=click.Choice([status.value for status in DeliveryStatus]), help="Only in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="At most this many.")
@with_appcontext
def deliveries_list(partner, event_type, since, until, status, limit) -> None:
    """List deliveries, oldest first."""
    matching = _filter(partner, status, event_type, _utc(since), _utc(until))
    with store().read() as session:
        found = delivery_service.list_deliveries(session, matching, after=0, limit=limit)
        rows = [
            {
                "id": delivery.id,
                "event": delivery.webhook_id,
                "type": delivery.event_type,
                "partner": delivery.partner_code,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "next": delivery.next_attempt_at.isoformat(timespec="seconds") if delivery.status == "pending" else "",
                "last_error": (delivery.last_error or "")[:60],
            }
            for delivery in found
        ]
    print_rows(rows, ["id", "event", "type", "partner", "status", "attempts", "next", "last_error"])


@deliveries.command("show")
@click.argument("delivery_id", type=int)
@with_appcontext
def deliveries_show(delivery_id: int) -> None:
    """One delivery and every attempt."""
    with command_transaction() as session:
        delivery = delivery_service.get_delivery(session, delivery_id)
        click.echo(f"{delivery.webhook_id} {delivery.event_type} to {delivery.partner_code}: {delivery.status}")
        rows = [
            {
                "at": attempt.attempted_at.isoformat(timespec="seconds"),
                "ms": attempt.duration_ms,
                "status": attempt.http_status or "",
                "error": attempt.error_class or "",
                "outcome": attempt.outcome,
            }
            for attempt in delivery_service.attempts_of(session, delivery_id)
        ]
    print_rows(rows, ["at", "ms", "status", "error", "outcome"])


@deliveries.command("replay")
@click.argument("delivery_id", type=int)
@with_appcontext
def deliveries_replay(delivery_id: int) -> None:
    """Send one delivery again (fresh schedule, same webhook-id)."""
    with command_transaction() as session:
        delivery_service.replay_delivery(session, delivery_id, now=utcnow())
    click.echo(f"delivery {delivery_id} will be sent again")


@deliveries.command("replay-dead")
@_with_filter_options
@with_appcontext
def deliveries_replay_dead(partner, event_type, since, until) -> None:
    """Replay dead letters, e.g. `--partner telco-de --since 2026-11-20T00:00:00`."""
    matching = _filter(partner, DeliveryStatus.DEAD, event_type, _utc(since), _utc(until))
    with command_transaction() as session:
        count = delivery_service.replay_matching(session, matching, now=utcnow())
    click.echo(f"{count} dead letters will be sent again")


def _pause_command(name: str, paused: bool, summary: str):
    @deliveries.command(name, help=summary)
    @click.argument("partner_code")
    @with_appcontext
    def command(partner_code: str) -> None:
        with command_transaction() as session:
            delivery_service.set_deliveries_paused(session, partner_code, paused)
        click.echo(f"deliveries to {partner_code} {'paused' if paused else 'resumed'}")

    return command


_pause_command("pause", True, "Hold every delivery to PARTNER_CODE (events wait).")
_pause_command("resume", False, "Release PARTNER_CODE's held deliveries, in order.")


@deliveries.command("test-event")
@click.argument("partner_code")
@with_appcontext
def deliveries_test_event(partner_code: str) -> None:
    """Record a gateway.test event for PARTNER_CODE; a running dispatcher sends it to every enabled endpoint."""
    with command_transaction() as session:
        sent = delivery_service.send_test_event(session, partner_code, now=utcnow())
    click.echo(f"test event {sent.event_id} recorded")
    if sent.endpoint_ids:
        click.echo(f"a running dispatcher (gateway dispatch) sends it to: {' '.join(sent.endpoint_ids)}")
        click.echo(f"follow it: gateway deliveries list --partner {partner_code} --type {sent.event_type}")
    else:  # not an error: the feed still has it, but the operator should know nothing will be sent
        click.echo(f"{partner_code} has no enabled webhook endpoint: the event is only in its feed (GET /v1/events)")
