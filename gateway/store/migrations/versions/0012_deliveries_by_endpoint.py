"""deliveries by endpoint: each endpoint's due deliveries in claim order, for claims that fill one lane at a time

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:30:00.000000
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A dispatcher claims per endpoint (gateway.delivery.claims): this index lets one endpoint's next due
    # deliveries be read in claim order (next_attempt_at, then id), stopping at the claim's limit, without
    # reading any other endpoint's, however long their backlogs.
    op.create_index("ix_deliveries_endpoint_due", "deliveries", ["endpoint_id", "status", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_endpoint_due", table_name="deliveries")
