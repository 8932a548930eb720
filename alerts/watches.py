"""Watches: a staff member's saved search, merchant, good or category, and the new matches it receives.

``enqueue_watch_matches`` finds complaints filed (and alerts raised or updated) since each watch last
looked and writes one outbox row per (watch, item, channel), keyed ``watch:<id>:<item>:<channel>``:
a second run, an overlapping window or a restarted process adds nothing, so each match arrives once.
The outbox (``alerts.delivery.deliver_due``) sends them; rows of one watch due together go out as one
digest. A saved search is answered by the search index itself (the same words and filters give the
same hits as the 投诉检索 page); the others are plain queries. An association's watch only ever sees
what its staff may see: its own complaints and the alerts of its industries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from alerts import messages
from alerts.channels import im
from alerts.enqueue import ALERT_STATUSES_TO_DELIVER, insert_deliveries
from core.models import Alert, Association, Complaint, Merchant, Product, User, Watch, utcnow
from search.backends.base import SearchBackend
from search.query import SearchQuery
from search.service import prepare

log = logging.getLogger(__name__)

WatchKind = Literal["search", "merchant", "product", "category"]
WATCH_KINDS: tuple[WatchKind, ...] = ("search", "merchant", "product", "category")
WATCH_ITEMS = ("complaints", "alerts")
#: Search filters a saved search may keep (the 投诉检索 page's filters).
SEARCH_FILTERS = (
    "nature",
    "industry",
    "district",
    "merchant",
    "status",
    "not_nature",
    "not_industry",
    "not_district",
    "not_merchant",
    "not_status",
    "amount_min",
    "amount_max",
)
#: How far back each run looks again before where the last one stopped: a complaint committed a
#: moment after its filing time was read is still found; the dedupe key drops what was seen.
OVERLAP = dt.timedelta(minutes=10)
SEARCH_PAGE = 200
MAX_SEARCH_PAGES = 50


@dataclass(frozen=True)
class WatchScope:
    """What the watch's owner may see: everything (consumer association), or one association's share."""

    association_id: int | None
    industries: tuple[str, ...]

    @classmethod
    def of(cls, user: User) -> WatchScope:
        if user.role in ("consumer_staff", "admin"):
            return cls(None, ())
        industries = tuple(user.association.industries) if user.association else ()
        return cls(user.association_id or -1, industries)


def search_query_of(watch: Watch, scope: WatchScope, since: dt.datetime) -> SearchQuery:
    """The saved search as a query for complaints filed since ``since``, newest first, in scope."""
    filters = {key: value for key, value in (watch.filters or {}).items() if key in SEARCH_FILTERS}
    return SearchQuery(
        q=watch.query or "",
        **filters,
        association_id=scope.association_id,
        created_from=since,
        sort="date",
        size=SEARCH_PAGE,
        facets=False,
    )


def _searched_complaints(backend: SearchBackend, query: SearchQuery) -> Iterator[int]:
    query = prepare(query)
    for _ in range(MAX_SEARCH_PAGES):
        result = backend.search(query)
        yield from (hit.document.id for hit in result.hits)
        if result.next_cursor is None or not result.hits:
            return
        query = query.model_copy(update={"cursor": result.next_cursor})


def _matching_complaints(
    session: Session, backend: SearchBackend | None, watch: Watch, scope: WatchScope, since: dt.datetime
) -> list[Complaint]:
    condition: ColumnElement[bool] | None
    if watch.kind == "search":
        if backend is None:
            return []
        ids = list(_searched_complaints(backend, search_query_of(watch, scope, since)))
        condition = Complaint.id.in_(ids) if ids else None
    elif watch.kind == "merchant":
        merchant = session.get(Merchant, watch.merchant_id)
        names = [merchant.name] if merchant else []
        condition = or_(Complaint.merchant_id == watch.merchant_id, Complaint.merchant_name.in_(names))
    elif watch.kind == "product":
        condition = Complaint.product_id == watch.product_id
    else:
        in_category = select(Product.id).where(Product.category_id == watch.category_id)
        condition = Complaint.product_id.in_(in_category)
    if condition is None:
        return []
    query = select(Complaint).where(condition, Complaint.created_at >= since)
    if scope.association_id is not None:
        query = query.where(Complaint.association_id == scope.association_id)
    return list(session.scalars(query.order_by(Complaint.id)))


def _matching_alerts(session: Session, watch: Watch, scope: WatchScope, since: dt.datetime) -> list[Alert]:
    if watch.kind == "merchant":
        condition = Alert.merchant_id == watch.merchant_id
    elif watch.kind == "product":
        condition = Alert.product_id == watch.product_id
    elif watch.kind == "category":
        condition = Alert.product_id.in_(select(Product.id).where(Product.category_id == watch.category_id))
    else:
        return []
    query = select(Alert).where(
        condition, Alert.status.in_(ALERT_STATUSES_TO_DELIVER), Alert.updated_at >= since
    )
    if scope.association_id is not None:
        query = query.where(Alert.industry.in_(scope.industries))
    return list(
        session.scalars(
            query.options(selectinload(Alert.product), selectinload(Alert.merchant)).order_by(Alert.id)
        )
    )


def watch_rows(
    watch: Watch, item: str, payload: dict[str, Any], now: dt.datetime
) -> Iterable[dict[str, Any]]:
    """One outbox row per channel of the watch for one matched item (``complaint:12``, ``alert:3``)."""
    payload = {**payload, "watch": {"id": watch.id, "name": watch.name}}
    common = {"watch_id": watch.id, "association_id": watch.association_id, "next_attempt_at": now}
    kind, _, item_id = item.partition(":")
    common[f"{kind}_id"] = int(item_id)
    prefix = f"watch:{watch.id}:{item}"
    for channel in watch.channels or []:
        if channel == "inbox":
            yield {
                **common,
                "dedupe_key": f"{prefix}:inbox",
                "channel": "inbox",
                "payload": payload,
                "status": "sent",
                "sent_at": now,
            }
        elif channel in ("webhook", "email"):
            yield {**common, "dedupe_key": f"{prefix}:{channel}", "channel": channel, "payload": payload}
        elif channel == "im":
            for url in watch.apprise_urls or []:
                target = im.url_fingerprint(url)
                yield {
                    **common,
                    "dedupe_key": f"{prefix}:im:{target}",
                    "channel": "im",
                    "payload": {**payload, "target": target},
                }


def enqueue_watch_matches(
    session: Session,
    search_backend: Callable[[], SearchBackend] | None,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Write the outbox rows of every active watch's new matches; commits; returns rows created.

    ``search_backend`` opens the search index, only when a saved search is being watched. A watch
    whose search cannot run now (index unavailable) keeps its place and is tried again next time.
    """
    now = now or utcnow()
    backend: SearchBackend | None = None
    watches = session.execute(
        select(Watch, User)
        .join(User, User.id == Watch.user_id)
        .where(Watch.active.is_(True), User.disabled.is_(False))
        .options(selectinload(User.association))
        .order_by(Watch.id)
    ).all()
    created = 0
    for watch, user in watches:
        scope = WatchScope.of(user)
        since = max(watch.created_at, (watch.matched_through or watch.created_at) - OVERLAP)
        rows: list[dict[str, Any]] = []
        try:
            if watch.kind == "search" and backend is None and search_backend is not None:
                backend = search_backend()
            if "complaints" in (watch.items or []):
                for complaint in _matching_complaints(session, backend, watch, scope, since):
                    payload = messages.complaint_payload(complaint)
                    rows.extend(watch_rows(watch, f"complaint:{complaint.id}", payload, now))
        except Exception:  # an index that cannot answer now must not stop the other watches
            log.warning("watch %s: search failed, trying again next run", watch.id, exc_info=True)
            session.rollback()
            continue
        if "alerts" in (watch.items or []):
            for alert in _matching_alerts(session, watch, scope, since):
                rows.extend(watch_rows(watch, f"alert:{alert.id}", messages.alert_payload(alert), now))
        created += insert_deliveries(session, rows)
        watch.matched_through = now
        session.commit()
    return created


def owning_association(session: Session, user: User) -> int | None:
    """The association a watch's deliveries are filed under: the owner's, else the consumer association."""
    if user.association_id is not None:
        return user.association_id
    return session.scalar(
        select(Association.id).where(Association.is_consumer_association.is_(True)).order_by(Association.id)
    )
