"""How far one request travels: the project modules a partner's POST /v1/subscriptions/{id}/cancel runs through.

Not a speed figure: issue 17 (structure) reports this walk before and after, counted the same way each time.
Every Python call while the request is served is traced; a call counts when its code lives in the project
(gateway/, partners/, contracts/). A crossing is a call whose package (gateway.api, gateway.services, ...; or
partners, contracts) differs from the previous counted call's. A first request of another kind runs before, so
imports and first-use caches are not part of the walk.

    python bench/cancel_walk.py [--list]

Last line: `cancel_walk: <modules> modules, <crossings> package crossings (no target)`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from itertools import pairwise
from pathlib import Path

from gateway import create_app
from gateway.demo import seed_demo
from gateway.domain.clock import utcnow
from gateway.runtime import EXTENSION
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tuple(str(ROOT / folder) + "/" for folder in ("gateway", "partners", "contracts"))


def seeded_app(folder: Path):
    """An app on a fresh SQLite store with the demo partners (`gateway demo`'s): one's key and active member."""
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'walk.sqlite3'}"})
    store = app.extensions[EXTENSION]["store"]
    migrate.upgrade(store.engine)
    keys = seed_demo(store, now=utcnow(), receiver_url="http://127.0.0.1:9/hooks")  # nothing is sent
    partner_code, token = next(iter(keys.partners.items()))
    with store.read() as session:
        subscription = subscription_service.find_by_partner_ref(session, partner_code, "demo-inactive-1")
        return app, token, subscription.id


def module_of(path: str) -> str:
    return str(Path(path).relative_to(ROOT).with_suffix("")).replace("/", ".")


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "gateway" else parts[0]


def traced_cancel(app, token: str, subscription_id: str) -> list[str]:
    """The project modules of every call made while the cancel is served, in call order."""
    client = app.test_client()
    authorization = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/v1/subscriptions/{subscription_id}", headers=authorization).status_code == 200
    calls: list[str] = []

    def on_event(frame, event, _argument) -> None:
        path = frame.f_code.co_filename
        if event == "call" and path.startswith(PROJECT) and path.endswith(".py"):
            calls.append(module_of(path))

    headers = {**authorization, "Idempotency-Key": str(uuid.uuid4())}
    sys.setprofile(on_event)
    try:
        response = client.post(f"/v1/subscriptions/{subscription_id}/cancel", json={}, headers=headers)
    finally:
        sys.setprofile(None)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancellation_scheduled", response.json
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="print the modules, one per line")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, token, subscription_id = seeded_app(Path(folder))
        calls = traced_cancel(app, token, subscription_id)
        app.extensions[EXTENSION]["store"].dispose()
    modules = sorted(set(calls))
    crossings = sum(1 for before, after in pairwise(calls) if package_of(before) != package_of(after))
    if options.list:
        print("\n".join(modules))
    packages = sorted({package_of(module) for module in modules})
    print(f"packages: {', '.join(packages)}")
    print(f"cancel_walk: {len(modules)} modules, {crossings} package crossings (no target)")


if __name__ == "__main__":
    main()
