"""The Chinese rendering of alert payloads: prices for price rules, counts for complaint spikes."""

from __future__ import annotations

from alerts import messages


def _payload(kind: str, evidence: dict[str, object]) -> dict[str, object]:
    alert = {
        "id": 3,
        "rule_id": kind,
        "kind": kind,
        "severity": "critical",
        "merchant": "冰城惠民超市(学府路店)",
        "product": None,
        "region": "",
        "start_date": "2026-10-20",
        "end_date": "2026-10-22",
        "url": "/api/alerts/3",
    }
    return {"type": "alert", "alert": alert, "evidence": evidence}


def test_complaint_spike_speaks_of_complaints_not_prices() -> None:
    payload = _payload(
        "complaint_spike",
        {
            "rule": {"title": "价格投诉激增"},
            "reference": {"value": 0.125, "window": {"from": "2026-08-21", "to": "2026-10-15"}},
            "current": 3.0,
            "change": 23.0,
            "threshold": 1.0,
            "complaints": [82, 88, 102],
        },
    )
    body = messages.body(payload)
    assert "近期价格投诉：3.0 件" in body and "基线期望：0.125 件" in body
    assert "超出基线：+2300.0%" in body and "相关投诉：82、88、102" in body
    assert "价格：" not in body.replace("近期价格投诉", "")
    assert messages.subject(payload) == "【公平市场】紧急级价格预警：冰城惠民超市(学府路店)"


def test_peer_outlier_threshold_is_a_score_and_units_read_in_chinese() -> None:
    payload = _payload(
        "peer_outlier",
        {
            "unit": "元/piece",
            "current": 1.261,
            "reference": {"value": 0.8818},
            "change": 0.43,
            "threshold": 3.5,
        },
    )
    body = messages.body(payload)
    assert "当前价格：1.261 元/件" in body and "涨幅：+43.0%，阈值：3.5，" in body


def test_complaint_message_names_the_industry_in_chinese() -> None:
    payload = {
        "type": "complaint",
        "complaint": {
            "tracking_code": "TS-20261130-ABCD",
            "created_at": "2026-11-30T08:00:00",
            "industry": "farm_market",
            "nature": "计量",
            "url": "/api/complaints/1",
        },
    }
    body = messages.body(payload)
    assert "行业：农贸市场" in body and "farm_market" not in body


def test_complaint_message_reads_its_time_in_china() -> None:
    payload = {
        "type": "complaint",
        "complaint": {
            "tracking_code": "TS-20261130-ABCD",
            "created_at": "2026-11-30T20:30:00",  # naive UTC: 04:30 the next morning in Harbin
            "url": "/api/complaints/1",
        },
    }
    assert "登记时间：2026-12-01 04:30" in messages.body(payload)
