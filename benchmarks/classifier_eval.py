"""Evaluate the complaint classifier's model on real labelled Chinese citizen messages.

Stratified 5-fold cross-validation of :class:`complaints.classification.LinearTextModel` — the model the
complaints use, over the same features (search-tokenizer words, title words twice, character 2-3 grams) — on
the 2020 TipDM Cup messages (7 first-level categories): accuracy and macro-F1 per fold and pooled, next
to the majority-class baseline of each fold, in the same run. The data is read from the shared folder
and never copied (it has no licence).

Then, as a check of the keyword priors alone (no labelled complaint at all), the shipped classifier
labels the 2,000 complaints of the sample city (templates written independently of the keyword lists)
by nature and industry.

    .venv/bin/python benchmarks/classifier_eval.py [PATH_TO_附件2.xlsx]
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from complaints.classification import ComplaintClassifier, LinearTextModel, features_of
from sample_city.complaint_generation import generate_complaints
from sample_city.market import build_sample_city

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/data/real/tipdm2020c/附件2.xlsx"
SEED = 20200
FOLDS = 5


def read_messages(path: Path) -> pd.DataFrame:
    """Subject (a complaint's title) and body of each message and its label; the export pads cells with
    tabs and newlines."""
    frame = pd.read_excel(path, sheet_name=0)
    subject = frame["留言主题"].fillna("").astype(str).str.strip()
    body = frame["留言详情"].fillna("").astype(str).str.strip()
    return pd.DataFrame(
        {
            "title": subject.str.replace(r"\s+", " ", regex=True),
            "text": body.str.replace(r"\s+", " ", regex=True),
            "label": frame["一级分类"].astype(str).str.strip(),
        }
    )


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
        print(
            f"keyword priors only, sample city {task}: accuracy {accuracy_score(truth, predicted):.3f}  "
            f"macro-F1 {f1_score(truth, predicted, average='macro'):.3f}"
        )


def main(path: Path) -> None:
    messages = read_messages(path)
    labels = messages["label"].tolist()
    started = time.perf_counter()
    documents = [
        features_of(f"{title}\n{text}", title)
        for title, text in zip(messages["title"], messages["text"], strict=True)
    ]
    featured = time.perf_counter() - started
    print(
        f"data: {path.name}, {len(messages)} messages, {len(set(labels))} labels; "
        f"stratified {FOLDS}-fold CV (seed {SEED}); features in {featured:.1f} s"
    )
    truth_all: list[str] = []
    model_all: list[str] = []
    majority_all: list[str] = []
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for fold, (train, test) in enumerate(folds.split(documents, labels), start=1):
        started = time.perf_counter()
        model = LinearTextModel(sorted(set(labels)))
        model.fit((documents[i] for i in train), (labels[i] for i in train))
        predicted = [p.label for p in model.predict_many([documents[i] for i in test], fallback="")]
        seconds = time.perf_counter() - started
        truth = [labels[i] for i in test]
        majority = pd.Series([labels[i] for i in train]).mode()[0]
        print(
            f"fold {fold}: linear model accuracy {accuracy_score(truth, predicted):.3f} "
            f"macro-F1 {f1_score(truth, predicted, average='macro'):.3f} "
            f"(majority macro-F1 {f1_score(truth, [majority] * len(truth), average='macro'):.3f}); "
            f"train+predict {seconds:.1f} s"
        )
        truth_all += truth
        model_all += predicted
        majority_all += [majority] * len(truth)
    model_f1 = f1_score(truth_all, model_all, average="macro")
    majority_f1 = f1_score(truth_all, majority_all, average="macro")
    print(
        f"linear models (SVM over words + character 2-3 grams, averaged with complement NB over words): "
        f"accuracy {accuracy_score(truth_all, model_all):.3f}  macro-F1 {model_f1:.3f}"
    )
    print(
        f"majority baseline: accuracy {accuracy_score(truth_all, majority_all):.3f}  "
        f"macro-F1 {majority_f1:.3f}"
    )
    print(f"ratio macro-F1 model / baseline: {model_f1 / majority_f1:.2f}")
    per_label = f1_score(truth_all, model_all, average=None, labels=sorted(set(labels)))
    for label, f1 in zip(sorted(set(labels)), per_label, strict=True):
        print(f"  F1 {label}: {f1:.3f}")
    evaluate_keyword_priors()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
