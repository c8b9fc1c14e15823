"""partners' own rate limits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no table copy on SQLite): the column is nullable and nothing refers to it.
    op.add_column("partners", sa.Column("rate_limits", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("rate_limits")
