"""The domain schema: one table per thing the consumer association keeps.

Times are naive UTC (``core.clock.utcnow``) so SQLite and PostgreSQL store them alike.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.clock import utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# --- catalogue -------------------------------------------------------------------------------------


class Category(Base):
    """A node of the catalogue's category tree (蔬菜 > 叶菜类); ``coicop`` is its COICOP 2018 code."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    coicop: Mapped[str | None] = mapped_column(String(16))

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent")
    products: Mapped[list[Product]] = relationship(back_populates="category")

    @property
    def top(self) -> Category:
        """The top-level category this one belongs to (itself at the top): 叶菜类 → 蔬菜."""
        category = self
        while category.parent is not None:
            category = category.parent
        return category


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    standard_unit: Mapped[str] = mapped_column(String(10))  # "500g" | "L" | "piece"
    essential: Mapped[bool] = mapped_column(Boolean, default=True)
    # catalogued | provisional (待归类: a name no good claimed, stored as its own good until reviewed)
    # | merged (a provisional good whose history staff moved into a catalogued one)
    status: Mapped[str] = mapped_column(String(12), default="catalogued", server_default="catalogued")

    category: Mapped[Category] = relationship(back_populates="products")
    aliases: Mapped[list[ProductAlias]] = relationship(back_populates="product", cascade="all, delete-orphan")


class ProductAlias(Base):
    __tablename__ = "product_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(80), unique=True)

    product: Mapped[Product] = relationship(back_populates="aliases")


# --- market participants ---------------------------------------------------------------------------


class Association(Base):
    """A trade association (or the consumer association itself, ``is_consumer_association``)."""

    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    industries: Mapped[list[Any]] = mapped_column(default=list)
    is_consumer_association: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))  # unified social credit code
    kind: Mapped[str] = mapped_column(String(20), default="retail")  # retail | wholesale | online
    industry: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# --- prices ----------------------------------------------------------------------------------------


class PriceObservation(Base):
    """One price seen at one source for one merchant, product, region, variant and time.

    The variant (``origin``, ``spec``, ``package`` and the source's own name for the item) is part of the
    item: a wholesale market quotes one good several times a day by origin and grade, a supermarket sells
    several items of one good. ``natural_key`` is a hash of the source's own record id
    when it has one (``source_record_id``), else of (source, merchant, product, region, variant,
    observed_at): storing the same observation twice is a no-op, so crawls and imports can be re-run.
    """

    __tablename__ = "price_observations"
    __table_args__ = (
        Index("ix_price_obs_product_date", "product_id", "observed_date"),
        Index("ix_price_obs_merchant_date", "merchant_id", "observed_date"),
        Index("ix_price_obs_legacy_key", "legacy_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(60))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    region: Mapped[str] = mapped_column(String(60), default="")
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    observed_date: Mapped[dt.date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    low_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    high_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    raw_unit: Mapped[str] = mapped_column(String(30))
    origin: Mapped[str] = mapped_column(String(60), default="", server_default="")
    spec: Mapped[str | None] = mapped_column(String(80))
    package: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # What the source called the good (CUMCM's 芜湖青椒(1) and 青椒 are two items of the good 青椒).
    source_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
    source_record_id: Mapped[str | None] = mapped_column(String(80))
    # The provisional good this observation was filed under before staff merged it (for undoing).
    merged_from_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    unit_price: Mapped[float] = mapped_column(Float)  # 元 per standard unit
    standard_unit: Mapped[str] = mapped_column(String(10))
    price_type: Mapped[str] = mapped_column(String(12), default="retail")  # retail | wholesale
    availability: Mapped[str | None] = mapped_column(String(20))  # in_stock | out_of_stock | limited
    url: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    spider: Mapped[str | None] = mapped_column(String(60))
    extractor: Mapped[str | None] = mapped_column(String(60))
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    # Rows stored before variants were part of the identity (migration 0011) and not yet seen again: a hash
    # of what they do hold (core.prices.legacy_content_key); the first re-crawl/re-import of the same price
    # re-keys the row to its variant identity instead of adding it again, and clears this.
    legacy_key: Mapped[str | None] = mapped_column(String(64))

    product: Mapped[Product] = relationship(foreign_keys=[product_id])
    merchant: Mapped[Merchant | None] = relationship()


class PriceIndexSeries(Base):
    """One published price index series (a category or basket, a region or all, a price type, a method).

    Computed once over all history and extended as days arrive; ``observations_max_id`` and
    ``observations_count`` are the data it was computed from, so a request knows when to extend it or
    recompute its provisional days (those within the splice window of the newest day).
    """

    __tablename__ = "price_index_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # category | basket
    code: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))  # None: every region
    price_type: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(30))  # geks_jevons | chained_jevons
    window_days: Mapped[int | None] = mapped_column(Integer)
    splice: Mapped[str | None] = mapped_column(String(10))
    base_date: Mapped[dt.date | None] = mapped_column(Date)
    subject_hash: Mapped[str] = mapped_column(String(64))  # goods and weights it covers
    observations_max_id: Mapped[int] = mapped_column(Integer, default=0)
    observations_count: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PriceIndexValue(Base):
    """One day of a published index series."""

    __tablename__ = "price_index_values"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("price_index_series.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    priced: Mapped[int] = mapped_column(Integer, default=0)


class PriceDailyAggregate(Base):
    """The positive unit prices of one good, price type, region and day, kept by the write path.

    Public price series read these instead of every observation. Observations of all variants and
    sellers of a good fall together here. ``prices`` holds the day's unit prices (comma-separated, exact
    float text), so medians over several regions or over a week come out exactly as from the raw rows.
    """

    __tablename__ = "price_daily_aggregates"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    price_type: Mapped[str] = mapped_column(String(12), primary_key=True)
    region: Mapped[str] = mapped_column(String(60), primary_key=True)
    observed_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)  # 元 per standard unit, summed
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    prices: Mapped[str] = mapped_column(Text)


class ProductMerge(Base):
    """Staff moved a provisional good's history into a catalogued good; kept so the merge can be undone."""

    __tablename__ = "product_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    provisional_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    aliases: Mapped[list[Any]] = mapped_column(default=list)  # the aliases moved with it
    observations: Mapped[int] = mapped_column(Integer, default=0)
    # Observation days whose index and alerts must be recomputed (ISO dates).
    days: Mapped[list[Any]] = mapped_column(default=list)
    merged_by: Mapped[str] = mapped_column(String(60))
    merged_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(60))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class QuarantinedItem(Base):
    """A price item that failed validation, kept with its reason for review."""

    __tablename__ = "quarantined_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(300))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    url: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)


class UnmappedItem(Base):
    """A product name no catalogue entry matched; counted, never silently dropped."""

    __tablename__ = "unmapped_items"
    __table_args__ = (UniqueConstraint("source", "raw_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    raw_name: Mapped[str] = mapped_column(String(120))
    sample: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(60), index=True)
    source: Mapped[str | None] = mapped_column(String(60))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | ok | degraded | failed
    pages: Mapped[int] = mapped_column(Integer, default=0)
    items_stored: Mapped[int] = mapped_column(Integer, default=0)
    items_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    items_unmapped: Mapped[int] = mapped_column(Integer, default=0)
    items_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_samples: Mapped[list[Any]] = mapped_column(default=list)
    duration_seconds: Mapped[float | None] = mapped_column(Float)


# --- complaints ------------------------------------------------------------------------------------


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_created", "status", "created_at"),
        Index("ix_complaints_industry", "industry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # idempotent bulk import
    channel: Mapped[str] = mapped_column(String(20), default="api")  # api | web_form | import
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    title: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    demands: Mapped[str | None] = mapped_column(Text)
    consumer_name: Mapped[str | None] = mapped_column(String(60))
    contact: Mapped[str | None] = mapped_column(String(120))
    merchant_name: Mapped[str | None] = mapped_column(String(120))
    merchant_credit_code: Mapped[str | None] = mapped_column(String(18))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    product_category: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    nature: Mapped[str | None] = mapped_column(String(20))
    nature_confidence: Mapped[float | None] = mapped_column(Float)
    nature_corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    industry: Mapped[str | None] = mapped_column(String(40))
    industry_confidence: Mapped[float | None] = mapped_column(Float)
    industry_corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    accept_deadline: Mapped[dt.date | None] = mapped_column(Date)
    mediate_deadline: Mapped[dt.date | None] = mapped_column(Date)
    attachments: Mapped[list[Any]] = mapped_column(default=list)

    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )


class ComplaintEvent(Base):
    """One step of a complaint's workflow timeline."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class SearchIndexState(Base):
    """Which complaints the search index has seen; lets reindex --check find drift."""

    __tablename__ = "search_index_state"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True
    )
    indexed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))


# --- accounts --------------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))  # association_staff | consumer_staff | admin
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tokens_valid_after: Mapped[dt.datetime | None] = mapped_column(DateTime)  # set by a password reset

    association: Mapped[Association | None] = relationship()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class AuditLog(Base):
    """Append-only record of staff actions; no API route updates or deletes it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- alerts ----------------------------------------------------------------------------------------


class Alert(Base):
    """One episode of a rule firing for a merchant and product; an ongoing episode updates its alert."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_severity", "status", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    region: Mapped[str] = mapped_column(String(60), default="")
    industry: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(10))  # low | medium | high | critical
    status: Mapped[str] = mapped_column(String(20), default="open")
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status_by: Mapped[str | None] = mapped_column(String(60))
    status_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)

    merchant: Mapped[Merchant | None] = relationship()
    product: Mapped[Product | None] = relationship()
    actions: Mapped[list[AlertAction]] = relationship(order_by="AlertAction.id", cascade="all, delete-orphan")


class AlertAction(Base):
    __tablename__ = "alert_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(60))
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"))
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    industries: Mapped[list[Any]] = mapped_column(default=list)
    products: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    districts: Mapped[list[Any]] = mapped_column(default=list)
    min_severity: Mapped[str] = mapped_column(String(10), default="low")
    channels: Mapped[list[Any]] = mapped_column(default=list)  # inbox | webhook | email | im (Apprise)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    apprise_urls: Mapped[list[Any]] = mapped_column(default=list)
    quiet_hours: Mapped[str | None] = mapped_column(String(20))  # "22:00-07:00"
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Watch(Base):
    """A staff member's saved search, merchant, good or category; new matches reach their channels.

    Deliveries of a watch are outbox rows (``deliveries.watch_id``) keyed by (watch, item, channel), so
    each match arrives once however often the matcher runs. ``matched_through`` is how far the matcher
    has looked (complaints filed before it were seen).
    """

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # search | merchant | product | category
    query: Mapped[str] = mapped_column(String(500), default="")
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    items: Mapped[list[Any]] = mapped_column(default=list)  # complaints | alerts
    channels: Mapped[list[Any]] = mapped_column(default=list)  # inbox | webhook | email | im
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    apprise_urls: Mapped[list[Any]] = mapped_column(default=list)
    quiet_hours: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    matched_through: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Delivery(Base):
    """Outbox row: one message to one subscriber on one channel, delivered at least once."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sending|retrying|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PriceCheck(Base):
    """A complaint's request to look at the price its merchant shows now for the good complained about.

    Complaints naming the same seller and good share one ``check_key``: one crawl answers them all.
    """

    __tablename__ = "price_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), unique=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))  # None: not in the register
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    site: Mapped[str] = mapped_column(String(60))  # "" when no page is known
    check_key: Mapped[str] = mapped_column(String(120), index=True)
    # pending | done | no_price | failed; no_site | unknown_merchant: no check possible (``note`` says why)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("price_observations.id"))
    complained_price: Mapped[float | None] = mapped_column(Float)  # 元 per standard unit
    shown_price: Mapped[float | None] = mapped_column(Float)  # 元 per standard unit, as crawled
    market_median: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class PriceFollow(Base):
    """A member of the public following a good's city median price by e-mail (double opt-in).

    Nothing is sent but the confirmation mail until ``status`` is ``confirmed``. ``email`` is kept only
    while it is needed to send: an unsubscribe or an expired confirmation erases it (and its keyed
    digest); the digest finds an address's follows without reading addresses. ``nonce`` is signed into
    the confirm and unsubscribe links, so a deleted follow's links never open a later one.
    ``baseline_median`` is the median last notified (at first the median when confirmed); a move of
    more than ``threshold_percent`` from it is one notice, kept in ``pending_notice`` until sent.
    """

    __tablename__ = "price_follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    region: Mapped[str] = mapped_column(String(60), default="")  # "" = every region
    price_type: Mapped[str] = mapped_column(String(12), default="retail")  # retail | wholesale
    email: Mapped[str | None] = mapped_column(String(254))
    email_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    threshold_percent: Mapped[float] = mapped_column(Float, default=10.0)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | confirmed | unsubscribed
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmation_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmation_attempts: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    baseline_median: Mapped[float | None] = mapped_column(Float)  # 元 per standard unit
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    pending_notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notice_attempts: Mapped[int] = mapped_column(Integer, default=0)
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    product: Mapped[Product] = relationship()


# --- jobs ------------------------------------------------------------------------------------------


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | ok | failed
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RateLimitWindow(Base):
    """Requests counted per client (or verified principal) and class in one-minute windows, shared by
    every worker process; rows older than a few minutes are deleted as new windows begin."""

    __tablename__ = "rate_limit_windows"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix minute
    hits: Mapped[int] = mapped_column(Integer, default=0)


class SearchIndexMasking(Base):
    """The masking rules' version (``complaints.privacy.MASKING_VERSION``) a search backend's complaint
    documents were last brought in line with; a start that finds another re-masks them (search.masking)."""

    __tablename__ = "search_index_masking"

    backend: Mapped[str] = mapped_column(String(40), primary_key=True)  # SearchBackend.name
    masking_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ClassificationProposal(Base):
    """A trade association's proposed correction of a complaint's nature/industry, which would re-route it;
    the consumer association accepts (the correction is applied and learnt) or refuses it."""

    __tablename__ = "classification_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"))
    proposed_by: Mapped[str] = mapped_column(String(60))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    nature: Mapped[str | None] = mapped_column(String(40))
    industry: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending|accepted|refused
    decided_by: Mapped[str | None] = mapped_column(String(60))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
