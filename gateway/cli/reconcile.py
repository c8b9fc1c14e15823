"""`gateway reconcile`: a partner's roster (a file, or the partner's own TMF637 inventory with --from-tmf) against
the gateway, its drift printed and repaired."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext

from gateway.cli.common import command_transaction, progress
from gateway.domain.clock import utcnow
from gateway.domain.errors import GatewayError
from gateway.domain.roster import RosterFormat, read_roster, text_lines
from gateway.domain.tmf_roster import ROSTER_FORMAT as TMF_ROSTER_FORMAT
from gateway.runtime import setting, store
from gateway.services import partners as partner_service
from gateway.services import reconciliation as reconciliation_service
from gateway.services.partner_inventory import inventory_source
from gateway.services.reconciliation.tmf_source import run_from_inventory
from gateway.store.models import Reconciliation
from partners.tmf_inventory import DEFAULT_LIMITS, InventoryError


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


@click.command("reconcile")
@click.argument("partner_code")
@click.argument("roster", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--from-tmf",
    "from_tmf",
    is_flag=True,
    help="Read the roster from the partner's own TMF637 Product Inventory (set with `gateway partner "
    "set-inventory`) instead of a file.",
)
@click.option(
    "--format",
    "roster_format",
    type=click.Choice([f.value for f in RosterFormat]),
    help="Default: from the file name (.csv, .ndjson or .jsonl).",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=DEFAULT_LIMITS.page_size,
    show_default=True,
    help="Products asked for per page with --from-tmf (the limit= of each GET /product).",
)
@click.option("--apply", "apply_repairs", is_flag=True, help="Make the repairs (default: a dry run).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the drift report to this file: the CSV the API serves at /v1/reconciliations/{id}/report.csv.",
)
@with_appcontext
def reconcile(
    partner_code: str,
    roster: Path | None,
    from_tmf: bool,
    roster_format: str | None,
    page_size: int,
    apply_repairs: bool,
    report: Path | None,
) -> None:
    """Compare PARTNER_CODE's ROSTER file, or with --from-tmf its own TMF637 inventory, with the gateway and print
    the drift; --apply repairs it."""
    if (roster is None) == (not from_tmf):
        raise click.UsageError("Give either a ROSTER file or --from-tmf (the partner's own inventory), one of them.")
    if from_tmf and roster_format is not None:
        raise click.UsageError("--format is for a ROSTER file; --from-tmf reads TMF637 products.")
    if roster is not None:
        job = _from_file(partner_code, roster, roster_format)
    else:
        job = _from_inventory(partner_code, page_size)
    if apply_repairs:
        with progress("applying repairs", sum(job.counts.values()), "items") as advance:
            job = reconciliation_service.apply(store(), job.id, now=utcnow(), progress=advance)
    click.echo(f"reconciliation {job.id}: {job.rows} rows, {job.status}")
    for kind, count in job.counts.items():
        click.echo(f"  {kind}: {count}")
    withheld = reconciliation_service.withheld_reason(job)
    if withheld is not None:
        click.echo(withheld)
    click.echo(f"  repaired: {job.repaired}" if apply_repairs else "dry run: nothing changed (--apply repairs)")
    if report is not None:
        with report.open("w", encoding="utf-8", newline="") as out:
            out.writelines(reconciliation_service.report_csv(store(), job.id))
        click.echo(f"report: {report}")


def _from_file(partner_code: str, roster: Path, roster_format: str | None) -> Reconciliation:
    chosen = RosterFormat(roster_format or ("csv" if roster.suffix.lower() == ".csv" else "ndjson"))
    with command_transaction() as session:
        partner_service.get_partner(session, partner_code)
    with (
        roster.open("rb") as file,
        progress(f"reading {roster.name}", roster.stat().st_size, "bytes") as advance,
    ):
        try:
            rows = read_roster(text_lines(_CountingReader(file, advance)), chosen)  # a CSV header is checked here
        except GatewayError as error:
            raise click.ClickException(error.detail) from None
        job_id = reconciliation_service.start(store(), partner_code, chosen, utcnow())
        return reconciliation_service.run(store(), job_id, rows)


def _from_inventory(partner_code: str, page_size: int) -> Reconciliation:
    """The job, its roster read from the partner's inventory; a failed pull is one line naming what failed and
    the job it failed (nothing compared, nothing changed)."""
    allow_private = setting("ALLOW_PRIVATE_ENDPOINTS")
    with command_transaction() as session:
        source = inventory_source(session, partner_code, allow_private=allow_private)
    job_id = reconciliation_service.start(store(), partner_code, TMF_ROSTER_FORMAT, utcnow())
    limits = replace(DEFAULT_LIMITS, page_size=page_size)
    with _page_progress(f"reading {partner_code}'s inventory") as on_page:
        try:
            pulled = run_from_inventory(
                store(), job_id, source, allow_private=allow_private, limits=limits, on_page=on_page
            )
        except InventoryError as error:
            raise click.ClickException(
                f"{error}\nreconciliation {job_id}: failed; nothing was compared or changed"
            ) from None
    click.echo(f"inventory: {pulled.products} products read from {source.url}")
    set_aside = pulled.products - pulled.job.rows
    if set_aside:
        click.echo(f"  {set_aside} ended products left out: their customers have another product in the inventory")
    return pulled.job


@contextmanager
def _page_progress(label: str) -> Iterator[Callable[[int, int | None], None]]:
    """Progress of an inventory's pages on stderr, as `progress` shows it, counted in products; the total is the
    X-Total-Count the first page announces (none announced: the count so far, at each tenth page)."""
    with ExitStack() as stack:
        advance: Callable[[int], None] | None = None
        done = pages = 0

        def on_page(read: int, total: int | None) -> None:
            nonlocal advance, done, pages
            pages += 1
            if advance is None and total is not None:
                advance = stack.enter_context(progress(label, total, "products"))
            if advance is not None:
                advance(read - done)
            elif pages % 10 == 1:
                click.echo(f"{label}: {read} products so far", err=True)
            done = read

        yield on_page
        if advance is None:
            click.echo(f"{label}: {done} products", err=True)
