"""The partner flavours the gateway knows, by the name stored in each partner's configuration.

Adding a flavour is one module in this package plus one line here.
"""

from __future__ import annotations

FLAVOURS: dict[str, str] = {
    "standard": "JSON events, one per request, signed with Standard Webhooks",
    "batch": "NDJSON batches of events, signed with Standard Webhooks",
}

DEFAULT_FLAVOUR = "standard"


def is_known_flavour(name: str) -> bool:
    return name in FLAVOURS
