"""The shape of a stored complaint as the search index reads it, in a module light enough for the
index's worker processes to import (no classifier, no ORM)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple


class StoredComplaint(NamedTuple):
    """The columns the search index reads of a complaint, in ``search.documents.INDEXED_COLUMNS`` order:
    what an import hands the index for the complaints it just stored, and what a reindex reads back.
    A plain tuple, so it crosses to a worker process cheaply."""

    id: int
    tracking_code: str
    title: str | None
    text: str
    merchant_name: str | None
    product_category: str | None
    nature: str | None
    industry: str | None
    district: str | None
    status: str
    created_at: dt.datetime
    amount: Any
    association_id: int | None
