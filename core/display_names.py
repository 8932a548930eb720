"""The one table of names people read for the codes the platform stores (zh-CN).

Pages, CSV/XLSX exports, e-mails and the public tracking view all look codes up here, so a status,
an industry or a unit reads the same everywhere and no English code reaches a reader. The industry
and nature names are the classifier's label names (``complaints/resources/classification.yaml``);
a test keeps the two in step.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal

Section = Literal[
    "complaint_status",
    "complaint_event",
    "alert_status",
    "alert_action",
    "alert_kind",
    "severity",
    "channel",
    "delivery_channel",
    "delivery_kind",
    "industry",
    "price_type",
    "unit",
    "role",
]

_TABLE: Final[dict[str, dict[str, str]]] = {
    "complaint_status": {
        "received": "已受理登记",
        "accepted": "已受理",
        "rejected": "不予受理",
        "mediating": "调解中",
        "resolved": "调解成功",
        "mediation_ended": "调解终止",
        "closed": "已结案",
    },
    # Steps on a complaint's timeline; only the public ones reach the tracking view.
    "complaint_event": {
        "received": "收到投诉",
        "transition": "状态变更",
        "classification_corrected": "更正分类",
    },
    "alert_status": {
        "open": "待处理",
        "acknowledged": "已知悉",
        "confirmed": "已确认违规",
        "dismissed": "已驳回",
    },
    "alert_action": {
        "acknowledge": "知悉",
        "confirm": "确认违规",
        "dismiss": "驳回",
        "escalate": "升级",
        "reopen": "重新打开",
    },
    "alert_kind": {
        "emergency_rise": "突发事件期间涨价",
        "average_rise": "高于前期均价",
        "markup_ratio": "进销差价率超标",
        "peer_outlier": "显著高于同行",
        "market_surge": "涨幅远超市场",
        "complaint_spike": "价格投诉激增",
        "supply_shortage": "供应短缺",
    },
    "severity": {"low": "低", "medium": "中", "high": "高", "critical": "紧急"},
    # How a complaint reached the platform.
    "channel": {"web_form": "网页表单", "form": "网页表单", "api": "接口提交", "import": "批量导入"},
    "delivery_channel": {"inbox": "站内收件箱", "webhook": "Webhook", "email": "电子邮件", "im": "即时消息"},
    "delivery_kind": {"alert": "价格预警", "complaint": "投诉转办"},
    "industry": {
        "supermarket": "超市连锁",
        "pharmacy": "药品零售",
        "catering": "餐饮",
        "ecommerce": "电子商务",
        "farm_market": "农贸市场",
        "home_appliance": "家用电器",
        "telecom": "通信",
        "tourism": "旅游",
        "other": "其他行业",
    },
    "price_type": {"retail": "零售价", "wholesale": "批发价", "online": "网络零售价"},
    # Standard units (``core.units``) and the price units derived from them.
    "unit": {
        "500g": "500克",
        "L": "升",
        "piece": "件",
        "元/500g": "元/500克",
        "元/L": "元/升",
        "元/piece": "元/件",
        "元/kg": "元/千克",
    },
    "role": {
        "public": "公众",
        "association_staff": "行业协会工作人员",
        "consumer_staff": "消协工作人员",
        "admin": "系统管理员",
    },
}

DISPLAY_NAMES: Final = MappingProxyType(
    {section: MappingProxyType(names) for section, names in _TABLE.items()}
)


def display_name(section: Section, code: str | None) -> str:
    """The name people read for ``code``; an unknown code is shown as it is (never hidden)."""
    if code is None:
        return ""
    return DISPLAY_NAMES[section].get(code, code)


def price_unit_name(standard_unit: str) -> str:
    """元 per standard unit as people read it: ``500g`` → 元/500克."""
    return f"元/{display_name('unit', standard_unit)}"


def display_table() -> dict[str, dict[str, str]]:
    """A plain copy of the table, for rendering into pages as JSON."""
    return {section: dict(names) for section, names in DISPLAY_NAMES.items()}
