"""classification proposals: trade associations propose, the consumer association decides

Revision ID: 0008_classification_proposals
Revises: 0007_rate_limit_windows
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_classification_proposals"
down_revision = "0007_rate_limit_windows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classification_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.String(length=60), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("nature", sa.String(length=40), nullable=True),
        sa.Column("industry", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=60), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["association_id"], ["associations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_classification_proposals_complaint_id", "classification_proposals", ["complaint_id"])
    op.create_index("ix_classification_proposals_status", "classification_proposals", ["status"])


def downgrade() -> None:
    op.drop_index("ix_classification_proposals_status", table_name="classification_proposals")
    op.drop_index("ix_classification_proposals_complaint_id", table_name="classification_proposals")
    op.drop_table("classification_proposals")
