"""Workflow transitions, deadlines on the working-day calendar and the overdue query, on real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.intake import create_complaint
from complaints.schemas import ComplaintCreate
from complaints.workflow import TRANSITIONS, WorkflowError, is_overdue, overdue_condition, transition
from core.models import Complaint

FILED_AT = dt.datetime(2024, 9, 27, 2, 0)  # Friday 10:00 in Harbin, before the National Day break


def _file(session: Session, created_at: dt.datetime = FILED_AT) -> Complaint:
    data = ComplaintCreate(text="超市鸡蛋标价8元结账收12元", nature="价格", industry="supermarket")
    return create_complaint(session, data, channel="api", actor="public", created_at=created_at)


def test_accept_deadline_counts_working_days_across_the_national_day_break(session: Session) -> None:
    complaint = _file(session)
    # 09-29 (Sun) and 09-30 count, 10-01..10-07 are off, then 10-08..10-12 (Sat, worked in exchange).
    assert complaint.accept_deadline == dt.date(2024, 10, 12)


def test_local_date_decides_the_start_day(session: Session) -> None:
    late_evening = _file(session, dt.datetime(2024, 9, 26, 17, 0))  # 01:00 on Friday 09-27 in Harbin
    assert late_evening.accept_deadline == dt.date(2024, 10, 12)


def test_full_happy_path_records_every_step(session: Session) -> None:
    complaint = _file(session)
    accepted_at = dt.datetime(2024, 10, 8, 1, 0)
    transition(complaint, "accepted", actor="xiehui", note="材料齐全", at=accepted_at)
    assert complaint.mediate_deadline == dt.date(2024, 12, 9)
    transition(complaint, "mediating", actor="chaoshi-xiehui")
    transition(complaint, "resolved", actor="chaoshi-xiehui", note="商家退还差价4元")
    transition(complaint, "closed", actor="xiehui")
    session.commit()

    stored = session.get(Complaint, complaint.id)
    assert stored is not None and stored.status == "closed"
    steps = [(e.action, e.from_status, e.to_status, e.actor) for e in stored.events]
    assert steps == [
        ("received", None, "received", "public"),
        ("transition", "received", "accepted", "xiehui"),
        ("transition", "accepted", "mediating", "chaoshi-xiehui"),
        ("transition", "mediating", "resolved", "chaoshi-xiehui"),
        ("transition", "resolved", "closed", "xiehui"),
    ]
    assert stored.events[3].note == "商家退还差价4元"


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ([], "mediating"),
        ([], "closed"),
        ([("accepted", None)], "resolved"),
        ([("rejected", "不属于受理范围")], "accepted"),
        ([("accepted", None), ("mediating", None), ("resolved", None), ("closed", None)], "received"),
    ],
)
def test_transitions_outside_the_table_are_refused_and_change_nothing(
    session: Session, path: list[tuple[str, str | None]], forbidden: str
) -> None:
    complaint = _file(session)
    for status, note in path:
        transition(complaint, status, actor="staff", note=note)
    before = (complaint.status, len(complaint.events))
    with pytest.raises(WorkflowError) as raised:
        transition(complaint, forbidden, actor="staff", note="试试")
    assert raised.value.conflict
    assert "不能变更为" in raised.value.message
    assert (complaint.status, len(complaint.events)) == before


def test_rejection_needs_a_reason(session: Session) -> None:
    complaint = _file(session)
    with pytest.raises(WorkflowError) as raised:
        transition(complaint, "rejected", actor="staff", note="  ")
    assert not raised.value.conflict
    assert complaint.status == "received"


def test_unknown_status_is_not_a_conflict(session: Session) -> None:
    with pytest.raises(WorkflowError) as raised:
        transition(_file(session), "teleported", actor="staff")
    assert not raised.value.conflict


def test_every_status_is_reachable_and_closed_is_final() -> None:
    reachable = {"received"} | {target for targets in TRANSITIONS.values() for target in targets}
    assert reachable == set(TRANSITIONS)
    assert TRANSITIONS["closed"] == frozenset()


def test_overdue_query_matches_is_overdue(session: Session) -> None:
    waiting = _file(session, dt.datetime(2024, 9, 2, 2, 0))  # accept deadline 2024-09-11
    in_time = _file(session, dt.datetime(2024, 9, 10, 2, 0))  # accept deadline 2024-09-19
    mediating_late = _file(session, dt.datetime(2024, 6, 3, 2, 0))
    transition(mediating_late, "accepted", actor="s", at=dt.datetime(2024, 6, 4, 2, 0))
    transition(mediating_late, "mediating", actor="s")
    finished = _file(session, dt.datetime(2024, 6, 3, 2, 0))
    transition(finished, "rejected", actor="s", note="重复投诉")
    session.commit()

    today = dt.date(2024, 9, 13)
    ids = set(session.scalars(select(Complaint.id).where(overdue_condition(today))))
    assert ids == {waiting.id, mediating_late.id}
    for complaint in (waiting, in_time, mediating_late, finished):
        assert is_overdue(complaint, today) is (complaint.id in ids)


@given(steps=st.lists(st.sampled_from([*sorted(TRANSITIONS), "nonsense"]), max_size=12))
@settings(max_examples=200, deadline=None)
def test_any_sequence_of_requests_only_walks_the_table(steps: list[str]) -> None:
    complaint = Complaint(status="received", accept_deadline=dt.date(2024, 9, 11))
    complaint.events = []
    walked = ["received"]
    for target in steps:
        before = complaint.status
        try:
            transition(complaint, target, actor="staff", note="原因", at=FILED_AT)
        except WorkflowError:
            assert complaint.status == before
            continue
        assert target in TRANSITIONS[before]
        walked.append(target)
    assert [e.to_status for e in complaint.events] == walked[1:]
    assert (complaint.mediate_deadline is not None) == ("accepted" in walked)
