"""A reconciliation whose roster is the partner's own TMF637 Product Inventory, read over HTTP instead of uploaded:
the same job, findings, report and apply as an upload's.

The inventory is read to its end first (partners.tmf_inventory, a page at a time), each product set down as a
roster row in a scratch database (products), and only then compared: a roster is compared only once it is whole,
so a pull that fails half-way fails the job with nothing compared, never with the unread customers listed as
'only at the gateway'. While the pull runs, the job's lease is renewed, so the scheduler does not take a long
pull for a dead one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from gateway.domain.tmf_roster import product_row
from gateway.services.partner_inventory import InventorySource
from gateway.services.reconciliation.jobs import fail, running_job
from gateway.services.reconciliation.products import ProductScratch
from gateway.services.reconciliation.runner import ROSTER_CHUNK_ROWS, run
from gateway.services.reconciliation.staging import chunks
from gateway.store.db import Store
from gateway.store.models import Reconciliation
from partners.tmf_inventory import DEFAULT_LIMITS, PageProgress, PullLimits, read_products

# Products set down in the scratch database per transaction.
SCRATCH_BATCH = 5_000
# How often the job's lease is renewed while the inventory is read (far inside the lease).
LEASE_RENEWAL_SECONDS = 60.0


@dataclass(frozen=True)
class InventoryReconciliation:
    job: Reconciliation
    products: int  # products the inventory listed; job.rows of them were compared (the others: ended, outweighed)


def run_from_inventory(
    store: Store,
    job_id: str,
    source: InventorySource,
    *,
    allow_private: bool,
    limits: PullLimits = DEFAULT_LIMITS,
    on_page: PageProgress | None = None,
    chunk_rows: int = ROSTER_CHUNK_ROWS,
) -> InventoryReconciliation:
    """Read the inventory at `source` as job `job_id`'s roster and run the job (started by the caller, as for an
    upload: gateway.services.reconciliation.start). An InventoryError (partners.tmf_inventory) when the inventory
    cannot be read whole; the job is then failed, nothing compared."""
    read = 0
    renew = _lease_renewer(store, job_id)

    def page_read(count: int, total: int | None) -> None:
        nonlocal read
        read = count
        renew()
        if on_page is not None:
            on_page(count, total)

    try:
        with ProductScratch() as scratch:
            products = read_products(
                source.url, source.token, allow_private=allow_private, limits=limits, on_page=page_read
            )
            with closing(products):
                # Each product made a row as it comes: a batch holds small rows, never thousands of products.
                rows = (product_row(line, product) for line, product in enumerate(products, start=1))
                for batch in chunks(rows, SCRATCH_BATCH):
                    scratch.add(batch)
            job = run(store, job_id, scratch.rows(), chunk_rows=chunk_rows)
    except BaseException:
        fail(store, job_id)  # the pull failed (or was stopped): the job says so instead of staying "running"
        raise
    return InventoryReconciliation(job, read)


def _lease_renewer(store: Store, job_id: str) -> Callable[[], None]:
    """Renews the job's lease at most every LEASE_RENEWAL_SECONDS; JobAbandoned if the scheduler failed it."""
    renewed = time.monotonic()

    def renew() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= LEASE_RENEWAL_SECONDS:
            with store.transaction() as session:
                running_job(session, job_id)
            renewed = time.monotonic()

    return renew
