"""what the source called each priced good

Two items a source prices apart (CUMCM's 芜湖青椒(1) and 青椒) that map to one good are two observations.

Revision ID: 0009_price_source_names
Revises: 0008_classification_proposals
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_price_source_names"
down_revision = "0008_classification_proposals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.add_column(sa.Column("source_name", sa.String(length=80), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.drop_column("source_name")
