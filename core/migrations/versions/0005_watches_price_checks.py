"""watches (saved searches, merchants, goods, categories) and complaint-triggered price checks

Revision ID: 0005_watches_price_checks
Revises: 0004_price_daily_aggregates
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_watches_price_checks"
down_revision = "0004_price_daily_aggregates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("apprise_urls", sa.JSON(), nullable=False),
        sa.Column("quiet_hours", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("matched_through", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["association_id"], ["associations.id"]),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_watches_user_id", "watches", ["user_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("watch_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_deliveries_watch_id", ["watch_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_deliveries_watch_id", "watches", ["watch_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "price_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=60), nullable=False),
        sa.Column("check_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("observation_id", sa.Integer(), nullable=True),
        sa.Column("complained_price", sa.Float(), nullable=True),
        sa.Column("shown_price", sa.Float(), nullable=True),
        sa.Column("market_median", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawl_runs.id"]),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.ForeignKeyConstraint(["observation_id"], ["price_observations.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id"),
    )
    op.create_index("ix_price_checks_check_key", "price_checks", ["check_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_price_checks_check_key", table_name="price_checks")
    op.drop_table("price_checks")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_watch_id", type_="foreignkey")
        batch_op.drop_index("ix_deliveries_watch_id")
        batch_op.drop_column("watch_id")
    op.drop_index("ix_watches_user_id", table_name="watches")
    op.drop_table("watches")
