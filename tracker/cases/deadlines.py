"""Clocks of a case (DESIGN.md §4) on the working-day calendar, with the admin's settings."""
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import select

from tracker.cases.models import CalendarOverride, Deadline, DeadlineSetting
from tracker.cases.states import DEFAULT_DEADLINE_DAYS, DeadlineKind, Severity
from tracker.core.calendar import WorkingCalendar
from tracker.extensions import db


def current_calendar() -> WorkingCalendar:
    """The holiday calendar with the administrator's overrides (built once per request)."""
    cached = g.get("_working_calendar") if has_app_context() else None
    if cached is not None:
        return cached
    overrides = db.session.scalars(select(CalendarOverride)).all()
    calendar = WorkingCalendar(
        extra_workdays=[o.day for o in overrides if o.is_working_day],
        extra_holidays=[o.day for o in overrides if not o.is_working_day],
    )
    if has_app_context():
        g._working_calendar = calendar
    return calendar


def forget_calendar() -> None:
    """Drop the calendar cached for this request (after the administrator changed overrides)."""
    if has_app_context():
        g.pop("_working_calendar", None)


def working_days_for(kind: DeadlineKind, severity: Severity | None = None) -> int:
    settings = {
        (s.kind, s.severity): s.working_days
        for s in db.session.scalars(select(DeadlineSetting).where(DeadlineSetting.kind == kind))
    }
    if severity is not None and (kind, severity) in settings:
        return settings[(kind, severity)]
    return settings.get((kind, None), DEFAULT_DEADLINE_DAYS[kind])


def start_clock(case, kind: DeadlineKind, *, start: datetime, days: int | None = None, severity=None) -> Deadline:
    """Start a clock; an earlier open clock of the same kind is superseded (cancelled)."""
    cancel_clock(case, kind, at=start)
    if days is None:
        days = working_days_for(kind, severity)
    deadline = Deadline(
        kind=kind, started_at=start, due_at=current_calendar().add_working_days(start, days)
    )
    case.deadlines.append(deadline)
    return deadline


def _open(case, kind):
    return [d for d in case.deadlines if d.kind == kind and d.met_at is None and d.cancelled_at is None]


def meet_clock(case, kind: DeadlineKind, *, at: datetime) -> None:
    for deadline in _open(case, kind):
        deadline.met_at = at
        deadline.paused_at = None


def cancel_clock(case, kind: DeadlineKind, *, at: datetime) -> None:
    for deadline in _open(case, kind):
        deadline.cancelled_at = at


def cancel_all_clocks(case, *, at: datetime) -> None:
    for kind in {d.kind for d in case.deadlines}:
        cancel_clock(case, kind, at=at)


def extend_clock(deadline: Deadline, days: int) -> None:
    deadline.due_at = current_calendar().add_working_days(deadline.due_at, days)
    deadline.extended_days += days


def resume_clock(deadline: Deadline, *, at: datetime) -> int:
    """End a pause: the due date moves by the working days the clock stood still."""
    paused_days = current_calendar().working_days_between(deadline.paused_at, at)
    if paused_days:
        deadline.due_at = current_calendar().add_working_days(deadline.due_at, paused_days)
    deadline.paused_at = None
    return paused_days
