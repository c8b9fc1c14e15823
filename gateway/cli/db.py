"""`gateway db`: the store's schema migrations."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.runtime import store
from gateway.store import migrate


@click.group()
def db() -> None:
    """Schema migrations of the store."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="The migration to bring the store to.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    migrate.upgrade(store().engine, revision)
    click.echo(f"store at migration {migrate.current_revision(store().engine)}")


@db.command("downgrade")
@click.option("--revision", default="-1", show_default=True, help="The migration to go back to (-1: one step).")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' removes every table)."""
    migrate.downgrade(store().engine, revision)
    click.echo(f"store at migration {migrate.current_revision(store().engine)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the store's migration and the newest one the code knows."""
    click.echo(f"store: {migrate.current_revision(store().engine)}  code: {migrate.head_revision()}")


@db.command("revision")
@click.argument("message")
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and an up-to-date store (developers)."""
    migrate.autogenerate_revision(store().engine, message)
