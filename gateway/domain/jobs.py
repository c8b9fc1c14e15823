"""Where a long job stands: a reconciliation, or an inactivity campaign's run (the runner's lease, and the moves
between these, are gateway.services.jobs)."""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the scheduler to start it (a campaign run asked for over HTTP)
    RUNNING = "running"  # under a runner's lease
    COMPLETED = "completed"
    FAILED = "failed"  # its runner died or its input broke off
