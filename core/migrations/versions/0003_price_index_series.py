"""published price index series: one stored series per index, extended as days arrive

Revision ID: 0003_price_index_series
Revises: 0002_category_tree
Create Date: 2026-12-02 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_price_index_series"
down_revision = "0002_category_tree"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_index_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("price_type", sa.String(length=12), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=True),
        sa.Column("splice", sa.String(length=10), nullable=True),
        sa.Column("base_date", sa.Date(), nullable=True),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("observations_max_id", sa.Integer(), nullable=False),
        sa.Column("observations_count", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series_key"),
    )
    op.create_table(
        "price_index_values",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["price_index_series.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("series_id", "date"),
    )


def downgrade() -> None:
    op.drop_table("price_index_values")
    op.drop_table("price_index_series")
