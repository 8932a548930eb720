"""The one Chinese tokenizer behind indexing, querying and highlighting.

jieba in search mode (words plus the dictionary words inside them, so 猪肉 finds 鲜猪肉) with a user
dictionary of goods, brands and consumer-protection terms kept in ``core/data/userdict.txt``. Every
jieba word is cut further into runs of letters and digits, NFKC-normalised and lower-cased: the resulting
terms contain no spaces, quotes or operators, so both backends can store them space-joined and match
them verbatim, and no user input ever reaches a query syntax. Synonyms (``core/data/synonyms.txt``)
are applied at query time only.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jieba
from cachetools import LRUCache

_TERM_CHARS = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 32
#: Texts whose tokens are kept: search results highlight the same popular complaints again and again,
#: and cutting their text with jieba is most of what a search costs in Python.
TOKENS_KEPT = 10_000


@dataclass(frozen=True)
class Token:
    """A term and where it stands in the original text (``text[start:end]``)."""

    term: str
    start: int
    end: int


def _normalized_terms(word: str) -> Iterator[tuple[str, int, int]]:
    if word.isalnum() and (word.isascii() or unicodedata.is_normalized("NFKC", word)):
        yield word.lower(), 0, len(word)  # the common case: one clean word
        return
    for piece in _TERM_CHARS.finditer(word):
        normalized = unicodedata.normalize("NFKC", piece.group()).lower()
        for term in _TERM_CHARS.findall(normalized):
            yield term, piece.start(), piece.end()


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _fold_width(text: str) -> str:
    """Full-width ASCII (Ｎ９５) as ASCII, character for character, so offsets still fit the original."""
    return text.translate(_FULL_WIDTH)


class SearchTokenizer:
    """jieba with the search dictionary loaded into its own instance (not jieba's global one)."""

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._tokens: LRUCache[str, tuple[Token, ...]] = LRUCache(maxsize=TOKENS_KEPT)
        data = resources.files("core").joinpath("data")
        with resources.as_file(data.joinpath("userdict.txt")) as path:
            self._jieba.load_userdict(str(path))
        self.synonyms = _load_synonyms(data.joinpath("synonyms.txt").read_text("utf-8"))

    def tokens(self, text: str) -> tuple[Token, ...]:
        """Terms with their offsets in ``text``; overlapping in search mode (鲜猪肉 and 猪肉)."""
        with self._lock:  # jieba's lazy initialisation is not thread-safe; the cache is not either
            known = self._tokens.get(text)
            if known is not None:
                return known
            words = list(self._jieba.tokenize(_fold_width(text), mode="search", HMM=False))
        tokens = tuple(
            Token(term, start + offset_start, start + offset_end)
            for word, start, _ in words
            for term, offset_start, offset_end in _normalized_terms(word)
        )
        with self._lock:
            self._tokens[text] = tokens
        return tokens

    def terms(self, text: str) -> list[str]:
        """The terms of ``tokens`` without offsets (faster: jieba's own search-mode cut)."""
        with self._lock:
            words = list(self._jieba.cut_for_search(_fold_width(text), HMM=False))
        joined = " ".join(words)  # a space never belongs to a term, so no term spans two words
        if not unicodedata.is_normalized("NFKC", joined):
            joined = unicodedata.normalize("NFKC", joined)
        return _TERM_CHARS.findall(joined.lower())

    def index_text(self, *texts: str | None) -> str:
        """The space-joined terms both backends store for full-text matching."""
        return " ".join(term for text in texts if text for term in self.terms(text))

    def query_terms(self, text: str) -> list[tuple[str, ...]]:
        """One group per distinct query term: the term and its synonyms (any of them matches)."""
        groups: dict[str, tuple[str, ...]] = {}
        for term in self.terms(text):
            if term not in groups and len(groups) < MAX_QUERY_TERMS:
                groups[term] = self.synonyms.get(term, (term,))
        return list(groups.values())


def _load_synonyms(table: str) -> dict[str, tuple[str, ...]]:
    synonyms: dict[str, tuple[str, ...]] = {}
    for line in table.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = tuple(
            dict.fromkeys(unicodedata.normalize("NFKC", term).strip().lower() for term in line.split(","))
        )
        for term in terms:
            synonyms[term] = tuple(dict.fromkeys((term, *synonyms.get(term, ()), *terms)))
    return synonyms


@lru_cache(maxsize=1)
def get_tokenizer() -> SearchTokenizer:
    """The process-wide tokenizer; jieba's dictionary loads once, on first use."""
    tokenizer = SearchTokenizer()
    tokenizer.tokens("初始化")
    return tokenizer


def highlight_spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` spans of ``text`` whose terms are in ``terms``, on the original text.

    jieba cuts each run of its word characters on its own, so only the runs that contain a query term
    at all need cutting: the offsets are the same as from cutting the whole text.
    """
    folded = _fold_width(text).lower()
    runs = (
        [run.span() for run in jieba.re_han_default.finditer(folded) if any(t in run.group() for t in terms)]
        if len(folded) == len(text)
        else [(0, len(text))]
    )
    tokenizer = get_tokenizer()
    spans = sorted(
        (start + t.start, start + t.end)
        for start, end in runs
        for t in tokenizer.tokens(text[start:end])
        if t.term in terms
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
