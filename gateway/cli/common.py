"""What the commands share: a unit of work whose domain errors are one line, tables, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from gateway.domain.errors import GatewayError
from gateway.runtime import store


@contextmanager
def command_transaction() -> Iterator[Any]:
    """A unit of work whose domain errors become a one-line CLI error (exit 1) instead of a traceback."""
    try:
        with store().transaction() as session:
            yield session
    except GatewayError as error:
        raise click.ClickException(error.detail) from None


def print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns}
    click.echo("  ".join(column.upper().ljust(widths[column]) for column in columns))
    for row in rows:
        click.echo("  ".join(str(row[column]).ljust(widths[column]) for column in columns))


@contextmanager
def progress(label: str, length: int, unit: str) -> Iterator[Callable[[int], None]]:
    """Progress on stderr: a bar on a terminal; elsewhere (a pipe, a log, cron) a line at each tenth of the
    way and at the end, `LABEL: DONE of LENGTH UNIT (P%)`, which a bar would not show there."""
    if sys.stderr.isatty():
        with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    done = shown = 0

    def line() -> None:
        percent = 100 if length <= 0 else min(100, done * 100 // length)
        click.echo(f"{label}: {done} of {length} {unit} ({percent}%)", err=True)

    def update(count: int) -> None:
        nonlocal done, shown
        done += count
        tenth = 10 if length <= 0 else done * 10 // length
        if tenth > shown:
            shown = tenth
            line()

    yield update
    if shown < 10:
        line()
