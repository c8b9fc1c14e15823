"""The migrations build exactly the models' schema, up and down, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import re
import time

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from gateway.store import migrate
from gateway.store.db import make_engine
from gateway.store.models import Base

TABLES = {
    "partners",
    "webhook_endpoints",
    "api_keys",
    "subscriptions",
    "subscription_history",
    "outbox_events",
    "idempotency_records",
    "reconciliations",
    "reconciliation_items",
    "deliveries",
    "delivery_attempts",
    "operator_events",
    "inbound_events",
    "campaigns",
    "sharing_policies",
    "partner_notices",
    "faq_articles",
    "escalations",
    "escalation_entries",
    "sandbox_clock",
    "endpoint_event_types",
    "product_orders",
}


def _old_partner(engine, code: str) -> None:
    """A partner as an earlier revision stores it (raw SQL: today's Partner model has columns it lacks)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO partners (code, display_name, markets, default_locale, status, flavour, version, "
                "created_at, updated_at) VALUES (:code, :code, '[\"DE\"]', 'de-DE', 'active', 'standard', 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            ),
            {"code": code},
        )


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(database):
    engine = make_engine(database.url, database.schema)
    try:
        assert migrate.current_revision(engine) is None
        assert not migrate.is_current(engine)

        migrate.upgrade(engine)
        assert migrate.is_current(engine)
        assert _tables(engine) == TABLES == {table.name for table in Base.metadata.sorted_tables}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert _tables(engine) == set()

        migrate.upgrade(engine)  # and up again, as after a rollback of a bad release
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database):
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_endpoints_registered_before_signing_get_a_secret(database):
    """0004 adds signing: an endpoint that existed before gets a whsec_ secret of its own."""
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO partners (code, display_name, markets, default_locale, status, flavour, version, "
                "created_at, updated_at) VALUES ('old', 'Old', '[\"DE\"]', 'de', 'active', 'standard', 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            for endpoint_id in ("ep_1", "ep_2"):
                connection.execute(
                    text(
                        "INSERT INTO webhook_endpoints (id, partner_code, url, description, status, created_at) "
                        "VALUES (:id, 'old', 'https://hooks.example.net/x', '', 'enabled', '2026-01-01 00:00:00')"
                    ),
                    {"id": endpoint_id},
                )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            secrets = [row[0] for row in connection.exec_driver_sql("SELECT secret FROM webhook_endpoints")]
        assert len(set(secrets)) == 2 and all(secret.startswith("whsec_") for secret in secrets)
    finally:
        engine.dispose()


def test_a_store_at_0009_loses_its_reconciliation_scratch_table_and_gets_it_back_on_downgrade(database):
    """0010 drops reconciliation_refs, whose rows now live in each job's TEMP table; a store that had run
    0009 (the claim column) is upgraded past it, and a downgrade rebuilds the table 0009 left."""
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine, "0009")
        assert "claim" in {column["name"] for column in inspect(engine).get_columns("reconciliation_refs")}
        migrate.upgrade(engine)
        assert "reconciliation_refs" not in _tables(engine)
        migrate.downgrade(engine, "0009")
        assert {column["name"] for column in inspect(engine).get_columns("reconciliation_refs")} == {
            "reconciliation_id",
            "partner_ref",
            "line",
            "bad",
            "claim",
        }
    finally:
        engine.dispose()


def test_callbacks_remembered_before_0013_are_applied_ones_and_a_downgrade_forgets_refusals(database):
    """0013 remembers refused callbacks too (status_code): the ones remembered before were all applied; the code
    before 0013 would replay a refusal as an applied result, so a downgrade forgets refusals."""
    engine = make_engine(database.url, database.schema)
    insert = (
        "INSERT INTO inbound_events (partner_code, event_id, event_type, result, received_at{status}) "
        "VALUES ('old', :id, 'subscription.suspend', '{{}}', '2026-12-01 00:00:00'{value})"
    )
    try:
        migrate.upgrade(engine, "0011")
        with engine.begin() as connection:
            connection.execute(text(insert.format(status="", value="")), {"id": "msg_applied"})
        migrate.upgrade(engine)
        with engine.begin() as connection:
            assert connection.execute(text("SELECT status_code FROM inbound_events")).scalar_one() == 200
            connection.execute(text(insert.format(status=", status_code", value=", 409")), {"id": "msg_refused"})
        migrate.downgrade(engine, "0011")
        with engine.connect() as connection:
            assert [row[0] for row in connection.execute(text("SELECT event_id FROM inbound_events"))] == [
                "msg_applied"
            ]
    finally:
        engine.dispose()


def test_0014_removes_the_secrets_kept_in_idempotency_records(database):
    """Responses stored for Idempotency-Key retries before 0014 held the whsec_ secrets they showed: the
    migration withholds them (null, `secret_withheld: true`) and leaves every other response as it was."""
    engine = make_engine(database.url, database.schema)
    created = {
        "code": "old",
        "webhook_endpoints": [
            {"id": "ep_1", "secret": "whsec_QUJDREVG+/==", "secret_withheld": False},
            {"id": "ep_2", "secret": "whsec_R0hJSktM", "secret_withheld": False},
        ],
    }
    bodies = {
        "onboard": json.dumps(created),
        "inbound": '{"secret": "whsec_TU5PUFFS"}',
        "revoke": '{"id": "key_1", "prefix": "gw_0123456789ab", "status": "revoked"}',
        "running": "",  # a claim still in progress
    }
    insert = text(
        "INSERT INTO idempotency_records (owner, key, fingerprint, status_code, body, headers, created_at) "
        "VALUES ('operator', :key, 'f', :status, :body, '{}', '2026-12-06 12:00:00')"
    )
    try:
        migrate.upgrade(engine, "0013")
        with engine.begin() as connection:
            for key, body in bodies.items():
                connection.execute(insert, {"key": key, "body": body, "status": 0 if key == "running" else 201})
        migrate.upgrade(engine)
        with engine.connect() as connection:
            kept = dict(connection.execute(text("SELECT key, body FROM idempotency_records")).all())
        assert "whsec_" not in "".join(kept.values())
        assert json.loads(kept["onboard"]) == {
            "code": "old",
            "webhook_endpoints": [
                {"id": "ep_1", "secret": None, "secret_withheld": True},
                {"id": "ep_2", "secret": None, "secret_withheld": True},
            ],
        }
        assert json.loads(kept["inbound"]) == {"secret": None, "secret_withheld": True}
        assert kept["revoke"] == bodies["revoke"] and kept["running"] == ""
        migrate.downgrade(engine, "0013")  # nothing to give back
    finally:
        engine.dispose()


def test_0015_downgrade_removes_deleted_endpoints_as_the_code_before_did_and_keeps_every_other_delivery(database):
    """Below 0015 a deleted endpoint is unknown: the downgrade removes deleted endpoints with their deliveries and
    attempts, as deleting did before, and leaves every other endpoint's history (no table copy that could
    cascade into it)."""
    from gateway.delivery.publisher import publish_events
    from gateway.domain.clock import utcnow
    from gateway.services import partners as partner_service
    from gateway.store.db import Store
    from gateway.store.models import Delivery, DeliveryAttempt
    from tests.support.seeding import add_subscription

    engine = make_engine(database.url, database.schema)
    store = Store(engine)
    now = utcnow()
    try:
        migrate.upgrade(engine)
        with store.transaction() as session:
            partner_service.add_partner(
                session,
                code="old",
                display_name="Old",
                markets=["DE"],
                default_locale="de",
                flavour="standard",
                webhook_urls=["https://hooks.example.net/gone", "https://hooks.example.net/kept"],
                now=now,
            )
            gone, kept = (endpoint.id for endpoint in partner_service.list_endpoints(session, "old"))
            add_subscription(session, "old", "customer", now=now)
        while True:  # a publisher skips its turn while another test's holds the lock (taken per database)
            with store.transaction() as session:
                if publish_events(session, now):
                    break
            time.sleep(0.05)
        with store.transaction() as session:
            for delivery in session.query(Delivery):
                session.add(
                    DeliveryAttempt(
                        delivery_id=delivery.id,
                        attempted_at=now,
                        duration_ms=1.0,
                        http_status=503,
                        outcome="retry",
                        dispatcher="d",
                    )
                )
        with store.transaction() as session:
            partner_service.remove_endpoint(session, gone, now=now)

        migrate.downgrade(engine, "0014")
        with engine.connect() as connection:
            endpoints = [row[0] for row in connection.execute(text("SELECT id FROM webhook_endpoints"))]
            deliveries = [row[0] for row in connection.execute(text("SELECT endpoint_id FROM deliveries"))]
            attempts = connection.execute(text("SELECT count(*) FROM delivery_attempts")).scalar_one()
        assert endpoints == [kept] and deliveries and set(deliveries) == {kept}
        assert attempts == len(deliveries)
        assert "deleted_at" not in {column["name"] for column in inspect(engine).get_columns("webhook_endpoints")}
    finally:
        engine.dispose()


def test_0018_frees_a_purged_partner_ref_and_keeps_the_history_of_the_rebuilt_table(database):
    """0018 rebuilds subscriptions on SQLite (to drop a constraint): their history, events and cases stay;
    after it, a partner_ref is unique among live subscriptions only. A downgrade that could not hold a
    reference taken again stops and says why."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from gateway.domain.clock import utcnow
    from gateway.store.db import Store
    from tests.support.seeding import add_subscription

    engine = make_engine(database.url, database.schema)
    store = Store(engine)
    now = utcnow()
    try:
        migrate.upgrade(engine, "0017")
        _old_partner(engine, "old")
        first = "sub_old_1"
        with engine.begin() as connection:  # as 0017 stores it (raw SQL: today's models have columns it lacks)
            connection.execute(
                text(
                    "INSERT INTO subscriptions (id, partner_code, partner_ref, plan, market, locale, billing_anchor, "
                    "status, status_reason, billed_by, sequence, version, created_at, updated_at) VALUES (:id, 'old', "
                    "'customer-1', 'standard', 'DE', 'de-DE', '2026-01-01', 'active', 'account_linked', 'partner', 1, "
                    "1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": first},
            )
            connection.execute(
                text(
                    "INSERT INTO subscription_history (subscription_id, sequence, command, from_status, to_status, "
                    "reason, actor, occurred_at, details) VALUES (:id, 1, 'activate', NULL, 'active', "
                    "'account_linked', 'service', '2026-01-01 00:00:00', '{}')"
                ),
                {"id": first},
            )
        with engine.connect() as connection:
            history_before = connection.execute(text("SELECT count(*) FROM subscription_history")).scalar_one()
        assert history_before >= 1

        migrate.upgrade(engine)
        with engine.begin() as connection:
            history = connection.execute(text("SELECT count(*) FROM subscription_history")).scalar_one()
            assert history == history_before
            connection.execute(text("UPDATE subscriptions SET status = 'purged' WHERE id = :id"), {"id": first})
        with store.transaction() as session:
            add_subscription(session, "old", "customer-1", now=now)  # the reference is free again
        with pytest.raises(IntegrityError), engine.begin() as connection:  # but for one live subscription only
            connection.execute(text("UPDATE subscriptions SET status = 'active' WHERE id = :id"), {"id": first})

        with pytest.raises(RuntimeError, match="purged subscription and a newer one"):
            migrate.downgrade(engine, "0017")
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_0020_says_which_jobs_already_run_withheld_only_at_gateway(database):
    """0020 counts each job's unreadable rows (bad-row items without a partner_ref) and marks the completed jobs
    that had one, or no rows at all, as having withheld only_at_gateway."""
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine, "0019")
        _old_partner(engine, "old")
        with engine.begin() as connection:
            for job_id, status, rows in [
                ("rec_unread", "completed", 3),
                ("rec_named", "completed", 2),
                ("rec_empty", "completed", 0),
                ("rec_failed", "failed", 1),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO reconciliations (id, partner_code, roster_format, status, rows, counts, repaired, "
                        "created_at) VALUES (:id, 'old', 'csv', :status, :rows, '{}', 0, '2026-01-01 00:00:00')"
                    ),
                    {"id": job_id, "status": status, "rows": rows},
                )
            for job_id, partner_ref in [
                ("rec_unread", None),
                ("rec_unread", None),
                ("rec_unread", "named"),
                ("rec_named", "named"),
                ("rec_failed", None),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO reconciliation_items (reconciliation_id, kind, partner_ref, detail) "
                        "VALUES (:job, 'bad_row', :ref, 'bad')"
                    ),
                    {"job": job_id, "ref": partner_ref},
                )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            jobs = connection.execute(
                text("SELECT id, unreadable_rows, only_at_gateway_withheld FROM reconciliations")
            ).all()
        assert {job_id: (unreadable, bool(withheld)) for job_id, unreadable, withheld in jobs} == {
            "rec_unread": (2, True),
            "rec_named": (0, False),
            "rec_empty": (0, True),
            "rec_failed": (1, False),
        }
        migrate.downgrade(engine, "0019")
        assert "unreadable_rows" not in {column["name"] for column in inspect(engine).get_columns("reconciliations")}
    finally:
        engine.dispose()


def test_0022_keeps_orders_placed_before_it_without_a_fingerprint(database):
    """0022 adds each product order's request fingerprint; an order stored at 0021 keeps its row, with none (a
    retry of it by externalId is taken as the same request), and a downgrade drops the column again."""
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine, "0021")
        _old_partner(engine, "old")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO product_orders (id, partner_code, external_id, state, body, version, created_at) "
                    "VALUES ('po_1', 'old', 'ORD-1', 'completed', '{}', 1, '2026-01-01 00:00:00')"
                )
            )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT id, external_id, request_fingerprint FROM product_orders")).all()
        assert [tuple(row) for row in kept] == [("po_1", "ORD-1", None)]
        migrate.downgrade(engine, "0021")
        assert "request_fingerprint" not in {column["name"] for column in inspect(engine).get_columns("product_orders")}
        assert migrate.current_revision(engine) == "0021"
    finally:
        engine.dispose()


def _index_definition(engine, name: str) -> str | None:
    """The CREATE INDEX the database keeps for `name` (alembic cannot compare expression indexes on SQLite)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name"
        return connection.execute(text(query), {"name": name}).scalar()


def test_0023_indexes_references_in_lower_case_and_gives_partners_a_time_zone(database):
    """0023 adds the lookup's (partner_code, lower(partner_ref)) index, text_pattern_ops on PostgreSQL so a LIKE
    prefix can read it, and partners.time_zone, none for a partner stored before; a downgrade removes both."""
    engine = make_engine(database.url, database.schema)
    try:
        migrate.upgrade(engine, "0022")
        _old_partner(engine, "old")
        assert _index_definition(engine, "ix_subscriptions_partner_ref_lower") is None
        migrate.upgrade(engine)
        definition = _index_definition(engine, "ix_subscriptions_partner_ref_lower")
        assert definition is not None
        assert re.search(r"\(partner_code, lower\(\(?partner_ref\)?(::text)?\)", definition.replace('"', ""))
        assert ("text_pattern_ops" in definition) is (engine.dialect.name == "postgresql")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT code, time_zone FROM partners")).all() == [("old", None)]
        migrate.downgrade(engine, "0022")
        assert _index_definition(engine, "ix_subscriptions_partner_ref_lower") is None
        assert "time_zone" not in {column["name"] for column in inspect(engine).get_columns("partners")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT code FROM partners")).scalar_one() == "old"
    finally:
        engine.dispose()
