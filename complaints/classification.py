"""Complaint classification: nature (价格, 质量 …) and industry (which trade association it falls to).

A linear SVM (with a complement Naive Bayes) over TF-IDF features — jieba words plus character 2-3
grams, counted with numpy over a whole batch — with scikit-learn. The words are the search tokenizer's
terms, so a complaint is cut by jieba once and the same terms feed the classifier and the search index.
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
from scipy.special import logsumexp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from core.tokenizer import get_tokenizer

_MEANINGFUL_TOKEN = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NOT_LETTER = re.compile(r"[\W_\d]+")
_DIGIT = re.compile(r"\d")
CHARACTER_NGRAMS = (2, 3)  # single characters: a third more to count for macro-F1 +0.002 on TipDM


@dataclass(frozen=True)
class Hyperparameters:
    """The linear models' settings.

    The shipped ones were chosen on all 495 TipDM messages (an earlier session), so their 5-fold score
    there (macro-F1 0.854) is optimistic. Nested CV (benchmarks/classifier_eval.py: each outer fold picks
    from a grid by inner CV on its training part alone) scores the tuning itself at 0.849; every fold
    picked NB alpha 0.3, while C (0.3-3) and the character weight (0.3-1) varied from fold to fold.
    """

    c: float = 1.0  # the SVM's inverse regularisation
    character_weight: float = 0.6  # character n-grams' TF-IDF against the words'
    nb_alpha: float = 0.3  # complement Naive Bayes smoothing


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
    """What the model sees of a text: its words (title words twice) and its letters, whose character
    2-3 grams the model counts."""

    words: list[str]
    characters: str


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
    return TextFeatures(words, _NOT_LETTER.sub("", text.lower()))


def features_of(text: str, title: str | None = None) -> TextFeatures:
    """``text_features`` of a text not yet tokenized (``title``: its words count twice)."""
    tokenizer = get_tokenizer()
    return text_features(tokenizer.terms(text), text, tokenizer.terms(title) if title else ())


_CODE_POINTS = 0x110000  # a character n-gram's key: its code points as digits in this base (fits 64 bits)
_SEPARATOR = "\x00"  # never among a text's letters (``_NOT_LETTER`` removes it)


@dataclass(frozen=True)
class EncodedBatch:
    """A batch of documents as both models read it, worked out once per batch.

    Character n-grams are integer keys made with numpy over the whole batch at once (no Python string
    per n-gram); each model maps words and keys onto its own columns.
    """

    size: int
    words: list[str]  # every word of every document
    word_rows: np.ndarray  # the document of each word
    character_keys: np.ndarray  # uint64, every n-gram of every document
    character_rows: np.ndarray  # the document of each key

    @classmethod
    def of(cls, documents: Sequence[TextFeatures]) -> EncodedBatch:
        texts = [d.characters for d in documents]
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
        return cls(
            len(documents),
            [word for d in documents for word in d.words],
            np.repeat(np.arange(len(documents)), [len(d.words) for d in documents]),
            np.concatenate(keys) if keys else np.zeros(0, np.uint64),
            np.concatenate(owners) if owners else np.zeros(0, np.int64),
        )


def _counts(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Occurrences as a count matrix (repeated row-column pairs add up)."""
    return sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=shape)


_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: 2**64 / golden ratio, odd


def _buckets(keys: np.ndarray, bits: int) -> np.ndarray:
    """Each key's bucket among ``2**bits``, from all of its bits (a key's low bits hold only its last
    character)."""
    return (keys * _HASH_MULTIPLIER) >> np.uint64(64 - bits)


@dataclass(frozen=True)
class _Vocabulary:
    """A model's columns: the words and character n-gram keys seen in its training examples.

    ``character_buckets`` marks the hash buckets of the known keys: a batch's keys are looked up only
    when their bucket is marked (a binary search over unsorted keys costs 100 ns each; nearly all of a
    batch's n-grams are unknown to the model, and a bucket tells so in a few).
    """

    words: dict[str, int]
    character_keys: np.ndarray  # sorted
    character_buckets: np.ndarray  # bool, 2**bucket_bits of them
    bucket_bits: int

    @classmethod
    def of(cls, batch: EncodedBatch) -> _Vocabulary:
        words = sorted(set(batch.words))
        keys = np.unique(batch.character_keys)
        bits = min(max(16, len(keys).bit_length() + 4), 26)  # about 1/16 of the buckets marked
        buckets = np.zeros(1 << bits, dtype=bool)
        buckets[_buckets(keys, bits)] = True
        return cls({word: column for column, word in enumerate(words)}, keys, buckets, bits)

    def word_counts(self, batch: EncodedBatch) -> sparse.csr_matrix:
        columns = np.fromiter(map(self.words.get, batch.words, repeat(-1)), np.int64, len(batch.words))
        known = columns >= 0
        return _counts(batch.word_rows[known], columns[known], (batch.size, len(self.words)))

    def character_counts(self, batch: EncodedBatch) -> sparse.csr_matrix:
        size = len(self.character_keys)
        maybe = self.character_buckets[_buckets(batch.character_keys, self.bucket_bits)]
        keys, rows = batch.character_keys[maybe], batch.character_rows[maybe]
        columns = np.searchsorted(self.character_keys, keys)
        known = columns < size
        known[known] = self.character_keys[columns[known]] == keys[known]
        return _counts(rows[known], columns[known], (batch.size, size))


class LinearTextModel:
    """Two linear models over word and character n-gram features, their probabilities averaged.

    A linear SVM over TF-IDF words plus (weighted) TF-IDF character 2-3 grams, and a complement Naive
    Bayes over word TF-IDF. On the 495 real TipDM messages, nested 5-fold CV gives macro-F1 0.849 (the
    Naive Bayes model this replaced: 0.74); see :class:`Hyperparameters`. Reusable for any label set:
    production trains it on the keyword priors plus staff corrections, the evaluation on TipDM folds.
    Examples are kept and the model is refitted before the next prediction after one is learnt (well
    under a second for thousands of examples); predictions are batched.
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


@dataclass(frozen=True)
class _FittedModel:
    vocabulary: _Vocabulary
    character_weight: float
    svm_words: TfidfTransformer  # sublinear TF-IDF
    svm_characters: TfidfTransformer
    nb_words: TfidfTransformer  # plain TF-IDF
    svm: LinearSVC | None  # None when all examples have one label
    naive_bayes: ComplementNB | None
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
        word_counts, character_counts = vocabulary.word_counts(batch), vocabulary.character_counts(batch)
        svm_words = TfidfTransformer(sublinear_tf=True).fit(word_counts)
        svm_characters = TfidfTransformer(sublinear_tf=True).fit(character_counts)
        nb_words = TfidfTransformer().fit(word_counts)
        classes = tuple(sorted(set(targets)))
        weight = hyperparameters.character_weight
        if len(classes) < 2:
            return cls(vocabulary, weight, svm_words, svm_characters, nb_words, None, None, classes)
        matrix = sparse.hstack(
            [
                svm_words.transform(word_counts),
                weight * svm_characters.transform(character_counts),
            ]
        ).tocsr()
        sample_weight = np.asarray(weights)
        svm = LinearSVC(C=hyperparameters.c, class_weight="balanced").fit(
            matrix, targets, sample_weight=sample_weight
        )
        naive_bayes = ComplementNB(alpha=hyperparameters.nb_alpha).fit(
            nb_words.transform(word_counts), targets, sample_weight=sample_weight
        )
        return cls(vocabulary, weight, svm_words, svm_characters, nb_words, svm, naive_bayes, classes)

    def probabilities(self, batch: EncodedBatch) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (columns in ``classes`` order) and whether anything in each was known.

        The fitted models' own arithmetic on the batch's matrices: their ``transform``,
        ``decision_function`` and ``predict_proba`` validate their input on every call, which cost more
        than the products themselves on an import's batches.
        """
        word_counts = self.vocabulary.word_counts(batch)
        character_counts = self.vocabulary.character_counts(batch)
        known = (word_counts.getnnz(axis=1) > 0) | (character_counts.getnnz(axis=1) > 0)
        if self.svm is None or self.naive_bayes is None:
            return np.ones((batch.size, 1)), known
        features = sparse.hstack(
            [
                _tf_idf(self.svm_words, word_counts),
                self.character_weight * _tf_idf(self.svm_characters, character_counts),
            ]
        ).tocsr()
        margins = features @ self.svm.coef_.T + self.svm.intercept_
        if margins.shape[1] == 1:  # two classes: one margin, for the second
            margins = np.column_stack([-margins[:, 0], margins[:, 0]])
        svm_probabilities = np.exp(margins - margins.max(axis=1, keepdims=True))
        svm_probabilities /= svm_probabilities.sum(axis=1, keepdims=True)
        likelihoods = _tf_idf(self.nb_words, word_counts) @ self.naive_bayes.feature_log_prob_.T
        if len(self.classes) == 1:
            likelihoods += self.naive_bayes.class_log_prior_
        nb_probabilities = np.exp(likelihoods - logsumexp(likelihoods, axis=1, keepdims=True))
        return (svm_probabilities + nb_probabilities) / 2, known


def _tf_idf(transformer: TfidfTransformer, counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """``transformer.transform(counts)``: TF (log-scaled when sublinear) times IDF, rows of unit length."""
    matrix = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    if transformer.sublinear_tf:
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
    matrix.data *= transformer.idf_[matrix.indices]
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
    norms[norms == 0.0] = 1.0
    matrix.data /= norms[rows]
    return matrix


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
