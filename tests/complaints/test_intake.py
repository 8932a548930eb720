"""Filing a complaint: code, classification, merchant link, routing, deadline, first event; corrections."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from complaints.classification import ComplaintClassifier
from complaints.intake import (
    TRACKING_ALPHABET,
    Filing,
    analyse_texts,
    classify_complaint,
    correct_classification,
    create_complaint,
    learn_corrections,
    normalize_tracking_code,
    store_complaints,
    words_of,
)
from complaints.schemas import ComplaintCreate
from core.models import Complaint, Merchant
from tests.utils.auth import make_association


@pytest.fixture(scope="module")
def classifier() -> ComplaintClassifier:
    return ComplaintClassifier()


def test_new_complaint_is_classified_routed_and_timed(
    session: Session, classifier: ComplaintClassifier
) -> None:
    supermarkets = make_association(session, "chaoshi", ["supermarket"])
    make_association(session, "xiaoxie", ["supermarket"], consumer=True)
    data = ComplaintCreate(
        text="在家乐福超市买的鸡蛋标价8元一斤，结账时收了12元，明显多收钱",
        demands="退还差价",
        consumer_name="张三",
        contact="13812345678",
        district="南岗区",
        amount=Decimal("4.00"),
    )
    complaint = create_complaint(session, data, channel="api", actor="public", classifier=classifier)
    session.commit()

    assert re.fullmatch(rf"TS-[{TRACKING_ALPHABET}]{{10}}", complaint.tracking_code)
    assert (complaint.nature, complaint.industry) == ("价格", "supermarket")
    assert complaint.nature_confidence is not None and 0 < complaint.nature_confidence < 1
    assert complaint.association_id == supermarkets.id
    assert complaint.status == "received"
    assert complaint.accept_deadline is not None and complaint.accept_deadline > complaint.created_at.date()
    assert [(e.action, e.to_status, e.actor) for e in complaint.events] == [
        ("received", "received", "public")
    ]
    assert complaint.consumer_name == "张三" and complaint.contact == "13812345678"  # stored unmasked


def test_given_labels_are_kept_and_registered_merchant_linked(
    session: Session, classifier: ComplaintClassifier
) -> None:
    pharmacies = make_association(session, "yaodian", ["pharmacy"])
    merchant = Merchant(name="老百姓大药房（南岗店）", industry="pharmacy", credit_code="91230103MA1B2C3D4E")
    session.add(merchant)
    session.flush()
    data = ComplaintCreate(
        text="买的口罩质量很差，一戴就断", merchant_name="老百姓大药房（南岗店）", nature="质量"
    )
    complaint = create_complaint(session, data, channel="import", actor="importer", classifier=classifier)
    assert complaint.merchant_id == merchant.id
    assert (complaint.nature, complaint.nature_confidence) == ("质量", None)  # given: no model confidence
    assert (complaint.industry, complaint.industry_confidence) == ("pharmacy", None)  # the merchant register
    assert complaint.association_id == pharmacies.id

    by_code = create_complaint(
        session,
        ComplaintCreate(
            text="药店卖过期药品", merchant_name="另一个名字", merchant_credit_code="91230103MA1B2C3D4E"
        ),
        channel="api",
        actor="public",
        classifier=classifier,
    )
    assert by_code.merchant_id == merchant.id


def test_import_keeps_its_creation_time_and_key(session: Session, classifier: ComplaintClassifier) -> None:
    created = dt.datetime(2023, 3, 1, 1, 30)
    complaint = create_complaint(
        session,
        ComplaintCreate(text="早市摊主缺斤短两", industry="农贸市场"),
        channel="import",
        actor="import:file.csv",
        created_at=created,
        import_key="a" * 64,
        classifier=classifier,
    )
    assert complaint.created_at == created and complaint.events[0].at == created
    assert complaint.import_key == "a" * 64
    assert complaint.industry == "farm_market"
    assert complaint.association_id is None  # no farm-market association registered


def test_tracking_codes_are_unique_and_normalized(session: Session, classifier: ComplaintClassifier) -> None:
    codes = {
        create_complaint(
            session, ComplaintCreate(text=f"投诉内容第{i}条"), channel="api", actor="p", classifier=classifier
        ).tracking_code
        for i in range(50)
    }
    assert len(codes) == 50
    code = next(iter(codes))
    assert normalize_tracking_code(" " + code[3:].lower() + " ") == code
    assert normalize_tracking_code(code.lower()) == code


def test_correction_is_kept_rerouted_and_survives_reclassification(
    session: Session, classifier: ComplaintClassifier
) -> None:
    appliances = make_association(session, "jiadian", ["home_appliance"])
    complaint = create_complaint(
        session, ComplaintCreate(text="超市买的东西有问题"), channel="api", actor="p", classifier=classifier
    )
    event = correct_classification(
        session,
        complaint,
        actor="xiehui",
        nature="售后服务",
        industry="家用电器",
        note="实为电器售后",
        classifier=classifier,
    )
    session.commit()
    assert event is not None and event.action == "classification_corrected"
    assert "行业" in (event.note or "") and "实为电器售后" in (event.note or "")
    assert (complaint.nature, complaint.industry) == ("售后服务", "home_appliance")
    assert complaint.nature_corrected and complaint.industry_corrected
    assert complaint.association_id == appliances.id

    classify_complaint(complaint, classifier)
    assert (complaint.nature, complaint.industry) == ("售后服务", "home_appliance")
    assert correct_classification(session, complaint, actor="xiehui", nature="售后服务") is None


def test_reclassification_keeps_given_labels(session: Session, classifier: ComplaintClassifier) -> None:
    given = create_complaint(
        session,
        ComplaintCreate(text="超市鸡蛋标价8元结账收12元", nature="合同", industry="tourism"),
        channel="import",
        actor="importer",
        classifier=classifier,
    )
    inferred = create_complaint(
        session,
        ComplaintCreate(text="超市鸡蛋标价8元结账收12元"),
        channel="api",
        actor="p",
        classifier=classifier,
    )
    inferred.nature, inferred.industry = "合同", "tourism"
    for complaint in (given, inferred):
        classify_complaint(complaint, classifier)
    assert (given.nature, given.industry) == ("合同", "tourism")
    assert (inferred.nature, inferred.industry) == ("价格", "supermarket")


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "太短"},
        {"text": "     \n\t    "},
        {"text": "x" * 5001},
        {"text": "正常的投诉内容", "nature": "不存在的性质"},
        {"text": "正常的投诉内容", "industry": "spaceflight"},
        {"text": "正常的投诉内容", "amount": "-1"},
        {"text": "正常的投诉内容", "amount": "1.234"},
        {"text": "正常的投诉内容", "merchant_credit_code": "123"},
        {"text": "正常的投诉内容", "contact": "1" * 121},
    ],
)
def test_invalid_input_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ComplaintCreate.model_validate(payload)


def test_control_characters_and_blanks_are_cleaned() -> None:
    data = ComplaintCreate.model_validate(
        {"text": "  含有\x00空字符的投诉内容 ", "district": "  ", "nature": "哄抬价格"}
    )
    assert data.text == "含有空字符的投诉内容"
    assert data.district is None
    assert data.nature == "价格"


def test_stored_complaint_round_trips(session: Session, classifier: ComplaintClassifier) -> None:
    complaint = create_complaint(
        session,
        ComplaintCreate(text="😀 emoji 与 'quotes' \"双引号\" 的投诉", amount=Decimal("1299.50")),
        channel="api",
        actor="p",
        classifier=classifier,
    )
    session.commit()
    session.expire_all()
    stored = session.get(Complaint, complaint.id)
    assert stored is not None
    assert stored.text.startswith("😀") and stored.amount == Decimal("1299.50")


def test_a_new_classifier_learns_the_stored_corrections(
    session: Session, classifier: ComplaintClassifier
) -> None:
    text = "修鞋铺把皮鞋修坏了还要收钱"
    for i in range(3):
        complaint = create_complaint(
            session,
            ComplaintCreate(text=f"{text}（第{i}次）"),
            channel="api",
            actor="p",
            classifier=classifier,
        )
        correct_classification(session, complaint, actor="xiehui", industry="tourism", classifier=classifier)
    session.commit()

    fresh = ComplaintClassifier()
    assert fresh.classify(text).industry.label != "tourism"
    assert learn_corrections(session, fresh) == 3
    assert fresh.classify(text).industry.label == "tourism"


def test_a_bulk_filing_stores_what_one_by_one_filing_stores(
    session: Session, classifier: ComplaintClassifier
) -> None:
    """``store_complaints`` writes rows straight to the driver: every column read back (dates, amount,
    JSON, booleans, labels, deadline, merchant, routing) and the first event match the ORM path's."""
    make_association(session, "chaoshi", industries=["supermarket"])
    merchant = Merchant(name="道里区某超市", industry="supermarket")
    session.add(merchant)
    session.flush()
    filed = dt.datetime(2026, 3, 1, 15, 30, 5, 250000)
    data = [
        ComplaintCreate(
            text="超市猪肉价格一天涨了三成，明显哄抬", merchant_name="道里区某超市", amount=Decimal("88.50")
        ),
        ComplaintCreate(
            text="买到的口罩是假货，商家拒绝退款", nature="假冒伪劣", district="南岗区", title="假口罩"
        ),
    ]
    one_by_one = [
        create_complaint(
            session, item, channel="import", actor="importer", created_at=filed, classifier=classifier
        )
        for item in data
    ]
    session.flush()
    analyses = analyse_texts([words_of(item) for item in data], classifier)
    filings = [Filing(item.model_dump(), filed, f"key-{n}") for n, item in enumerate(data)]
    stored = store_complaints(session, filings, analyses, channel="import", actor="importer")
    session.commit()
    session.expire_all()
    ignored = {"id", "tracking_code", "import_key"}
    columns = [c.key for c in Complaint.__table__.columns if c.key not in ignored]
    for orm_row, bulk_row in zip(one_by_one, stored, strict=True):
        expected, actual = session.get(Complaint, orm_row.id), session.get(Complaint, bulk_row.id)
        assert expected is not None and actual is not None
        assert {c: getattr(actual, c) for c in columns} == {c: getattr(expected, c) for c in columns}
        assert actual.tracking_code == bulk_row.tracking_code and actual.import_key is not None
        event_fields = ("at", "actor", "action", "from_status", "to_status", "note")
        assert [tuple(getattr(e, f) for f in event_fields) for e in actual.events] == [
            tuple(getattr(e, f) for f in event_fields) for e in expected.events
        ]
    assert stored[0].amount == Decimal("88.50") and stored[0].association_id is not None
