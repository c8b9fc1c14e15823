"""`gateway serve` and `gateway demo`: the gateway under gunicorn, and a demo with its partners' receiver."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from gateway.demo import DEMO_PARTNERS, keys_file_text, seed_demo, tmf_try_commands, write_private_file
from gateway.demo_receiver import SECRETS_VARIABLE
from gateway.domain.clock import utcnow
from gateway.runtime import setting, store
from gateway.services import faq as faq_service
from gateway.store import migrate

# In the instance folder while `gateway demo` runs: the keys it printed (mode 0600), and the gateway's and the
# dispatcher's JSON logs, which would otherwise bury the demo receiver's lines in the terminal.
DEMO_KEYS_FILE = "demo-keys.env"
DEMO_LOG_FILE = "demo.log"
DEMO_LOG_TAIL_LINES = 20  # shown when a demo process stops by itself

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


@click.command("serve")
@click.option("--bind", help="host:port; default GATEWAY_BIND.")
@click.option("--workers", type=click.IntRange(1, 64), help="gunicorn workers; default GATEWAY_WORKERS.")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@with_appcontext
def serve(bind: str | None, workers: int | None, dev: bool) -> None:
    """Run the gateway (gunicorn)."""
    _serve(bind, workers, dev)


@click.command("demo")
@click.option("--bind", help="host:port; default GATEWAY_BIND.")
@click.option("--receiver-port", type=int, default=8001, show_default=True, help="The demo partner receiver's port.")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Start everything after seeding.")
@with_appcontext
def demo(bind: str | None, receiver_port: int, serve_after: bool) -> None:
    """Seed three demo partners with fresh keys, then run the gateway, a dispatcher and a demo partner receiver."""
    bind = bind or setting("BIND")
    migrate.upgrade(store().engine)
    base = setting("PUBLIC_URL") or f"http://{bind}"
    receiver = f"http://127.0.0.1:{receiver_port}/hooks"
    now = utcnow()
    keys = seed_demo(store(), now=now, receiver_url=receiver)
    instance = Path(current_app.instance_path)
    keys_file, log_file = instance / DEMO_KEYS_FILE, instance / DEMO_LOG_FILE
    write_private_file(keys_file, keys_file_text(keys, base, now=now))
    faq_loaded = faq_service.load_folder(store(), faq_service.ARTICLES_FOLDER, now=utcnow()).summary()
    partner_code, partner_token = next(iter(keys.partners.items()))
    market = DEMO_PARTNERS[0]["markets"][0]
    partner_ref = f"cust-{secrets.token_hex(3)}"  # new on every run: a partner_ref is one live subscription's
    click.echo(f"""
Partner gateway demo ({setting("DATABASE_URL")})

  API docs      {base}/docs
  agent console {base}/console   (sign in with a partner key below: it holds the callcenter scope)
  OpenAPI       {base}/openapi.json
  health        {base}/healthz   {base}/readyz   {base}/metrics
  receiver      {receiver}/<partner>  (a stand-in partner: verifies signatures, prints the events below)
  logs          {_shown(log_file)}  (the gateway's and the dispatcher's JSON lines: tail -f it)

  {faq_loaded}

Keys (demo only; new ones are issued, and the previous demo keys revoked, on every run):
  operator (admin)        {keys.operator}
  service                 {keys.service}""")
    for code, token in keys.partners.items():
        click.echo(f"  partner {code:15} {token}")
    variables = ", ".join(f"${line.split('=')[0]}" for line in keys_file.read_text().splitlines()[1:])
    click.echo(f"  saved in {_shown(keys_file)}, readable by you only: `. {_shown(keys_file)}` sets {variables}")
    click.echo(f"""
Try:
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/webhook-endpoints
  curl -s -H 'Authorization: Bearer {partner_token}' -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)" {base}/v1/subscriptions \\
       -d '{{"partner_ref": "{partner_ref}", "plan": "standard", "market": "{market}", "billing_anchor": "2026-01-15"}}'
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/subscriptions
  curl -s -X POST -H 'Authorization: Bearer {keys.operator}' {base}/admin/v1/partners/{partner_code}/test-event
  curl -s -H 'Authorization: Bearer {partner_token}' {base}/v1/events     # the same events, pulled
  curl -s -H 'Authorization: Bearer {keys.operator}' '{base}/admin/v1/deliveries?partner={partner_code}'
  curl -s {base}/v1/webhook-endpoints        # no key: a problem+json 401
  curl -s -H 'Authorization: Bearer {partner_token}' '{base}/v1/callcenter/faq/search?q=Kundigung+Partner&locale=de-DE'
{tmf_try_commands(keys, base, partner_ref=f"{partner_ref}-tmf", receiver_url=receiver)}

Inactive members (three per demo partner joined 30 months ago and never watched); in another terminal:
  .venv/bin/gateway campaigns inactivity --dry-run   # who would be warned, by partner and market
  .venv/bin/gateway campaigns inactivity             # warn them: account.inactivity_warning reaches the receiver
  curl -s -H 'Authorization: Bearer {keys.operator}' {base}/admin/v1/campaigns
""")
    if serve_after:
        click.echo(
            f"serving on {base}; dispatcher and receiver running (Ctrl-C stops all three); logs in {_shown(log_file)}"
        )
        _run_demo_processes(bind, receiver_port, keys.webhook_secrets, log_file)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _run_demo_processes(bind: str, receiver_port: int, webhook_secrets: dict[str, list[str]], log_file: Path) -> None:
    """The gateway (gunicorn), a dispatcher and the demo receiver as child processes, stopped together.

    Only the receiver writes to the terminal: the gateway's and the dispatcher's output (JSON logs, an access line
    per request) goes to `log_file`, started afresh on every run. A process that stops by itself is named, with
    the last lines of the log."""
    gunicorn, environment = _gunicorn_command(bind, setting("WORKERS"))
    environment["GATEWAY_ALLOW_PRIVATE_ENDPOINTS"] = "true"  # the demo receiver is on loopback
    receiver_environment = {**environment, SECRETS_VARIABLE: json.dumps(webhook_secrets)}
    sys.stdout.flush()
    receiver = [sys.executable, "-m", "gateway.demo_receiver", "--port", str(receiver_port)]
    dispatcher = [sys.executable, "-m", "gateway", "dispatch"]
    with log_file.open("w", encoding="utf-8") as log:
        # Fixed command lines (our own modules and gunicorn), no shell.
        children = {
            "demo receiver": subprocess.Popen(receiver, env=receiver_environment),  # noqa: S603
            "dispatcher": subprocess.Popen(dispatcher, env=environment, stdout=log, stderr=log),  # noqa: S603
            "gateway": subprocess.Popen(gunicorn, env=environment, stdout=log, stderr=log),  # noqa: S603
        }
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set() and all(child.poll() is None for child in children.values()):
        stop.wait(0.2)
    for name, child in children.items():
        if not stop.is_set() and child.poll() is not None:
            click.echo(f"the {name} stopped (exit status {child.returncode}); the last lines of {_shown(log_file)}:")
            click.echo("".join(_last_lines(log_file, DEMO_LOG_TAIL_LINES)), nl=False)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


def _last_lines(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return list(deque(lines, maxlen=count))
