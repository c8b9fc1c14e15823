"""Partner registry and key use cases on a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, InvalidInput, NotFound, StaleVersion
from gateway.domain.keys import KeyKind
from gateway.domain.partners import PartnerStatus
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services.keys import AuthenticationFailed, PartnerSuspended


def _add(session, code="nordlink", **overrides):
    spec = {
        "display_name": "Nordlink",
        "markets": ["DE"],
        "default_locale": "de-DE",
        "flavour": "standard",
        **overrides,
    }
    return partner_service.add_partner(session, code=code, now=utcnow(), **spec)


def test_a_partner_round_trips_with_aware_utc_times(store):
    with store.transaction() as session:
        created = _add(session, webhook_urls=["https://b.example/y", "https://a.example/x"])
    with store.transaction() as session:
        loaded = partner_service.get_partner(session, "nordlink")
        endpoints = partner_service.list_endpoints(session, "nordlink")
    assert loaded.markets == ["DE"]
    assert loaded.created_at == created.created_at and loaded.created_at.tzinfo is not None
    # Added in one command, so at one instant: listed by URL.
    assert [endpoint.url for endpoint in endpoints] == ["https://a.example/x", "https://b.example/y"]


def test_a_failed_command_writes_nothing(store):
    with pytest.raises(Conflict), store.transaction() as session:
        _add(session, code="first")
        _add(session, code="first")
    with store.transaction() as session:
        assert partner_service.list_partners(session, limit=10) == []


def test_invalid_partner_is_refused_with_every_field(store):
    with pytest.raises(InvalidInput) as raised, store.transaction() as session:
        _add(session, code="Bad Code", markets=["ZZ"], default_locale="?", flavour="smoke-signals")
    assert set(raised.value.errors) == {"code", "markets.0", "default_locale", "flavour"}


def test_versions_guard_concurrent_edits(store):
    with store.transaction() as session:
        _add(session)
    with store.transaction() as session:
        partner_service.update_partner(session, "nordlink", expected_version=1, now=utcnow(), display_name="A")
    with pytest.raises(StaleVersion), store.transaction() as session:
        partner_service.update_partner(session, "nordlink", expected_version=1, now=utcnow(), display_name="B")
    with store.transaction() as session:
        assert partner_service.get_partner(session, "nordlink").display_name == "A"


def test_a_partners_time_zone_is_checked_by_the_use_case_too_and_none_clears_it(store):
    """Callers other than the API (the CLI, a script) get the same rule: zoneinfo's names, nothing else."""
    with store.transaction() as session:
        _add(session)
    with pytest.raises(InvalidInput) as refused, store.transaction() as session:
        partner_service.update_partner(session, "nordlink", expected_version=None, now=utcnow(), time_zone="Mars/Base")
    assert list(refused.value.errors) == ["time_zone"]
    with store.transaction() as session:
        partner_service.update_partner(session, "nordlink", expected_version=None, now=utcnow(), time_zone="Asia/Tokyo")
    with store.transaction() as session:
        assert partner_service.get_partner(session, "nordlink").time_zone == "Asia/Tokyo"
        partner_service.update_partner(session, "nordlink", expected_version=None, now=utcnow(), display_name="N")
    with store.transaction() as session:
        assert partner_service.get_partner(session, "nordlink").time_zone == "Asia/Tokyo"  # left out: kept
        partner_service.update_partner(session, "nordlink", expected_version=None, now=utcnow(), time_zone=None)
    with store.read() as session:
        assert partner_service.get_partner(session, "nordlink").time_zone is None


def test_another_partners_endpoint_is_not_found(store):
    with store.transaction() as session:
        _add(session, webhook_urls=["https://a.example/x"])
        _add(session, code="other")
        endpoint_id = partner_service.list_endpoints(session, "nordlink")[0].id
        assert partner_service.get_endpoint(session, endpoint_id, partner_code="nordlink").id == endpoint_id
        with pytest.raises(NotFound):
            partner_service.get_endpoint(session, endpoint_id, partner_code="other")


def test_key_lifecycle_with_an_explicit_clock(store):
    start = utcnow()
    with store.transaction() as session:
        _add(session)
        issued = key_service.issue_key(
            session,
            kind=KeyKind.PARTNER,
            scopes=["events:read"],
            name="x",
            partner_code="nordlink",
            now=start,
        )
    with store.transaction() as session:
        principal = key_service.authenticate(session, issued.token, now=start)
    assert principal.partner_code == "nordlink" and principal.scopes == {"events:read"}

    with store.transaction() as session:
        successor = key_service.rotate_key(session, issued.key.id, overlap=timedelta(hours=24), now=start)
    inside, after = start + timedelta(hours=23, minutes=59), start + timedelta(hours=24)
    with store.transaction() as session:
        assert key_service.authenticate(session, issued.token, now=inside).key_id == issued.key.id
        assert key_service.authenticate(session, successor.token, now=after).key_id == successor.key.id
        with pytest.raises(AuthenticationFailed, match="expired"):
            key_service.authenticate(session, issued.token, now=after)

    with store.transaction() as session:
        key_service.revoke_key(session, successor.key.id, now=after)
    with store.transaction() as session, pytest.raises(AuthenticationFailed, match="revoked"):
        key_service.authenticate(session, successor.token, now=after)


def test_a_suspended_partners_key_is_refused(store):
    with store.transaction() as session:
        _add(session)
        token = key_service.issue_key(
            session,
            kind=KeyKind.PARTNER,
            scopes=["callcenter"],
            name="x",
            partner_code="nordlink",
            now=utcnow(),
        ).token
        partner_service.set_partner_status(session, "nordlink", PartnerStatus.SUSPENDED, now=utcnow())
    with store.transaction() as session, pytest.raises(PartnerSuspended):
        key_service.authenticate(session, token, now=utcnow())


def test_an_unknown_token_with_a_known_prefix_is_refused(store):
    with store.transaction() as session:
        issued = key_service.issue_key(session, kind=KeyKind.OPERATOR, scopes=["admin"], name="x", now=utcnow())
    forged = issued.key.prefix + "_" + "0" * 48
    with store.transaction() as session, pytest.raises(AuthenticationFailed, match="unknown"):
        key_service.authenticate(session, forged, now=utcnow())
