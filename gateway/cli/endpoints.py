"""`gateway endpoints`: a partner's webhook endpoints, added (with their signing secret), listed, given a new
secret, enabled again and deleted; what the admin API's webhook-endpoint routes offer, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from gateway.cli.common import BoundedText, command_transaction, echo_endpoint_secret, print_rows
from gateway.domain.clock import utcnow
from gateway.runtime import setting
from gateway.services import partners as partner_service


@click.group()
def endpoints() -> None:
    """Partners' webhook endpoints: add, list, rotate-secret, enable, delete."""


@endpoints.command("add")
@click.argument("partner_code")
@click.argument("url")
@click.option("--description", type=BoundedText(200, min_length=0), default="", help="What the endpoint is for.")
@with_appcontext
def endpoints_add(partner_code: str, url: str, description: str) -> None:
    """Add endpoint URL to PARTNER_CODE; its signing secret is shown only now.

    https and public hosts only, unless GATEWAY_ALLOW_PRIVATE_ENDPOINTS=true (tests, demos), as in the admin API.
    """
    with command_transaction() as session:
        endpoint = partner_service.add_endpoint(
            session,
            partner_code,
            url=url,
            description=description,
            allow_private=setting("ALLOW_PRIVATE_ENDPOINTS"),
            now=utcnow(),
        )
    echo_endpoint_secret(endpoint)


@endpoints.command("list")
@click.argument("partner_code")
@with_appcontext
def endpoints_list(partner_code: str) -> None:
    """List PARTNER_CODE's endpoints with their health (secrets are never listed)."""
    with command_transaction() as session:
        rows = [
            {
                "id": endpoint.id,
                "status": endpoint.status,
                "circuit": endpoint.circuit_state,
                "failures": endpoint.consecutive_failures,
                "url": endpoint.url,
                "description": endpoint.description,
            }
            for endpoint in partner_service.list_endpoints(session, partner_code)
        ]
    print_rows(rows, ["id", "status", "circuit", "failures", "url", "description"])


@endpoints.command("rotate-secret")
@click.argument("endpoint_id")
@click.option(
    "--overlap-hours",
    type=click.IntRange(0, 24 * 90),
    help="How long the old secret keeps signing too. Default: GATEWAY_WEBHOOK_SECRET_OVERLAP_HOURS.",
)
@with_appcontext
def endpoints_rotate_secret(endpoint_id: str, overlap_hours: int | None) -> None:
    """Give ENDPOINT_ID a new signing secret, shown only now; the old one signs too until the overlap ends."""
    hours = setting("WEBHOOK_SECRET_OVERLAP_HOURS") if overlap_hours is None else overlap_hours
    with command_transaction() as session:
        endpoint = partner_service.rotate_endpoint_secret(
            session, endpoint_id, overlap=timedelta(hours=hours), now=utcnow()
        )
    echo_endpoint_secret(endpoint)
    click.echo(f"the old secret keeps signing for {hours} h")


@endpoints.command("enable")
@click.argument("endpoint_id")
@with_appcontext
def endpoints_enable(endpoint_id: str) -> None:
    """Deliver to disabled ENDPOINT_ID again; the deliveries that waited for it go out in order."""
    with command_transaction() as session:
        partner_service.enable_endpoint(session, endpoint_id)
    click.echo(f"endpoint {endpoint_id} is enabled")


@endpoints.command("delete")
@click.argument("endpoint_id")
@with_appcontext
def endpoints_delete(endpoint_id: str) -> None:
    """Delete ENDPOINT_ID: nothing is sent to it any more; its pending deliveries end as dead letters."""
    with command_transaction() as session:
        ended = partner_service.remove_endpoint(session, endpoint_id, now=utcnow())
    click.echo(f"endpoint {endpoint_id} deleted; {ended} pending deliveries ended as dead letters")
