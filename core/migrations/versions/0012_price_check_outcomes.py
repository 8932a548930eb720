"""price checks say why none could run: a complaint's merchant may be missing from the register

Revision ID: 0012_price_check_outcomes
Revises: 0011_price_legacy_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_price_check_outcomes"
down_revision = "0011_price_legacy_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("price_checks") as batch_op:
        batch_op.alter_column("merchant_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM price_checks WHERE merchant_id IS NULL")
    with op.batch_alter_table("price_checks") as batch_op:
        batch_op.alter_column("merchant_id", existing_type=sa.Integer(), nullable=False)
