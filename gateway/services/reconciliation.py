"""Roster reconciliation: compare a partner's roster with the gateway, report the drift, and repair it on request.

The roster is read as a stream, a chunk of rows per transaction: each chunk's partner_refs are staged in the
job's own roster_refs table, a good row's with what it says (its claim). Once every row is in, the staged rows
and the partner's subscriptions are compared in two ordered passes, one for the rows that differ, one for the
subscriptions no row named ('only at the gateway'). Memory therefore stays flat however long the roster is. A
bad row's partner_ref, when it has a usable one, is staged too (with no claim, so never compared): the customer is
on the partner's roster, and a typo in the row must not get them cancelled as 'only at the gateway'.
"""

from __future__ import annotations

import csv
import gc
import io
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from itertools import islice

import orjson
from sqlalchemy import (
    Column,
    CompoundSelect,
    Connection,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    case,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, GatewayError, NotFound
from gateway.domain.ids import new_id
from gateway.domain.jobs import JobStatus
from gateway.domain.leases import RUNNER_LEASE, lease_minutes
from gateway.domain.lifecycle import Actor, Command, Status
from gateway.domain.plans import PLAN_RANKS
from gateway.domain.roster import (
    CLAIM_NUMBERS,
    CLAIMS,
    LIVE_AT_GATEWAY,
    BadRow,
    Drift,
    RosterRow,
    RosterStatus,
    compare,
    only_at_gateway,
)
from gateway.services.subscriptions import apply_command
from gateway.store.db import OneConnection, Store
from gateway.store.models import Reconciliation, ReconciliationItem, Subscription

CHUNK_ROWS = 10_000
# Roster rows staged per transaction: fewer, larger chunks measured ~15% faster at 1M rows than 10,000. The
# bound is a chunk's refs as parameters of one statement (the earlier-chunk check): SQLite takes 32,766.
ROSTER_CHUNK_ROWS = 25_000
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
STATUS_BY_VALUE = {status.value: status for status in Status}
# The roster side of a job's comparison: every partner_ref its rows name, with the line of the first row naming
# it and what that row says (its claim; a bad row has none, NULL, and is never compared). A TEMP table, one per
# job (see _roster_refs): a roster of millions of rows costs it no more memory than a small one.
ROSTER_REFS = Table(
    "roster_refs",
    MetaData(),
    Column("partner_ref", String(100), primary_key=True),
    Column("line", Integer, nullable=False),
    Column("claim", SmallInteger),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,  # the primary key is the table: one b-tree, half the writes per row
)
_CLAIM_BITS = 8  # a good row's line and claim go to SQLite as one number: line << _CLAIM_BITS | claim
REPAIR_REASONS = {
    Command.CANCEL_NOW: "partner_churn",
    Command.SUSPEND: "non_payment",
    Command.RESUME: "payment_recovered",
    Command.CHANGE_PLAN: "",  # upgrade or downgrade, decided by the plans
}


def _chunks(rows: Iterable[RosterRow | BadRow], size: int) -> Iterator[list[RosterRow | BadRow]]:
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


_collector_held_back = _CollectorHold()


def start(store: Store, partner_code: str, roster_format: str, now: datetime) -> str:
    with store.transaction() as session:
        return create_job(session, partner_code, roster_format, now).id


def create_job(session: Session, partner_code: str, roster_format: str, now: datetime) -> Reconciliation:
    """A running job, in the caller's transaction (the API commits it with the request's Idempotency-Key)."""
    job = Reconciliation(
        id=new_id("rec"),
        partner_code=partner_code,
        roster_format=roster_format,
        status=JobStatus.RUNNING,
        rows=0,
        counts={kind.value: 0 for kind in Drift},
        repaired=0,
        created_at=now,
        lease_until=now + RUNNER_LEASE,
    )
    session.add(job)
    session.flush()
    return job


def run(
    store: Store,
    job_id: str,
    rows: Iterable[RosterRow | BadRow],
    *,
    chunk_rows: int = ROSTER_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> Reconciliation:
    """Compare every row with the gateway, then list what only the gateway has; the job ends completed.

    Who is missing from a roster can only be said when every row named its customer. A roster with a bad row
    naming no usable partner_ref (not JSON, a quote opened in its ref, a ref with a control character), or with
    no row that could be compared (every row bad, or none at all), lists nobody as only at the gateway: that
    row's customer would be among them, and a broken export (a pretty-printed JSON array sent as NDJSON: every
    line but the last a bad row) would list every live customer, whom applying would cancel.
    """
    with store.read() as session:
        partner_code = session.get(Reconciliation, job_id).partner_code
    compared, unnamed = 0, False  # rows compared; whether a bad row named no usable partner_ref
    try:
        with store.one_connection() as connection, _roster_refs(connection):
            with _collector_held_back():
                for chunk in _chunks(rows, chunk_rows):
                    with connection.transaction() as session:
                        items, bad_rows, unnamed_here = _stage_chunk(session, job_id, chunk)
                        _record(session, job_id, items, rows=len(chunk))
                    compared += len(chunk) - bad_rows
                    unnamed = unnamed or unnamed_here
                    if progress:
                        progress(len(chunk))
            # Not under the hold (unless another job is staging): the statements here hold batches of thousands
            # of parameters in reference cycles of SQLAlchemy's, which a held-back collector lets pile up.
            paged = store.engine.dialect.name == "sqlite"
            passes = {"batch_rows": chunk_rows, "paged": paged, "progress": progress}
            _record_pass(connection, job_id, partner_code, _differing, _drift_items, **passes)
            if compared and not unnamed:
                _record_pass(connection, job_id, partner_code, _missing, _missing_items, **passes)
            with connection.transaction() as session:
                job = _running_job(session, job_id)
                job.status, job.finished_at, job.lease_until = JobStatus.COMPLETED, utcnow(), None
    except BaseException:
        _fail(store, job_id)  # e.g. the upload broke off: the job says so instead of staying "running"
        raise
    return job


@contextmanager
def _roster_refs(connection: OneConnection) -> Iterator[None]:
    """An empty roster_refs table on the job's connection for the length of the block.

    A TEMP table: the job's own, seen by no other connection, and on SQLite written without the write-ahead
    log (at 1M rows the log's writes and checkpoints cost as much as a tenth of the job). Dropped at the end,
    and first too, in case the drop at the end of an earlier job on the connection did not happen.
    """
    with connection.transaction() as session:
        temporary = "temp" if session.get_bind().dialect.name == "sqlite" else "pg_temp"
        drop = text(f"DROP TABLE IF EXISTS {temporary}.{ROSTER_REFS.name}")
        session.execute(drop)
        ROSTER_REFS.create(session.connection())
    try:
        yield
    finally:
        # Best effort, the job's work being done or lost already: the connection may be what broke (its error
        # is the one to raise), or the store busy; the next job on the connection drops what is left.
        with suppress(SQLAlchemyError), connection.transaction() as session:
            session.execute(drop)


def _fail(store: Store, job_id: str) -> None:
    with store.transaction() as session:
        job = session.get(Reconciliation, job_id, with_for_update=True)
        if job.status == JobStatus.RUNNING:  # a completed job stays so, whatever went wrong after its last commit
            job.status, job.finished_at, job.lease_until = JobStatus.FAILED, utcnow(), None


class JobAbandoned(Conflict):
    """The scheduler failed the job while its runner was still at it: the runner had gone silent past its lease."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"Reconciliation {job_id} made no progress for {lease_minutes()} minutes and was failed; send the roster "
            "again."
        )


def _running_job(session: Session, job_id: str) -> Reconciliation:
    """The job's row, locked, its lease (RUNNER_LEASE) renewed; JobAbandoned if the scheduler has failed it
    meanwhile. Every chunk the job records passes here."""
    job = session.get(Reconciliation, job_id, with_for_update=True, populate_existing=True)
    if job.status != JobStatus.RUNNING:
        raise JobAbandoned(job_id)
    job.lease_until = utcnow() + RUNNER_LEASE
    return job


def fail_abandoned_jobs(store: Store, *, now: datetime, batch_size: int = 500) -> int:
    """Fail the running jobs whose lease has run out (their process died mid-job: a killed worker, a crash),
    so they no longer show as running for good; how many. A job started by a version without leases has none:
    its lease counts from its start. Safe on several machines at once: PostgreSQL skips the rows another one has
    locked, and a job whose runner is recording a chunk is locked by it."""
    failed = 0
    while True:
        with store.transaction() as session:
            jobs = list(
                session.scalars(
                    select(Reconciliation)
                    .where(
                        (Reconciliation.status == JobStatus.RUNNING)
                        & (
                            (Reconciliation.lease_until <= now)
                            | (Reconciliation.lease_until.is_(None) & (Reconciliation.created_at <= now - RUNNER_LEASE))
                        )
                    )
                    .order_by(Reconciliation.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            for job in jobs:
                job.status, job.finished_at, job.lease_until = JobStatus.FAILED, now, None
        failed += len(jobs)
        if len(jobs) < batch_size:
            return failed


def _stage_chunk(session: Session, job_id: str, chunk: list) -> tuple[list[dict], int, bool]:
    """Stage one chunk of roster rows for the comparison: the findings it makes at once (bad rows, duplicates),
    with how many of its rows are bad and whether one of those named no usable partner_ref.

    Every ref the chunk names, a bad row's too, is staged in roster_refs, a good row's with its claim; a ref
    already there came earlier in the roster. The first row naming a ref decides: a good row's is compared (by
    the end passes, once every row is in), a later good row with the same ref is a duplicate (and so is one
    after a bad row: the partner's word on that customer is unclear).
    """
    items: list[dict] = []
    first: dict[str, tuple[int, int | None]] = {}  # ref: the line of its first row in the chunk, and its claim
    bad_rows, unnamed = 0, False
    for row in chunk:
        if isinstance(row, BadRow):
            bad_rows += 1
            items.append(_bad(job_id, row.line, row.reason, row.partner_ref))
            if row.partner_ref is None:
                unnamed = True
            else:
                first.setdefault(row.partner_ref, (row.line, None))
        elif row.partner_ref in first:
            line, claim = first[row.partner_ref]
            items.append(_bad(job_id, row.line, _duplicate(line, claim is None), row.partner_ref))
        else:
            first[row.partner_ref] = (row.line, CLAIM_NUMBERS[row.status, row.plan])
    if not first:
        return items, bad_rows, unnamed
    # The driver's own cursor: at millions of rows SQLAlchemy's per-row and per-statement work would cost
    # more than the database's. Statements are put together from placeholders only; values are parameters.
    connection = session.connection()
    cursor = connection.connection.cursor()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    if _stage_refs(cursor, connection.dialect.name, marker, first) != len(first):
        # some refs were there already: named by earlier chunks' rows
        cursor.execute(
            "SELECT partner_ref, line, claim FROM roster_refs "  # noqa: S608
            f"WHERE partner_ref IN ({', '.join([marker] * len(first))})",
            tuple(first),
        )
        for partner_ref, line, earlier_claim in cursor.fetchall():
            here, claim = first[partner_ref]
            if claim is not None and line != here:
                items.append(_bad(job_id, here, _duplicate(line, earlier_claim is None), partner_ref))
    cursor.close()
    return items, bad_rows, unnamed


def _stage_refs(cursor, dialect: str, marker: str, first: dict[str, tuple[int, int | None]]) -> int:
    """Write the chunk's refs (ref: its first line, and that row's claim, None for a bad row) to roster_refs,
    leaving any an earlier chunk wrote; how many were new.

    On SQLite the refs go as one JSON object per kind read by json_each in one statement: a row-by-row
    executemany spent most of a chunk's database time binding parameters (about 4x slower at 1M rows). A good
    row's line and claim travel as one number (line * 256 + claim): json_each reads a number several times
    faster than a pair. PostgreSQL's driver pipelines executemany, so it keeps it.
    """
    if dialect != "sqlite":
        cursor.executemany(
            "INSERT INTO roster_refs (partner_ref, line, claim) "  # noqa: S608
            f"VALUES ({marker}, {marker}, {marker}) ON CONFLICT DO NOTHING",
            [(ref, line, claim) for ref, (line, claim) in first.items()],
        )
        return cursor.rowcount
    good = {ref: line << _CLAIM_BITS | claim for ref, (line, claim) in first.items() if claim is not None}
    bad = {ref: line for ref, (line, claim) in first.items() if claim is None}
    # "WHERE true": SQLite's way to tell an INSERT ... SELECT's ON CONFLICT from a join's ON.
    staged = 0
    if good:
        insert_good = (
            "INSERT INTO roster_refs (partner_ref, line, claim) SELECT key, value >> ?, value & ? FROM json_each(?)"
        )
        values = (_CLAIM_BITS, (1 << _CLAIM_BITS) - 1, orjson.dumps(good).decode())
        try:
            # Most chunks name no ref an earlier one did, and a plain insert spares a conflict check per row
            # (about a fifth of the statement's time).
            cursor.execute(insert_good, values)
        except sqlite3.IntegrityError:  # one did: SQLite has undone the statement; insert all but those refs
            cursor.execute(f"{insert_good} WHERE true ON CONFLICT DO NOTHING", values)
        staged += cursor.rowcount
    if bad:
        cursor.execute(
            "INSERT INTO roster_refs (partner_ref, line) "
            "SELECT key, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
            (orjson.dumps(bad).decode(),),
        )
        staged += cursor.rowcount
    return staged


def _differing(partner_code: str, after: str | None) -> CompoundSelect:
    """The staged rows (ref, claim) that differ from what the partner's subscriptions say, in partner_ref order
    (those after `after`, when given).

    The staged rows and the subscriptions meet in one EXCEPT over two scans in partner_ref order, which SQLite
    runs as a merge: a row saying active with the plan its active subscription has (nearly every row) is passed
    over there, and only the rest come back to be compared in Python. Looking each row's subscription up by its
    ref instead cost about twice as much at 1M rows.
    """
    active = {plan: CLAIM_NUMBERS[RosterStatus.ACTIVE, plan] for plan in PLAN_RANKS}
    agreeing = select(Subscription.partner_ref, case(active, value=Subscription.plan)).where(
        Subscription.partner_code == partner_code, Subscription.status == Status.ACTIVE
    )
    refs = ROSTER_REFS.c
    staged = select(refs.partner_ref, refs.claim).where(refs.claim.is_not(None))
    if after is not None:
        agreeing, staged = agreeing.where(Subscription.partner_ref > after), staged.where(refs.partner_ref > after)
    return staged.except_(agreeing).order_by(literal_column("1"))


def _drift_items(connection: Connection, job_id: str, partner_code: str, differing: Sequence) -> list[dict]:
    """The findings for a batch of _differing's rows, each compared with its subscription."""
    claims = dict(differing)
    refs = ROSTER_REFS.c
    found = connection.execute(
        select(
            refs.partner_ref,
            refs.line,
            Subscription.id,
            Subscription.status,
            Subscription.plan,
            Subscription.pending_plan,
        )
        .outerjoin(
            Subscription,
            (Subscription.partner_code == partner_code)
            & (Subscription.partner_ref == refs.partner_ref)
            & (Subscription.status != Status.PURGED),  # the live one: a purged subscription's reference is free
        )
        .where(refs.partner_ref.in_(claims))
        .order_by(refs.partner_ref)
    ).all()
    purged = _purged(connection, partner_code, [row[0] for row in found if row[2] is None])
    items = []
    for partner_ref, line, *live in found:
        subscription_id, status, plan, pending_plan = purged.get(partner_ref, live) if live[0] is None else live
        roster_status, roster_plan = CLAIMS[claims[partner_ref]]
        row = RosterRow(line, partner_ref, roster_status, roster_plan)
        finding = compare(row, STATUS_BY_VALUE.get(status), plan, pending_plan)
        if finding is not None:
            items.append(
                {
                    "reconciliation_id": job_id,
                    "kind": finding.kind,
                    "line": line,
                    "partner_ref": partner_ref,
                    "partner_status": roster_status,
                    "partner_plan": roster_plan,
                    "subscription_id": subscription_id,
                    "gateway_status": status,
                    "gateway_plan": plan,
                    "repair": finding.repair,
                    "detail": finding.detail,
                }
            )
    return items


def _purged(connection: Connection, partner_code: str, partner_refs: list[str]) -> dict[str, tuple]:
    """For references without a live subscription: the latest purged one's (id, status, plan, pending plan)."""
    if not partner_refs:
        return {}
    rows = connection.execute(
        select(
            Subscription.partner_ref, Subscription.id, Subscription.status, Subscription.plan, Subscription.pending_plan
        )
        .where(
            Subscription.partner_code == partner_code,
            Subscription.partner_ref.in_(partner_refs),
            Subscription.status == Status.PURGED,
        )
        .order_by(Subscription.created_at)
    )
    return {partner_ref: tuple(rest) for partner_ref, *rest in rows}  # the latest last, so it stays


def _duplicate(earlier_line: int, earlier_bad: bool) -> str:
    return f"duplicate partner_ref (also on line {earlier_line}{', a bad row' if earlier_bad else ''})"


def _bad(job_id: str, line: int, reason: str, partner_ref: str | None) -> dict:
    return {
        "reconciliation_id": job_id,
        "kind": Drift.BAD_ROW,
        "line": line,
        "partner_ref": partner_ref,
        "detail": reason,
    }


def _missing(partner_code: str, after: str | None) -> CompoundSelect:
    """The refs of the partner's live subscriptions that no row named, in partner_ref order (those after
    `after`, when given): an EXCEPT over two ordered scans, as in _differing (a merge on SQLite, about twice as
    fast as an anti-join)."""
    live = select(Subscription.partner_ref).where(
        Subscription.partner_code == partner_code, Subscription.status.in_(LIVE_AT_GATEWAY)
    )
    named = select(ROSTER_REFS.c.partner_ref)
    if after is not None:
        live, named = live.where(Subscription.partner_ref > after), named.where(ROSTER_REFS.c.partner_ref > after)
    return live.except_(named).order_by(literal_column("1"))


def _missing_items(connection: Connection, job_id: str, partner_code: str, missing: Sequence) -> list[dict]:
    """'Only at the gateway' for a batch of _missing's refs."""
    finding = only_at_gateway()
    found = connection.execute(
        select(Subscription.partner_ref, Subscription.id, Subscription.status, Subscription.plan)
        .where(
            Subscription.partner_code == partner_code,
            Subscription.partner_ref.in_([ref for (ref,) in missing]),
            Subscription.status.in_(LIVE_AT_GATEWAY),  # still live: one may have been cancelled since
        )
        .order_by(Subscription.partner_ref)
    )
    return [
        {
            "reconciliation_id": job_id,
            "kind": finding.kind,
            "line": None,
            "partner_ref": partner_ref,
            "subscription_id": subscription_id,
            "gateway_status": status,
            "gateway_plan": plan,
            "repair": finding.repair,
            "detail": finding.detail,
        }
        for partner_ref, subscription_id, status, plan in found
    ]


def _record_pass(
    connection: OneConnection,
    job_id: str,
    partner_code: str,
    query: Callable[[str, str | None], CompoundSelect],
    items: Callable[[Connection, str, str, Sequence], list[dict]],
    *,
    batch_rows: int,
    paged: bool,
    progress: Callable[[int], None] | None,
) -> None:
    """Record what one end pass (`query`'s rows, made into `items`) finds, batch_rows rows at a time.

    Paged (SQLite), each page of batch_rows rows is read and recorded in a transaction of its own, the next
    page starting after the last ref of the one before: a transaction that writes keeps SQLite's other writers
    waiting, and a pass over a roster with millions of differing rows takes a while. Otherwise the pass is one
    transaction, its rows streamed: a server database's writers are not held up by it.
    """
    after = None
    while True:
        read = 0
        with connection.transaction() as session:
            database = session.connection()  # Core rows: the ORM's result handling would only add cost here
            statement = query(partner_code, after).limit(batch_rows if paged else None)
            for batch in database.execute(statement.execution_options(yield_per=batch_rows)).partitions():
                _record(session, job_id, items(database, job_id, partner_code, batch), rows=0)
                read, after = read + len(batch), batch[-1][0]
        if progress:  # after the commit: what it does may write (a lease renewed), and SQLite has one writer
            progress(0)  # no roster rows, but still at work
        if not paged or read < batch_rows:
            return


def _record(session: Session, job_id: str, items: list[dict], *, rows: int) -> None:
    if items:
        session.connection().execute(
            insert(ReconciliationItem.__table__),
            [
                {
                    "line": None,
                    "partner_ref": None,
                    "partner_status": None,
                    "partner_plan": None,
                    "subscription_id": None,
                    "gateway_status": None,
                    "gateway_plan": None,
                    "repair": None,
                    **item,
                }
                for item in items
            ],
        )
    job = _running_job(session, job_id)
    job.rows += rows
    counts = dict(job.counts)
    for item in items:
        counts[item["kind"]] += 1
    job.counts = counts


def get(session: Session, job_id: str, *, partner_code: str | None = None) -> Reconciliation:
    job = session.get(Reconciliation, job_id)
    if job is None or (partner_code is not None and job.partner_code != partner_code):
        raise NotFound("reconciliation", job_id)
    return job


def list_items(
    session: Session, job_id: str, *, kind: str | None = None, after_id: int = 0, limit: int | None = None
) -> list[ReconciliationItem]:
    query = (
        select(ReconciliationItem)
        .where(ReconciliationItem.reconciliation_id == job_id, ReconciliationItem.id > after_id)
        .order_by(ReconciliationItem.id)
    )
    if kind is not None:
        query = query.where(ReconciliationItem.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def report_csv(store: Store, job_id: str) -> Iterator[str]:
    """The drift report as CSV text, a chunk of items at a time, each read in a short transaction of its own:
    the API streams it as /report.csv, `gateway reconcile --report` writes it to a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
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


def apply(
    store: Store,
    job_id: str,
    *,
    partner_code: str | None = None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Reconciliation:
    """Make every repair the job found, through the state machine so each emits its event.

    Idempotent: a repaired item is marked and skipped next time. An item whose subscription has moved on since
    the comparison (another status or plan), or whose repair the lifecycle refuses, is left for a person: its
    detail says why, and the other repairs go ahead. `progress` hears how many items each chunk went through.
    """
    with store.read() as session:
        check_applicable(session, job_id, partner_code=partner_code)
    last_id = 0
    while True:
        with store.transaction() as session:
            # The job's row first: two applies of one job take turns chunk by chunk, each seeing what the
            # other repaired, so no repair is made twice.
            job = session.get(Reconciliation, job_id, with_for_update=True)
            page = list_items(session, job_id, after_id=last_id, limit=CHUNK_ROWS)
            if not page:
                break
            last_id = page[-1].id
            pending = [item for item in page if item.repair is not None and item.repaired_at is None]
            job.repaired += sum(_repair(session, item, now) for item in pending)
            job.applied_at = now
        if progress:
            progress(len(page))
    with store.read() as session:
        return get(session, job_id)


def check_applicable(session: Session, job_id: str, *, partner_code: str | None = None) -> Reconciliation:
    job = get(session, job_id, partner_code=partner_code)
    if job.status != JobStatus.COMPLETED:
        raise Conflict(f"Reconciliation {job_id} is {job.status}; only a completed one can be applied.")
    return job


def _repair(session: Session, item: ReconciliationItem, now: datetime) -> bool:
    """Make one item's repair; False (the reason on the item) when it is not made. Never raises a domain error:
    one item's refusal must not roll back the chunk's other repairs or block every later apply."""
    subscription = session.get(Subscription, item.subscription_id, with_for_update=True)
    command = Command(item.repair)
    if (
        subscription is None
        or (subscription.status, subscription.plan) != (item.gateway_status, item.gateway_plan)
        # The partner's plan is the one scheduled since (a downgrade): the comparison would now find no drift,
        # and changing the plan again would only schedule the same downgrade a second time.
        or (command is Command.CHANGE_PLAN and subscription.pending_plan == item.partner_plan)
    ):
        return _not_repaired(item, "the subscription changed since the comparison")
    try:
        with session.begin_nested():  # a refusal leaves nothing of this repair behind
            apply_command(
                session,
                subscription,
                command,
                actor=Actor.PARTNER,
                reason=REPAIR_REASONS[command],
                now=now,
                plan=item.partner_plan if command is Command.CHANGE_PLAN else None,
            )
    except GatewayError as error:
        return _not_repaired(item, error.detail)
    item.repaired_at = now
    return True


def _not_repaired(item: ReconciliationItem, reason: str) -> bool:
    item.detail += f"; not repaired: {reason}"
    item.repair = None  # for a person to look at; applying again skips it
    return False
