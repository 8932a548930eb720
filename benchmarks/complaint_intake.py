"""What filing a complaint costs over inserting its rows, and what masking costs per complaint.

On a fresh SQLite database (or ``--database-url``), with the sample city's complaint texts, in one run:

- baseline: bare ``Complaint`` + ``ComplaintEvent`` rows added and committed in batches;
- intake: :func:`complaints.intake.create_complaint` on the same data (tracking code, classification,
  merchant lookup, routing, deadline), committed in the same batches;
- classification alone, and jieba's own tokenization of the same texts;
- :func:`complaints.privacy.mask_personal_data` over the same texts.

    .venv/bin/python benchmarks/complaint_intake.py [--complaints 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jieba

from complaints.classification import ComplaintClassifier
from complaints.intake import create_complaint
from complaints.privacy import mask_personal_data
from complaints.schemas import ComplaintCreate
from core.db import make_engine, session_factory, upgrade_database
from core.models import Association, Complaint, ComplaintEvent
from core.sample_city import ASSOCIATIONS, build_sample_city, generate_complaints

BATCH = 500


def rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    samples = generate_complaints(build_sample_city(end=dt.date(2026, 11, 1)), args.complaints)
    data = [
        ComplaintCreate(
            text=s.text,
            title=s.title,
            merchant_name=s.merchant_name,
            district=s.district,
            amount=s.amount,
            consumer_name=s.consumer_name,
            contact=s.contact,
        )
        for s in samples
    ]
    texts = [s.text for s in samples]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade_database(engine)
        sessions = session_factory(engine)
        with sessions() as session:
            session.add_all(
                Association(code=a.code, name=a.name, industries=list(a.industries)) for a in ASSOCIATIONS
            )
            session.commit()
        classifier = ComplaintClassifier()
        classifier.classify("预热")

        def insert_rows() -> None:
            with sessions() as session:
                for i, item in enumerate(data):
                    complaint = Complaint(
                        tracking_code=f"BASE-{i}", channel="bench", status="received", **item.model_dump()
                    )
                    complaint.events.append(ComplaintEvent(actor="bench", action="received"))
                    session.add(complaint)
                    if i % BATCH == BATCH - 1:
                        session.commit()
                session.commit()

        def file_all() -> None:
            with sessions() as session:
                for i, item in enumerate(data):
                    create_complaint(session, item, channel="bench", actor="bench", classifier=classifier)
                    if i % BATCH == BATCH - 1:
                        session.commit()
                session.commit()

        baseline = rate(len(data), insert_rows)
        intake = rate(len(data), file_all)
        engine.dispose()

    tokenize = rate(len(texts), lambda: [jieba.lcut(t) for t in texts])
    classify = rate(len(texts), lambda: [classifier.classify(t) for t in texts])
    mask = rate(len(texts), lambda: [mask_personal_data(t) for t in texts])

    print(f"{len(data)} sample-city complaints, batches of {BATCH}, {engine.dialect.name}")
    print(f"baseline rows inserted: {baseline:8.0f} /s")
    print(f"create_complaint:       {intake:8.0f} /s   ratio to baseline {intake / baseline:.2f}")
    print(f"jieba tokenization:     {tokenize:8.0f} /s")
    print(f"classification:         {classify:8.0f} /s   ratio to jieba {classify / tokenize:.2f}")
    print(f"masking personal data:  {mask:8.0f} /s")


if __name__ == "__main__":
    main()
