"""However a consumer writes a phone, e-mail, ID or card number, and in whichever free-text field, it
never reaches a trade association (detail, list, search, export, inbox) or the public tracking view."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts.enqueue import enqueue_pending
from complaints.privacy import luhn_ok
from core.config import Settings
from core.db import session_factory
from tests.utils.alerts import make_subscription, staff_headers
from tests.utils.auth import make_association

FILLER = st.text(alphabet="超市鸡蛋价格投诉多收钱我的邮箱电话是，。", min_size=0, max_size=8)
FIELDS = ("text", "title", "demands", "merchant_name", "district", "product_category")
SEPARATORS = ("", " ", "-", ".", "—", "　")
FULL_WIDTH = str.maketrans("0123456789@", "０１２３４５６７８９＠")


@dataclass(frozen=True)
class Secret:
    core: str  # what must never appear, compared with separators removed
    written: str


def _id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def _luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


@st.composite
def written_digits(draw: st.DrawFn, digits: str, groups: tuple[int, ...]) -> str:
    """``digits`` grouped as ``groups`` with one separator, maybe in full-width digits."""
    separator = draw(st.sampled_from(SEPARATORS))
    parts, start = [], 0
    for size in groups:
        parts.append(digits[start : start + size])
        start += size
    text = separator.join(part for part in parts if part)
    return text.translate(FULL_WIDTH) if draw(st.booleans()) else text


@st.composite
def secrets(draw: st.DrawFn) -> Secret:
    kind = draw(st.sampled_from(["mobile", "email", "id", "card"]))
    if kind == "mobile":
        number = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
        written = draw(written_digits(number, draw(st.sampled_from([(11,), (3, 4, 4), (3, 8), (7, 4)]))))
        prefix = draw(st.sampled_from(["", "+86", "+86 ", "86-", "(+86)"]))
        return Secret(number, prefix + written)
    if kind == "email":
        local = draw(st.from_regex(r"[a-z][a-z0-9]{5,10}", fullmatch=True))
        domain = draw(st.sampled_from(["qq.com", "163.com", "example.cn"]))
        at = draw(st.sampled_from(["@", "＠", " @ "]))
        return Secret(f"{local}@{domain}", f"{local}{at}{domain}")
    if kind == "id":
        birth = draw(st.dates(min_value=dt.date(1930, 1, 1))).strftime("%Y%m%d")
        first17 = (
            draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
            + birth
            + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
        )
        number = first17 + _id_check_digit(first17)
        written = draw(written_digits(number, draw(st.sampled_from([(18,), (6, 8, 4), (6, 4, 4, 4)]))))
        return Secret(number, written)
    number = _luhn_complete("62" + draw(st.from_regex(r"[0-9]{14,16}", fullmatch=True)))
    written = draw(written_digits(number, (4, 4, 4, 4, 4)))
    return Secret(number, written)


def _flat(text: str) -> str:
    """The text as a reader would strip it to find the secret: ASCII, no separators, lower case."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-.—_·/()+]", "", text).lower()


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(secret=secrets(), field=st.sampled_from(FIELDS), before=FILLER, after=FILLER)
def test_no_writing_of_a_secret_survives_in_association_or_public_views(
    client: TestClient,
    db: Session,
    settings: Settings,
    secret: Secret,
    field: str,
    before: str,
    after: str,
) -> None:
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    if not hasattr(db, "chaoshi_headers"):
        db.chaoshi_headers = staff_headers(  # type: ignore[attr-defined]
            db, settings, "chaoshi", "association_staff", supermarkets
        )
        make_subscription(db, supermarkets, channels=["inbox"])
    chaoshi = db.chaoshi_headers  # type: ignore[attr-defined]
    body = {"text": "在超市买鸡蛋被多收钱了", "industry": "supermarket", "nature": "价格"}
    body[field] = f"{before}{secret.written}{after}"
    if field == "text":
        body[field] += "多收钱了"
    filed = client.post("/api/complaints", json=body)
    assert filed.status_code == 201, filed.text
    complaint_id, code = filed.json()["id"], filed.json()["tracking_code"]
    enqueue_pending(db)

    views = {
        "detail": client.get(f"/api/complaints/{complaint_id}", headers=chaoshi).text,
        "list": client.get("/api/complaints", headers=chaoshi).text,
        "search": client.get("/api/complaints/search", headers=chaoshi).text,
        "csv": client.get("/api/complaints/search/export", params={"format": "csv"}, headers=chaoshi).text,
        "xlsx": _xlsx_text(
            client.get("/api/complaints/search/export", params={"format": "xlsx"}, headers=chaoshi).content
        ),
        "inbox": client.get("/api/inbox", headers=chaoshi).text,
        "tracking": client.get(f"/api/complaints/track/{code}").text,
    }
    for name, text in views.items():
        assert _flat(secret.core) not in _flat(text), (name, field, secret.written)
