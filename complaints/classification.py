"""Complaint classification: nature (价格, 质量 …) and industry (which trade association it falls to).

A linear SVM over hashed TF-IDF features — jieba words and word bigrams plus character 2-3 grams —
with scikit-learn. The words are the search tokenizer's terms, so a complaint is cut by jieba once and
the same terms feed the classifier and the search index. Keyword priors kept as data
(``resources/classification.yaml``) are the first training examples, so it classifies sensibly before
any labelled complaint exists; staff corrections and labelled complaints are added on top.
"""

from __future__ import annotations

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
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from core.tokenizer import get_tokenizer

_MEANINGFUL_TOKEN = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NOT_LETTER = re.compile(r"[\W_\d]+")
_DIGIT = re.compile(r"\d")
CHARACTER_NGRAMS = (2, 3)  # single characters: a third more to count for macro-F1 +0.002 on TipDM
LINEAR_C = 1.0
CHARACTER_WEIGHT = 0.6
NB_ALPHA = 0.3


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

    def json_schema(self) -> dict[str, Any]:
        """The values ``normalize`` understands, as an API schema: codes, display names and aliases."""
        values = [*self.codes, *self.names.values(), *self.aliases]
        return {"type": "string", "enum": list(dict.fromkeys(values))}


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


@dataclass(frozen=True)
class TextFeatures:
    """What the model sees of a text: its words (title words twice) and its character 2-3 grams."""

    words: list[str]
    characters: list[str]


def text_features(terms: Sequence[str], text: str, title_terms: Sequence[str] = ()) -> TextFeatures:
    """Features from the search tokenizer's ``terms`` of ``text`` (cut once for classifier and index).

    A title says what a complaint is about, so its words count twice; character n-grams catch what
    segmentation splits differently. Digits (amounts, dates, phone numbers) are left out of both:
    the 95 of a masked phone number is not the 95 of N95.
    """
    words = [
        term
        for term in (*terms, *title_terms)
        if _MEANINGFUL_TOKEN.search(term) and term not in STOPWORDS and not _DIGIT.search(term)
    ]
    letters = _NOT_LETTER.sub("", text.lower())
    characters = [letters[i : i + n] for n in CHARACTER_NGRAMS for i in range(len(letters) - n + 1)]
    return TextFeatures(words, characters)


def features_of(text: str, title: str | None = None) -> TextFeatures:
    """``text_features`` of a text not yet tokenized (``title``: its words count twice)."""
    tokenizer = get_tokenizer()
    return text_features(tokenizer.terms(text), text, tokenizer.terms(title) if title else ())


def _as_given(features: list[str]) -> list[str]:
    return features


def _counter() -> CountVectorizer:
    return CountVectorizer(analyzer=_as_given)


class LinearTextModel:
    """Two linear models over word and character n-gram features, their probabilities averaged.

    A linear SVM over TF-IDF words plus (weighted 0.6) TF-IDF character 2-3 grams, and a complement
    Naive Bayes over word TF-IDF. On the 495 real TipDM messages (stratified 5-fold) the SVM alone
    reached macro-F1 0.84, the average 0.85; the Naive Bayes model this replaced 0.74 (the
    weights were chosen on those same folds: see benchmarks/classifier_eval.py). Reusable for any
    label set: production trains it on the keyword priors plus staff corrections, the evaluation on
    TipDM folds. Examples are kept and the model is refitted before the next prediction after one is
    learnt (well under a second for thousands of examples); predictions are batched.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self._examples: list[TextFeatures] = []
        self._targets: list[str] = []
        self._weights: list[float] = []
        self._fitted: _FittedModel | None = None
        self._lock = threading.Lock()

    def fit(self, documents: Iterable[TextFeatures], labels: Iterable[str]) -> LinearTextModel:
        for features, label in zip(documents, labels, strict=True):
            self.learn(features, label)
        return self

    def learn(self, features: TextFeatures, label: str, weight: float = 1.0) -> None:
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}")
        with self._lock:
            self._examples.append(features)
            self._targets.append(label)
            self._weights.append(weight)
            self._fitted = None

    def _model(self) -> _FittedModel:
        with self._lock:
            if self._fitted is None:
                self._fitted = _FittedModel.fit(self._examples, self._targets, self._weights)
            return self._fitted

    def predict(self, features: TextFeatures, fallback: str) -> Prediction:
        return self.predict_many([features], fallback)[0]

    def predict_many(self, documents: Sequence[TextFeatures], fallback: str) -> list[Prediction]:
        """The best label of each document; ``fallback`` with a uniform confidence when none of its
        words or character pairs and triples was ever seen in training."""
        if not documents:
            return []
        model = self._model()
        uniform = round(1.0 / len(self.labels), 4)
        probabilities, known = model.probabilities(documents)
        predictions = []
        for row, is_known in enumerate(known):
            if not is_known:
                predictions.append(Prediction(fallback, uniform))
                continue
            best = int(probabilities[row].argmax())
            predictions.append(Prediction(model.classes[best], round(float(probabilities[row, best]), 4)))
        return predictions


@dataclass(frozen=True)
class _FittedModel:
    words: CountVectorizer
    characters: CountVectorizer
    svm_words: TfidfTransformer  # sublinear TF-IDF
    svm_characters: TfidfTransformer
    nb_words: TfidfTransformer  # plain TF-IDF
    character_evidence: np.ndarray  # 1 for character pairs and triples (a single one says nothing)
    svm: LinearSVC | None  # None when all examples have one label
    naive_bayes: ComplementNB | None
    classes: tuple[str, ...]

    @classmethod
    def fit(cls, examples: list[TextFeatures], targets: list[str], weights: list[float]) -> _FittedModel:
        words, characters = _counter(), _counter()
        word_counts = words.fit_transform([e.words for e in examples])
        character_counts = characters.fit_transform([e.characters for e in examples])
        svm_words = TfidfTransformer(sublinear_tf=True).fit(word_counts)
        svm_characters = TfidfTransformer(sublinear_tf=True).fit(character_counts)
        nb_words = TfidfTransformer().fit(word_counts)
        matrix = sparse.hstack(
            [
                svm_words.transform(word_counts),
                CHARACTER_WEIGHT * svm_characters.transform(character_counts),
            ]
        ).tocsr()
        nb_matrix = nb_words.transform(word_counts)
        evidence = np.zeros(len(characters.vocabulary_))
        for key, column in characters.vocabulary_.items():
            evidence[column] = len(key) > 1
        classes = tuple(sorted(set(targets)))
        if len(classes) < 2:
            return cls(words, characters, svm_words, svm_characters, nb_words, evidence, None, None, classes)
        sample_weight = np.asarray(weights)
        svm = LinearSVC(C=LINEAR_C, class_weight="balanced").fit(matrix, targets, sample_weight=sample_weight)
        naive_bayes = ComplementNB(alpha=NB_ALPHA).fit(nb_matrix, targets, sample_weight=sample_weight)
        return cls(
            words, characters, svm_words, svm_characters, nb_words, evidence, svm, naive_bayes, classes
        )

    def probabilities(self, documents: Sequence[TextFeatures]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (columns in ``classes`` order) and whether anything in each was known."""
        word_counts = self.words.transform([d.words for d in documents])
        character_counts = self.characters.transform([d.characters for d in documents])
        known = (word_counts.getnnz(axis=1) > 0) | (character_counts @ self.character_evidence > 0)
        if self.svm is None or self.naive_bayes is None:
            return np.ones((len(documents), 1)), known
        margins = self.svm.decision_function(
            sparse.hstack(
                [
                    self.svm_words.transform(word_counts),
                    CHARACTER_WEIGHT * self.svm_characters.transform(character_counts),
                ]
            ).tocsr()
        )
        if margins.ndim == 1:  # two classes: one margin, for the second
            margins = np.column_stack([-margins, margins])
        svm_probabilities = np.exp(margins - margins.max(axis=1, keepdims=True))
        svm_probabilities /= svm_probabilities.sum(axis=1, keepdims=True)
        nb_probabilities = self.naive_bayes.predict_proba(self.nb_words.transform(word_counts))
        return (svm_probabilities + nb_probabilities) / 2, known


@dataclass(frozen=True)
class Classification:
    nature: Prediction
    industry: Prediction


class ComplaintClassifier:
    """Nature and industry models, trained first on the keyword priors.

    Each keyword is an example of its label, repeated by its weight, so a text naming several
    keywords of a label leans towards it more strongly.
    """

    def __init__(self) -> None:
        self.nature_model = LinearTextModel(NATURES.codes)
        self.industry_model = LinearTextModel(INDUSTRIES.codes)
        for labels, model in ((NATURES, self.nature_model), (INDUSTRIES, self.industry_model)):
            for code, words in labels.keywords.items():
                for word, weight in words.items():
                    model.learn(features_of(word), code, weight=float(weight))

    def classify(self, text: str) -> Classification:
        return self.classify_features([features_of(text)])[0]

    def classify_features(self, documents: Sequence[TextFeatures]) -> list[Classification]:
        """A batch of texts given as ``text_features``: one matrix product per model."""
        natures = self.nature_model.predict_many(documents, NATURES.fallback)
        industries = self.industry_model.predict_many(documents, INDUSTRIES.fallback)
        return [Classification(n, i) for n, i in zip(natures, industries, strict=True)]

    def learn(
        self, text: str, *, nature: str | None = None, industry: str | None = None, title: str | None = None
    ) -> None:
        """Add one labelled complaint (a staff correction, or a labelled import) to the models.

        ``text`` holds all its words (title included); ``title`` again, as classification weighs it.
        Labels that are not codes of this classifier are ignored: there is nothing to learn for them.
        """
        features = features_of(text, title)
        if nature in NATURES.names:
            self.nature_model.learn(features, nature)
        if industry in INDUSTRIES.names:
            self.industry_model.learn(features, industry)


@lru_cache(maxsize=1)
def get_classifier() -> ComplaintClassifier:
    """A process-wide classifier for callers without their own (command line, bulk import)."""
    return ComplaintClassifier()
