"""The partner flavours the gateway knows, by the name stored in each partner's configuration.

Adding a flavour is one module in this package plus one line here.
"""

from __future__ import annotations

from partners.base import PartnerAdapter
from partners.batch import BatchAdapter
from partners.standard import StandardAdapter

ADAPTERS: dict[str, PartnerAdapter] = {
    "standard": StandardAdapter(),
    "batch": BatchAdapter(),
}
FLAVOURS: tuple[str, ...] = tuple(ADAPTERS)

DEFAULT_FLAVOUR = "standard"


def is_known_flavour(name: str) -> bool:
    return name in ADAPTERS


def adapter_for(flavour: str) -> PartnerAdapter:
    return ADAPTERS[flavour]
