"""The mediation workflow: allowed status transitions, deadlines and the overdue query.

received → accepted | rejected; accepted → mediating → resolved | mediation_ended; resolved,
mediation_ended and rejected → closed. Accepting must happen within 7 working days of receipt,
mediation within 45 working days of acceptance. Every step is an event on the complaint's timeline.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_

from complaints.working_days import add_working_days
from core.clock import china_date, utcnow
from core.display_names import DISPLAY_NAMES
from core.models import Complaint, ComplaintEvent

ACCEPT_WORKING_DAYS = 7
MEDIATE_WORKING_DAYS = 45

STATUS_NAMES = DISPLAY_NAMES["complaint_status"]
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"accepted", "rejected"}),
    "accepted": frozenset({"mediating"}),
    "mediating": frozenset({"resolved", "mediation_ended"}),
    "resolved": frozenset({"closed"}),
    "mediation_ended": frozenset({"closed"}),
    "rejected": frozenset({"closed"}),
    "closed": frozenset(),
}
# Accepting, rejecting and closing a case is the consumer association's call; the trade association the
# complaint is routed to runs the mediation.
CONSUMER_ASSOCIATION_STEPS = frozenset({"accepted", "rejected", "closed"})
# A consumer is owed a reason when the association refuses or gives up.
NOTE_REQUIRED = frozenset({"rejected", "mediation_ended"})
ACCEPT_PENDING = frozenset({"received"})
MEDIATION_PENDING = frozenset({"accepted", "mediating"})


class WorkflowError(ValueError):
    """A transition the workflow does not allow; ``message`` is for the user (Chinese)."""

    def __init__(self, message: str, *, conflict: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def accept_deadline(received_at: dt.datetime) -> dt.date:
    return accept_deadline_on(china_date(received_at))


def accept_deadline_on(received_on: dt.date) -> dt.date:
    """The deadline of a complaint received on this (China) day: a bulk import caches it per day."""
    return add_working_days(received_on, ACCEPT_WORKING_DAYS)


def mediate_deadline(accepted_at: dt.datetime) -> dt.date:
    return add_working_days(china_date(accepted_at), MEDIATE_WORKING_DAYS)


def transition(
    complaint: Complaint,
    to_status: str,
    *,
    actor: str,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> ComplaintEvent:
    """Move ``complaint`` to ``to_status`` and record the step; raises WorkflowError if not allowed."""
    if to_status not in STATUS_NAMES:
        raise WorkflowError(f"未知的状态：{to_status}", conflict=False)
    from_status = complaint.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = "、".join(STATUS_NAMES[s] for s in sorted(TRANSITIONS.get(from_status, ()))) or "无"
        raise WorkflowError(
            f"投诉当前状态为“{STATUS_NAMES.get(from_status, from_status)}”，"
            f"不能变更为“{STATUS_NAMES[to_status]}”（可变更为：{allowed}）"
        )
    note = note.strip() if note else None
    if to_status in NOTE_REQUIRED and not note:
        raise WorkflowError(f"变更为“{STATUS_NAMES[to_status]}”须填写原因", conflict=False)
    at = at or utcnow()
    complaint.status = to_status
    if to_status == "accepted":
        complaint.mediate_deadline = mediate_deadline(at)
    event = ComplaintEvent(
        at=at, actor=actor, action="transition", from_status=from_status, to_status=to_status, note=note
    )
    complaint.events.append(event)
    return event


def is_overdue(complaint: Complaint, today: dt.date) -> bool:
    if complaint.status in ACCEPT_PENDING:
        return complaint.accept_deadline is not None and complaint.accept_deadline < today
    if complaint.status in MEDIATION_PENDING:
        return complaint.mediate_deadline is not None and complaint.mediate_deadline < today
    return False


def overdue_condition(today: dt.date) -> ColumnElement[bool]:
    """SQL condition of :func:`is_overdue`, for listing overdue complaints in the database."""
    return or_(
        and_(Complaint.status.in_(ACCEPT_PENDING), Complaint.accept_deadline < today),
        and_(Complaint.status.in_(MEDIATION_PENDING), Complaint.mediate_deadline < today),
    )
