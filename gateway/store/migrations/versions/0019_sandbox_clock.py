"""sandbox clock: how far a sandbox gateway's clock was moved ahead, shared by its processes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 05:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ahead_seconds", sa.Float(), nullable=False),
        sa.Column("moved_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_clock")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_clock")
