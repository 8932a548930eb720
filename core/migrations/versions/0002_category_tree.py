"""category tree: a parent for each category and its COICOP 2018 code

Revision ID: 0002_category_tree
Revises: 0001
Create Date: 2026-12-02 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_category_tree"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("coicop", sa.String(length=16), nullable=True))
        batch.create_foreign_key("fk_categories_parent_id", "categories", ["parent_id"], ["id"])
        batch.create_index("ix_categories_parent_id", ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.drop_index("ix_categories_parent_id")
        batch.drop_constraint("fk_categories_parent_id", type_="foreignkey")
        batch.drop_column("coicop")
        batch.drop_column("parent_id")
