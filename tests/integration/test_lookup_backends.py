"""The subscriber lookup's reads on both backends: notices with their deliveries, FAQ titles, open escalations."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, text, update

from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.situation import Inactivity, NoticeDelivery
from gateway.services import faq as faq_service
from gateway.services import lookup as lookup_service
from gateway.store.models import Delivery, Subscription
from tests.support.lookup import add_open_escalation, subscriber_in
from tests.support.seeding import Seeder, add_subscription


def test_lookup_reads_everything_on_each_backend(store):
    seed = Seeder(store)
    seed.partner("alpha", locale="fr-FR")
    seed.partner("beta")
    seed.endpoint("alpha")
    seed.endpoint("alpha", "https://hooks.example.net/second")
    now = utcnow()
    with store.transaction() as session:
        warned = subscriber_in(session, "alpha", "warned", now=now)
        subscriber_in(session, "beta", "warned", now=now)  # the same partner_ref at another partner
        add_open_escalation(session, warned, now=now)
    with store.transaction() as session:
        publish_events(session, now)
        first = session.scalar(select(Delivery.id).order_by(Delivery.id).limit(1))
        session.execute(update(Delivery).where(Delivery.id == first).values(status="delivered"))
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=now)

    with store.read() as session:
        found = lookup_service.lookup_subscriber(
            session, partner_code="alpha", partner_ref="warned", locale="fr-BE", now=now
        )

    assert found.subscription.partner_code == "alpha"
    assert found.inactivity is Inactivity.WARNED
    assert found.explanation.locale == "fr" and found.explanation.status_label == "Actif"
    [notice] = found.notices  # the activation; warnings come from a campaign, not from this setup
    assert notice.event_type == "subscription.activated"
    assert len(notice.deliveries) == 2 and notice.delivery is NoticeDelivery.PENDING
    assert [link.locale for link in found.faq] == ["fr"] * len(found.faq)
    assert found.faq[0].slug == "keep-membership-confirmation"
    assert [case.subscription_id for case in found.escalations] == [warned.id]


def _prefix_world(store, now) -> None:
    seed = Seeder(store)
    seed.partner("alpha")
    seed.partner("beta")
    with store.transaction() as session:
        for number in range(13):
            add_subscription(session, "alpha", f"Shop-{number:02d}", now=now)
        subscriber_in(session, "alpha", "purged", partner_ref="shop-99", now=now)
        subscriber_in(session, "alpha", "active", partner_ref="shop-99", now=now)  # the member came back
        for reference in ("50%-off", "50x-off", "a_b", "axb", "back\\slash"):
            add_subscription(session, "alpha", reference, now=now)
        add_subscription(session, "beta", "shop-beta", now=now)


def test_a_prefix_lists_the_first_references_in_lower_case_order_one_subscription_each(store):
    now = utcnow()
    _prefix_world(store, now)

    with store.read() as session:
        listed = lookup_service.find_candidates(session, "alpha", "SHOP")
        narrower = lookup_service.find_candidates(session, "alpha", "shop-9")
        any_case = lookup_service.find_candidates(session, "alpha", "SHOP-99")

    shown = lookup_service.CANDIDATES_SHOWN
    assert [s.partner_ref for s in listed] == [f"Shop-{number:02d}" for number in range(shown + 1)]
    assert [(s.partner_ref, s.status) for s in narrower] == [("shop-99", "active")]  # not its purged past
    assert [(s.partner_ref, s.status) for s in any_case] == [("shop-99", "active")]


def test_wildcards_typed_in_a_prefix_match_only_themselves(store):
    now = utcnow()
    _prefix_world(store, now)

    with store.read() as session:
        found = {
            typed: [s.partner_ref for s in lookup_service.find_candidates(session, "alpha", typed)]
            for typed in ("50%", "a_", "back\\", "%", "_", "shop-beta")
        }

    assert found == {
        "50%": ["50%-off"],
        "a_": ["a_b"],
        "back\\": ["back\\slash"],
        "%": [],
        "_": [],
        "shop-beta": [],  # another partner's
    }


def test_the_any_case_and_prefix_lookups_read_the_lower_case_index_on_postgresql(store):
    """The statements find_candidates sends, explained: both find rows through ix_subscriptions_partner_ref_lower
    and stop at CANDIDATES_SHOWN + 1 (a prefix that 20,000 references match is read in the index's order, not
    sorted whole), on a partner with enough members (20,000, copies of one row) that the planner
    weighs its choices as in production."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("text_pattern_ops and the plans are PostgreSQL's")
    now = utcnow()
    _prefix_world(store, now)
    columns = [column.name for column in Subscription.__table__.columns]
    copied = ", ".join({"id": "'sub_bulk_' || n", "partner_ref": "'bulk-' || n"}.get(name, name) for name in columns)
    with store.engine.begin() as connection:
        connection.execute(
            text(
                # The names are the model's own columns, not input.
                f"INSERT INTO subscriptions ({', '.join(columns)}) SELECT {copied} FROM subscriptions, "  # noqa: S608
                "generate_series(1, 20000) AS n WHERE partner_ref = 'Shop-00'"
            )
        )
        connection.exec_driver_sql("ANALYZE subscriptions")
    sent: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "lower(subscriptions.partner_ref)" in statement:
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        with store.read() as session:
            assert lookup_service.find_candidates(session, "alpha", "SHOP-01")  # any case
            assert lookup_service.find_candidates(session, "alpha", "SHOP-1")  # a prefix
            assert len(lookup_service.find_candidates(session, "alpha", "b")) == 11  # 20,000 match: read 11
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)

    # Any case found at once; a prefix after an any-case search that found none.
    assert [" LIKE " in statement for statement, _ in sent] == [False, False, True, False, True]
    with store.engine.connect() as connection:
        for statement, parameters in sent:
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "ix_subscriptions_partner_ref_lower" in plan, plan
            assert plan.startswith("Limit"), plan
            if statement == sent[-1][0] and parameters == sent[-1][1]:  # "b": 20,000 matches
                # Read in the index's order and stopped at the limit, not a sort of every match (an incremental
                # sort of the rows sharing one lower-case reference is fine; a few matches may well be sorted).
                assert not re.search(r"->\s+Sort\b", plan), plan
