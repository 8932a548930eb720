"""What a delivery says: a JSON payload snapshotted into the outbox row, and its Chinese rendering.

The payload is taken when the delivery is enqueued, so a retry sends exactly what the first attempt
sent. Complaints leave the consumer association only with personal data masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from complaints.privacy import mask_optional, mask_personal_data
from core.clock import in_china
from core.display_names import DISPLAY_NAMES, display_name
from core.models import Alert, Complaint

SEVERITY_NAMES = DISPLAY_NAMES["severity"]
KIND_NAMES = DISPLAY_NAMES["delivery_kind"]
UNIT_NAMES = DISPLAY_NAMES["unit"]


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert and its evidence without the chart series (which the API serves in full)."""
    evidence = {key: value for key, value in (alert.evidence or {}).items() if key != "series"}
    return {
        "type": "alert",
        "alert": {
            "id": alert.id,
            "rule_id": alert.rule_id,
            "kind": alert.kind,
            "severity": alert.severity,
            "status": alert.status,
            "product": alert.product.name if alert.product else None,
            "merchant": alert.merchant.name if alert.merchant else None,
            "region": alert.region,
            "industry": alert.industry,
            "start_date": alert.start_date.isoformat(),
            "end_date": alert.end_date.isoformat(),
            "url": f"/api/alerts/{alert.id}",
        },
        "evidence": evidence,
    }


def complaint_payload(complaint: Complaint) -> dict[str, Any]:
    text = complaint.text or ""
    return {
        "type": "complaint",
        "complaint": {
            "id": complaint.id,
            "tracking_code": complaint.tracking_code,
            "created_at": complaint.created_at.isoformat(timespec="seconds"),
            "nature": complaint.nature,
            "industry": complaint.industry,
            "district": mask_optional(complaint.district),
            "merchant": mask_optional(complaint.merchant_name),
            "product_category": mask_optional(complaint.product_category),
            "amount": None if complaint.amount is None else str(complaint.amount),
            "text": mask_personal_data(text)[:500],
            "url": f"/api/complaints/{complaint.id}",
        },
    }


MASKED_COMPLAINT_FIELDS = ("text", "merchant", "district", "product_category")


def masked(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with its complaint's free text masked by the current rules.

    Payloads are snapshotted when enqueued; masking again when they are shown or sent covers rows
    enqueued under older, weaker rules (masking masked text changes nothing).
    """
    complaint = payload.get("complaint")
    if payload.get("type") != "complaint" or not isinstance(complaint, dict):
        return payload
    fields = {
        name: mask_optional(complaint[name])
        for name in MASKED_COMPLAINT_FIELDS
        if isinstance(complaint.get(name), str)
    }
    return {**payload, "complaint": {**complaint, **fields}}


PERCENT_KINDS = frozenset({"emergency_rise", "average_rise", "markup_ratio", "market_surge"})


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:+.1f}%"


def _threshold(kind: str, value: Any) -> str:
    """Rise rules compare fractions; peer outliers and complaint spikes compare scores."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.0f}%" if kind in PERCENT_KINDS else f"{float(value):g}"


def _measures(kind: str, evidence: dict[str, Any]) -> list[str]:
    """Prices for the price rules; complaint counts for a complaint spike."""
    reference = evidence.get("reference", {})
    window = reference.get("window", {})
    period = f"{window.get('from', '')} 至 {window.get('to', '')}"
    threshold = _threshold(kind, evidence.get("threshold"))
    if kind == "complaint_spike":
        return [
            f"近期价格投诉：{evidence.get('current', '—')} 件",
            f"基线期望：{reference.get('value', '—')} 件（{period}，{reference.get('description', '')}）",
            f"超出基线：{_percent(evidence.get('change'))}，阈值：{threshold}",
        ]
    unit = UNIT_NAMES.get(evidence.get("unit", ""), evidence.get("unit", ""))
    lines = [
        f"当前价格：{evidence.get('current', '—')} {unit}",
        f"参考价格：{reference.get('value', '—')} {unit}（{period}，{reference.get('description', '')}）",
        f"涨幅：{_percent(evidence.get('change'))}，阈值：{threshold}，"
        f"同期市场变化：{_percent(evidence.get('market_change'))}",
    ]
    peers = evidence.get("peers") or {}
    if peers.get("count"):
        lines.append(f"同日同类经营者：{peers['count']} 家，中位价 {peers.get('median')} {unit}")
    return lines


def _alert_lines(payload: dict[str, Any]) -> list[str]:
    alert, evidence = payload["alert"], payload.get("evidence", {})
    rule = evidence.get("rule", {})
    lines = [
        f"预警编号：{alert['id']}（{SEVERITY_NAMES.get(alert['severity'], alert['severity'])}级）",
        f"规则：{rule.get('title') or alert['rule_id']}",
        f"经营者：{alert.get('merchant') or '—'}",
        f"商品：{alert.get('product') or '—'}",
        f"地区：{alert.get('region') or '—'}",
        f"时间：{alert['start_date']} 至 {alert['end_date']}",
        *_measures(alert["kind"], evidence),
    ]
    if evidence.get("complaints"):
        lines.append("相关投诉：" + "、".join(str(cid) for cid in evidence["complaints"]))
    if rule.get("citation"):
        lines.append(f"依据：{rule['citation']}")
    lines.append(f"详情：{alert['url']}")
    return lines


def _china_time(naive_utc_iso: str) -> str:
    """Payloads carry naive-UTC ISO times; people read China wall-clock time."""
    return in_china(dt.datetime.fromisoformat(naive_utc_iso)).strftime("%Y-%m-%d %H:%M")


def _complaint_lines(payload: dict[str, Any]) -> list[str]:
    complaint = payload["complaint"]
    industry = display_name("industry", complaint.get("industry"))
    return [
        f"投诉编号：{complaint['tracking_code']}",
        f"登记时间：{_china_time(complaint['created_at'])}",
        f"被投诉经营者：{complaint.get('merchant') or '—'}",
        f"投诉性质：{complaint.get('nature') or '—'}，行业：{industry or '—'}，"
        f"地区：{complaint.get('district') or '—'}",
        f"涉及金额：{complaint.get('amount') or '—'} 元",
        f"内容：{complaint.get('text') or ''}",
        f"详情：{complaint['url']}",
    ]


def subject(payload: dict[str, Any]) -> str:
    if payload.get("watch"):
        return f"【公平市场】关注“{payload['watch']['name']}”：" + _plain_subject(payload).removeprefix(
            "【公平市场】"
        )
    return _plain_subject(payload)


def _plain_subject(payload: dict[str, Any]) -> str:
    if payload["type"] == "alert":
        alert = payload["alert"]
        level = SEVERITY_NAMES.get(alert["severity"], alert["severity"])
        what = " ".join(part for part in (alert.get("merchant"), alert.get("product")) if part)
        if payload.get("escalated_from"):
            earlier = SEVERITY_NAMES.get(payload["escalated_from"], payload["escalated_from"])
            return f"【公平市场】价格预警升级（{earlier}→{level}）：{what or alert['rule_id']}"
        return f"【公平市场】{level}级价格预警：{what or alert['rule_id']}"
    complaint = payload["complaint"]
    return f"【公平市场】投诉转办：{complaint['tracking_code']} {complaint.get('merchant') or ''}".rstrip()


def body(payload: dict[str, Any]) -> str:
    lines = _alert_lines(payload) if payload["type"] == "alert" else _complaint_lines(payload)
    return "\n".join(lines)


def digest_subject(payloads: list[dict[str, Any]], day: dt.date) -> str:
    watches = {payload["watch"]["name"] for payload in payloads if payload.get("watch")}
    if len(watches) == 1 and all(payload.get("watch") for payload in payloads):
        return f"【公平市场】关注“{watches.pop()}”：{len(payloads)} 条新动态"
    return f"【公平市场】{day.isoformat()} 每日汇总：{len(payloads)} 条"


def digest_body(payloads: list[dict[str, Any]]) -> str:
    sections = [
        f"{index}. {KIND_NAMES[payload['type']]}\n{body(payload)}"
        for index, payload in enumerate(payloads, 1)
    ]
    return "\n\n".join(sections)
