"""the masking rules the complaint index was last brought in line with

Revision ID: 0013_search_index_masking
Revises: 0012_price_check_outcomes
Create Date: 2026-12-02 10:45:00

No row is written here: an index without a row is checked (and stale documents re-masked) on the next
start, see ``search.masking``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_search_index_masking"
down_revision = "0012_price_check_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_index_masking",
        sa.Column("backend", sa.String(length=40), nullable=False),
        sa.Column("masking_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("backend"),
    )


def downgrade() -> None:
    op.drop_table("search_index_masking")
