"""product orders remember what was asked: a second order with the same externalId is the first one again only
when it asks the same (the request's fingerprint); with other content it is refused

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: an order stored before it has no fingerprint, and a retry of it with its externalId is taken as
    # the same request (what 0021's orders promised).
    with op.batch_alter_table("product_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product_orders", schema=None) as batch_op:
        batch_op.drop_column("request_fingerprint")
