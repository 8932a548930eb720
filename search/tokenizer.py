"""The one Chinese tokenizer behind indexing, querying and highlighting.

jieba in search mode (words plus the dictionary words inside them, so 猪肉 finds 鲜猪肉) with a user
dictionary of goods, brands and consumer-protection terms kept in ``search/data/userdict.txt``. Every
jieba word is cut further into runs of letters and digits, NFKC-normalised and lower-cased: the resulting
terms contain no spaces, quotes or operators, so both backends can store them space-joined and match
them verbatim, and no user input ever reaches a query syntax. Synonyms (``search/data/synonyms.txt``)
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

_TERM_CHARS = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class Token:
    """A term and where it stands in the original text (``text[start:end]``)."""

    term: str
    start: int
    end: int


def _normalized_terms(word: str) -> Iterator[tuple[str, int, int]]:
    for piece in _TERM_CHARS.finditer(word):
        normalized = unicodedata.normalize("NFKC", piece.group()).lower()
        for term in _TERM_CHARS.findall(normalized):
            yield term, piece.start(), piece.end()


def _fold_width(text: str) -> str:
    """Full-width letters and digits (Ｎ９５) as ASCII, character for character, so offsets still fit."""
    if text.isascii():
        return text
    return "".join(
        folded if len(folded := unicodedata.normalize("NFKC", char)) == 1 else char for char in text
    )


class SearchTokenizer:
    """jieba with the search dictionary loaded into its own instance (not jieba's global one)."""

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        data = resources.files("search").joinpath("data")
        with resources.as_file(data.joinpath("userdict.txt")) as path:
            self._jieba.load_userdict(str(path))
        self.synonyms = _load_synonyms(data.joinpath("synonyms.txt").read_text("utf-8"))

    def tokens(self, text: str) -> list[Token]:
        """Terms with their offsets in ``text``; overlapping in search mode (鲜猪肉 and 猪肉)."""
        with self._lock:  # jieba's lazy initialisation is not thread-safe
            words = list(self._jieba.tokenize(_fold_width(text), mode="search", HMM=False))
        return [
            Token(term, start + offset_start, start + offset_end)
            for word, start, _ in words
            for term, offset_start, offset_end in _normalized_terms(word)
        ]

    def index_text(self, *texts: str | None) -> str:
        """The space-joined terms both backends store for full-text matching."""
        return " ".join(token.term for text in texts if text for token in self.tokens(text))

    def query_terms(self, text: str) -> list[tuple[str, ...]]:
        """One group per distinct query term: the term and its synonyms (any of them matches)."""
        groups: dict[str, tuple[str, ...]] = {}
        for token in self.tokens(text):
            if token.term not in groups and len(groups) < MAX_QUERY_TERMS:
                groups[token.term] = self.synonyms.get(token.term, (token.term,))
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
    """Merged ``(start, end)`` spans of ``text`` whose terms are in ``terms``, on the original text."""
    spans = sorted((t.start, t.end) for t in get_tokenizer().tokens(text) if t.term in terms)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
