"""The `gateway` command: Flask's click CLI with the store, partner, key, serve and demo commands."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from gateway import create_app
from gateway.api.state import EXTENSION, setting, store
from gateway.config import ConfigError
from gateway.demo import DEMO_PARTNERS, seed_demo
from gateway.demo_receiver import SECRETS_VARIABLE
from gateway.domain.clock import utcnow
from gateway.domain.delivery import parse_schedule
from gateway.domain.errors import Conflict, GatewayError
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind, Scope
from gateway.domain.partners import PartnerStatus
from gateway.domain.roster import RosterFormat, read_roster, text_lines
from gateway.services import faq as faq_service
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import reconciliation as reconciliation_service
from gateway.services import sandbox
from gateway.services.campaigns import CampaignSettings
from gateway.services.scheduler import DueSettings, run_due_transitions
from gateway.store import migrate
from gateway.store.outages import repeat_through_outages


def _create_app() -> Any:
    try:
        app = create_app()
    except ConfigError as error:  # one line naming the setting and the rule, not a traceback
        raise click.ClickException(str(error)) from None
    if app.config["GATEWAY"]["SANDBOX"]:  # every command of a sandbox gateway runs at the sandbox's time
        sandbox.follow_once_migrated(app.extensions[EXTENSION]["store"])
    return app


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,  # Flask's run, shell and routes: `gateway serve` is how the gateway runs
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Partner integration gateway. Settings come from GATEWAY_* environment variables.",
)
# FlaskGroup always adds Flask's developer options (-e/--env-file, -A/--app, --debug); the gateway builds its
# one app from GATEWAY_* settings, so they are taken out of its command line and its --help.
cli.params = [param for param in cli.params if param.name not in ("env_file", "app", "debug")]
cli = click.version_option(package_name="partner-gateway", prog_name="gateway")(cli)


def main() -> None:
    cli.main(prog_name="gateway")


@contextmanager
def _command_transaction() -> Iterator[Any]:
    """A unit of work whose domain errors become a one-line CLI error (exit 1) instead of a traceback."""
    try:
        with store().transaction() as session:
            yield session
    except GatewayError as error:
        raise click.ClickException(error.detail) from None


def _print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns}
    click.echo("  ".join(column.upper().ljust(widths[column]) for column in columns))
    for row in rows:
        click.echo("  ".join(str(row[column]).ljust(widths[column]) for column in columns))


# --- db -------------------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Schema migrations of the store."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    migrate.upgrade(store().engine, revision)
    click.echo(f"store at migration {migrate.current_revision(store().engine)}")


@db.command("downgrade")
@click.option("--revision", default="-1", show_default=True)
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' removes every table)."""
    migrate.downgrade(store().engine, revision)
    click.echo(f"store at migration {migrate.current_revision(store().engine)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the store's migration and the newest one the code knows."""
    click.echo(f"store: {migrate.current_revision(store().engine)}  code: {migrate.head_revision()}")


@db.command("revision")
@click.argument("message")
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and an up-to-date store (developers)."""
    migrate.autogenerate_revision(store().engine, message)


# --- partner --------------------------------------------------------------------------------------------


@cli.group()
def partner() -> None:
    """The partner registry."""


def _partner_row(found) -> dict[str, Any]:
    return {
        "code": found.code,
        "name": found.display_name,
        "markets": ",".join(found.markets),
        "locale": found.default_locale,
        "flavour": found.flavour,
        "status": found.status,
    }


@partner.command("add")
@click.argument("code")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--market", "markets", multiple=True, required=True, help="ISO 3166 code; repeat for several.")
@click.option("--locale", "default_locale", required=True, help="Default BCP 47 locale, e.g. de-DE.")
@click.option("--flavour", default="standard", show_default=True, help="Adapter that speaks to it.")
@click.option("--webhook", "webhook_urls", multiple=True, help="Webhook endpoint URL; repeat for several.")
@with_appcontext
def partner_add(code: str, **options: Any) -> None:
    """Onboard partner CODE."""
    options["markets"] = list(options["markets"])
    with _command_transaction() as session:
        added = partner_service.add_partner(session, code=code, now=utcnow(), **options)
        click.echo(f"added partner {added.code} ({added.display_name})")


@partner.command("list")
@click.option("--status", type=click.Choice([status.value for status in PartnerStatus]))
@click.option("--market", help="Only partners serving this market.")
@with_appcontext
def partner_list(status: str | None, market: str | None) -> None:
    """List partners."""
    with _command_transaction() as session:
        found = partner_service.list_partners(session, limit=100_000, status=status, market=market)
        _print_rows([_partner_row(item) for item in found], ["code", "name", "markets", "locale", "flavour", "status"])


@partner.command("show")
@click.argument("code")
@with_appcontext
def partner_show(code: str) -> None:
    """Show partner CODE with its endpoints and keys."""
    with _command_transaction() as session:
        found = partner_service.get_partner(session, code)
        for name, value in _partner_row(found).items():
            click.echo(f"{name + ':':10}{value}")
        click.echo("endpoints:")
        for endpoint in partner_service.list_endpoints(session, code):
            click.echo(f"  {endpoint.id}  {endpoint.status:8}  {endpoint.url}")
        click.echo("keys:")
        for key in key_service.list_keys(session, limit=1000, partner_code=code):
            status = key_service.key_status(key, utcnow())
            click.echo(f"  {key.id}  {key.prefix}  {status:8}  {' '.join(key.scopes)}  {key.name}")


def _partner_status_command(name: str, status: PartnerStatus, summary: str) -> Callable[..., None]:
    @partner.command(name, help=summary)
    @click.argument("code")
    @with_appcontext
    def command(code: str) -> None:
        with _command_transaction() as session:
            changed = partner_service.set_partner_status(session, code, status, now=utcnow())
            click.echo(f"partner {changed.code} is {changed.status}")

    return command


_partner_status_command("suspend", PartnerStatus.SUSPENDED, "Suspend partner CODE: its keys are refused at once.")
_partner_status_command("resume", PartnerStatus.ACTIVE, "Resume a suspended partner CODE.")


# --- key ------------------------------------------------------------------------------------------------


@cli.group()
def key() -> None:
    """API keys: issue, list, rotate, revoke."""


def _echo_token(issued: key_service.IssuedKey) -> None:
    click.echo(f"key {issued.key.id} ({issued.key.kind}, scopes: {' '.join(issued.key.scopes)})")
    click.echo("token (shown only now; store it safely):")
    click.echo(issued.token)


@key.command("issue")
@click.option("--kind", type=click.Choice([kind.value for kind in KeyKind]), default="partner", show_default=True)
@click.option("--partner", "partner_code", help="The partner, for partner keys.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="Repeat for several; default: every scope the kind allows.",
)
@click.option("--name", required=True, help="What the key is for.")
@with_appcontext
def key_issue(kind: str, partner_code: str | None, scopes: tuple[str, ...], name: str) -> None:
    """Issue a key and print its token once."""
    key_kind = KeyKind(kind)
    chosen = list(scopes) or sorted(SCOPES_BY_KIND[key_kind])
    with _command_transaction() as session:
        issued = key_service.issue_key(
            session, kind=key_kind, scopes=chosen, name=name, partner_code=partner_code, now=utcnow()
        )
    _echo_token(issued)


@key.command("list")
@click.option("--partner", "partner_code")
@with_appcontext
def key_list(partner_code: str | None) -> None:
    """List keys (prefixes only, never secrets)."""
    now = utcnow()
    with _command_transaction() as session:
        found = key_service.list_keys(session, limit=100_000, partner_code=partner_code)
        rows = [
            {
                "id": item.id,
                "prefix": item.prefix,
                "kind": item.kind,
                "partner": item.partner_code or "-",
                "status": key_service.key_status(item, now),
                "scopes": " ".join(item.scopes),
                "name": item.name,
            }
            for item in found
        ]
    _print_rows(rows, ["id", "prefix", "kind", "partner", "status", "scopes", "name"])


@key.command("rotate")
@click.argument("key_id")
@click.option("--overlap-hours", type=click.IntRange(0, 24 * 90), help="Default: GATEWAY_KEY_ROTATION_OVERLAP_HOURS.")
@with_appcontext
def key_rotate(key_id: str, overlap_hours: int | None) -> None:
    """Issue a successor for KEY_ID; the old key works until the overlap ends."""
    hours = setting("KEY_ROTATION_OVERLAP_HOURS") if overlap_hours is None else overlap_hours
    with _command_transaction() as session:
        issued = key_service.rotate_key(session, key_id, overlap=timedelta(hours=hours), now=utcnow())
    _echo_token(issued)
    click.echo(f"the old key {key_id} stops working in {hours} h")


@key.command("revoke")
@click.argument("key_id")
@with_appcontext
def key_revoke(key_id: str) -> None:
    """Revoke KEY_ID: refused from the next request on."""
    with _command_transaction() as session:
        key_service.revoke_key(session, key_id, now=utcnow())
    click.echo(f"key {key_id} revoked")


# --- serve and demo -------------------------------------------------------------------------------------

# Every server the gateway starts runs with these (bench/status_lookup.py gives its baseline the same).
GUNICORN_SETTINGS = (
    # A sync worker tells gunicorn it is alive only between requests, and gunicorn restarts one silent for
    # longer than this: a roster upload or apply runs for minutes in one request (30 s, the default, cut
    # them off at a few million rows).
    "--timeout",
    "900",
    "--graceful-timeout",
    "10",
    # gunicorn's control socket defaults to one path in $HOME, shared by every server on the host.
    "--no-control-socket",
)


def _gunicorn_command(bind: str, workers: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of gunicorn serving create_app().

    gunicorn runs in a fresh interpreter so PROMETHEUS_MULTIPROC_DIR is set before prometheus_client is
    imported: each worker then writes its counters to files that /metrics sums across workers.
    """
    metrics_dir = Path(current_app.instance_path) / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GATEWAY_INSTANCE_PATH": current_app.instance_path,
    }
    arguments = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        *GUNICORN_SETTINGS,
        "gateway:create_app()",
    ]
    return arguments, environment


def _exec_gunicorn(bind: str, workers: int) -> None:
    """Replace this process with gunicorn."""
    arguments, environment = _gunicorn_command(bind, workers)
    sys.stdout.flush()
    os.execve(sys.executable, arguments, environment)  # noqa: S606 - fixed argv, no shell


def _serve(bind: str | None, workers: int | None, dev: bool) -> None:
    bind = bind or setting("BIND")
    if dev:
        # werkzeug directly: Flask refuses app.run() inside its own CLI.
        host, _, port = bind.rpartition(":")
        run_simple(host or "127.0.0.1", int(port), current_app._get_current_object(), threaded=True)
    else:
        _exec_gunicorn(bind, workers or setting("WORKERS"))


@cli.command("serve")
@click.option("--bind", help="host:port; default GATEWAY_BIND.")
@click.option("--workers", type=click.IntRange(1, 64), help="gunicorn workers; default GATEWAY_WORKERS.")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@with_appcontext
def serve(bind: str | None, workers: int | None, dev: bool) -> None:
    """Run the gateway (gunicorn)."""
    _serve(bind, workers, dev)


@cli.command("demo")
@click.option("--bind", help="host:port; default GATEWAY_BIND.")
@click.option("--receiver-port", type=int, default=8001, show_default=True, help="The demo partner receiver's port.")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Start everything after seeding.")
@with_appcontext
def demo(bind: str | None, receiver_port: int, serve_after: bool) -> None:
    """Seed two demo partners with fresh keys, then run the gateway, a dispatcher and a demo partner receiver."""
    bind = bind or setting("BIND")
    migrate.upgrade(store().engine)
    base = setting("PUBLIC_URL") or f"http://{bind}"
    receiver = f"http://127.0.0.1:{receiver_port}/hooks"
    keys = seed_demo(store(), now=utcnow(), receiver_url=receiver)
    faq_loaded = faq_service.load_folder(store(), faq_service.ARTICLES_FOLDER, now=utcnow()).summary()
    partner_code, partner_token = next(iter(keys.partners.items()))
    market = DEMO_PARTNERS[0]["markets"][0]
    click.echo(f"""
Partner gateway demo ({setting("DATABASE_URL")})

  API docs      {base}/docs
  agent console {base}/console   (sign in with a partner key below: it holds the callcenter scope)
  OpenAPI       {base}/openapi.json
  health        {base}/healthz   {base}/readyz   {base}/metrics
  receiver      {receiver}/<partner>  (a stand-in partner: verifies signatures, prints the events below)

  {faq_loaded}

Keys (demo only; new ones are issued, and the previous demo keys revoked, on every run):
  operator (admin)        {keys.operator}
  service                 {keys.service}""")
    for code, token in keys.partners.items():
        click.echo(f"  partner {code:15} {token}")
    click.echo(f"""
Try:
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/webhook-endpoints
  curl -s -H 'Authorization: Bearer {partner_token}' -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)" {base}/v1/subscriptions \\
       -d '{{"partner_ref": "cust-1", "plan": "standard", "market": "{market}", "billing_anchor": "2026-01-15"}}'
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/subscriptions
  curl -s -X POST -H 'Authorization: Bearer {keys.operator}' {base}/admin/v1/partners/{partner_code}/test-event
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/events     # the same events, pulled
  curl -s -H 'Authorization: Bearer {keys.operator}' '{base}/admin/v1/deliveries?partner={partner_code}'
  curl -s {base}/v1/webhook-endpoints        # no key: a problem+json 401
  curl -s -H 'Authorization: Bearer {partner_token}' '{base}/v1/callcenter/faq/search?q=Kundigung+Partner&locale=de-DE'

Inactive members (three per demo partner joined 30 months ago and never watched); in another terminal:
  .venv/bin/gateway campaigns inactivity --dry-run   # who would be warned, by partner and market
  .venv/bin/gateway campaigns inactivity             # warn them: account.inactivity_warning reaches the receiver
  curl -s -H 'Authorization: Bearer {keys.operator}' {base}/admin/v1/campaigns
""")
    if serve_after:
        click.echo(f"serving on {base}; dispatcher and receiver running (Ctrl-C stops all three)")
        _run_demo_processes(bind, receiver_port, keys.webhook_secrets)


def _run_demo_processes(bind: str, receiver_port: int, webhook_secrets: dict[str, list[str]]) -> None:
    """The gateway (gunicorn), a dispatcher and the demo receiver as child processes, stopped together."""
    gunicorn, environment = _gunicorn_command(bind, setting("WORKERS"))
    environment["GATEWAY_ALLOW_PRIVATE_ENDPOINTS"] = "true"  # the demo receiver is on loopback
    receiver_environment = {**environment, SECRETS_VARIABLE: json.dumps(webhook_secrets)}
    sys.stdout.flush()
    receiver = [sys.executable, "-m", "gateway.demo_receiver", "--port", str(receiver_port)]
    dispatcher = [sys.executable, "-m", "gateway", "dispatch"]
    # Fixed command lines (our own modules and gunicorn), no shell.
    children = [
        subprocess.Popen(receiver, env=receiver_environment),  # noqa: S603
        subprocess.Popen(dispatcher, env=environment),  # noqa: S603
        subprocess.Popen(gunicorn, env=environment),  # noqa: S603
    ]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set() and all(child.poll() is None for child in children):
        stop.wait(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


# --- scheduler ------------------------------------------------------------------------------------------


@cli.group()
def scheduler() -> None:
    """Transitions that fall due with time."""


@scheduler.command("run")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
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


# --- reconcile ------------------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """A binary file that tells `progress` how many bytes each read brought (the bytes of the file, not of
    the text decoded from them)."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None]) -> None:
        self._file, self._progress = file, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._file.readinto(buffer)
        if count:
            self._progress(count)
        return count


@contextmanager
def _progress(label: str, length: int, unit: str) -> Iterator[Callable[[int], None]]:
    """Progress on stderr: a bar on a terminal; elsewhere (a pipe, a log, cron) a line at each tenth of the
    way and at the end, `LABEL: DONE of LENGTH UNIT (P%)`, which a bar would not show there."""
    if sys.stderr.isatty():
        with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    done = shown = 0

    def line() -> None:
        percent = 100 if length <= 0 else min(100, done * 100 // length)
        click.echo(f"{label}: {done} of {length} {unit} ({percent}%)", err=True)

    def update(count: int) -> None:
        nonlocal done, shown
        done += count
        tenth = 10 if length <= 0 else done * 10 // length
        if tenth > shown:
            shown = tenth
            line()

    yield update
    if shown < 10:
        line()


@cli.command("reconcile")
@click.argument("partner_code")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "roster_format",
    type=click.Choice([f.value for f in RosterFormat]),
    help="Default: from the file name (.csv, .ndjson or .jsonl).",
)
@click.option("--apply", "apply_repairs", is_flag=True, help="Make the repairs (default: a dry run).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the drift report to this file: the CSV the API serves at /v1/reconciliations/{id}/report.csv.",
)
@with_appcontext
def reconcile(
    partner_code: str, roster: Path, roster_format: str | None, apply_repairs: bool, report: Path | None
) -> None:
    """Compare PARTNER_CODE's ROSTER file with the gateway and print the drift; --apply repairs it."""
    chosen = RosterFormat(roster_format or ("csv" if roster.suffix.lower() == ".csv" else "ndjson"))
    with _command_transaction() as session:
        partner_service.get_partner(session, partner_code)
    with (
        roster.open("rb") as file,
        _progress(f"reading {roster.name}", roster.stat().st_size, "bytes") as progress,
    ):
        try:
            rows = read_roster(text_lines(_CountingReader(file, progress)), chosen)  # a CSV header is checked here
        except GatewayError as error:
            raise click.ClickException(error.detail) from None
        job_id = reconciliation_service.start(store(), partner_code, chosen, utcnow())
        job = reconciliation_service.run(store(), job_id, rows)
    if apply_repairs:
        with _progress("applying repairs", sum(job.counts.values()), "items") as progress:
            job = reconciliation_service.apply(store(), job_id, now=utcnow(), progress=progress)
    click.echo(f"reconciliation {job.id}: {job.rows} rows, {job.status}")
    for kind, count in job.counts.items():
        click.echo(f"  {kind}: {count}")
    click.echo(f"  repaired: {job.repaired}" if apply_repairs else "dry run: nothing changed (--apply repairs)")
    if report is not None:
        with report.open("w", encoding="utf-8", newline="") as out:
            out.writelines(reconciliation_service.report_csv(store(), job.id))
        click.echo(f"report: {report}")


# The delivery, campaign and sharing commands live in their own modules and register themselves on `cli`.
from gateway import cli_campaigns, cli_delivery, cli_faq, cli_sharing  # noqa: E402, F401
