"""The merchant-record endpoints' response models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class MerchantSummary(BaseModel):
    id: int
    name: str
    industry: str | None
    industry_name: str
    district: str | None
    complaints: int


class MerchantsPublic(BaseModel):
    data: list[MerchantSummary]
    count: int


class CountPublic(BaseModel):
    label: str
    count: int


class ConfirmedAlert(BaseModel):
    id: int
    title: str
    product: str | None
    start_date: dt.date
    end_date: dt.date
    severity_name: str


class MerchantRecordPublic(BaseModel):
    id: int
    name: str
    industry: str | None
    industry_name: str
    district: str | None
    kind_name: str
    since: dt.date
    complaints: int
    accepted: int
    mediated: int
    resolved: int
    ended_without_agreement: int
    response_rate: float | None
    resolution_rate: float | None
    min_cases_for_rate: int
    by_nature: list[CountPublic]
    by_month: list[CountPublic]
    industry_merchants: int
    industry_median_complaints: float | None
    industry_median_response_rate: float | None
    industry_median_resolution_rate: float | None
    confirmed_alerts: list[ConfirmedAlert]
