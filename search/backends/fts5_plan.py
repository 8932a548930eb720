"""How one FTS5 search runs, decided once from the query and its newest matches: a small named plan.

A broad match (more than the sample holds) is ranked, faceted and, with other filters, counted over its
newest matches only, unless the query asks to be exhaustive; a search without terms matches everything in
scope. Every later step asks the plan instead of re-deriving these from loose flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from search.backends.fts5_sql import has_filters_beyond_terms, query_match
from search.query import SearchQuery, TotalRelation


@dataclass(frozen=True)
class SearchPlan:
    query: SearchQuery
    match: str | None  # the FTS5 MATCH text; None: no terms, everything in scope matches
    sample: str | None  # JSON ids of the newest matches (None without terms)
    broad_floor: int | None  # lowest id of the sample when more match than it holds; None: it holds all
    terms_only: bool  # nothing but terms and scope (both inside the MATCH) narrows the search

    @classmethod
    def make(cls, query: SearchQuery, newest: list[int], broad_floor: int | None) -> SearchPlan:
        """``newest``: the ids of the newest matches (at most the sample's size) when there are terms."""
        match = query_match(query) if query.term_groups else None
        return cls(
            query=query,
            match=match,
            sample=json.dumps(newest) if match else None,
            broad_floor=broad_floor if match else None,
            terms_only=match is not None and not has_filters_beyond_terms(query),
        )

    @property
    def floor(self) -> int | None:
        """Matches below this id are left out (ranking, facets): the broad floor unless exhaustive."""
        return None if self.query.exhaustive else self.broad_floor

    @property
    def matched(self) -> str | None:
        """The JSON ids every match is among, when the sample is that (it holds all, or bounds the search)."""
        return self.sample if self.floor is not None or self.broad_floor is None else None

    @property
    def tally_beside(self) -> bool:
        """Count facets (and the total, unless FTS5 counts it) on a second connection meanwhile."""
        return self.matched is not None and (self.query.facets or not self.terms_only)

    @property
    def count_in_tally(self) -> bool:
        return not self.terms_only

    def bounded_total(self, counted: int, limit: int) -> tuple[int, TotalRelation]:
        """The total as reported: a lower bound beyond ``limit`` or when counted over the sample."""
        if counted > limit or (self.floor is not None and not self.terms_only):
            return min(counted, limit), "gte"
        return counted, "eq"

    def browse_sampled(self, relation: TotalRelation) -> bool:
        """A search without terms over more than ``TOTAL_LIMIT``: facets count the newest complaints only."""
        return self.match is None and relation == "gte" and not self.query.exhaustive

    def sampled(self, relation: TotalRelation) -> bool:
        """Whether ranking or facets looked at the newest matches only (reported to the caller)."""
        query = self.query
        return (self.floor is not None or self.browse_sampled(relation)) and bool(
            query.facets or (query.size and query.effective_sort == "relevance")
        )
