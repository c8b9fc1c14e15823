"""reconciliations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:03:33.218269
"""

import sqlalchemy as sa
from alembic import op

import gateway.store.types  # noqa: F401 RUF100  (autogenerate writes custom types with their module path)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_refs",
        sa.Column("reconciliation_id", sa.String(length=40), nullable=False),
        sa.Column("partner_ref", sa.String(length=100), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("reconciliation_id", "partner_ref", name=op.f("pk_reconciliation_refs")),
        sqlite_with_rowid=False,  # SQLite: the primary key is the table, one b-tree to write instead of two
    )
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("roster_format", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("repaired", sa.Integer(), nullable=False),
        sa.Column("created_at", gateway.store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.Column("applied_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_reconciliations_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliations_partner_code"), ["partner_code"], unique=False)

    op.create_table(
        "reconciliation_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reconciliation_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("partner_ref", sa.String(length=100), nullable=True),
        sa.Column("partner_status", sa.String(length=16), nullable=True),
        sa.Column("partner_plan", sa.String(length=32), nullable=True),
        sa.Column("subscription_id", sa.String(length=40), nullable=True),
        sa.Column("gateway_status", sa.String(length=32), nullable=True),
        sa.Column("gateway_plan", sa.String(length=32), nullable=True),
        sa.Column("repair", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("repaired_at", gateway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_reconciliation_items_reconciliation_id_reconciliations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_items")),
    )
    with op.batch_alter_table("reconciliation_items", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_items_job_kind", ["reconciliation_id", "kind", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_items", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_items_job_kind")

    op.drop_table("reconciliation_items")
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliations_partner_code"))

    op.drop_table("reconciliations")
    op.drop_table("reconciliation_refs")
