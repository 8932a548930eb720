"""Evaluate the complaint classifier machinery on real labelled Chinese citizen messages.

Trains the same tokenizer + Naive Bayes model the complaints use (``complaints.classification``) on a
stratified 70/30 split (fixed seed) of the 2020 TipDM Cup messages (7 first-level categories) and prints
accuracy and macro-F1, next to a majority-class baseline measured in the same run. The data is read from
the shared folder and never copied (it has no licence).

Then, as a check of the keyword priors alone (no training at all), the shipped classifier labels the
2,000 complaints of the sample city (templates written independently of the keyword lists) by nature
and industry.

    .venv/bin/python benchmarks/classifier_eval.py [PATH_TO_附件2.xlsx]
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from complaints.classification import ComplaintClassifier, NaiveBayesModel, Tokenizer
from core.sample_city import build_sample_city, generate_complaints

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/data/real/tipdm2020c/附件2.xlsx"
SEED = 20200
TEST_SHARE = 0.3


def read_messages(path: Path) -> pd.DataFrame:
    frame = pd.read_excel(path, sheet_name="Sheet1")
    text = frame["留言主题"].fillna("") + "。" + frame["留言详情"].fillna("").str.strip()
    return pd.DataFrame({"text": text.str.replace(r"\s+", " ", regex=True), "label": frame["一级分类"]})


def stratified_split(labels: pd.Series, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of train and test, each label split in the same proportion."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    for _label, positions in (
        labels.reset_index(drop=True).groupby(labels.reset_index(drop=True)).indices.items()
    ):
        shuffled = rng.permutation(positions)
        n_test = max(1, round(len(shuffled) * test_share))
        test.extend(shuffled[:n_test])
        train.extend(shuffled[n_test:])
    return np.array(sorted(train)), np.array(sorted(test))


def accuracy_and_macro_f1(truth: list[str], predicted: list[str]) -> tuple[float, float, dict[str, float]]:
    per_label: dict[str, float] = {}
    for label in sorted(set(truth)):
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        per_label[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    return accuracy, sum(per_label.values()) / len(per_label), per_label


def evaluate_keyword_priors() -> None:
    complaints = generate_complaints(build_sample_city(end=dt.date(2026, 11, 1)), 2000)
    classifier = ComplaintClassifier()
    results = [
        classifier.classify("\n".join(p for p in (c.title, c.text, c.merchant_name, c.product_category) if p))
        for c in complaints
    ]
    for task in ("nature", "industry"):
        truth = [getattr(c, task) for c in complaints]
        predicted = [getattr(r, task).label for r in results]
        accuracy, macro_f1, _ = accuracy_and_macro_f1(truth, predicted)
        print(f"keyword priors only, sample city {task}: accuracy {accuracy:.3f}  macro-F1 {macro_f1:.3f}")


def main(path: Path) -> None:
    messages = read_messages(path)
    train, test = stratified_split(messages["label"], TEST_SHARE, SEED)
    tokenizer = Tokenizer()
    tokens = [tokenizer.features(text) for text in messages["text"]]
    labels = messages["label"].tolist()

    model = NaiveBayesModel(sorted(set(labels)))
    model.fit((tokens[i] for i in train), (labels[i] for i in train))
    truth = [labels[i] for i in test]
    predicted = [model.predict(tokens[i], fallback="").label for i in test]
    accuracy, macro_f1, per_label = accuracy_and_macro_f1(truth, predicted)

    majority = pd.Series([labels[i] for i in train]).mode()[0]
    base_accuracy, base_macro_f1, _ = accuracy_and_macro_f1(truth, [majority] * len(truth))

    print(
        f"data: {path.name}, {len(messages)} messages, {len(set(labels))} labels; "
        f"train {len(train)} / test {len(test)} (stratified, seed {SEED})"
    )
    print(f"naive bayes (jieba words + character bigrams): accuracy {accuracy:.3f}  macro-F1 {macro_f1:.3f}")
    print(f"majority baseline ({majority}): accuracy {base_accuracy:.3f}  macro-F1 {base_macro_f1:.3f}")
    print(f"ratio macro-F1 model / baseline: {macro_f1 / base_macro_f1:.2f}")
    for label, f1 in per_label.items():
        print(f"  F1 {label}: {f1:.3f}")
    evaluate_keyword_priors()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
