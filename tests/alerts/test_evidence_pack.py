"""Evidence packs: a demo alert's pack verifies, one changed byte does not, scoping, masking, audit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from alerts.enqueue import enqueue_pending
from alerts.evidence_pack import (
    audited_export,
    build_pack,
    check_pack,
    read_pack_facts,
    signing_key_id,
    spreadsheet_safe,
    verify_pack,
)
from core.config import Settings
from core.db import session_factory
from core.models import Alert, AuditLog, Complaint, PriceObservation
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription, staff_headers
from tests.utils.auth import make_association

PHONE = "13812345678"
EPISODE_END = dt.date(2020, 2, 1)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def _observation(
    db: Session, merchant_id: int | None, product_id: int, day: dt.date, price: float, **extra: object
) -> None:
    db.add(
        PriceObservation(
            natural_key=f"{merchant_id}-{product_id}-{day}-{extra.get('price_type', 'retail')}",
            source=str(extra.pop("source", "product_page:shop")),
            merchant_id=merchant_id,
            product_id=product_id,
            region="哈尔滨",
            observed_at=dt.datetime.combine(day, dt.time(2)),
            observed_date=day,
            price=Decimal(str(price)),
            raw_unit="斤",
            unit_price=price,
            standard_unit="500g",
            url=f"https://shop.example/item/{merchant_id}",
            spider="product_page",
            raw_hash="ab" * 32,
            **extra,
        )
    )


@pytest.fixture
def world(db: Session, settings: Settings) -> dict[str, object]:
    """An egg alert at a supermarket with prices, peers, wholesale and one complaint carrying a phone."""
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    make_subscription(db, supermarkets, channels=["inbox"])
    eggs = make_product(db, "鸡蛋", "蛋类")
    shop = make_merchant(db, "家乐福南岗店", "supermarket")
    peers = [make_merchant(db, f"超市{n}", "supermarket") for n in range(3)]
    for offset in range(25):
        day = EPISODE_END - dt.timedelta(days=offset)
        _observation(db, shop.id, eggs.id, day, 6.4 if offset < 5 else 3.2)
        for n, peer in enumerate(peers):
            _observation(db, peer.id, eggs.id, day, 3.3 + n / 10)
        _observation(db, None, eggs.id, day, 2.5, price_type="wholesale", source="xinfadi")
    complaint = Complaint(
        tracking_code="TS-PACK000001",
        text=f'=HYPERLINK("x") 我叫张三，电话{PHONE}，家乐福南岗店鸡蛋一斤卖6.4元',
        consumer_name="张三",
        contact=PHONE,
        merchant_name=shop.name,
        nature="价格",
        industry="supermarket",
        association_id=supermarkets.id,
    )
    db.add(complaint)
    db.commit()
    alert = make_alert(db, merchant=shop, product=eggs, region="哈尔滨")
    alert.evidence = {**alert.evidence, "complaints": [complaint.id]}
    mask_alert = make_alert(
        db, merchant=make_merchant(db, "老百姓大药房", "pharmacy"), product=make_product(db, "口罩")
    )
    db.commit()
    enqueue_pending(db)
    return {
        "alert": alert.id,
        "mask_alert": mask_alert.id,
        "xiehui": staff_headers(db, settings, "xiehui", "consumer_staff", consumer),
        "chaoshi": staff_headers(db, settings, "chaoshi", "association_staff", supermarkets),
        "yaodian": staff_headers(db, settings, "yaodian", "association_staff", pharmacies),
    }


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_consumer_association_pack_holds_everything_and_verifies(
    client: TestClient, db: Session, world: dict
) -> None:
    response = client.get(f"/api/alerts/{world['alert']}/evidence-pack", headers=world["xiehui"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert verify_pack(response.content) == []
    files = _files(response.content)
    assert set(files) == {
        "manifest.json",
        "manifest.json.sig",
        "prices.csv",
        "complaints.csv",
        "chart.svg",
        "report.html",
    }
    manifest = json.loads(files["manifest.json"])
    assert manifest["alert"]["rule"]["citation"] == "California Penal Code §396"
    assert manifest["alert"]["rule"]["threshold"] == 0.1
    assert manifest["alert"]["seller"]["name"] == "家乐福南岗店"
    assert manifest["made"]["by"] == "xiehui" and manifest["made"]["version"]
    assert {entry["name"] for entry in manifest["files"]} == set(files) - {
        "manifest.json",
        "manifest.json.sig",
    }

    prices = _rows(files["prices.csv"])
    roles = {
        role: [row for row in prices if row["role"] == role]
        for role in ("seller", "peer", "wholesale", "market_median")
    }
    # The reference window (2020-01-14..) reaches back further than two weeks before the episode.
    assert min(row["date"] for row in roles["seller"]) == "2020-01-14"
    assert all(row["raw_hash"] == "ab" * 32 and row["url"].startswith("https://") for row in roles["seller"])
    assert all(row["spider"] == "product_page" and row["fetched_at"] for row in roles["seller"])
    assert len(roles["peer"]) == 3 * len(roles["seller"]) and roles["wholesale"]
    assert roles["market_median"][-1]["date"] == "2020-02-01"

    complaint = _rows(files["complaints.csv"])[0]
    assert complaint["contact"] == PHONE and complaint["consumer_name"] == "张三"
    assert complaint["text"].startswith("'=HYPERLINK")  # a spreadsheet shows it as text
    report = files["report.html"].decode()
    for heading in ("经营者", "商品", "时段", "涨幅", "参照", "依据条款", "关联投诉"):
        assert heading in report
    assert "家乐福南岗店" in report and "<svg" in report and "+100.0%" in report
    assert files["chart.svg"].startswith(b"<svg") and b"<path" in files["chart.svg"]

    entry = db.scalars(select(AuditLog).where(AuditLog.action == "alert.evidence_pack")).one()
    assert entry.actor == "xiehui" and entry.entity_id == str(world["alert"])
    assert (
        entry.after is not None and entry.after["pack_sha256"] == response.headers["x-evidence-pack-sha256"]
    )


def test_association_gets_a_masked_pack_of_its_own_alert_only(client: TestClient, world: dict) -> None:
    response = client.get(f"/api/alerts/{world['alert']}/evidence-pack", headers=world["chaoshi"])
    assert response.status_code == 200
    files = _files(response.content)
    complaint = _rows(files["complaints.csv"])[0]
    assert PHONE not in files["complaints.csv"].decode("utf-8-sig")
    assert complaint["contact"] == "138****5678" and complaint["consumer_name"] == "张*"
    assert "张三" not in complaint["text"] and PHONE not in files["report.html"].decode()
    assert json.loads(files["manifest.json"])["made"]["personal_data_masked"] is True

    refused = client.get(f"/api/alerts/{world['mask_alert']}/evidence-pack", headers=world["chaoshi"])
    assert refused.status_code == 403
    assert (
        client.get(f"/api/alerts/{world['alert']}/evidence-pack", headers=world["yaodian"]).status_code == 403
    )
    assert client.get(f"/api/alerts/{world['alert']}/evidence-pack").status_code == 401


def _zip_with(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name", ["prices.csv", "complaints.csv", "chart.svg", "report.html", "manifest.json"]
)
def test_one_changed_byte_in_any_file_fails_verification(db: Session, world: dict, name: str) -> None:
    alert = db.get(Alert, world["alert"], options=[selectinload(Alert.product), selectinload(Alert.merchant)])
    assert alert is not None
    pack = build_pack(read_pack_facts(db, alert), masked=False, made_by="t", made_at=dt.datetime(2020, 2, 2))
    files = _files(pack.data)
    assert verify_pack(_zip_with(files)) == []
    changed = bytearray(files[name])
    changed[len(changed) // 2] ^= 0x01
    problems = verify_pack(_zip_with({**files, name: bytes(changed)}))
    assert problems and any(name in problem or "manifest" in problem for problem in problems)


def test_flipped_byte_in_the_zip_and_extra_files_fail_verification(db: Session, world: dict) -> None:
    alert = db.get(Alert, world["alert"], options=[selectinload(Alert.product), selectinload(Alert.merchant)])
    assert alert is not None
    pack = build_pack(read_pack_facts(db, alert), masked=False, made_by="t", made_at=dt.datetime(2020, 2, 2))
    damaged = bytearray(pack.data)
    damaged[len(damaged) // 3] ^= 0xFF
    assert verify_pack(bytes(damaged))
    assert verify_pack(_zip_with({**_files(pack.data), "extra.txt": b"x"})) == ["清单外的文件 extra.txt"]
    assert verify_pack(b"not a zip")


def test_spreadsheet_safe_quotes_formula_starts_only() -> None:
    assert [spreadsheet_safe(v) for v in ("=1+1", "-3", "@a", "鸡蛋", None, 6.4)] == [
        "'=1+1",
        "'-3",
        "'@a",
        "鸡蛋",
        "",
        "6.4",
    ]


def _rebuilt(files: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """What a forger with the format's description does: change a file, recompute its hash in the
    manifest and the manifest's own hash, and write the manifest in its canonical form."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["name"] == name:
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    canonical = lambda value: (  # noqa: E731
        json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=str) + "\n"
    ).encode()
    manifest["manifest_sha256"] = hashlib.sha256(canonical(body)).hexdigest()
    return {**files, name: data, "manifest.json": canonical(manifest)}


def test_a_rebuilt_manifest_passes_the_hashes_but_not_the_signature_or_the_audit(
    client: TestClient, db: Session, world: dict, settings: Settings
) -> None:
    response = client.get(f"/api/alerts/{world['alert']}/evidence-pack", headers=world["xiehui"])
    files = _files(response.content)
    secret = settings.secret_key
    genuine = check_pack(response.content, secret=secret)
    assert genuine.problems == [] and any("签名有效" in line for line in genuine.checked)
    entry = audited_export(db, world["alert"], genuine.manifest_sha256 or "")
    assert entry is not None and entry.actor == "xiehui" and entry.after is not None
    assert entry.after["signing_key_id"] == signing_key_id(secret)

    prices = files["prices.csv"].replace(b"6.4", b"3.3")
    forged = _rebuilt(files, "prices.csv", prices)
    assert verify_pack(_zip_with(forged)) == []  # the hashes alone cannot tell
    assert verify_pack(_zip_with(forged), secret=secret) == [
        "清单签名无效：manifest.json 不是本系统签发的样子（内容或哈希被重算过）"
    ]
    unsigned = {name: data for name, data in forged.items() if name != "manifest.json.sig"}
    assert verify_pack(_zip_with(unsigned), secret=secret) == [
        "缺少签名 manifest.json.sig：无法证明清单出自本系统"
    ]
    forged_check = check_pack(_zip_with(forged))
    assert audited_export(db, world["alert"], forged_check.manifest_sha256 or "") is None

    other_key = verify_pack(response.content, secret="another installation's key, 32 bytes long")
    assert len(other_key) == 1 and "不是本系统的密钥" in other_key[0]


def test_a_changed_byte_fails_the_signed_check_too(
    client: TestClient, world: dict, settings: Settings
) -> None:
    response = client.get(f"/api/alerts/{world['alert']}/evidence-pack", headers=world["xiehui"])
    files = _files(response.content)
    for name in ("manifest.json", "manifest.json.sig", "prices.csv"):
        changed = bytearray(files[name])
        changed[len(changed) // 2] ^= 0x01
        problems = verify_pack(_zip_with({**files, name: bytes(changed)}), secret=settings.secret_key)
        assert problems, name
