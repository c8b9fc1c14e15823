"""delivery

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:51:21.790710
"""

import base64
import secrets

import sqlalchemy as sa
from alembic import op

import gateway.store.types  # noqa: F401 RUF100  (autogenerate writes custom types with their module path)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("partner_code", "event_id", name=op.f("pk_inbound_events")),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_events_received_at"), ["received_at"], unique=False)

    op.create_table(
        "operator_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=True),
        sa.Column("endpoint_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_events")),
    )
    with op.batch_alter_table("operator_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_operator_events_partner_code"), ["partner_code"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_events.id"], name=op.f("fk_deliveries_event_id_outbox_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event_id", "endpoint_id", name=op.f("uq_deliveries_event_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_deliveries_order", ["endpoint_id", "subscription_id", "status", "position"], unique=False
        )
        batch_op.create_index("ix_deliveries_partner_created", ["partner_code", "created_at"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempted_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_class", sa.String(length=100), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("dispatcher", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_attempts_delivery_id"), ["delivery_id"], unique=False)

    op.add_column("outbox_events", sa.Column("position", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_outbox_events_position"), "outbox_events", ["position"], unique=True)

    op.add_column("partners", sa.Column("deliveries_paused", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("partners", sa.Column("delivery_rate", sa.Float(), nullable=True))
    op.add_column("partners", sa.Column("next_send_at", gateway.store.types.UTCDateTime(), nullable=True))
    op.add_column("partners", sa.Column("inbound_secret", sa.String(length=80), nullable=True))

    op.add_column("webhook_endpoints", sa.Column("secret", sa.String(length=80), server_default="", nullable=False))
    op.add_column("webhook_endpoints", sa.Column("previous_secret", sa.String(length=80), nullable=True))
    op.add_column(
        "webhook_endpoints", sa.Column("previous_secret_expires_at", gateway.store.types.UTCDateTime(), nullable=True)
    )
    op.add_column(
        "webhook_endpoints", sa.Column("circuit_state", sa.String(length=16), server_default="closed", nullable=False)
    )
    op.add_column(
        "webhook_endpoints", sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("webhook_endpoints", sa.Column("circuit_retry_at", gateway.store.types.UTCDateTime(), nullable=True))
    op.add_column("webhook_endpoints", sa.Column("failing_since", gateway.store.types.UTCDateTime(), nullable=True))
    op.add_column("webhook_endpoints", sa.Column("disabled_reason", sa.Text(), nullable=True))

    # Endpoints registered before signing existed get their secret now (an operator reads it with a rotation).
    endpoints = sa.table("webhook_endpoints", sa.column("id", sa.String), sa.column("secret", sa.String))
    connection = op.get_bind()
    for (endpoint_id,) in connection.execute(sa.select(endpoints.c.id).where(endpoints.c.secret == "")).all():
        connection.execute(
            endpoints.update()
            .where(endpoints.c.id == endpoint_id)
            .values(secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("circuit_retry_at")
        batch_op.drop_column("consecutive_failures")
        batch_op.drop_column("circuit_state")
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret")
        batch_op.drop_column("secret")

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("inbound_secret")
        batch_op.drop_column("next_send_at")
        batch_op.drop_column("delivery_rate")
        batch_op.drop_column("deliveries_paused")

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_position"))
        batch_op.drop_column("position")

    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempts_delivery_id"))

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_partner_created")
        batch_op.drop_index("ix_deliveries_order")
        batch_op.drop_index("ix_deliveries_due")

    op.drop_table("deliveries")
    with op.batch_alter_table("operator_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_events_partner_code"))
        batch_op.drop_index(batch_op.f("ix_operator_events_created_at"))

    op.drop_table("operator_events")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_events_received_at"))

    op.drop_table("inbound_events")
