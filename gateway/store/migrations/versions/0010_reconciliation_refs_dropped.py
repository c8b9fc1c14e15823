"""reconciliation_refs dropped: a reconciliation stages its roster in a TEMP table of its own

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Scratch rows only, of no use once their job has finished. A job still running on the old code fails at
    # its next chunk (the table is gone), and its status says so.
    op.drop_table("reconciliation_refs")


def downgrade() -> None:
    op.create_table(
        "reconciliation_refs",
        sa.Column("reconciliation_id", sa.String(length=40), nullable=False),
        sa.Column("partner_ref", sa.String(length=100), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("bad", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("claim", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("reconciliation_id", "partner_ref", name=op.f("pk_reconciliation_refs")),
        sqlite_with_rowid=False,
    )
