"""The display-name table: one name per code, the classifier's industry names, no code shown as is."""

from __future__ import annotations

import re

from alerts.lifecycle import STATUS_NAMES as ALERT_STATUS_NAMES
from complaints.classification import INDUSTRIES
from complaints.workflow import STATUS_NAMES, TRANSITIONS
from core.display_names import DISPLAY_NAMES, display_name, price_unit_name
from core.units import STANDARD_UNITS

ASCII_WORD = re.compile(r"[A-Za-z_]{2,}")


def test_industry_names_are_the_classifiers_label_names() -> None:
    assert dict(DISPLAY_NAMES["industry"]) == INDUSTRIES.names


def test_every_status_the_workflows_use_has_a_name() -> None:
    assert set(TRANSITIONS) == set(STATUS_NAMES)
    assert set(ALERT_STATUS_NAMES) == {"open", "acknowledged", "confirmed", "dismissed"}


def test_names_people_read_are_chinese() -> None:
    for section, names in DISPLAY_NAMES.items():
        for code, name in names.items():
            assert name == "Webhook" or not ASCII_WORD.search(name), (section, code, name)


def test_status_names_do_not_start_with_a_verb_prefix_a_message_adds_again() -> None:
    # 「预警 #1 已已知悉」 came from a page writing 已 before a name that already starts with it.
    assert display_name("alert_status", "acknowledged") == "已知悉"


def test_units_read_in_chinese() -> None:
    assert [price_unit_name(unit) for unit in STANDARD_UNITS] == ["元/500克", "元/升", "元/件"]
    assert display_name("unit", "元/piece") == "元/件"
    assert display_name("industry", "no_such_code") == "no_such_code"
    assert display_name("industry", None) == ""
