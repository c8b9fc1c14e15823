"""A partner's own TMF637 Product Inventory, as the gateway reads it for reconciliation: its base URL and the
bearer token presented there, set together, cleared together, the token never given back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput
from gateway.domain.partner_inventory import check_inventory_url, normal_inventory_url
from gateway.services.partners import get_partner
from gateway.store.models import Partner
from partners.tmf_inventory import BEARER_TOKEN, NOT_A_TOKEN


@dataclass(frozen=True)
class InventorySource:
    """Where a partner's inventory is read: the URL, and the token (None: none is presented)."""

    url: str
    token: str | None


def set_inventory(
    session: Session, code: str, *, url: str, token: str | None, allow_private: bool, now: datetime
) -> Partner:
    """Point the gateway at the partner's inventory. URL and token are replaced together, so a token never goes
    on to another URL than the one it was given for; `token=None` presents none."""
    partner = get_partner(session, code)
    url = normal_inventory_url(url)
    errors = check_inventory_url(url, allow_private=allow_private)
    if token is not None and not BEARER_TOKEN.fullmatch(token):
        errors["token"] = NOT_A_TOKEN
    if errors:
        raise InvalidInput(errors)
    if (partner.inventory_url, partner.inventory_token) != (url, token):
        partner.inventory_url, partner.inventory_token = url, token
        _touch(partner, now)
    return partner


def clear_inventory(session: Session, code: str, *, now: datetime) -> Partner:
    """Forget the partner's inventory URL and token; reconciling from it is refused until one is set again."""
    partner = get_partner(session, code)
    if partner.inventory_url is not None or partner.inventory_token is not None:
        partner.inventory_url = partner.inventory_token = None
        _touch(partner, now)
    return partner


def inventory_source(session: Session, code: str, *, allow_private: bool) -> InventorySource:
    """Where to read the partner's inventory; Conflict when none is set, or when its URL is one the gateway may
    not reach now (set while private endpoints were allowed)."""
    partner = get_partner(session, code)
    if partner.inventory_url is None:
        raise Conflict(f"Partner {code!r} has no TMF637 inventory set: set its URL (and token) first.")
    errors = check_inventory_url(partner.inventory_url, allow_private=allow_private)
    if errors:
        raise Conflict(f"Partner {code!r}'s inventory URL is not usable: {errors['url']}")
    return InventorySource(partner.inventory_url, partner.inventory_token)


def _touch(partner: Partner, now: datetime) -> None:
    partner.version += 1  # the partner's ETag changes with it, as with every other change to the partner
    partner.updated_at = now
