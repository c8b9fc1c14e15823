"""The partner flavours the gateway knows, by the name stored in each partner's configuration.

Adding a flavour is one module in this package plus one line here.
"""

from __future__ import annotations

from partners.base import PartnerAdapter
from partners.batch import BatchAdapter
from partners.standard import StandardAdapter
from partners.tmf import TmfAdapter

ADAPTERS: dict[str, PartnerAdapter] = {
    "standard": StandardAdapter(),
    "batch": BatchAdapter(),
    "tmf": TmfAdapter(),  # a TM Forum hub's own flavour (webhook_endpoints.flavour), never a partner's
}
# What a partner may be configured as. `tmf` is not one: a partner's plain endpoints get every event, and most
# (a test, a sharing announcement, an escalation) have no TM Forum form; its hubs are `tmf` whatever it is.
FLAVOURS: tuple[str, ...] = ("standard", "batch")

DEFAULT_FLAVOUR = "standard"


def is_known_flavour(name: str) -> bool:
    """Whether a partner may be configured with this flavour."""
    return name in FLAVOURS


def adapter_for(flavour: str) -> PartnerAdapter:
    return ADAPTERS[flavour]
