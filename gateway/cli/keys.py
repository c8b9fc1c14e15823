"""`gateway key`: API keys, issued, listed, rotated and revoked."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from gateway.cli.common import command_transaction, print_rows
from gateway.domain.clock import utcnow
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind, Scope
from gateway.runtime import setting
from gateway.services import keys as key_service


@click.group()
def key() -> None:
    """API keys: issue, list, rotate, revoke."""


def _echo_token(issued: key_service.IssuedKey) -> None:
    click.echo(f"key {issued.key.id} ({issued.key.kind}, scopes: {' '.join(issued.key.scopes)})")
    click.echo("token (shown only now; store it safely):")
    click.echo(issued.token)


@key.command("issue")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in KeyKind]),
    default="partner",
    show_default=True,
    help="Whose key: a partner's systems, an operator (admin API) or the service.",
)
@click.option("--partner", "partner_code", help="The partner, for partner keys.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="Repeat for several; default: every scope the kind allows.",
)
@click.option("--name", required=True, help="What the key is for.")
@with_appcontext
def key_issue(kind: str, partner_code: str | None, scopes: tuple[str, ...], name: str) -> None:
    """Issue a key and print its token once."""
    key_kind = KeyKind(kind)
    chosen = list(scopes) or sorted(SCOPES_BY_KIND[key_kind])
    with command_transaction() as session:
        issued = key_service.issue_key(
            session, kind=key_kind, scopes=chosen, name=name, partner_code=partner_code, now=utcnow()
        )
    _echo_token(issued)


@key.command("list")
@click.option("--partner", "partner_code", help="Only this partner's keys.")
@with_appcontext
def key_list(partner_code: str | None) -> None:
    """List keys (prefixes only, never secrets)."""
    now = utcnow()
    with command_transaction() as session:
        found = key_service.list_keys(session, limit=100_000, partner_code=partner_code)
        rows = [
            {
                "id": item.id,
                "prefix": item.prefix,
                "kind": item.kind,
                "partner": item.partner_code or "-",
                "status": key_service.key_status(item, now),
                "scopes": " ".join(item.scopes),
                "name": item.name,
            }
            for item in found
        ]
    print_rows(rows, ["id", "prefix", "kind", "partner", "status", "scopes", "name"])


@key.command("rotate")
@click.argument("key_id")
@click.option("--overlap-hours", type=click.IntRange(0, 24 * 90), help="Default: GATEWAY_KEY_ROTATION_OVERLAP_HOURS.")
@with_appcontext
def key_rotate(key_id: str, overlap_hours: int | None) -> None:
    """Issue a successor for KEY_ID; the old key works until the overlap ends."""
    hours = setting("KEY_ROTATION_OVERLAP_HOURS") if overlap_hours is None else overlap_hours
    with command_transaction() as session:
        issued = key_service.rotate_key(session, key_id, overlap=timedelta(hours=hours), now=utcnow())
    _echo_token(issued)
    click.echo(f"the old key {key_id} stops working in {hours} h")


@key.command("revoke")
@click.argument("key_id")
@with_appcontext
def key_revoke(key_id: str) -> None:
    """Revoke KEY_ID: refused from the next request on."""
    with command_transaction() as session:
        key_service.revoke_key(session, key_id, now=utcnow())
    click.echo(f"key {key_id} revoked")
