"""A partner's TMF637 Products read as roster rows: the customer (relatedParty) as the partner_ref, the product's
status read back through the gateway's own status table, its productOffering as the plan.

The row says what an uploaded roster's row says (partner_ref, status, plan): a product's other attributes
(characteristics such as market and locale, dates, prices) are not compared, as no uploaded roster states them.

Products are history as well as state: a customer who cancelled and came back has a terminated product and an
active one. A product that has ended (terminated, cancelled, aborted) is therefore marked `ended`, so the
reconciliation can let it give way to any other product of the same customer (see
gateway.services.reconciliation.products).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.lifecycle import Status
from gateway.domain.partner_refs import UnusableRef, normal_form
from gateway.domain.plans import PLAN_RANKS
from gateway.domain.roster import AS_PARTNER_SEES_IT, BadRow, RosterRow, RosterStatus
from gateway.domain.tmf import PRODUCT_STATUS, ProductStatus
from gateway.domain.tmf_products import PartyRole

# The format a reconciliation job read from a partner's inventory names (an upload's: csv or ndjson).
ROSTER_FORMAT = "tmf637"

# A product status read back into the subscription status it stands for (gateway.domain.tmf.PRODUCT_STATUS the
# other way round; `cancelled` is a subscription cancelled before its activation), then as the partner would list
# that subscription in an uploaded roster (gateway.domain.roster.AS_PARTNER_SEES_IT): pendingActive and
# pendingTerminate are still billed, so active.
_SUBSCRIPTION_STATUS: dict[str, Status] = {
    product.value: status for status, product in PRODUCT_STATUS.items() if product is not None
} | {ProductStatus.CANCELLED.value: Status.CANCELLED}
ROSTER_STATUS: dict[str, RosterStatus] = {
    product: AS_PARTNER_SEES_IT[status] for product, status in _SUBSCRIPTION_STATUS.items()
}
# `aborted` (an order given up before anything started; the spec's enum spells it "aborted " with a trailing
# space, read here either way) is never emitted by the gateway: no product lives on after it.
ROSTER_STATUS["aborted"] = RosterStatus.CANCELLED
# `created` has no counterpart: the product is not yet even pending activation, and reading it as active could
# resume a customer the gateway has suspended. It makes a bad row, which keeps the customer out of 'only at the
# gateway' and repairs nothing.
ENDED_STATUSES = frozenset(product for product, seen in ROSTER_STATUS.items() if seen is RosterStatus.CANCELLED)
# The customer is the relatedParty in the role customer (or, with no role, of @referredType Customer), whose id
# is the partner's reference, as the gateway's own products name it (gateway.domain.tmf_products).
CUSTOMER_ROLE = PartyRole.CUSTOMER.value


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One product as a roster row (a bad row when it cannot be compared), and whether the product has ended."""

    row: RosterRow | BadRow
    ended: bool


def product_row(line: int, product: object) -> ProductRow:
    """The roster row product number `line` (1 for the listing's first) makes.

    A product naming no customer, or several, is a bad row with no partner_ref (who it stands for cannot be said,
    so a reconciliation withholds 'only at the gateway'); one naming its customer but no status or plan the gateway
    knows is a bad row with that partner_ref. A product that has ended needs no plan the gateway still sells.
    """
    if not isinstance(product, dict):
        return ProductRow(BadRow(line, "not a JSON object (a Product)"), ended=False)
    label = _label(product)
    partner_ref, why = _customer(product)
    if partner_ref is None:
        return ProductRow(BadRow(line, f"{label}{why}"), ended=False)
    status = product.get("status")
    if not isinstance(status, str) or not status.strip():
        return ProductRow(BadRow(line, f"{label}no status", partner_ref), ended=False)
    status = status.strip()
    if status not in ROSTER_STATUS:
        if status == "created":
            reason = f"{label}status 'created': not yet pending activation, so not compared"
        else:
            reason = f"{label}unknown status {_shown(status)}; expected one of {', '.join(sorted(ROSTER_STATUS))}"
        return ProductRow(BadRow(line, reason, partner_ref), ended=False)
    ended = status in ENDED_STATUSES
    plan, why = _plan(product)
    if plan is None:
        return ProductRow(BadRow(line, f"{label}{why}", partner_ref), ended=ended)
    return ProductRow(RosterRow(line, partner_ref, ROSTER_STATUS[status], plan), ended=ended)


def _customer(product: dict) -> tuple[str | None, str]:
    """The partner_ref of the product's customer, or None and why not."""
    parties = product.get("relatedParty")
    if not isinstance(parties, list):
        return None, "no relatedParty: whose product it is cannot be said"
    ids = [party.get("id") for party in parties if isinstance(party, dict) and _is_customer(party)]
    if not ids:
        return None, "no relatedParty with the role customer: whose product it is cannot be said"
    references = set()
    for identifier in ids:
        if not isinstance(identifier, str):
            return None, "the customer's relatedParty id is not text"
        try:
            references.add(normal_form(identifier))
        except UnusableRef as error:
            return None, f"the customer's relatedParty id is no partner_ref: {str(error).rstrip('.').lower()}"
    if len(references) > 1:
        return None, f"{len(references)} different customers in relatedParty"
    return references.pop(), ""


def _plan(product: dict) -> tuple[str | None, str]:
    offering = product.get("productOffering")
    identifier = offering.get("id") if isinstance(offering, dict) else None
    if not isinstance(identifier, str) or not identifier.strip():
        return None, "no productOffering id (the plan)"
    if identifier.strip() not in PLAN_RANKS:
        return None, f"productOffering {_shown(identifier)} is no plan; expected one of {', '.join(PLAN_RANKS)}"
    return identifier.strip(), ""


def _is_customer(party: dict) -> bool:
    role = party.get("role")
    if isinstance(role, str) and role.strip():
        return role.strip().lower() == CUSTOMER_ROLE
    referred = party.get("@referredType")
    return isinstance(referred, str) and referred.strip().lower() == CUSTOMER_ROLE


def _label(product: dict) -> str:
    identifier = product.get("id")
    return f"product {_shown(identifier)}: " if isinstance(identifier, str) and identifier else ""


def _shown(text: str, limit: int = 60) -> str:
    """Text from the partner in a reason: quoted with its control characters, NUL and lone surrogates escaped
    (repr), so that every store can hold the reason, cut short."""
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
