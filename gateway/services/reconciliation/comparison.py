"""The end passes of a job, once every roster row is staged: the staged rows and the partner's subscriptions
compared in two ordered passes, one for the rows that differ, one for the subscriptions no row named ('only at
the gateway'), their findings recorded a batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import CompoundSelect, Connection, case, literal_column, select

from gateway.domain.lifecycle import Status
from gateway.domain.plans import PLAN_RANKS
from gateway.domain.roster import (
    CLAIM_NUMBERS,
    CLAIMS,
    LIVE_AT_GATEWAY,
    RosterRow,
    RosterStatus,
    compare,
    only_at_gateway,
)
from gateway.services.reconciliation.findings import record
from gateway.services.reconciliation.scratch import ROSTER_REFS
from gateway.store.db import OneConnection
from gateway.store.models import Subscription

STATUS_BY_VALUE = {status.value: status for status in Status}
# A pass: the query of its rows (partner_code, the ref to start after), and what makes them findings.
Query = Callable[[str, str | None], CompoundSelect]
Findings = Callable[[Connection, str, str, Sequence], list[dict]]


def differing(partner_code: str, after: str | None) -> CompoundSelect:
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


def drift_items(connection: Connection, job_id: str, partner_code: str, rows: Sequence) -> list[dict]:
    """The findings for a batch of differing()'s rows, each compared with its subscription."""
    claims = dict(rows)
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


def missing(partner_code: str, after: str | None) -> CompoundSelect:
    """The refs of the partner's live subscriptions that no row named, in partner_ref order (those after
    `after`, when given): an EXCEPT over two ordered scans, as in differing() (a merge on SQLite, about twice as
    fast as an anti-join)."""
    live = select(Subscription.partner_ref).where(
        Subscription.partner_code == partner_code, Subscription.status.in_(LIVE_AT_GATEWAY)
    )
    named = select(ROSTER_REFS.c.partner_ref)
    if after is not None:
        live, named = live.where(Subscription.partner_ref > after), named.where(ROSTER_REFS.c.partner_ref > after)
    return live.except_(named).order_by(literal_column("1"))


def missing_items(connection: Connection, job_id: str, partner_code: str, rows: Sequence) -> list[dict]:
    """'Only at the gateway' for a batch of missing()'s refs."""
    finding = only_at_gateway()
    found = connection.execute(
        select(Subscription.partner_ref, Subscription.id, Subscription.status, Subscription.plan)
        .where(
            Subscription.partner_code == partner_code,
            Subscription.partner_ref.in_([ref for (ref,) in rows]),
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


def record_pass(
    connection: OneConnection,
    job_id: str,
    partner_code: str,
    query: Query,
    items: Findings,
    *,
    batch_rows: int,
    paged: bool,
    progress: Callable[[int], None] | None,
) -> None:
    """Record what one end pass (`query`'s rows, made into `items`) finds, batch_rows rows at a time.

    Paged, each page of batch_rows rows is read and recorded in a transaction of its own, the next page
    starting after the last ref of the one before (RosterStage.pages_passes says when). Otherwise the pass is
    one transaction, its rows streamed.
    """
    after = None
    while True:
        read = 0
        with connection.transaction() as session:
            database = session.connection()  # Core rows: the ORM's result handling would only add cost here
            statement = query(partner_code, after).limit(batch_rows if paged else None)
            for batch in database.execute(statement.execution_options(yield_per=batch_rows)).partitions():
                record(session, job_id, items(database, job_id, partner_code, batch), rows=0)
                read, after = read + len(batch), batch[-1][0]
        if progress:  # after the commit: what it does may write (a lease renewed), and SQLite has one writer
            progress(0)  # no roster rows, but still at work
        if not paged or read < batch_rows:
            return
