"""notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:14:27.471857
"""

import sqlalchemy as sa
from alembic import op

import gateway.store.types  # noqa: F401 RUF100  (autogenerate writes custom types with their module path)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("respond_by", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("warned", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.String(length=40), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("started_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_status"), ["status"], unique=False)

    op.create_table(
        "sharing_policies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("extra_member", sa.JSON(), nullable=False),
        sa.Column("publish_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("effective_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("announce_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("announced_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_policies")),
    )
    with op.batch_alter_table("sharing_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_policies_announce_at"), ["announce_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sharing_policies_effective_at"), ["effective_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sharing_policies_status"), ["status"], unique=False)

    op.create_table(
        "partner_notices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("policy_id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("announced_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("effective_sent_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_partner_notices_partner_code_partners")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sharing_policies.id"], name=op.f("fk_partner_notices_policy_id_sharing_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_notices")),
        sa.UniqueConstraint("policy_id", "partner_code", name=op.f("uq_partner_notices_policy_id")),
    )
    with op.batch_alter_table("partner_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_notices_next_reminder_at"), ["next_reminder_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_notices_partner_code"), ["partner_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_notices_policy_id"), ["policy_id"], unique=False)

    # Columns added in place: recreating subscriptions (batch mode) would trip the history's foreign key.
    op.add_column(
        "subscriptions", sa.Column("billed_by", sa.String(length=16), server_default="partner", nullable=False)
    )
    op.add_column("subscriptions", sa.Column("inactivity_warned_at", gateway.store.types.UTCDateTime(), nullable=True))
    op.add_column("subscriptions", sa.Column("inactivity_respond_by", gateway.store.types.UTCDateTime(), nullable=True))
    op.add_column("subscriptions", sa.Column("retention_notice_at", gateway.store.types.UTCDateTime(), nullable=True))
    op.create_index(op.f("ix_subscriptions_inactivity_respond_by"), "subscriptions", ["inactivity_respond_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subscriptions_inactivity_respond_by"), table_name="subscriptions")
    for column in ("retention_notice_at", "inactivity_respond_by", "inactivity_warned_at", "billed_by"):
        op.drop_column("subscriptions", column)

    with op.batch_alter_table("partner_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_notices_policy_id"))
        batch_op.drop_index(batch_op.f("ix_partner_notices_partner_code"))
        batch_op.drop_index(batch_op.f("ix_partner_notices_next_reminder_at"))

    op.drop_table("partner_notices")
    with op.batch_alter_table("sharing_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_policies_status"))
        batch_op.drop_index(batch_op.f("ix_sharing_policies_effective_at"))
        batch_op.drop_index(batch_op.f("ix_sharing_policies_announce_at"))

    op.drop_table("sharing_policies")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_status"))
        batch_op.drop_index(batch_op.f("ix_campaigns_created_at"))

    op.drop_table("campaigns")
