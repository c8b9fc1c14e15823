"""endpoints deleted: deleting a webhook endpoint keeps it, marked deleted, with its delivery history

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no table copy on SQLite, where copying webhook_endpoints or deliveries with foreign keys
    # on would cascade into their deliveries and attempts). Endpoints deleted before are gone with their history.
    op.add_column("webhook_endpoints", sa.Column("deleted_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # The code before knows no deleted endpoints: it would list them and, if enabled, send to them. They are
    # removed as that code removed them (their deliveries and attempts go with them); deliveries of other
    # endpoints are untouched.
    endpoints = sa.table("webhook_endpoints", sa.column("id", sa.String), sa.column("status", sa.String))
    deliveries = sa.table("deliveries", sa.column("id", sa.Integer), sa.column("endpoint_id", sa.String))
    attempts = sa.table("delivery_attempts", sa.column("delivery_id", sa.Integer))
    deleted = sa.select(endpoints.c.id).where(endpoints.c.status == "deleted")
    of_deleted = sa.select(deliveries.c.id).where(deliveries.c.endpoint_id.in_(deleted))
    op.execute(sa.delete(attempts).where(attempts.c.delivery_id.in_(of_deleted)))
    op.execute(sa.delete(deliveries).where(deliveries.c.endpoint_id.in_(deleted)))
    op.execute(sa.delete(endpoints).where(endpoints.c.status == "deleted"))
    op.drop_column("webhook_endpoints", "deleted_at")  # in place on SQLite too (3.35+): no table copy, see above
