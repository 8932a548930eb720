"""price daily aggregates: per good, price type, region and day, filled from the observations

Revision ID: 0004_price_daily_aggregates
Revises: 0003_price_index_series
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_price_daily_aggregates"
down_revision = "0003_price_index_series"
branch_labels = None
depends_on = None

# Exact float text: PostgreSQL prints the shortest exact form, SQLite needs 17 significant digits.
PRICE_TEXT = {
    "postgresql": "string_agg(unit_price::text, ',')",
    "sqlite": "group_concat(printf('%.17g', unit_price), ',')",
}


def upgrade() -> None:
    op.create_table(
        "price_daily_aggregates",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("price_type", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("observed_date", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("prices", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("product_id", "price_type", "region", "observed_date"),
    )
    prices = PRICE_TEXT[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO price_daily_aggregates "
        "(product_id, price_type, region, observed_date, count, total, low, high, prices) "
        "SELECT product_id, price_type, region, observed_date, count(*), sum(unit_price), min(unit_price), "
        f"max(unit_price), {prices} FROM price_observations WHERE unit_price > 0 "
        "GROUP BY product_id, price_type, region, observed_date"
    )


def downgrade() -> None:
    op.drop_table("price_daily_aggregates")
