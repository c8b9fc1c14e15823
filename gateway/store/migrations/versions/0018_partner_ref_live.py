"""partner ref live: a partner_ref is unique among the partner's subscriptions that are not purged, so a purged
member can come back under the same reference

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NOT_PURGED = sa.text("status <> 'purged'")


def upgrade() -> None:
    # SQLite rebuilds the table to drop a constraint (gateway.store.migrate turns foreign keys off meanwhile,
    # so that dropping the old copy takes no history or notices with it).
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("uq_subscriptions_partner_ref", type_="unique")
    # Look-ups, joins and ordered scans by reference read this one (purged subscriptions included) ...
    op.create_index("ix_subscriptions_partner_ref", "subscriptions", ["partner_code", "partner_ref"])
    # ... and this one holds the rule: one live subscription per reference.
    op.create_index(
        "ux_subscriptions_live_partner_ref",
        "subscriptions",
        ["partner_code", "partner_ref"],
        unique=True,
        postgresql_where=NOT_PURGED,
        sqlite_where=NOT_PURGED,
    )


def downgrade() -> None:
    # The code before allows one subscription per reference, purged or not: a reference taken again after a
    # purge cannot go back under that rule, and the downgrade stops (the database is left as it is).
    connection = op.get_bind()
    taken_again = connection.scalar(
        sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM subscriptions GROUP BY partner_code, partner_ref HAVING count(*) > 1)"
            " AS twice"
        )
    )
    if taken_again:
        raise RuntimeError(
            f"{taken_again} partner_ref(s) belong to a purged subscription and a newer one: the schema before "
            "revision 0018 cannot hold them"
        )
    op.drop_index("ux_subscriptions_live_partner_ref", table_name="subscriptions")
    op.drop_index("ix_subscriptions_partner_ref", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.create_unique_constraint("uq_subscriptions_partner_ref", ["partner_code", "partner_ref"])
