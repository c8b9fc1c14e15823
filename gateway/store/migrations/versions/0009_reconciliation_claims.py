"""reconciliation_refs: each good row's status and plan, as its claim

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, as 0008: a batch copy would rebuild the table without its WITHOUT ROWID. Rows staged by a job
    # running across the upgrade have no claim: they still count as present at the partner, but are not compared.
    op.add_column("reconciliation_refs", sa.Column("claim", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE reconciliation_refs DROP COLUMN claim")
