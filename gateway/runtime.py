"""Per-application objects (the store, the key cache, the settings), looked up on the current Flask app: what
the API, the console, the CLI and the metrics reach them by (nothing global at import)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from gateway.services.key_cache import PrincipalCache
from gateway.store.db import Store

EXTENSION = "gateway"


def store() -> Store:
    return current_app.extensions[EXTENSION]["store"]


def principals() -> PrincipalCache:
    return current_app.extensions[EXTENSION]["principals"]


def setting(name: str) -> Any:
    return current_app.config["GATEWAY"][name]
