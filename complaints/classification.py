"""Complaint classification: nature (价格, 质量 …) and industry (which trade association it falls to).

An NB-SVM (linear SVMs over TF-IDF features scaled by Naive Bayes log-count ratios) with scikit-learn;
the features are jieba words plus character 2-3 grams of the text and, apart, of the title, counted with
numpy over a whole batch. The words are the search tokenizer's terms, so a complaint is cut by jieba
once and the same terms feed the classifier and the search index.
Keyword priors kept as data (``resources/classification.yaml``) are the first training examples, so it
classifies sensibly before any labelled complaint exists; staff corrections and labelled complaints are
added on top.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import repeat
from typing import Any, NamedTuple

import jieba
import numpy as np
import yaml
from scipy import sparse
from sklearn.svm import LinearSVC

from core.tokenizer import get_tokenizer

_MEANINGFUL_TOKEN = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NOT_LETTER = re.compile(r"[\W_\d]+")
_DIGIT = re.compile(r"\d")
CHARACTER_NGRAMS = (2, 3)  # single characters too: TipDM macro-F1 +0.005, keyword priors alone -0.05


@dataclass(frozen=True)
class Hyperparameters:
    """The model's settings.

    The shipped ones are fixed a priori, not tuned on any labelled data: scikit-learn's SVM default
    C=1, Laplace smoothing 1 for the log-count ratios (Wang & Manning's NB-SVM) and equal weights for
    the feature blocks. So a plain cross-validation score of them is not inflated by their choice;
    benchmarks/classifier_eval.py also scores a nested-CV choice from a grid around them.
    """

    c: float = 1.0  # each SVM's inverse regularisation
    character_weight: float = 1.0  # character n-grams' TF-IDF (text and title) against the words'
    smoothing: float = 1.0  # added to each feature's document count in the log-count ratios


SHIPPED = Hyperparameters()


class Prediction(NamedTuple):  # a tuple: batches of them cross from worker processes cheaply
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
    """What the model sees of a text: its words (title words twice), its letters and its title's
    letters, whose character 2-3 grams the model counts (the title's apart)."""

    words: list[str]
    characters: str
    title_characters: str = ""


def _letters(text: str) -> str:
    return _NOT_LETTER.sub("", text.lower())


def text_features(
    terms: Sequence[str], text: str, title_terms: Sequence[str] = (), title: str | None = None
) -> TextFeatures:
    """Features from the search tokenizer's ``terms`` of ``text`` (cut once for classifier and index).

    A title says what a complaint is about, so its words count twice and its character n-grams are
    features of their own (``title``: its text, also part of ``text``); character n-grams catch what
    segmentation splits differently. Digits (amounts, dates, phone numbers) are left out of all:
    the 95 of a masked phone number is not the 95 of N95.
    """
    words = [
        term
        for term in (*terms, *title_terms)
        if _MEANINGFUL_TOKEN.search(term) and term not in STOPWORDS and not _DIGIT.search(term)
    ]
    return TextFeatures(words, _letters(text), _letters(title) if title else "")


def features_of(text: str, title: str | None = None) -> TextFeatures:
    """``text_features`` of a text not yet tokenized (``title``: part of ``text``, weighed again)."""
    tokenizer = get_tokenizer()
    return text_features(tokenizer.terms(text), text, tokenizer.terms(title) if title else (), title)


_CODE_POINTS = 0x110000  # a character n-gram's key: its code points as digits in this base (fits 64 bits)
_SEPARATOR = "\x00"  # never among a text's letters (``_NOT_LETTER`` removes it)


def _character_ngrams(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every character n-gram of every text as a uint64 key, and the text of each key.

    Made with numpy over the whole batch at once: no Python string per n-gram.
    """
    joined = _SEPARATOR.join(texts) + _SEPARATOR
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    rows = np.repeat(np.arange(len(texts)), [len(text) + 1 for text in texts])
    keys, owners = [], []
    for n in CHARACTER_NGRAMS:
        count = len(codes) - n + 1
        if count <= 0:
            continue
        key, valid = codes[:count].copy(), codes[:count] != 0
        for offset in range(1, n):
            following = codes[offset : offset + count]
            key = key * _CODE_POINTS + following
            valid &= following != 0
        keys.append(key[valid])
        owners.append(rows[:count][valid])
    return (
        np.concatenate(keys) if keys else np.zeros(0, np.uint64),
        np.concatenate(owners) if owners else np.zeros(0, np.int64),
    )


@dataclass(frozen=True)
class EncodedBatch:
    """A batch of documents as the model reads it, worked out once per batch.

    Character n-grams (of the texts, and of the titles apart) are integer keys; the model maps words
    and keys onto its own columns.
    """

    size: int
    words: list[str]  # every word of every document
    word_rows: np.ndarray  # the document of each word
    character_keys: np.ndarray  # uint64, every n-gram of every document
    character_rows: np.ndarray  # the document of each key
    title_keys: np.ndarray  # uint64, every n-gram of every document's title
    title_rows: np.ndarray

    @classmethod
    def of(cls, documents: Sequence[TextFeatures]) -> EncodedBatch:
        character_keys, character_rows = _character_ngrams([d.characters for d in documents])
        title_keys, title_rows = _character_ngrams([d.title_characters for d in documents])
        return cls(
            len(documents),
            [word for d in documents for word in d.words],
            np.repeat(np.arange(len(documents)), [len(d.words) for d in documents]),
            character_keys,
            character_rows,
            title_keys,
            title_rows,
        )


def _counts(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Occurrences as a count matrix (repeated row-column pairs add up: one entry per pair)."""
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=shape)
    counts.sum_duplicates()
    return counts


_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: 2**64 / golden ratio, odd


def _buckets(keys: np.ndarray, bits: int) -> np.ndarray:
    """Each key's bucket among ``2**bits``, from all of its bits (a key's low bits hold only its last
    character)."""
    return (keys * _HASH_MULTIPLIER) >> np.uint64(64 - bits)


@dataclass(frozen=True)
class _KeyColumns:
    """Character n-gram keys seen in training, one column each.

    ``buckets`` marks the hash buckets of the known keys: a batch's keys are looked up only when their
    bucket is marked (a binary search over unsorted keys costs 100 ns each; nearly all of a batch's
    n-grams are unknown to the model, and a bucket tells so in a few).
    """

    keys: np.ndarray  # sorted
    buckets: np.ndarray  # bool, 2**bits of them
    bits: int

    @classmethod
    def of(cls, keys: np.ndarray) -> _KeyColumns:
        keys = np.unique(keys)
        bits = min(max(16, len(keys).bit_length() + 4), 26)  # about 1/16 of the buckets marked
        buckets = np.zeros(1 << bits, dtype=bool)
        buckets[_buckets(keys, bits)] = True
        return cls(keys, buckets, bits)

    def counts(self, keys: np.ndarray, rows: np.ndarray, size: int) -> sparse.csr_matrix:
        """Counts of the known ``keys`` (``rows``: the document of each) in ``size`` documents."""
        maybe = self.buckets[_buckets(keys, self.bits)]
        keys, rows = keys[maybe], rows[maybe]
        columns = np.searchsorted(self.keys, keys)
        known = columns < len(self.keys)
        known[known] = self.keys[columns[known]] == keys[known]
        return _counts(rows[known], columns[known], (size, len(self.keys)))


@dataclass(frozen=True)
class _Vocabulary:
    """A model's columns: the words and character n-gram keys (text's and title's) seen in training."""

    words: dict[str, int]
    characters: _KeyColumns
    titles: _KeyColumns

    @classmethod
    def of(cls, batch: EncodedBatch) -> _Vocabulary:
        words = sorted(set(batch.words))
        return cls(
            {word: column for column, word in enumerate(words)},
            _KeyColumns.of(batch.character_keys),
            _KeyColumns.of(batch.title_keys),
        )

    def word_counts(self, batch: EncodedBatch) -> sparse.csr_matrix:
        columns = np.fromiter(map(self.words.get, batch.words, repeat(-1)), np.int64, len(batch.words))
        known = columns >= 0
        return _counts(batch.word_rows[known], columns[known], (batch.size, len(self.words)))

    def counts(self, batch: EncodedBatch) -> list[sparse.csr_matrix]:
        """Word, character n-gram and title character n-gram counts: a matrix each."""
        return [
            self.word_counts(batch),
            self.characters.counts(batch.character_keys, batch.character_rows, batch.size),
            self.titles.counts(batch.title_keys, batch.title_rows, batch.size),
        ]


class LinearTextModel:
    """An NB-SVM over word, character n-gram and title character n-gram features.

    Each block is sublinear TF-IDF (characters weighted by ``character_weight``); for each label, the
    features are scaled by their Naive Bayes log-count ratio (how much more often they occur in the
    label's examples than in the others') and a linear SVM separates the label from the rest (Wang &
    Manning 2012). On the 495 real TipDM messages, plain stratified 5-fold CV of the fixed shipped
    settings gives macro-F1 0.845 (0.846 on average over 5 other fold seeds, where the SVM with Naive
    Bayes this replaced scored 0.834 with settings tuned on all the messages);
    see benchmarks/classifier_eval.py. Reusable for any label set: production trains it on the keyword
    priors plus staff corrections, the evaluation on TipDM folds. Examples are kept and the model is
    refitted before the next prediction after one is learnt (well under a second for thousands of
    examples); predictions are batched, one sparse matrix product each.
    """

    def __init__(self, labels: Sequence[str], hyperparameters: Hyperparameters = SHIPPED) -> None:
        self.labels = tuple(labels)
        self.hyperparameters = hyperparameters
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
                self._fitted = _FittedModel.fit(
                    self._examples, self._targets, self._weights, self.hyperparameters
                )
            return self._fitted

    def predict(self, features: TextFeatures, fallback: str) -> Prediction:
        return self.predict_many([features], fallback)[0]

    def predict_many(self, documents: Sequence[TextFeatures], fallback: str) -> list[Prediction]:
        return self.predict_encoded(EncodedBatch.of(documents), fallback)

    def predict_encoded(self, batch: EncodedBatch, fallback: str) -> list[Prediction]:
        """The best label of each document; ``fallback`` with a uniform confidence when none of its
        words or character pairs and triples was ever seen in training."""
        if not batch.size:
            return []
        model = self._model()
        uniform = round(1.0 / len(self.labels), 4)
        probabilities, known = model.probabilities(batch)
        best = probabilities.argmax(axis=1)
        confidences = probabilities[np.arange(batch.size), best].round(4)
        return [
            Prediction(model.classes[column], float(confidence))
            if is_known
            else Prediction(fallback, uniform)
            for column, confidence, is_known in zip(
                best.tolist(), confidences.tolist(), known.tolist(), strict=True
            )
        ]


def _log_count_ratios(
    present: sparse.csr_matrix, targets: np.ndarray, weights: np.ndarray, smoothing: float
) -> np.ndarray:
    """Per label (rows, in sorted label order) and feature: log of how much more often the feature
    occurs in the label's examples than in the others' (each side's counts, smoothed, normalised)."""
    classes = np.unique(targets)
    weighted = sparse.csr_matrix(present.multiply(weights[:, None]))
    by_label = np.vstack([np.asarray(weighted[targets == label].sum(axis=0)).ravel() for label in classes])
    inside = by_label + smoothing
    outside = by_label.sum(axis=0) - by_label + smoothing
    return np.log(inside / inside.sum(axis=1, keepdims=True)) - np.log(
        outside / outside.sum(axis=1, keepdims=True)
    )


@dataclass(frozen=True)
class _SublinearTfIdf:
    """TF-IDF as scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` computes it (1 + log tf, smooth
    idf, rows of unit length), also for a block without columns (titles before any has been learnt)."""

    idf: np.ndarray

    @classmethod
    def fit(cls, counts: sparse.csr_matrix) -> _SublinearTfIdf:
        documents = np.bincount(counts.indices, minlength=counts.shape[1])
        return cls(np.log((1 + counts.shape[0]) / (1 + documents)) + 1)

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        matrix = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf[matrix.indices]
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
        norms[norms == 0.0] = 1.0
        matrix.data /= norms[rows]
        return matrix


@dataclass(frozen=True)
class _FittedModel:
    vocabulary: _Vocabulary
    tf_idf: tuple[_SublinearTfIdf, ...]  # one per feature block
    block_weights: tuple[float, ...]
    weights: np.ndarray | None  # (labels, features): each SVM's weights times the log-count ratios
    intercepts: np.ndarray | None  # None (with weights) when all examples have one label
    classes: tuple[str, ...]

    @classmethod
    def fit(
        cls,
        examples: list[TextFeatures],
        targets: list[str],
        weights: list[float],
        hyperparameters: Hyperparameters,
    ) -> _FittedModel:
        batch = EncodedBatch.of(examples)
        vocabulary = _Vocabulary.of(batch)
        counts = vocabulary.counts(batch)
        tf_idf = tuple(_SublinearTfIdf.fit(block) for block in counts)
        block_weights = (1.0, hyperparameters.character_weight, hyperparameters.character_weight)
        classes = tuple(sorted(set(targets)))
        if len(classes) < 2:
            return cls(vocabulary, tf_idf, block_weights, None, None, classes)
        matrix = _features(counts, tf_idf, block_weights)
        labels, sample_weight = np.asarray(targets), np.asarray(weights)
        ratios = _log_count_ratios(
            (matrix > 0).astype(np.float64), labels, sample_weight, hyperparameters.smoothing
        )
        svm_weights, intercepts = [], []
        for label, ratio in zip(classes, ratios, strict=True):
            svm = LinearSVC(C=hyperparameters.c, class_weight="balanced", max_iter=10_000).fit(
                sparse.csr_matrix(matrix.multiply(ratio)), labels == label, sample_weight=sample_weight
            )
            svm_weights.append(svm.coef_[0] * ratio)
            intercepts.append(svm.intercept_[0])
        return cls(vocabulary, tf_idf, block_weights, np.vstack(svm_weights), np.asarray(intercepts), classes)

    def probabilities(self, batch: EncodedBatch) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (columns in ``classes`` order: a softmax of the SVMs' margins) and
        whether anything in each document was known.

        The arithmetic on the batch's matrices itself: scikit-learn's ``transform`` and
        ``decision_function`` validate their input on every call, which cost more than the products on
        an import's batches.
        """
        counts = self.vocabulary.counts(batch)
        known = np.logical_or.reduce([block.getnnz(axis=1) > 0 for block in counts])
        if self.weights is None or self.intercepts is None:
            return np.ones((batch.size, 1)), known
        margins = _features(counts, self.tf_idf, self.block_weights) @ self.weights.T + self.intercepts
        probabilities = np.exp(margins - margins.max(axis=1, keepdims=True))
        return probabilities / probabilities.sum(axis=1, keepdims=True), known


def _features(
    counts: Sequence[sparse.csr_matrix], tf_idf: Sequence[_SublinearTfIdf], block_weights: Sequence[float]
) -> sparse.csr_matrix:
    return sparse.hstack(
        [
            weight * model.transform(block)
            for block, model, weight in zip(counts, tf_idf, block_weights, strict=True)
        ]
    ).tocsr()


class Classification(NamedTuple):
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
        batch = EncodedBatch.of(documents)
        natures = self.nature_model.predict_encoded(batch, NATURES.fallback)
        industries = self.industry_model.predict_encoded(batch, INDUSTRIES.fallback)
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
