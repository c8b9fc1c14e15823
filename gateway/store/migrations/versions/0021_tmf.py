"""tm forum: hubs as webhook endpoints that filter events and are spoken to as `tmf`, TMF622 product orders,
and each partner's own TMF637 inventory (URL and token) for reconciliations

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-09 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub_api", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("hub_query", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("flavour", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("filters_events", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "endpoint_event_types",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_endpoint_event_types_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "event_type", name=op.f("pk_endpoint_event_types")),
    )
    op.create_table(
        "product_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_product_orders_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_orders")),
    )
    op.create_index(
        "ix_product_orders_partner_code_created_at", "product_orders", ["partner_code", "created_at"], unique=False
    )
    op.create_index(
        "ux_product_orders_external_id",
        "product_orders",
        ["partner_code", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
        sqlite_where=sa.text("external_id IS NOT NULL"),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inventory_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("inventory_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("inventory_token")
        batch_op.drop_column("inventory_url")
    op.drop_index("ux_product_orders_external_id", table_name="product_orders")
    op.drop_index("ix_product_orders_partner_code_created_at", table_name="product_orders")
    op.drop_table("product_orders")
    op.drop_table("endpoint_event_types")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("filters_events")
        batch_op.drop_column("flavour")
        batch_op.drop_column("hub_query")
        batch_op.drop_column("hub_api")
