"""Staging a roster as it streams in: a chunk of rows per transaction, each chunk's partner_refs written to the
job's roster_refs (a good row's with its claim), and the findings a chunk makes at once (bad rows, duplicates).

A bad row's partner_ref, when it has a usable one, is staged too (with no claim, so never compared): the
customer is on the partner's roster, and a typo in the row must not get them cancelled as 'only at the gateway'.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

from sqlalchemy.orm import Session

from gateway.domain.roster import CLAIM_NUMBERS, BadRow, RosterRow
from gateway.services.reconciliation.findings import bad_row, duplicate
from gateway.services.reconciliation.scratch import Refs, RosterStage


def chunks(rows: Iterable[RosterRow | BadRow], size: int) -> Iterator[list[RosterRow | BadRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _CollectorHold:
    """Keeps Python's cycle collector off the objects the process already had, while a job stages its roster.

    A chunk keeps thousands of rows alive while it is staged, so every collection finds them young and
    promotes them, and the older generations get collected again and again, each time over everything the
    process holds: on the bench (1,000,000 rows) that was a quarter of the job's time. Rows form no cycles
    (reference counting frees them), so the objects there before the job are frozen and full collections put
    off; when the last job staging in the process is through, both are put back as they were.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs = 0
        self._thresholds = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._jobs == 0:
                self._thresholds = youngest, middle, oldest = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(youngest, middle, max(oldest, 1000))
            self._jobs += 1
        try:
            yield
        finally:
            with self._lock:
                self._jobs -= 1
                if self._jobs == 0:
                    gc.set_threshold(*self._thresholds)
                    gc.unfreeze()


collector_held_back = _CollectorHold()


def stage_chunk(session: Session, stage: RosterStage, job_id: str, chunk: list) -> tuple[list[dict], int, bool]:
    """Stage one chunk of roster rows for the comparison: the findings it makes at once (bad rows, duplicates),
    with how many of its rows are bad and whether one of those named no usable partner_ref.

    Every ref the chunk names, a bad row's too, is staged in roster_refs, a good row's with its claim; a ref
    already there came earlier in the roster. The first row naming a ref decides: a good row's is compared (by
    the end passes, once every row is in), a later good row with the same ref is a duplicate (and so is one
    after a bad row: the partner's word on that customer is unclear).
    """
    items: list[dict] = []
    first: Refs = {}  # ref: the line of its first row in the chunk, and its claim
    bad_rows, unnamed = 0, False
    for row in chunk:
        if isinstance(row, BadRow):
            bad_rows += 1
            items.append(bad_row(job_id, row.line, row.reason, row.partner_ref))
            if row.partner_ref is None:
                unnamed = True
            else:
                first.setdefault(row.partner_ref, (row.line, None))
        elif row.partner_ref in first:
            line, claim = first[row.partner_ref]
            items.append(bad_row(job_id, row.line, duplicate(line, claim is None), row.partner_ref))
        else:
            first[row.partner_ref] = (row.line, CLAIM_NUMBERS[row.status, row.plan])
    if not first:
        return items, bad_rows, unnamed
    cursor = session.connection().connection.cursor()
    if stage.stage(cursor, first) != len(first):  # some refs were there already: named by earlier chunks' rows
        for partner_ref, line, earlier_claim in stage.staged(cursor, first):
            here, claim = first[partner_ref]
            if claim is not None and line != here:
                items.append(bad_row(job_id, here, duplicate(line, earlier_claim is None), partner_ref))
    cursor.close()
    return items, bad_rows, unnamed
