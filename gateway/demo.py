"""Demo data: three partners in different markets (standard webhooks, batches, TM Forum hubs) and fresh keys for
every audience."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gateway.domain.keys import SCOPES_BY_KIND, KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.periods import add_months
from gateway.domain.tmf import TmfApi
from gateway.domain.tmf_events import api_url
from gateway.services import hubs as hub_service
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import subscriptions as subscription_service
from gateway.store.db import Store
from gateway.store.models import ApiKey, Partner, Subscription

DEMO_KEY_PREFIX = "demo: "
DEMO_PARTNERS = [
    {
        "code": "rheinfunk",
        "display_name": "Rheinfunk Mobil (demo)",
        "markets": ["DE", "AT"],
        "default_locale": "de-DE",
        "flavour": "standard",
    },
    {
        "code": "selat-mobile",
        "display_name": "Selat Mobile (demo)",
        "markets": ["MY"],
        "default_locale": "ms-MY",
        "flavour": "batch",
    },
    {
        "code": "alpennetz",
        "display_name": "Alpennetz (demo, TM Forum)",
        "markets": ["AT"],
        "default_locale": "de-AT",
        "flavour": "standard",  # its own calls; what it receives goes to its TM Forum hubs, spoken to as `tmf`
    },
]
# Partners that speak TM Forum: no plain webhook endpoint, a hub on each TMF API instead (every event type), as
# an operator's system registers them with POST /tmf-api/<api>/v4/hub.
DEMO_TMF_HUBS: dict[str, tuple[TmfApi, ...]] = {"alpennetz": (TmfApi.PRODUCT_INVENTORY, TmfApi.PRODUCT_ORDERING)}


def tmf_try_commands(keys: DemoKeys, base: str, *, partner_ref: str, receiver_url: str) -> str:
    """The TM Forum lines of the demo's "Try:" list, with the TMF partner's key: read its products, order one (an
    add item for `partner_ref`), and register one more hub on the demo receiver, for one event type (its hubs for
    every event are seeded already; the same callback and query again would be a 409 naming them)."""
    inventory, ordering = api_url(base, TmfApi.PRODUCT_INVENTORY), api_url(base, TmfApi.PRODUCT_ORDERING)
    partner = next(spec for spec in DEMO_PARTNERS if spec["code"] in DEMO_TMF_HUBS)
    callback = f"{receiver_url}/{partner['code']}"  # where seed_demo points its hubs
    auth = f"-H 'Authorization: Bearer {keys.partners[partner['code']]}'"
    json_body = "-H 'Content-Type: application/json'"
    characteristics = {"market": partner["markets"][0], "billingAnchor": "2026-01-15"}
    item = {
        "id": "1",
        "action": "add",
        "productOffering": {"id": "standard"},
        "product": {
            "relatedParty": [{"id": partner_ref, "role": "customer"}],
            "productCharacteristic": [{"name": name, "value": value} for name, value in characteristics.items()],
        },
    }
    order = json.dumps({"productOrderItem": [item]})
    hub = json.dumps({"callback": callback, "query": "eventType=ProductStateChangeEvent"})
    return "\n".join(
        [
            f"  curl -s {auth} {inventory}/product     # TM Forum ({partner['code']}): TMF637 products",
            f"  curl -s {auth} {json_body} {ordering}/productOrder \\",
            f"       -d '{order}'",
            f"  curl -s -i {auth} {json_body} {inventory}/hub -d '{hub}'",
        ]
    )


@dataclass(frozen=True)
class DemoKeys:
    operator: str
    service: str
    partners: dict[str, str]  # partner code -> token with every partner scope
    webhook_secrets: dict[str, list[str]]  # partner code -> the secrets its demo endpoints (and hubs) sign with


def seed_demo(store: Store, *, now: datetime, receiver_url: str) -> DemoKeys:
    """Create the demo partners if missing, revoke earlier demo keys, and issue new ones (tokens are shown once).

    Each demo partner has one endpoint on the local demo receiver, or a TM Forum partner one hub per TMF API;
    they are pointed at `receiver_url` again on every run (the receiver's port may differ between runs).
    """
    with store.transaction() as session:
        for spec in DEMO_PARTNERS:
            url = f"{receiver_url}/{spec['code']}"
            hub_apis = DEMO_TMF_HUBS.get(spec["code"], ())
            if session.get(Partner, spec["code"]) is None:
                webhook_urls = [] if hub_apis else [url]
                partner_service.add_partner(
                    session, now=now, webhook_urls=webhook_urls, allow_private_endpoints=True, **spec
                )
            endpoints = partner_service.list_endpoints(session, spec["code"])
            for api in hub_apis:
                if not any(endpoint.hub_api == api for endpoint in endpoints):
                    hub_service.register_hub(
                        session, spec["code"], api, callback=url, query=None, allow_private=True, now=now
                    )
            for endpoint in partner_service.list_endpoints(session, spec["code"]):
                endpoint.url = url
        _seed_inactive_members(session, now)
        for key in session.scalars(select(ApiKey).where(ApiKey.name.startswith(DEMO_KEY_PREFIX))):
            key_service.revoke_key(session, key.id, now=now)

        def issue(kind: KeyKind, partner_code: str | None = None) -> str:
            scopes = sorted(SCOPES_BY_KIND[kind])
            name = f"{DEMO_KEY_PREFIX}{partner_code or kind}"
            return key_service.issue_key(
                session, kind=kind, scopes=scopes, name=name, partner_code=partner_code, now=now
            ).token

        return DemoKeys(
            operator=issue(KeyKind.OPERATOR),
            service=issue(KeyKind.SERVICE),
            partners={spec["code"]: issue(KeyKind.PARTNER, spec["code"]) for spec in DEMO_PARTNERS},
            webhook_secrets={
                spec["code"]: [endpoint.secret for endpoint in partner_service.list_endpoints(session, spec["code"])]
                for spec in DEMO_PARTNERS
            },
        )


def keys_file_text(keys: DemoKeys, base_url: str, *, now: datetime) -> str:
    """The demo's keys as shell variables (`. instance/demo-keys.env`), as printed."""
    lines = [
        f"# gateway demo keys, issued {now:%Y-%m-%d %H:%M:%S} UTC; the next `gateway demo` revokes them",
        f"GATEWAY_URL={base_url}",
        f"OPERATOR_KEY={keys.operator}",
        f"SERVICE_KEY={keys.service}",
        *(f"PARTNER_KEY_{code.upper().replace('-', '_')}={token}" for code, token in keys.partners.items()),
    ]
    return "\n".join(lines) + "\n"


def write_private_file(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (mode 0600), replacing what was there at once: the file
    is never readable by others, not even while it is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


DEMO_INACTIVE_MEMBERS = 3  # per demo partner: long-inactive members for `gateway campaigns inactivity` to warn


def _seed_inactive_members(session, now: datetime) -> None:
    """Members who joined 30 months ago and never watched, once: the inactivity campaign has someone to warn."""
    joined = add_months(now, -30)
    for spec in DEMO_PARTNERS:
        for index in range(DEMO_INACTIVE_MEMBERS):
            partner_ref = f"demo-inactive-{index + 1}"
            known = select(Subscription.id).where(
                Subscription.partner_code == spec["code"], Subscription.partner_ref == partner_ref
            )
            if session.scalar(known) is not None:
                continue
            subscription = subscription_service.create_subscription(
                session,
                partner_code=spec["code"],
                partner_ref=partner_ref,
                plan="standard",
                market=spec["markets"][0],
                billing_anchor=joined.date(),
                now=joined,
                activation_window=timedelta(days=30),
            )
            subscription_service.apply_command(
                session,
                subscription,
                Command.ACTIVATE,
                actor=Actor.SERVICE,
                reason="account_linked",
                now=joined,
                member_id=f"demo-member-{spec['code']}-{index + 1}",
            )
