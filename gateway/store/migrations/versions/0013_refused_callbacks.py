"""refused callbacks: an inbound callback is remembered with the status of its answer, a refusal's too

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 23:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no table copy on SQLite): every callback remembered before was applied, a 200.
    op.add_column("inbound_events", sa.Column("status_code", sa.Integer(), server_default="200", nullable=False))


def downgrade() -> None:
    # The code before remembered applied callbacks only: a refusal it finds would be replayed as applied.
    op.execute("DELETE FROM inbound_events WHERE status_code <> 200")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("status_code")
