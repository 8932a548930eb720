"""An alert's life: open → acknowledged → confirmed | dismissed, each step with who, when and why.

Every step writes an ``alert_actions`` row and an audit entry in the same transaction; the status
change is a guarded UPDATE, so two people acting at once cannot both move the same alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from core import audit
from core.display_names import DISPLAY_NAMES
from core.models import Alert, AlertAction, utcnow

STATUS_NAMES = DISPLAY_NAMES["alert_status"]


@dataclass(frozen=True)
class Step:
    allowed_from: frozenset[str]
    to_status: str


STEPS: dict[str, Step] = {
    "acknowledge": Step(frozenset({"open"}), "acknowledged"),
    "confirm": Step(frozenset({"open", "acknowledged"}), "confirmed"),
    "dismiss": Step(frozenset({"open", "acknowledged"}), "dismissed"),
}


class AlertStateError(Exception):
    """The alert is not in a state this step can leave from."""


def act_on_alert(
    session: Session,
    *,
    alert: Alert,
    action: str,
    actor: str,
    association_id: int | None,
    note: str | None = None,
) -> AlertAction:
    """Apply ``action`` to ``alert`` and record it; the caller commits. ``dismiss`` needs a reason."""
    step = STEPS[action]
    if action == "dismiss" and not (note and note.strip()):
        raise ValueError("驳回预警必须说明理由")
    before = alert.status
    if before not in step.allowed_from:
        raise AlertStateError(f"预警当前状态为“{STATUS_NAMES.get(before, before)}”，不能执行该操作")
    now = utcnow()
    values: dict[str, Any] = {"status": step.to_status, "status_by": actor, "status_at": now}
    if action == "dismiss":
        values["dismiss_reason"] = note
    result = session.execute(
        update(Alert).where(Alert.id == alert.id, Alert.status == before).values(**values)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise AlertStateError("预警状态已被他人更改，请刷新后重试")
    entry = AlertAction(
        alert_id=alert.id, actor=actor, association_id=association_id, action=action, note=note
    )
    session.add(entry)
    audit.record(
        session,
        actor,
        f"alert.{action}",
        "alert",
        alert.id,
        before={"status": before},
        after={"status": step.to_status, "note": note, "association_id": association_id},
    )
    session.flush()
    session.refresh(alert)
    return entry
