"""How long the runner of a long command (a reconciliation, its apply) may show no progress before it is taken
for dead: its job is failed by the scheduler, and the Idempotency-Key its request claimed is free for a retry."""

from __future__ import annotations

from datetime import timedelta

# Longer than gunicorn lets one request run (`--timeout 900` in gateway.cli.serving.GUNICORN_SETTINGS; a test holds the
# two apart), so a runner whose lease has run out has been stopped, not merely slow.
RUNNER_LEASE = timedelta(minutes=20)


def lease_minutes() -> int:
    """The lease in whole minutes, as the documentation states it."""
    return RUNNER_LEASE // timedelta(minutes=1)
