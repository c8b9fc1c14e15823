"""reconciliation withheld: a job says how many of its rows named no usable partner_ref, and whether it withheld
only_at_gateway for that (or for having no row to compare)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reconciliations", sa.Column("unreadable_rows", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "reconciliations",
        sa.Column("only_at_gateway_withheld", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Jobs already run: their unreadable rows are their bad-row items without a partner_ref (a duplicate always
    # has one), and a completed job with one, or with no rows at all, withheld only_at_gateway.
    op.execute(
        "UPDATE reconciliations SET unreadable_rows = (SELECT count(*) FROM reconciliation_items AS item "
        "WHERE item.reconciliation_id = reconciliations.id AND item.kind = 'bad_row' AND item.partner_ref IS NULL)"
    )
    jobs = sa.table(
        "reconciliations",
        sa.column("status", sa.String()),
        sa.column("rows", sa.Integer()),
        sa.column("unreadable_rows", sa.Integer()),
        sa.column("only_at_gateway_withheld", sa.Boolean()),
    )
    op.execute(
        jobs.update()
        .where(jobs.c.status == "completed", sa.or_(jobs.c.unreadable_rows > 0, jobs.c.rows == 0))
        .values(only_at_gateway_withheld=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.drop_column("only_at_gateway_withheld")
        batch_op.drop_column("unreadable_rows")
