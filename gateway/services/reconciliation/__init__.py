"""Roster reconciliation: compare a partner's roster with the gateway, report the drift, and repair it on request.

The roster is read as a stream, a chunk of rows per transaction: each chunk's partner_refs are staged in the
job's own roster_refs table, a good row's with what it says (its claim). Once every row is in, the staged rows
and the partner's subscriptions are compared in two ordered passes, one for the rows that differ, one for the
subscriptions no row named ('only at the gateway'). Memory therefore stays flat however long the roster is.

The package, one job per module:

- jobs: the job row (start, get, complete, fail, the runner's lease, failing abandoned jobs)
- scratch: the roster_refs scratch table, and what SQLite and PostgreSQL do differently with it (RosterStage)
- staging: a chunk of roster rows staged, with the findings it makes at once (bad rows, duplicates)
- comparison: the end passes over the staged roster and the subscriptions
- runner: a job's run, staging then comparison
- findings: the findings recorded and read back
- report: the findings as CSV (first, when the job withheld only_at_gateway, why)
- repair: applying a job's repairs

Callers use the names below.
"""

from gateway.services.reconciliation.findings import list_items
from gateway.services.reconciliation.jobs import (
    JobAbandoned,
    create_job,
    fail_abandoned_jobs,
    get,
    start,
    withheld_reason,
)
from gateway.services.reconciliation.repair import apply, check_applicable
from gateway.services.reconciliation.report import report_csv
from gateway.services.reconciliation.runner import run

__all__ = [
    "JobAbandoned",
    "apply",
    "check_applicable",
    "create_job",
    "fail_abandoned_jobs",
    "get",
    "list_items",
    "report_csv",
    "run",
    "start",
    "withheld_reason",
]
