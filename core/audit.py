"""The audit log of staff actions: who did what to which record, when, with the before and after.

Rows are appended in the caller's transaction, so an action and its record commit (or roll back)
together. The log is append-only: the ORM refuses to update or delete a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session

from core.models import AuditLog


class AuditLogIsAppendOnly(RuntimeError):
    pass


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Dates, decimals and the like as text, so both SQLite and PostgreSQL store the same JSON."""
    if value is None:
        return None
    result: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return result


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a record, for ``before``/``after``; never pass secrets or hashes."""
    return {name: getattr(obj, name) for name in fields}


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry; ``action`` reads ``<entity>.<verb>``, e.g. ``complaint.transition``."""
    entry = AuditLog(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(entry)
    return entry


def _refuse_change(_mapper: Mapper[AuditLog], _connection: Any, target: AuditLog) -> None:
    raise AuditLogIsAppendOnly(f"audit log entry {target.id} cannot be changed or deleted")


event.listen(AuditLog, "before_update", _refuse_change)
event.listen(AuditLog, "before_delete", _refuse_change)
