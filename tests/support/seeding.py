"""Test data made straight through the services: partners, endpoints, keys, subscriptions, sharing policies."""

from __future__ import annotations

from datetime import timedelta

from gateway.domain.clock import utcnow
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import sharing as sharing_service
from gateway.services import subscriptions as subscription_service
from gateway.store.db import Store


class Seeder:
    """Creates partners and keys straight through the services, for tests that need them to exist."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def partner(self, code: str, markets=("DE",), locale="de-DE", **options) -> str:
        with self.store.transaction() as session:
            partner_service.add_partner(
                session,
                code=code,
                display_name=code.title(),
                markets=list(markets),
                default_locale=locale,
                flavour=options.pop("flavour", "standard"),
                now=utcnow(),
                **options,
            )
        return code

    def endpoint(self, partner_code: str, url: str = "https://hooks.example.net/gateway") -> str:
        return self.endpoint_with_secret(partner_code, url)[0]

    def endpoint_with_secret(self, partner_code: str, url: str) -> tuple[str, str]:
        """An endpoint (loopback allowed: tests deliver to receivers on 127.0.0.1) and its signing secret."""
        with self.store.transaction() as session:
            endpoint = partner_service.add_endpoint(
                session, partner_code, url=url, description="test", allow_private=True, now=utcnow()
            )
            return endpoint.id, endpoint.secret

    def key(self, kind: KeyKind, partner_code: str | None = None, scopes=None) -> key_service.IssuedKey:
        chosen = sorted(SCOPES_BY_KIND[kind]) if scopes is None else sorted(scopes)
        with self.store.transaction() as session:
            return key_service.issue_key(
                session, kind=kind, scopes=chosen, name="test", partner_code=partner_code, now=utcnow()
            )

    def token(self, kind: KeyKind, partner_code: str | None = None, scopes=None) -> str:
        return self.key(kind, partner_code, scopes).token


def add_subscription(
    session, partner_code: str, partner_ref: str, *, now=None, active: bool = True, market="DE", billed_by="partner"
):
    """A standard-plan subscription billed monthly from today (by the partner unless `billed_by` says the
    service), activated by the service (for the member `member-<partner_ref>`) unless `active=False`."""
    now = now or utcnow()
    subscription = subscription_service.create_subscription(
        session,
        partner_code=partner_code,
        partner_ref=partner_ref,
        plan="standard",
        market=market,
        billing_anchor=now.date(),
        now=now,
        activation_window=timedelta(days=30),
        billed_by=billed_by,
    )
    if active:
        subscription_service.apply_command(
            session,
            subscription,
            Command.ACTIVATE,
            actor=Actor.SERVICE,
            reason="account_linked",
            now=now,
            member_id=f"member-{partner_ref}",
        )
    return subscription


def sharing_policy(store: Store, markets: list[str], *, now=None, lead=timedelta(days=30), in_effect=False):
    """A one-household sharing policy for `markets`, announced at `now` (its effective date `lead` later) by a
    scheduler run; with `in_effect`, the run is on its effective date, so the policy is in effect too."""
    now = now or utcnow()
    with store.transaction() as session:
        policy = sharing_service.create_policy(
            session, markets=markets, rule="one_household", extra_member={}, effective_at=now + lead, lead=lead, now=now
        )
    sharing_service.run_due_sharing_notices(store, now=now + lead if in_effect else now, reminder_schedule=[])
    return policy
