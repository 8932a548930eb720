"""price variants, provisional goods and merges

Variants (origin, spec, package) and the source's own record id become part of a price observation;
goods get a status (catalogued | provisional | merged); staff merges of a provisional good are kept so
they can be undone.

Revision ID: 0006_price_variants
Revises: 0005_watches_price_checks
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_price_variants"
down_revision = "0005_watches_price_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="catalogued", nullable=False)
        )
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("package", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("source_record_id", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("merged_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_price_observations_merged_from_id_products", "products", ["merged_from_id"], ["id"]
        )
    op.create_table(
        "product_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provisional_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("merged_by", sa.String(length=60), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("undone_by", sa.String(length=60), nullable=True),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["provisional_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_product_merges_provisional_id", "product_merges", ["provisional_id"])


def downgrade() -> None:
    op.drop_index("ix_product_merges_provisional_id", table_name="product_merges")
    op.drop_table("product_merges")
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.drop_constraint("fk_price_observations_merged_from_id_products", type_="foreignkey")
        batch_op.drop_column("merged_from_id")
        batch_op.drop_column("source_record_id")
        batch_op.drop_column("package")
        batch_op.drop_column("origin")
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("status")
