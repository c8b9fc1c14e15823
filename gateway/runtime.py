"""Per-application objects, looked up on the current Flask app (nothing global at import): the store, the key
cache, the settings and what is read from them once (the escalation SLA), and the FAQ search index. The API, the
console, the CLI and the metrics reach them here, so none of them imports another."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import current_app

from gateway.domain.escalations import SlaPolicy, parse_sla_policy
from gateway.services.faq import SearchIndexCache
from gateway.services.key_cache import PrincipalCache
from gateway.store.db import Store

EXTENSION = "gateway"


def store() -> Store:
    return current_app.extensions[EXTENSION]["store"]


def principals() -> PrincipalCache:
    return current_app.extensions[EXTENSION]["principals"]


def setting(name: str) -> Any:
    return current_app.config["GATEWAY"][name]


def sla_policy() -> SlaPolicy:
    """GATEWAY_ESCALATION_SLA, read once per distinct value."""
    return _parsed_sla(setting("ESCALATION_SLA"))


@cache
def _parsed_sla(text: str) -> SlaPolicy:
    return parse_sla_policy(text)  # checked at start-up (gateway.app), so it parses here


FAQ_INDEX = "faq_search_index"


def faq_search_index() -> SearchIndexCache:
    """The FAQ search index the API and the agent console share: one per app (so per process), made on first
    use; setdefault keeps two first requests from making two."""
    extensions = current_app.extensions[EXTENSION]
    found = extensions.get(FAQ_INDEX)
    return found if found is not None else extensions.setdefault(FAQ_INDEX, SearchIndexCache())
