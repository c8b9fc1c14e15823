"""deliveries endpoint due: which endpoints have a due delivery is looked up per endpoint, among its pending
deliveries alone, instead of in an index of every delivery by status and schedule

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
DEAD = sa.text("status = 'dead'")


def upgrade() -> None:
    # (status, next_attempt_at) held every delivery ever made and changed with each one delivered; asked "has
    # this endpoint a due delivery?", it was read through every other endpoint's due backlog.
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index(
        "ix_deliveries_endpoint_due",
        "deliveries",
        ["endpoint_id", "next_attempt_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    # The dead letters per partner (/metrics) are counted from an index of those alone: few, and rarely written.
    op.create_index(
        "ix_deliveries_partner_dead", "deliveries", ["partner_code"], postgresql_where=DEAD, sqlite_where=DEAD
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_partner_dead", table_name="deliveries")
    op.drop_index("ix_deliveries_endpoint_due", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
