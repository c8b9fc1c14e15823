"""What the commands share: a unit of work whose domain errors are one line naming the options, bounded text
options, tables, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from gateway.domain.errors import GatewayError, InvalidInput
from gateway.runtime import store


@contextmanager
def command_transaction() -> Iterator[Any]:
    """A unit of work whose domain errors become a one-line CLI error (exit 1) instead of a traceback; a field
    error names the option or argument the operator typed (`--market 'XX': ...`), not the service's field."""
    try:
        with store().transaction() as session:
            yield session
    except InvalidInput as error:
        raise click.ClickException(option_errors(error.errors)) from None
    except GatewayError as error:
        raise click.ClickException(error.detail) from None


def option_errors(errors: dict[str, str]) -> str:
    """The services' field errors (`markets.0`, `default_locale`, `url`) worded with the command's own options
    and arguments. A command's parameters are named after the fields they fill (`--locale` fills
    `default_locale`), so this one lookup serves every command; a field no parameter fills keeps its name."""
    context = click.get_current_context(silent=True)
    named = [f"{_parameter_label(context, field)}: {message.rstrip('.')}" for field, message in errors.items()]
    return "; ".join(named) + "."


def _parameter_label(context: click.Context | None, field: str) -> str:
    name, _, index = field.partition(".")
    parameter = next((param for param in context.command.params if param.name == name), None) if context else None
    if parameter is None:
        return field
    label = max(parameter.opts, key=len) if isinstance(parameter, click.Option) else parameter.human_readable_name
    value = context.params.get(name)
    if index.isdigit() and isinstance(value, list | tuple) and int(index) < len(value):
        return f"{label} {value[int(index)]!r}"  # which of a repeated option's values
    if isinstance(value, str):
        return f"{label} {value!r}"
    return label


class BoundedText(click.ParamType):
    """Text of `min_length` to `max_length` characters, the column's bound, so no store sees a longer value."""

    name = "text"

    def __init__(self, max_length: int, min_length: int = 1) -> None:
        self.min_length, self.max_length = min_length, max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not self.min_length <= len(text) <= self.max_length:
            self.fail(f"{self.min_length} to {self.max_length} characters, not {len(text)}.", param, ctx)
        return text


def echo_endpoint_secret(endpoint: Any) -> None:
    """An endpoint just created or rotated, and its signing secret: the only time the gateway shows it."""
    click.echo(f"endpoint {endpoint.id} {endpoint.url}")
    click.echo("signing secret (shown only now; give it to the partner, who verifies every webhook with it):")
    click.echo(endpoint.secret)


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
