"""Clocks of a case (DESIGN.md §4) on the working-day calendar, with the admin's settings."""
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import select

from tracker.cases.models import CalendarOverride, CalendarYear, Deadline, DeadlineSetting
from tracker.cases.states import DEFAULT_DEADLINE_DAYS, DeadlineKind, Severity
from tracker.core.calendar import WorkingCalendar
from tracker.extensions import db


def current_calendar() -> WorkingCalendar:
    """The holiday calendar with the administrator's overrides and declared years (built once
    per request)."""
    cached = g.get("_working_calendar") if has_app_context() else None
    if cached is not None:
        return cached
    overrides = db.session.scalars(select(CalendarOverride)).all()
    calendar = WorkingCalendar(
        extra_workdays=[o.day for o in overrides if o.is_working_day],
        extra_holidays=[o.day for o in overrides if not o.is_working_day],
        declared_years=db.session.scalars(select(CalendarYear.year)).all(),
    )
    if has_app_context():
        g._working_calendar = calendar
    return calendar


def forget_calendar() -> None:
    """Drop the calendar cached for this request (after the administrator changed overrides
    or declared years)."""
    if has_app_context():
        g.pop("_working_calendar", None)


def deadline_settings() -> dict[tuple[DeadlineKind, Severity | None], int]:
    """The administrator's working days by (clock, severity); severity None is the clock's default."""
    return {(s.kind, s.severity): s.working_days for s in db.session.scalars(select(DeadlineSetting))}


def working_days_for(kind: DeadlineKind, severity: Severity | None = None, settings=None) -> int:
    """The length of a clock; ``settings`` (from ``deadline_settings``) spares the query."""
    if settings is None:
        settings = deadline_settings()
    if severity is not None and (kind, severity) in settings:
        return settings[(kind, severity)]
    return settings.get((kind, None), DEFAULT_DEADLINE_DAYS[kind])


class ClockDates:
    """Due dates of the clocks started in one operation or batch: the settings and the calendar
    are read once, and each (start day, length) is counted once (a batch of cases received over
    a few weeks has only a few dozen)."""

    def __init__(self):
        self.calendar = current_calendar()
        self._settings = None
        self._due = {}

    @property
    def settings(self):
        if self._settings is None:
            self._settings = deadline_settings()
        return self._settings

    def due_at(self, kind: DeadlineKind, start: datetime, *, days: int | None = None,
               severity: Severity | None = None) -> datetime:
        if days is None:
            days = working_days_for(kind, severity, self.settings)
        # add_working_days depends on the local day of the start only.
        key = (self.calendar.local_date(start), days)
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = self.calendar.add_working_days(start, days)
        return due

    def new_clock(self, kind: DeadlineKind, start: datetime, *, days: int | None = None,
                  severity: Severity | None = None) -> Deadline:
        """A clock of this kind running from ``start`` (not yet attached to a case)."""
        due_at = self.due_at(kind, start, days=days, severity=severity)
        return Deadline(kind=kind, started_at=start, due_at=due_at)


def start_clock(case, kind: DeadlineKind, *, start: datetime, days: int | None = None, severity=None,
                dates: ClockDates | None = None) -> Deadline:
    """Start a clock; an earlier open clock of the same kind is superseded (cancelled).

    ``dates`` shares the settings and the calendar between the clocks of a batch.
    """
    cancel_clock(case, kind, at=start)
    dates = dates if dates is not None else ClockDates()
    deadline = dates.new_clock(kind, start, days=days, severity=severity)
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
