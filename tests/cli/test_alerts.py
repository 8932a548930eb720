"""``fairmarket alerts pack|verify-pack`` on the sample city's detected gouging episode."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from core.config import get_settings
from core.db import get_engine, session_factory, upgrade_database
from core.models import Alert, AuditLog, Product
from jobs.detection import run_detection
from sample_city.seeding import load_sample_city


def _demo_alert(db_url: str) -> int:
    """The surgical-mask gouging episode of a small sample city, as detection raises it."""
    engine = get_engine(db_url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        load_sample_city(session, end=dt.date(2026, 6, 30), days=40, complaints=120)
        run_detection(session, get_settings())
        alert_id = session.scalar(
            select(Alert.id)
            .join(Product, Product.id == Alert.product_id)
            .where(Product.code == "surgical_mask", Alert.merchant_id.is_not(None))
            .order_by(Alert.id)
        )
    assert alert_id is not None
    return alert_id


def _rewrite(path: Path, name: str, change: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    files[name] = change + files[name][len(change) :]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())


def test_demo_alert_pack_verifies_and_one_changed_byte_fails(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    alert_id = _demo_alert(cli_env)
    out = tmp_path / "pack.zip"
    made = runner.invoke(app, ["alerts", "pack", str(alert_id), "--out", str(out), "--actor", "officer"])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["alerts", "verify-pack", str(out), "--database"])
    assert checked.exit_code == 0 and "证据包完好" in checked.output
    assert "清单签名有效" in checked.output and "与审计记录" in checked.output and "officer" in checked.output
    with zipfile.ZipFile(out) as archive:
        prices = archive.read("prices.csv").decode("utf-8-sig")
    assert prices.count("\n") > 40 and "康宁大药房" in prices

    _rewrite(out, "prices.csv", b"\xef\xbb\xbfX")  # one byte after the BOM
    failed = runner.invoke(app, ["alerts", "verify-pack", str(out)])
    assert failed.exit_code == 1 and "prices.csv" in failed.output
    with session_factory(get_engine(cli_env))() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "alert.evidence_pack")).one()
    assert entry.actor == "officer" and entry.entity_id == str(alert_id)


def test_pack_of_a_missing_alert_or_file_is_a_clear_error(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    missing = runner.invoke(app, ["alerts", "pack", "999", "--out", str(tmp_path / "x.zip")])
    assert missing.exit_code == 1 and "不存在" in missing.output
    unreadable = runner.invoke(app, ["alerts", "verify-pack", str(tmp_path / "none.zip")])
    assert unreadable.exit_code == 2 and "无法读取" in unreadable.output
    assert not (tmp_path / "x.zip").exists()


def _rebuild_manifest(path: Path, name: str, data: bytes, *, keep_signature: bool) -> None:
    """A forger's pack: a changed file, its hash and the manifest's own hash recomputed."""
    with zipfile.ZipFile(path) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["name"] == name:
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)

    def canonical(value: object) -> bytes:
        return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=str) + "\n").encode()

    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(canonical(body)).hexdigest()
    files.update({name: data, "manifest.json": canonical(manifest)})
    if not keep_signature:
        del files["manifest.json.sig"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in files.items():
            archive.writestr(member, content)
    path.write_bytes(buffer.getvalue())


def test_a_rebuilt_manifest_fails_on_the_signature_and_on_the_audit_log(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    alert_id = _demo_alert(cli_env)
    out = tmp_path / "pack.zip"
    assert runner.invoke(app, ["alerts", "pack", str(alert_id), "--out", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        report = archive.read("report.html").replace("康宁大药房".encode(), "某某大药房".encode())
    for keep_signature, reason in ((True, "清单签名无效"), (False, "缺少签名")):
        forged = tmp_path / f"forged-{keep_signature}.zip"
        forged.write_bytes(out.read_bytes())
        _rebuild_manifest(forged, "report.html", report, keep_signature=keep_signature)
        failed = runner.invoke(app, ["alerts", "verify-pack", str(forged)])
        assert failed.exit_code == 1 and reason in failed.output
        hashes = runner.invoke(app, ["alerts", "verify-pack", str(forged), "--hashes-only"])
        assert hashes.exit_code == 0 and "签名未核对" in hashes.output
        audited = runner.invoke(app, ["alerts", "verify-pack", str(forged), "--hashes-only", "--database"])
        assert audited.exit_code == 1 and "审计日志中没有导出过这个清单" in audited.output
