"""The gateway app under test: the store it runs on, and the Authorization header its clients send."""

from __future__ import annotations

from gateway.runtime import EXTENSION
from gateway.store.db import Store


def app_store(app) -> Store:
    return app.extensions[EXTENSION]["store"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
