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
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from gateway import create_app
from gateway.domain.clock import utcnow
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.runtime import EXTENSION
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tuple(str(ROOT / folder) + "/" for folder in ("gateway", "partners", "contracts"))


def seeded_app(folder: Path):
    """An app on a fresh SQLite store with one partner, its key and one active subscription."""
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'walk.sqlite3'}"})
    store = app.extensions[EXTENSION]["store"]
    migrate.upgrade(store.engine)
    now = utcnow()
    with store.transaction() as session:
        partner_service.add_partner(
            session,
            code="acme",
            display_name="Acme",
            markets=["DE"],
            default_locale="de-DE",
            flavour="standard",
            now=now,
        )
        issued = key_service.issue_key(
            session, kind=KeyKind.PARTNER, scopes=sorted(SCOPES_BY_KIND[KeyKind.PARTNER]), name="walk",
            partner_code="acme", now=now,
        )  # fmt: skip
        subscription = subscription_service.create_subscription(
            session,
            partner_code="acme",
            partner_ref="cust-1",
            plan="standard",
            market="DE",
            billing_anchor=now.date(),
            now=now,
            activation_window=timedelta(days=30),
            billed_by="partner",
        )
        subscription_service.apply_command(
            session, subscription, Command.ACTIVATE, actor=Actor.SERVICE, reason="account_linked", now=now,
            member_id="member-cust-1",
        )  # fmt: skip
        return app, issued.token, subscription.id


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
