"""Escalation of overdue clocks (DESIGN.md §4): a system step run by ``flask tick``.

A running clock past its due date is escalated once: the heads of the parent unit and the
responsible supervisor are notified, and the history records it. ``escalated_at`` marks it
done, so the next run does not notify again (extending the clock does not reset it).
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.cases.models import Case, Deadline
from tracker.cases.notifications import notify, parent_unit_heads
from tracker.cases.states import DEADLINE_OWNER
from tracker.core.database import utcnow
from tracker.core.history import record_event
from tracker.extensions import db


def overdue_unescalated(now):
    """Running clocks (not met, cancelled or paused) past due and not yet escalated."""
    return (
        select(Deadline)
        .where(
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.paused_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.due_at < now,
        )
        .order_by(Deadline.due_at, Deadline.id)
    )


def escalate_overdue(now=None) -> int:
    """Escalate every overdue clock once; returns how many were escalated. Flushes, never commits."""
    now = now or utcnow()
    # SKIP LOCKED: two ticks running at once on PostgreSQL never escalate the same clock twice.
    stmt = (
        overdue_unescalated(now)
        .options(selectinload(Deadline.case).selectinload(Case.unit))
        .with_for_update(of=Deadline, skip_locked=True)
    )
    count = 0
    for deadline in db.session.scalars(stmt).all():
        deadline.escalated_at = now
        if DEADLINE_OWNER[deadline.kind] is None:
            continue  # the appeal window only runs out; nobody is late on it
        case = deadline.case
        supervisor = case.determined_by or case.created_by
        notify([*parent_unit_heads(case.unit), supervisor], "deadline_overdue", case)
        record_event(
            actor=None,
            action="deadline_escalated",
            subject=f"case:{case.number}",
            case=case,
            data={"kind": deadline.kind.value, "due_at": deadline.due_at.isoformat()},
        )
        count += 1
    return count
