"""Evidence packs: everything a market-regulation officer needs to open a case on one alert, in one ZIP.

A pack holds ``manifest.json`` (the alert, its rule and legal citation, who made the pack when, with
which version, and the SHA-256 of every other file), ``prices.csv`` (every observation behind the
alert with its provenance: source, URL, fetch time, spider, the hash of the raw response kept at crawl
time), ``complaints.csv`` (the linked complaints, masked unless the consumer association asks),
``chart.svg`` and ``report.html`` (a one-page Chinese summary to print), and ``manifest.json.sig``: an
HMAC-SHA256 of the manifest's bytes with the app's secret key. ``verify_pack`` re-checks the hashes (a
pack changed after it was made, by one byte, no longer verifies) and, given the key, the signature: a
manifest re-written with recomputed hashes has none that verifies. Each export is audited with the
manifest's SHA-256, so ``audited_export`` tells whether a pack is one this platform handed out.

Reading (``read_pack_facts``) is apart from building (``build_pack``, no I/O), so a pack's content is a
function of the facts, the reader's view (masked or not) and the time it was made.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import statistics
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alerts.evidence_chart import ChartLine, price_chart_svg
from alerts.lifecycle import STATUS_NAMES
from alerts.messages import PERCENT_KINDS, SEVERITY_NAMES, UNIT_NAMES
from analysis.variants import observation_variant
from complaints.privacy import mask_name, mask_personal_data
from core import audit
from core.clock import in_china
from core.models import Alert, AuditLog, Complaint, Merchant, PriceObservation, Product

FORMAT = "fairmarket-evidence-pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
SIGNATURE_ALGORITHM = "HMAC-SHA256"
EXPORT_ACTION = "alert.evidence_pack"
PRICES, COMPLAINTS, CHART, REPORT = "prices.csv", "complaints.csv", "chart.svg", "report.html"
#: Days of prices before the episode shown when the rule names no reference window.
PAD_DAYS = 14
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

PRICE_COLUMNS = (
    "role",
    "observation_id",
    "date",
    "observed_at",
    "merchant",
    "product",
    "region",
    "price_type",
    "price",
    "raw_unit",
    "spec",
    "unit_price",
    "standard_unit",
    "availability",
    "source",
    "url",
    "fetched_at",
    "spider",
    "extractor",
    "raw_hash",
)
COMPLAINT_COLUMNS = (
    "id",
    "tracking_code",
    "created_at",
    "merchant",
    "product",
    "district",
    "nature",
    "amount",
    "status",
    "title",
    "text",
    "consumer_name",
    "contact",
)
ROLE_NAMES = {
    "seller": "被预警经营者",
    "peer": "同类经营者",
    "market_median": "市场中位数",
    "wholesale": "批发参考价",
}

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("alerts", "templates"),
    autoescape=True,
)


class PackError(ValueError):
    """The pack cannot be read as an evidence pack at all."""


@dataclass(frozen=True)
class PackFacts:
    """What a pack is made of, read from the database at one moment."""

    alert: Alert
    merchant: Merchant | None
    product: Product | None
    window: tuple[dt.date, dt.date]
    observations: list[PriceObservation]
    complaints: list[Complaint]
    complaint_products: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidencePack:
    data: bytes
    manifest: dict[str, Any]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def filename(self) -> str:
        return f"evidence-pack-alert-{self.manifest['alert']['id']}.zip"


# --- reading ---------------------------------------------------------------------------------------


def pack_window(alert: Alert) -> tuple[dt.date, dt.date]:
    """From the earlier of the rule's reference window and two weeks before the episode, to its end."""
    reference = (alert.evidence or {}).get("reference") or {}
    first = alert.start_date - dt.timedelta(days=PAD_DAYS)
    window_start = (reference.get("window") or {}).get("from")
    with contextlib.suppress(ValueError):  # no reference window, or an unreadable one
        first = min(first, dt.date.fromisoformat(str(window_start)))
    return first, alert.end_date


def read_pack_facts(session: Session, alert: Alert) -> PackFacts:
    """The alert's seller series, its peers and wholesale references in the window, and its complaints."""
    first, last = pack_window(alert)
    observations: list[PriceObservation] = []
    if alert.product_id is not None:
        in_window = (
            PriceObservation.product_id == alert.product_id,
            PriceObservation.observed_date >= first,
            PriceObservation.observed_date <= last,
        )
        retail = select(PriceObservation).where(*in_window, PriceObservation.price_type == "retail")
        if alert.region:
            retail = retail.where(PriceObservation.region == alert.region)
        wholesale = select(PriceObservation).where(*in_window, PriceObservation.price_type == "wholesale")
        variant = str((alert.evidence or {}).get("variant") or "")
        for query in (retail, wholesale):
            rows = session.scalars(
                query.options(selectinload(PriceObservation.merchant)).order_by(
                    PriceObservation.observed_date, PriceObservation.id
                )
            )
            # an alert on one variant (鲁辽 cucumbers) is judged against that variant's quotes only
            observations.extend(
                row
                for row in rows
                if not variant
                or row.price_type == "wholesale"
                or observation_variant(row.origin, row.spec, row.package) == variant
            )
    complaint_ids = [int(value) for value in (alert.evidence or {}).get("complaints") or []]
    complaints = (
        list(session.scalars(select(Complaint).where(Complaint.id.in_(complaint_ids)).order_by(Complaint.id)))
        if complaint_ids
        else []
    )
    product_ids = {c.product_id for c in complaints if c.product_id is not None}
    names = (
        dict(session.execute(select(Product.id, Product.name).where(Product.id.in_(product_ids))))
        if product_ids
        else {}
    )
    return PackFacts(
        alert=alert,
        merchant=alert.merchant,
        product=alert.product,
        window=(first, last),
        observations=observations,
        complaints=complaints,
        complaint_products=names,
    )


# --- building --------------------------------------------------------------------------------------


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: values that would start a formula get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(column)) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode()


def _iso(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _role(observation: PriceObservation, merchant_id: int | None) -> str:
    if observation.price_type == "wholesale":
        return "wholesale"
    return "seller" if merchant_id is not None and observation.merchant_id == merchant_id else "peer"


def price_rows(facts: PackFacts) -> list[dict[str, Any]]:
    """One row per observation, then one computed market-median row per day of retail prices."""
    merchant_id = facts.alert.merchant_id
    product = facts.product.name if facts.product else ""
    rows: list[dict[str, Any]] = []
    by_day: dict[dt.date, list[float]] = defaultdict(list)
    for observation in facts.observations:
        role = _role(observation, merchant_id)
        if role != "wholesale":
            by_day[observation.observed_date].append(observation.unit_price)
        rows.append(
            {
                "role": role,
                "observation_id": observation.id,
                "date": observation.observed_date.isoformat(),
                "observed_at": _iso(observation.observed_at),
                "merchant": observation.merchant.name if observation.merchant else "",
                "product": product,
                "region": observation.region,
                "price_type": observation.price_type,
                "price": observation.price,
                "raw_unit": observation.raw_unit,
                "spec": observation.spec,
                "unit_price": round(observation.unit_price, 4),
                "standard_unit": observation.standard_unit,
                "availability": observation.availability,
                "source": observation.source,
                "url": observation.url,
                "fetched_at": _iso(observation.fetched_at),
                "spider": observation.spider,
                "extractor": observation.extractor,
                "raw_hash": observation.raw_hash,
            }
        )
    unit = facts.observations[0].standard_unit if facts.observations else ""
    for day in sorted(by_day):
        rows.append(
            {
                "role": "market_median",
                "date": day.isoformat(),
                "product": product,
                "region": facts.alert.region,
                "price_type": "retail",
                "unit_price": round(statistics.median(by_day[day]), 4),
                "standard_unit": unit,
                "source": f"computed: median of {len(by_day[day])} retail prices",
            }
        )
    return rows


def complaint_rows(facts: PackFacts, *, masked: bool) -> list[dict[str, Any]]:
    """The linked complaints; personal data masked when the reader is not the consumer association."""

    def text(value: str | None) -> str | None:
        return mask_personal_data(value) if masked and value else value

    return [
        {
            "id": complaint.id,
            "tracking_code": complaint.tracking_code,
            "created_at": in_china(complaint.created_at).strftime("%Y-%m-%d %H:%M"),
            "merchant": text(complaint.merchant_name),
            "product": text(
                facts.complaint_products.get(complaint.product_id or 0, complaint.product_category)
            ),
            "district": text(complaint.district),
            "nature": complaint.nature,
            "amount": complaint.amount,
            "status": complaint.status,
            "title": text(complaint.title),
            "text": text(complaint.text),
            "consumer_name": mask_name(complaint.consumer_name)
            if masked and complaint.consumer_name
            else complaint.consumer_name,
            "contact": text(complaint.contact),
        }
        for complaint in facts.complaints
    ]


def chart(facts: PackFacts, prices: list[dict[str, Any]]) -> str:
    """The seller against the market median, wholesale and the rule's reference, drawn from ``prices``."""
    series: dict[str, dict[dt.date, float]] = defaultdict(dict)
    wholesale: dict[dt.date, list[float]] = defaultdict(list)
    for row in prices:
        day = dt.date.fromisoformat(row["date"])
        if row["role"] in ("seller", "market_median"):
            series[row["role"]][day] = float(row["unit_price"])
        elif row["role"] == "wholesale":
            wholesale[day].append(float(row["unit_price"]))
    days = sorted({day for values in series.values() for day in values} | set(wholesale))
    lines = [
        ChartLine("被预警经营者", "#c62828", [series["seller"].get(day) for day in days]),
        ChartLine("市场中位数", "#1565c0", [series["market_median"].get(day) for day in days]),
    ]
    if wholesale:
        lines.append(
            ChartLine(
                "批发价（中位）",
                "#6d6d6d",
                [statistics.median(wholesale[day]) if day in wholesale else None for day in days],
                dashed=True,
            )
        )
    reference = ((facts.alert.evidence or {}).get("reference") or {}).get("value")
    if reference is not None and facts.alert.kind != "complaint_spike":
        lines.append(ChartLine("参照价", "#2e7d32", [float(reference)] * len(days), dashed=True))
    unit = (facts.alert.evidence or {}).get("unit", "")
    title = (
        f"{facts.product.name if facts.product else ''} · {facts.merchant.name if facts.merchant else '市场'}"
    )
    return price_chart_svg(
        days,
        lines,
        title=title,
        unit=UNIT_NAMES.get(unit, unit),
        episode=(facts.alert.start_date, facts.alert.end_date),
    )


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:+.1f}%"


def _threshold(kind: str, value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.0f}%" if kind in PERCENT_KINDS else f"{float(value):g}"


def alert_summary(facts: PackFacts) -> dict[str, Any]:
    alert = facts.alert
    evidence = alert.evidence or {}
    rule = evidence.get("rule") or {}
    return {
        "id": alert.id,
        "rule": {
            "id": alert.rule_id,
            "kind": alert.kind,
            "title": rule.get("title"),
            "citation": rule.get("citation"),
            "threshold": evidence.get("threshold", rule.get("threshold")),
            "emergency": rule.get("emergency"),
        },
        "product": None if facts.product is None else {"id": facts.product.id, "name": facts.product.name},
        "seller": None
        if facts.merchant is None
        else {
            "id": facts.merchant.id,
            "name": facts.merchant.name,
            "credit_code": facts.merchant.credit_code,
            "district": facts.merchant.district,
            "address": facts.merchant.address,
        },
        "region": alert.region,
        "industry": alert.industry,
        "episode": {"start": alert.start_date.isoformat(), "end": alert.end_date.isoformat()},
        "severity": alert.severity,
        "status": alert.status,
        "unit": evidence.get("unit", ""),
        "reference": evidence.get("reference"),
        "current": evidence.get("current"),
        "change": evidence.get("change"),
        "peak_change": evidence.get("peak_change"),
        "market_change": evidence.get("market_change"),
        "peers": {key: value for key, value in (evidence.get("peers") or {}).items() if key != "sample"},
        "complaints": [complaint.id for complaint in facts.complaints],
    }


def report(
    facts: PackFacts,
    summary: dict[str, Any],
    complaints: list[dict[str, Any]],
    svg: str,
    made: dict[str, Any],
) -> str:
    evidence = facts.alert.evidence or {}
    unit = UNIT_NAMES.get(summary["unit"], summary["unit"])
    reference = summary["reference"] or {}
    window = reference.get("window") or {}
    return _templates.get_template("evidence_report.html").render(
        alert=summary,
        severity=SEVERITY_NAMES.get(summary["severity"], summary["severity"]),
        status=STATUS_NAMES.get(summary["status"], summary["status"]),
        unit=unit,
        change=_percent(summary["change"]),
        peak_change=_percent(summary["peak_change"]),
        market_change=_percent(summary["market_change"]),
        threshold=_threshold(facts.alert.kind, summary["rule"]["threshold"]),
        reference=reference,
        reference_window=f"{window.get('from', '—')} 至 {window.get('to', '—')}",
        peers=evidence.get("peers") or {},
        complaints=complaints,
        chart=svg,
        made=made,
        observation_count=len(facts.observations),
    )


def build_pack(
    facts: PackFacts,
    *,
    masked: bool,
    made_by: str,
    made_at: dt.datetime,
    version: str | None = None,
    secret: str | None = None,
) -> EvidencePack:
    """Render the files and the manifest and zip them; no I/O, the same facts give the same files.

    With ``secret`` the manifest is signed (``manifest.json.sig``).
    """
    prices = price_rows(facts)
    complaints = complaint_rows(facts, masked=masked)
    svg = chart(facts, prices)
    summary = alert_summary(facts)
    made = {
        "at": _iso(made_at),
        "by": made_by,
        "software": "fairmarket",
        "version": version or metadata.version("fairmarket"),
        "personal_data_masked": masked,
        "window": {"from": facts.window[0].isoformat(), "to": facts.window[1].isoformat()},
    }
    files = {
        PRICES: _csv(PRICE_COLUMNS, prices),
        COMPLAINTS: _csv(COMPLAINT_COLUMNS, complaints),
        CHART: svg.encode(),
        REPORT: report(facts, summary, complaints, svg, made).encode(),
    }
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "alert": summary,
        "made": made,
        "files": [
            {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files.items()
        ],
        "roles": ROLE_NAMES,
    }
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    members = [(MANIFEST, _canonical(manifest)), *files.items()]
    if secret is not None:
        members.append((SIGNATURE, signature_file(secret, _canonical(manifest))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        stamp = in_china(made_at).timetuple()[:6]
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    return EvidencePack(data=buffer.getvalue(), manifest=manifest)


def _canonical(manifest: dict[str, Any]) -> bytes:
    """The one byte form a manifest is written in, so any edit to it is visible."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2, default=str) + "\n").encode()


def _manifest_digest(manifest: dict[str, Any]) -> str:
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def signing_key_id(secret: str) -> str:
    """Names the key a pack was signed with, without revealing it (packs of another installation or
    from before a key change say so instead of merely failing)."""
    return hmac.new(secret.encode(), b"fairmarket-evidence-pack:key-id", hashlib.sha256).hexdigest()[:16]


def _manifest_hmac(secret: str, manifest_bytes: bytes) -> str:
    return hmac.new(
        secret.encode(), b"fairmarket-evidence-pack:" + manifest_bytes, hashlib.sha256
    ).hexdigest()


def signature_file(secret: str, manifest_bytes: bytes) -> bytes:
    """``manifest.json.sig``: the HMAC of the manifest's exact bytes, and which key made it."""
    document = {
        "algorithm": SIGNATURE_ALGORITHM,
        "key_id": signing_key_id(secret),
        "signs": MANIFEST,
        "hmac": _manifest_hmac(secret, manifest_bytes),
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()


def export_evidence_pack(
    session: Session, alert: Alert, *, masked: bool, actor: str, made_at: dt.datetime, secret: str
) -> EvidencePack:
    """Read, build, sign and audit one pack; the caller commits (the audit entry is in its transaction)."""
    pack = build_pack(
        read_pack_facts(session, alert), masked=masked, made_by=actor, made_at=made_at, secret=secret
    )
    audit.record(
        session,
        actor,
        EXPORT_ACTION,
        "alert",
        alert.id,
        after={
            "pack_sha256": pack.sha256,
            "manifest_sha256": pack.manifest["manifest_sha256"],
            "signing_key_id": signing_key_id(secret),
            "personal_data_masked": masked,
            "complaints": pack.manifest["alert"]["complaints"],
        },
    )
    return pack


# --- verifying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackCheck:
    """What checking a pack found: ``problems`` (empty: intact) and what was confirmed, in ``checked``."""

    problems: list[str]
    checked: list[str]
    alert_id: int | None = None
    manifest_sha256: str | None = None


def check_pack(data: bytes, *, secret: str | None = None) -> PackCheck:
    """Check every hash and, with ``secret``, the manifest's signature."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            contents = {info.filename: archive.read(info) for info in archive.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        return PackCheck([f"ZIP 文件已损坏或无法读取: {exc}"], [])
    except Exception as exc:  # zlib errors and the like inside a damaged member
        return PackCheck([f"ZIP 文件已损坏或无法读取: {type(exc).__name__}: {exc}"], [])
    if MANIFEST not in contents:
        return PackCheck(["缺少 manifest.json"], [])
    try:
        manifest = json.loads(contents[MANIFEST].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return PackCheck([f"manifest.json 无法解析: {exc}"], [])
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return PackCheck([f"不是证据包（format 应为 {FORMAT}）"], [])
    problems: list[str] = []
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        problems.append("manifest.json 内容已被改动（manifest_sha256 不符）")
    if contents[MANIFEST] != _canonical(manifest):
        problems.append("manifest.json 的字节与规范形式不一致")
    listed = {entry.get("name"): entry for entry in manifest.get("files") or [] if isinstance(entry, dict)}
    for name, entry in sorted(listed.items()):
        if name not in contents:
            problems.append(f"缺少文件 {name}")
        elif hashlib.sha256(contents[name]).hexdigest() != entry.get("sha256"):
            problems.append(f"{name} 的 SHA-256 与清单不符")
    for name in sorted(set(contents) - set(listed) - {MANIFEST, SIGNATURE}):
        problems.append(f"清单外的文件 {name}")
    checked = [] if problems else [f"{len(listed) + 1} 个文件的 SHA-256 与清单一致"]
    if secret is not None:
        signature_problem = _signature_problem(contents, secret)
        if signature_problem:
            problems.append(signature_problem)
        else:
            checked.append(f"清单签名有效（{SIGNATURE_ALGORITHM}，密钥 {signing_key_id(secret)}）")
    alert = manifest.get("alert")
    alert_id = alert.get("id") if isinstance(alert, dict) else None
    digest = manifest.get("manifest_sha256")
    return PackCheck(
        problems,
        checked,
        alert_id=alert_id if isinstance(alert_id, int) else None,
        manifest_sha256=digest if isinstance(digest, str) else None,
    )


def _signature_problem(contents: dict[str, bytes], secret: str) -> str | None:
    if SIGNATURE not in contents:
        return f"缺少签名 {SIGNATURE}：无法证明清单出自本系统"
    try:
        document = json.loads(contents[SIGNATURE].decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"{SIGNATURE} 无法解析"
    if not isinstance(document, dict) or document.get("algorithm") != SIGNATURE_ALGORITHM:
        return f"{SIGNATURE} 不是 {SIGNATURE_ALGORITHM} 签名"
    ours = signing_key_id(secret)
    if document.get("key_id") != ours:
        return f"签名所用密钥（{document.get('key_id')}）不是本系统的密钥（{ours}），无法核对签名"
    expected = _manifest_hmac(secret, contents[MANIFEST])
    if not hmac.compare_digest(str(document.get("hmac", "")), expected):
        return "清单签名无效：manifest.json 不是本系统签发的样子（内容或哈希被重算过）"
    return None


def verify_pack(data: bytes, *, secret: str | None = None) -> list[str]:
    """Every way the pack differs from what its manifest (and, with ``secret``, its signature) says."""
    return check_pack(data, secret=secret).problems


def audited_export(session: Session, alert_id: int, manifest_sha256: str) -> AuditLog | None:
    """The audit entry of the export that handed out a pack with this manifest, if there was one."""
    entries = session.scalars(
        select(AuditLog)
        .where(
            AuditLog.action == EXPORT_ACTION, AuditLog.entity == "alert", AuditLog.entity_id == str(alert_id)
        )
        .order_by(AuditLog.id)
    )
    return next(
        (entry for entry in entries if (entry.after or {}).get("manifest_sha256") == manifest_sha256), None
    )
