"""The drift report: a job's findings as CSV, for the API's /report.csv and `gateway reconcile --report`.

A job that withheld only_at_gateway says so on the report's first row (kind only_at_gateway_withheld, the reason
with the number of unreadable rows in detail): a report without a missing customer must not read as nobody
missing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from gateway.services.reconciliation.findings import CHUNK_ROWS, list_items
from gateway.services.reconciliation.jobs import get, withheld_reason
from gateway.store.db import Store

REPORT_COLUMNS = [
    "kind",
    "line",
    "partner_ref",
    "partner_status",
    "partner_plan",
    "subscription_id",
    "gateway_status",
    "gateway_plan",
    "repair",
    "detail",
    "repaired_at",
]
WITHHELD_KIND = "only_at_gateway_withheld"


def report_csv(store: Store, job_id: str) -> Iterator[str]:
    """The drift report as CSV text, a chunk of items at a time, each read in a short transaction of its own:
    the API streams it as /report.csv, `gateway reconcile --report` writes it to a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    with store.read() as session:
        withheld = withheld_reason(get(session, job_id))
    if withheld is not None:
        writer.writerow(
            [WITHHELD_KIND if name == "kind" else withheld if name == "detail" else "" for name in REPORT_COLUMNS]
        )
    last_id = 0
    while True:
        with store.read() as session:
            batch = list_items(session, job_id, after_id=last_id, limit=CHUNK_ROWS)
        if not batch:
            break
        last_id = batch[-1].id
        for item in batch:
            writer.writerow(["" if getattr(item, name) is None else getattr(item, name) for name in REPORT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
