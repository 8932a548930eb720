"""Complaint classification: nature (价格, 质量 …) and industry (which trade association it falls to).

A multinomial Naive Bayes model over jieba words and character bigrams, implemented with numpy so it
can learn one example at a time (a staff correction) without refitting. Keyword priors kept as data
(``resources/classification.yaml``) are its first training documents, so it classifies sensibly before
any labelled complaint exists; labelled complaints and corrections are added on top.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jieba
import numpy as np
import yaml

_MEANINGFUL_TOKEN = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
BIGRAM_PREFIX = "2:"  # keeps the bigram 涨价 apart from the word 涨价


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float


@dataclass(frozen=True)
class LabelSet:
    """The labels of one classification task, their keyword priors and the label for unknown texts."""

    codes: tuple[str, ...]
    names: dict[str, str]
    aliases: dict[str, str]
    keywords: dict[str, dict[str, int]]
    fallback: str

    def normalize(self, value: str) -> str | None:
        """The label code for a code, a display name or an alias; None when unknown."""
        value = value.strip()
        if value in self.names:
            return value
        return self.aliases.get(value)


@lru_cache(maxsize=1)
def _label_config() -> dict[str, Any]:
    text = resources.files("complaints").joinpath("resources/classification.yaml").read_text("utf-8")
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def _label_set(task: str) -> LabelSet:
    section = _label_config()[task]
    codes = tuple(entry["code"] for entry in section["labels"])
    names = {entry["code"]: entry["label"] for entry in section["labels"]}
    aliases: dict[str, str] = {}
    for entry in section["labels"]:
        aliases[entry["label"]] = entry["code"]
        aliases.update(dict.fromkeys(entry.get("aliases", []), entry["code"]))
    keywords = {
        entry["code"]: {word: int(weight) for weight, words in entry["keywords"].items() for word in words}
        for entry in section["labels"]
    }
    return LabelSet(codes, names, aliases, keywords, section["fallback"])


STOPWORDS = frozenset(_label_config()["stopwords"].split())
NATURES = _label_set("natures")
INDUSTRIES = _label_set("industries")


class Tokenizer:
    """jieba with the keyword priors as extra words, kept apart from jieba's global dictionary."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in extra_words:
            self._jieba.add_word(word)

    def tokens(self, text: str) -> list[str]:
        return [
            token
            for token in self._jieba.lcut(text)
            if _MEANINGFUL_TOKEN.search(token) and token not in STOPWORDS
        ]

    def features(self, text: str) -> list[str]:
        """Words plus character bigrams: bigrams catch what segmentation splits differently.

        On the TipDM messages (split seeds 1-3) they raised macro-F1 from 0.70 to 0.73.
        """
        return self.tokens(text) + character_bigrams(text)


def character_bigrams(text: str) -> list[str]:
    return [BIGRAM_PREFIX + run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]


class NaiveBayesModel:
    """Multinomial Naive Bayes with additive smoothing; counts grow with every example learnt.

    ``alpha`` 0.2 was the best of 0.05-1.0 on the TipDM messages with split seeds 1-3 (not the seed
    benchmarks/classifier_eval.py reports).
    """

    def __init__(self, labels: Sequence[str], alpha: float = 0.2) -> None:
        self.labels = tuple(labels)
        self.alpha = alpha
        self._label_index = {label: i for i, label in enumerate(self.labels)}
        self._vocabulary: dict[str, int] = {}
        self._token_counts = np.zeros((len(self.labels), 0))
        self._document_counts = np.zeros(len(self.labels))
        self._lock = threading.Lock()

    def fit(self, documents: Iterable[Sequence[str]], labels: Iterable[str]) -> NaiveBayesModel:
        for tokens, label in zip(documents, labels, strict=True):
            self.learn(tokens, label)
        return self

    def learn(self, tokens: Sequence[str], label: str, weight: float = 1.0) -> None:
        row = self._label_index[label]
        with self._lock:
            for token in tokens:
                if token not in self._vocabulary:
                    self._vocabulary[token] = len(self._vocabulary)
            if len(self._vocabulary) > self._token_counts.shape[1]:
                grown = np.zeros(
                    (len(self.labels), max(len(self._vocabulary), 2 * self._token_counts.shape[1]))
                )
                grown[:, : self._token_counts.shape[1]] = self._token_counts
                self._token_counts = grown
            columns = np.fromiter((self._vocabulary[token] for token in tokens), dtype=np.int64)
            np.add.at(self._token_counts[row], columns, weight)
            self._document_counts[row] += weight

    def predict(self, tokens: Sequence[str], fallback: str) -> Prediction:
        """Most probable label; ``fallback`` with a uniform confidence when no token is known.

        The confidence is the posterior tempered by the square root of the number of known tokens:
        raw Naive Bayes posteriors of long texts are all close to 1 and tell staff nothing.
        """
        columns = [self._vocabulary[token] for token in tokens if token in self._vocabulary]
        if not columns:
            return Prediction(fallback, round(1.0 / len(self.labels), 4))
        with self._lock:
            vocabulary_size = len(self._vocabulary)
            counts = self._token_counts[:, :vocabulary_size]
            log_prior = np.log(self._document_counts + 1.0) - math.log(
                self._document_counts.sum() + len(self.labels)
            )
            totals = counts.sum(axis=1) + self.alpha * vocabulary_size
            log_likelihood = np.log(counts[:, columns] + self.alpha).sum(axis=1) - len(columns) * np.log(
                totals
            )
        scores = (log_prior + log_likelihood) / math.sqrt(len(columns))
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        best = int(probabilities.argmax())
        return Prediction(self.labels[best], round(float(probabilities[best]), 4))


@dataclass(frozen=True)
class Classification:
    nature: Prediction
    industry: Prediction


@lru_cache(maxsize=1)
def keyword_tokenizer() -> Tokenizer:
    """One tokenizer for every classifier: loading jieba's dictionary takes about half a second."""
    keywords = {
        word for labels in (NATURES, INDUSTRIES) for words in labels.keywords.values() for word in words
    }
    return Tokenizer(sorted(keywords))


class ComplaintClassifier:
    """Nature and industry models sharing one tokenizer, trained first on the keyword priors."""

    def __init__(self) -> None:
        self.tokenizer = keyword_tokenizer()
        self.nature_model = NaiveBayesModel(NATURES.codes)
        self.industry_model = NaiveBayesModel(INDUSTRIES.codes)
        for labels, model in ((NATURES, self.nature_model), (INDUSTRIES, self.industry_model)):
            for code, words in labels.keywords.items():
                pseudo_document = [
                    feature
                    for word, weight in words.items()
                    for _ in range(weight)
                    for feature in [word, *character_bigrams(word)]
                ]
                model.learn(pseudo_document, code)

    def classify(self, text: str) -> Classification:
        tokens = self.tokenizer.features(text)
        return Classification(
            nature=self.nature_model.predict(tokens, NATURES.fallback),
            industry=self.industry_model.predict(tokens, INDUSTRIES.fallback),
        )

    def learn(self, text: str, *, nature: str | None = None, industry: str | None = None) -> None:
        """Add one labelled complaint (a staff correction, or a labelled import) to the models.

        Labels that are not codes of this classifier are ignored: there is nothing to learn for them.
        """
        tokens = self.tokenizer.features(text)
        if nature in NATURES.names:
            self.nature_model.learn(tokens, nature)
        if industry in INDUSTRIES.names:
            self.industry_model.learn(tokens, industry)


@lru_cache(maxsize=1)
def get_classifier() -> ComplaintClassifier:
    """A process-wide classifier for callers without their own (command line, bulk import)."""
    return ComplaintClassifier()
