"""`gateway partner`: partners, added (with their endpoints' signing secrets), listed, shown, suspended and
resumed, the secret a partner signs its callbacks with, and the partner's own TMF637 inventory that
`gateway reconcile --from-tmf` reads."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.cli.common import BoundedText, command_transaction, echo_endpoint_secret, print_rows
from gateway.domain.clock import utcnow
from gateway.domain.partners import PartnerStatus
from gateway.runtime import setting
from gateway.services import keys as key_service
from gateway.services import partner_inventory as inventory_service
from gateway.services import partners as partner_service
from partners.registry import DEFAULT_FLAVOUR, FLAVOURS
from partners.tmf_inventory import MAX_TOKEN_LENGTH


@click.group()
def partner() -> None:
    """The partner registry."""


def _partner_row(found) -> dict[str, Any]:
    return {
        "code": found.code,
        "name": found.display_name,
        "markets": ",".join(found.markets),
        "locale": found.default_locale,
        "flavour": found.flavour,
        "status": found.status,
    }


@partner.command("add")
@click.argument("code")
@click.option("--name", "display_name", type=BoundedText(200), required=True, help="Display name.")
@click.option("--market", "markets", multiple=True, required=True, help="ISO 3166 code; repeat for several.")
@click.option("--locale", "default_locale", required=True, help="Default BCP 47 locale, e.g. de-DE.")
@click.option(
    "--flavour",
    type=click.Choice(FLAVOURS),
    default=DEFAULT_FLAVOUR,
    show_default=True,
    help="The adapter (partners/) that speaks to it.",
)
@click.option(
    "--webhook",
    "webhook_urls",
    multiple=True,
    help="Webhook endpoint URL; repeat for several. Its signing secret is printed once.",
)
@with_appcontext
def partner_add(code: str, **options: Any) -> None:
    """Onboard partner CODE; each --webhook endpoint's signing secret is shown only now.

    https and public hosts only, unless GATEWAY_ALLOW_PRIVATE_ENDPOINTS=true (tests, demos), as in the admin API.
    """
    options["markets"] = list(options["markets"])
    with command_transaction() as session:
        added = partner_service.add_partner(
            session, code=code, now=utcnow(), allow_private_endpoints=setting("ALLOW_PRIVATE_ENDPOINTS"), **options
        )
        endpoints = partner_service.list_endpoints(session, added.code)
    click.echo(f"added partner {added.code} ({added.display_name})")
    for endpoint in endpoints:
        echo_endpoint_secret(endpoint)


@partner.command("list")
@click.option("--status", type=click.Choice([status.value for status in PartnerStatus]), help="Only in this state.")
@click.option("--market", help="Only partners serving this market.")
@with_appcontext
def partner_list(status: str | None, market: str | None) -> None:
    """List partners."""
    with command_transaction() as session:
        found = partner_service.list_partners(session, limit=100_000, status=status, market=market)
        print_rows([_partner_row(item) for item in found], ["code", "name", "markets", "locale", "flavour", "status"])


@partner.command("show")
@click.argument("code")
@with_appcontext
def partner_show(code: str) -> None:
    """Show partner CODE with its endpoints and keys."""
    with command_transaction() as session:
        found = partner_service.get_partner(session, code)
        for name, value in _partner_row(found).items():
            click.echo(f"{name + ':':10}{value}")
        click.echo(f"inventory:\n  {_inventory_shown(found)}")
        click.echo("endpoints:")
        for endpoint in partner_service.list_endpoints(session, code):
            click.echo(f"  {endpoint.id}  {endpoint.status:8}  {endpoint.url}")
        click.echo("keys:")
        for key in key_service.list_keys(session, limit=1000, partner_code=code):
            status = key_service.key_status(key, utcnow())
            click.echo(f"  {key.id}  {key.prefix}  {status:8}  {' '.join(key.scopes)}  {key.name}")


def _partner_status_command(name: str, status: PartnerStatus, summary: str) -> Callable[..., None]:
    @partner.command(name, help=summary)
    @click.argument("code")
    @with_appcontext
    def command(code: str) -> None:
        with command_transaction() as session:
            changed = partner_service.set_partner_status(session, code, status, now=utcnow())
            click.echo(f"partner {changed.code} is {changed.status}")

    return command


_partner_status_command("suspend", PartnerStatus.SUSPENDED, "Suspend partner CODE: its keys are refused at once.")
_partner_status_command("resume", PartnerStatus.ACTIVE, "Resume a suspended partner CODE.")


@partner.command("inbound-secret")
@click.argument("code")
@with_appcontext
def partner_inbound_secret(code: str) -> None:
    """Issue the secret partner CODE signs its callbacks (POST /v1/callbacks) with; the old one stops verifying."""
    with command_transaction() as session:
        secret = partner_service.new_inbound_secret(session, code)
    click.echo(f"inbound secret of {code} (shown only now; give it to the partner):")
    click.echo(secret)


def _inventory_shown(found) -> str:
    if found.inventory_url is None:
        return "(none)"
    return f"{found.inventory_url} ({'token set' if found.inventory_token else 'no token'})"


@partner.command("set-inventory")
@click.argument("code")
@click.option("--url", required=True, help="The base URL of the partner's TMF637 API, …/productInventory/v4.")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the bearer token the gateway presents (its surrounding white space dropped).",
)
@click.option(
    "--token-stdin", is_flag=True, help="Read the bearer token from standard input (on a terminal: asked, unechoed)."
)
@click.option("--no-token", is_flag=True, help="Present no token (an inventory that asks for none).")
@with_appcontext
def partner_set_inventory(code: str, url: str, token_file: Path | None, token_stdin: bool, no_token: bool) -> None:
    """Point `gateway reconcile CODE --from-tmf` at partner CODE's own TMF637 Product Inventory.

    URL and token are set together (one of --token-file, --token-stdin, --no-token), so a token never follows
    the partner to another URL. The token is never taken on the command line, where other users see it, and never
    shown again. https and public hosts only, unless GATEWAY_ALLOW_PRIVATE_ENDPOINTS=true (tests, demos).
    """
    if token_stdin + no_token + (token_file is not None) != 1:
        raise click.UsageError("Give one of --token-file, --token-stdin or --no-token.")
    # Read no further than a token can be (and a little white space): a longer one is refused whole, and a file
    # such as /dev/zero ends the command instead of the machine's memory.
    most = MAX_TOKEN_LENGTH + 64
    token = None
    if token_file is not None:
        with token_file.open("rb") as file:
            token = file.read(most).decode("utf-8", "replace").strip()
    elif token_stdin and sys.stdin.isatty():  # typed: asked for, and not echoed
        token = click.prompt("bearer token", hide_input=True, err=True).strip()
    elif token_stdin:
        token = sys.stdin.read(most).strip()
    with command_transaction() as session:
        changed = inventory_service.set_inventory(
            session, code, url=url, token=token, allow_private=setting("ALLOW_PRIVATE_ENDPOINTS"), now=utcnow()
        )
        click.echo(f"partner {changed.code} reads its inventory at {_inventory_shown(changed)}")


@partner.command("clear-inventory")
@click.argument("code")
@with_appcontext
def partner_clear_inventory(code: str) -> None:
    """Forget partner CODE's inventory URL and token."""
    with command_transaction() as session:
        changed = inventory_service.clear_inventory(session, code, now=utcnow())
        click.echo(f"partner {changed.code} has no inventory set")
