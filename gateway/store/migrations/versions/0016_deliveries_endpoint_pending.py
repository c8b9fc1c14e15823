"""deliveries endpoint pending: claims read each endpoint's pending deliveries in event order, from an index of
those alone; it replaces the index (endpoint, subscriber, status, position) the claims' subquery stepped down

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_deliveries_order", table_name="deliveries")
    # Partial: delivered and dead deliveries, most of the table in time, are not in it.
    op.create_index(
        "ix_deliveries_endpoint_pending",
        "deliveries",
        ["endpoint_id", "position"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_endpoint_pending", table_name="deliveries")
    op.create_index("ix_deliveries_order", "deliveries", ["endpoint_id", "subscription_id", "status", "position"])
