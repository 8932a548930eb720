"""public price follows: e-mail when a good's city median moves (double opt-in, one-click unsubscribe)

Revision ID: 0010_public_price_follows
Revises: 0009_price_source_names
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_public_price_follows"
down_revision = "0009_price_source_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("price_type", sa.String(length=12), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_digest", sa.String(length=64), nullable=True),
        sa.Column("threshold_percent", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmation_sent_at", sa.DateTime(), nullable=True),
        sa.Column("confirmation_attempts", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.Column("baseline_median", sa.Float(), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column("pending_notice", sa.JSON(), nullable=True),
        sa.Column("notice_attempts", sa.Integer(), nullable=False),
        sa.Column("notices_sent", sa.Integer(), nullable=False),
        sa.Column("last_notified_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_price_follows_email_digest", "price_follows", ["email_digest"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_price_follows_email_digest", table_name="price_follows")
    op.drop_table("price_follows")
