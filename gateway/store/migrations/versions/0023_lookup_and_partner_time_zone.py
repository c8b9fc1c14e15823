"""lookup and partner time zone: an index for finding a partner's subscriber by reference in any letter case or by
prefix, and the time zone an operator sets for a partner's agents

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-11 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # text_pattern_ops (PostgreSQL only; SQLite ignores it): with a collation other than C, a plain index serves
    # lower(partner_ref) = 'x' but not lower(partner_ref) LIKE 'x%', and the console asks both on a live call.
    subscriptions = sa.table("subscriptions", sa.column("partner_code"), sa.column("partner_ref"))
    op.create_index(
        "ix_subscriptions_partner_ref_lower",
        "subscriptions",
        [subscriptions.c.partner_code, sa.func.lower(subscriptions.c.partner_ref).label("partner_ref_lower")],
        postgresql_ops={"partner_ref_lower": "text_pattern_ops"},
    )
    # Nullable: no zone set means the one derived from the partner's locale and markets, as before.
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    op.drop_index("ix_subscriptions_partner_ref_lower", table_name="subscriptions")
