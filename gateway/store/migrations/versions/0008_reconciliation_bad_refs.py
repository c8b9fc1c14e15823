"""reconciliation_refs: bad rows' refs, flagged

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no table copy on SQLite); rows of a job running across the upgrade are good rows' refs.
    op.add_column("reconciliation_refs", sa.Column("bad", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # In place too (SQLite 3.35+): a batch copy would rebuild the table without its WITHOUT ROWID.
    op.execute("ALTER TABLE reconciliation_refs DROP COLUMN bad")
