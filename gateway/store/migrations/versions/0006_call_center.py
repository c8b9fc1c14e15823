"""call center

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:43:34.694568
"""

import sqlalchemy as sa
from alembic import op

import gateway.store.types  # noqa: F401 RUF100  (autogenerate writes custom types with their module path)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_articles",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("related_events", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", "locale", name=op.f("pk_faq_articles")),
    )
    with op.batch_alter_table("faq_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_articles_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agent_ref", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("open_key", sa.String(length=100), nullable=True),
        sa.Column("sla_due_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["partner_code"], ["partners.code"], name=op.f("fk_escalations_partner_code_partners")),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name=op.f("fk_escalations_subscription_id_subscriptions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("open_key", name=op.f("uq_escalations_open_key")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_partner_code_created_at", ["partner_code", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_sla_due_at"), ["sla_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "escalation_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("escalation_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("occurred_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalations.id"], name=op.f("fk_escalation_entries_escalation_id_escalations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_entries")),
    )
    with op.batch_alter_table("escalation_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_entries_escalation_id"), ["escalation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_entries_escalation_id"))

    op.drop_table("escalation_entries")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_escalations_status"))
        batch_op.drop_index(batch_op.f("ix_escalations_sla_due_at"))
        batch_op.drop_index("ix_escalations_partner_code_created_at")

    op.drop_table("escalations")
    with op.batch_alter_table("faq_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_articles_updated_at"))

    op.drop_table("faq_articles")
