"""The FAQ commands of `gateway`: load the reviewed article files into the store."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from gateway.domain.clock import utcnow
from gateway.runtime import store
from gateway.services import faq as faq_service


@click.group()
def faq() -> None:
    """Call-center FAQ articles."""


@faq.command("load")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--overwrite-edits",
    is_flag=True,
    help="Replace articles operators edited through the admin API with their files (kept by default).",
)
@with_appcontext
def load(folder: Path | None, overwrite_edits: bool) -> None:
    """Load FOLDER/<locale>/<slug>.md (default: the articles shipped with the gateway) into the store.

    Unchanged articles are not rewritten, so running it again is safe. An article an operator edited through
    the admin API keeps the operator's text unless --overwrite-edits is given; it is listed either way. A file
    that cannot be read stops the load before anything is written.
    """
    try:
        report = faq_service.load_folder(
            store(), folder or faq_service.ARTICLES_FOLDER, now=utcnow(), overwrite_edits=overwrite_edits
        )
    except faq_service.ArticleFileError as error:
        raise click.ClickException(str(error)) from None
    for name in report.kept_edits:
        click.echo(f"kept operator edit: {name} (its file differs; --overwrite-edits replaces it)")
    for name in report.overwritten_edits:
        click.echo(f"overwrote operator edit: {name}")
    for name in report.not_in_folder:
        click.echo(f"in the store without a file (left as is): {name}")
    click.echo(report.summary())
