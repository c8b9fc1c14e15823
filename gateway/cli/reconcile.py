"""`gateway reconcile`: a partner's roster file against the gateway, its drift printed and repaired."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext

from gateway.cli.common import command_transaction, progress
from gateway.domain.clock import utcnow
from gateway.domain.errors import GatewayError
from gateway.domain.roster import RosterFormat, read_roster, text_lines
from gateway.runtime import store
from gateway.services import partners as partner_service
from gateway.services import reconciliation as reconciliation_service


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
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "roster_format",
    type=click.Choice([f.value for f in RosterFormat]),
    help="Default: from the file name (.csv, .ndjson or .jsonl).",
)
@click.option("--apply", "apply_repairs", is_flag=True, help="Make the repairs (default: a dry run).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the drift report to this file: the CSV the API serves at /v1/reconciliations/{id}/report.csv.",
)
@with_appcontext
def reconcile(
    partner_code: str, roster: Path, roster_format: str | None, apply_repairs: bool, report: Path | None
) -> None:
    """Compare PARTNER_CODE's ROSTER file with the gateway and print the drift; --apply repairs it."""
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
        job = reconciliation_service.run(store(), job_id, rows)
    if apply_repairs:
        with progress("applying repairs", sum(job.counts.values()), "items") as advance:
            job = reconciliation_service.apply(store(), job_id, now=utcnow(), progress=advance)
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
