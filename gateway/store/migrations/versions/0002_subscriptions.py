"""subscriptions, history, outbox, idempotency

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:47:29.007167
"""

import sqlalchemy as sa
from alembic import op

import gateway.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_idempotency_records")),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_outbox_events_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_partner_code"), ["partner_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_events_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("partner_ref", sa.String(length=100), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("market", sa.String(length=2), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("billing_anchor", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=True),
        sa.Column("activation_code", sa.String(length=20), nullable=True),
        sa.Column("activation_expires_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("activated_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_viewed_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("pending_plan", sa.String(length=32), nullable=True),
        sa.Column("pending_plan_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("access_until", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("retention_until", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("purged_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_subscriptions_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("activation_code", name=op.f("uq_subscriptions_activation_code")),
        sa.UniqueConstraint("partner_code", "partner_ref", name="uq_subscriptions_partner_ref"),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_access_until"), ["access_until"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscriptions_activation_expires_at"), ["activation_expires_at"], unique=False
        )
        batch_op.create_index("ix_subscriptions_partner_code_status", ["partner_code", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_pending_plan_at"), ["pending_plan_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_retention_until"), ["retention_until"], unique=False)

    op.create_table(
        "subscription_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_history_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_history")),
        sa.UniqueConstraint("subscription_id", "sequence", name="uq_subscription_history_sequence"),
    )


def downgrade() -> None:
    op.drop_table("subscription_history")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_retention_until"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_pending_plan_at"))
        batch_op.drop_index("ix_subscriptions_partner_code_status")
        batch_op.drop_index(batch_op.f("ix_subscriptions_activation_expires_at"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_access_until"))

    op.drop_table("subscriptions")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_events_partner_code"))

    op.drop_table("outbox_events")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))

    op.drop_table("idempotency_records")
