"""re-key price observations stored before variants were part of their identity

Rows stored before 0006/0009 were keyed on (source, merchant, product, region, time) alone: Xinfadi's
origin and grade sat in ``region`` ("冀·鲜干花"), and no row kept the source's record id or its own name
for the item, so a re-crawl or re-import of the same prices computed other keys and added them again.
This migration moves Xinfadi's origin out of ``region`` (the crawler now keeps it in ``origin`` and the
market, 北京, in ``region``) and gives every such row a ``legacy_key``: a hash of what it does hold
(source, merchant, product, region, time, spec, price; ``core.prices.legacy_content_key``). The write
path re-keys a legacy row to the full identity of the first observation of the same content it meets,
and stores nothing new for it.

Revision ID: 0011_price_legacy_keys
Revises: 0010_public_price_follows
"""

import datetime as dt
import hashlib
import math

import sqlalchemy as sa
from alembic import op

revision = "0011_price_legacy_keys"
down_revision = "0010_public_price_follows"
branch_labels = None
depends_on = None

XINFADI_REGION = "北京"  # crawlers.spiders.xinfadi.REGION
BATCH = 5000

observations = sa.table(
    "price_observations",
    sa.column("id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("merchant_id", sa.Integer),
    sa.column("product_id", sa.Integer),
    sa.column("region", sa.String),
    sa.column("observed_at", sa.DateTime),
    sa.column("price", sa.Numeric(14, 4)),
    sa.column("origin", sa.String),
    sa.column("spec", sa.String),
    sa.column("source_name", sa.String),
    sa.column("source_record_id", sa.String),
    sa.column("spider", sa.String),
    sa.column("extractor", sa.String),
    sa.column("legacy_key", sa.String),
    sa.column("price_type", sa.String),
    sa.column("observed_date", sa.Date),
    sa.column("unit_price", sa.Float),
)
aggregates = sa.table(
    "price_daily_aggregates",
    sa.column("product_id", sa.Integer),
    sa.column("price_type", sa.String),
    sa.column("region", sa.String),
    sa.column("observed_date", sa.Date),
    sa.column("count", sa.Integer),
    sa.column("total", sa.Float),
    sa.column("low", sa.Float),
    sa.column("high", sa.Float),
    sa.column("prices", sa.Text),
)
merchants = sa.table("merchants", sa.column("id", sa.Integer), sa.column("name", sa.String))


def legacy_content_key(
    source: str,
    merchant: str | None,
    product_id: int,
    region: str,
    observed_at: dt.datetime,
    spec: str | None,
    price: float,
) -> str:
    """As ``core.prices.legacy_content_key`` at this revision (kept here so the migration never changes)."""
    parts = [source.strip(), (merchant or "").strip(), str(product_id), (region or "").strip()]
    parts += [observed_at.isoformat(), (spec or "").strip(), f"{float(price):.4f}"]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _xinfadi_origin(region: str, spec: str | None) -> str:
    """The old crawler's region was ``place·spec``: the place is what is left without the spec."""
    spec = (spec or "").strip()
    if spec and region.endswith(spec):
        region = region[: -len(spec)].rstrip("·")
    return region


def upgrade() -> None:
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.add_column(sa.Column("legacy_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_price_obs_legacy_key", ["legacy_key"])
    connection = op.get_bind()
    legacy = (observations.c.source_name == "") & observations.c.source_record_id.is_(None)
    legacy &= (observations.c.extractor == "import") | observations.c.spider.is_not(None)
    query = (
        sa.select(
            observations.c.id,
            observations.c.source,
            merchants.c.name,
            observations.c.product_id,
            observations.c.region,
            observations.c.observed_at,
            observations.c.price,
            observations.c.origin,
            observations.c.spec,
            observations.c.spider,
            observations.c.price_type,
            observations.c.observed_date,
        )
        .select_from(observations.outerjoin(merchants, merchants.c.id == observations.c.merchant_id))
        .where(legacy)
        .order_by(observations.c.id)
    )
    update = (
        observations.update()
        .where(observations.c.id == sa.bindparam("row_id"))
        .values(
            region=sa.bindparam("new_region"),
            origin=sa.bindparam("new_origin"),
            legacy_key=sa.bindparam("new_key"),
        )
    )
    moved: set[tuple[int, str, str, dt.date]] = set()  # daily aggregates whose rows changed region
    last_id = 0
    while True:
        rows = connection.execute(query.where(observations.c.id > last_id).limit(BATCH)).all()
        if not rows:
            break
        changes = []
        for row in rows:
            region, origin = row.region or "", row.origin or ""
            if row.spider == "xinfadi" and not origin and region != XINFADI_REGION:
                moved.add((row.product_id, row.price_type, region, row.observed_date))
                region, origin = XINFADI_REGION, _xinfadi_origin(region, row.spec)[:60]
                moved.add((row.product_id, row.price_type, region, row.observed_date))
            key = legacy_content_key(
                row.source, row.name, row.product_id, region, row.observed_at, row.spec, row.price
            )
            changes.append({"row_id": row.id, "new_region": region, "new_origin": origin, "new_key": key})
        connection.execute(update, changes)
        last_id = rows[-1].id
    for product_id, price_type, day_region, day in sorted(moved):
        _recount_day(connection, product_id, price_type, day_region, day)


def _recount_day(
    connection: sa.Connection, product_id: int, price_type: str, region: str, day: dt.date
) -> None:
    """Rebuild one daily aggregate from its observations (as core.prices.add_to_daily_aggregates keeps it)."""
    same_day = (
        (aggregates.c.product_id == product_id)
        & (aggregates.c.price_type == price_type)
        & (aggregates.c.region == region)
        & (aggregates.c.observed_date == day)
    )
    connection.execute(aggregates.delete().where(same_day))
    prices = list(
        connection.scalars(
            sa.select(observations.c.unit_price)
            .where(
                (observations.c.product_id == product_id)
                & (observations.c.price_type == price_type)
                & (observations.c.region == region)
                & (observations.c.observed_date == day)
                & (observations.c.unit_price > 0)
            )
            .order_by(observations.c.id)
        )
    )
    if prices:
        connection.execute(
            aggregates.insert().values(
                product_id=product_id,
                price_type=price_type,
                region=region,
                observed_date=day,
                count=len(prices),
                total=math.fsum(prices),
                low=min(prices),
                high=max(prices),
                prices=",".join(map(repr, prices)),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("price_observations") as batch_op:
        batch_op.drop_index("ix_price_obs_legacy_key")
        batch_op.drop_column("legacy_key")
