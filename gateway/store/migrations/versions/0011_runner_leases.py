"""runner leases: a reconciliation and a long command's Idempotency-Key claim say until when their runner is alive

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no table copy on SQLite): nullable, and nothing refers to them. A job or claim from before
    # has none: such a job's lease counts from its start (fail_abandoned_jobs), such a claim waits out the key's
    # lifetime.
    op.add_column("reconciliations", sa.Column("lease_until", UTCDateTime(), nullable=True))
    op.add_column("idempotency_records", sa.Column("lease_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
