"""The classification-proposal endpoints' request and response models."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.timestamps import UtcDateTime


class ProposalPublic(BaseModel):
    id: int
    complaint_id: int
    association_id: int | None
    proposed_by: str
    proposed_at: UtcDateTime
    nature: str | None
    industry: str | None
    note: str | None
    status: str
    decided_by: str | None
    decided_at: UtcDateTime | None
    decision_note: str | None


class ProposalsPublic(BaseModel):
    data: list[ProposalPublic]
    count: int


class ProposalDecision(BaseModel):
    note: str | None = Field(default=None, max_length=500)
