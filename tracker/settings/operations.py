"""Changes to the deadline clocks and the working-day calendar (DESIGN.md §4).

Administrators only. Flush, never commit; every change appends a history event in the same
transaction. A change applies to clocks started afterwards: running clocks keep the due date
they were given.
"""
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker.cases.deadlines import forget_calendar
from tracker.cases.models import CalendarOverride, CalendarYear, DeadlineSetting
from tracker.cases.states import DeadlineKind, Severity
from tracker.core.calendar import WorkingCalendar
from tracker.core.database import utcnow
from tracker.core.errors import NotFound, PermissionDenied, ValidationError, VersionConflict
from tracker.core.history import NewEvent, record_event, record_events
from tracker.core.permissions import can_manage_settings
from tracker.extensions import db

MAX_WORKING_DAYS = 365  # the table's CHECK constraint
NOTE_MAX_LENGTH = 120  # CalendarOverride.note and CalendarYear.note
# One submission of the override form: the longest official holiday is 8 days; a month is plenty.
MAX_OVERRIDE_RANGE_DAYS = 31
MIN_YEAR, MAX_YEAR = 2000, 2100  # CalendarYear's CHECK constraint
# The only clock whose length may depend on the severity (DESIGN.md §4).
PER_SEVERITY_KINDS = frozenset({DeadlineKind.rectification})

DEADLINES_SUBJECT = "settings:deadlines"


def calendar_subject(day: date) -> str:
    return f"calendar:{day.isoformat()}"


def calendar_year_subject(year: int) -> str:
    return f"calendar-year:{year}"


def _check_actor(actor):
    if not can_manage_settings(actor):
        raise PermissionDenied()


def _deadline_kind(kind) -> DeadlineKind:
    try:
        return DeadlineKind(kind)
    except ValueError:
        raise ValidationError(_l("Unknown deadline."), field="kind") from None


def _severity_for(kind: DeadlineKind, severity) -> Severity | None:
    if severity is None:
        return None
    try:
        severity = Severity(severity)
    except ValueError:
        raise ValidationError(_l("Unknown severity."), field="severity") from None
    if kind not in PER_SEVERITY_KINDS:
        raise ValidationError(
            _l("Only the rectification deadline can differ by severity."), field="severity"
        )
    return severity


def _working_days(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WORKING_DAYS:
        raise ValidationError(
            _l("Enter a whole number of working days from 0 to %(max)s.", max=MAX_WORKING_DAYS),
            field="working_days",
        )
    return value


def _settings_for(kind: DeadlineKind, severity: Severity | None) -> list[DeadlineSetting]:
    # NULL never collides in a unique constraint, so (kind, NULL) can exist twice if two
    # administrators saved at the same moment; callers keep the first row and drop the rest.
    if severity is None:
        same_severity = DeadlineSetting.severity.is_(None)
    else:
        same_severity = DeadlineSetting.severity == severity
    stmt = select(DeadlineSetting).where(DeadlineSetting.kind == kind, same_severity)
    return list(db.session.scalars(stmt.order_by(DeadlineSetting.id)))


def _setting_data(kind, severity, before, after) -> dict:
    return {
        "kind": kind.value,
        "severity": severity.value if severity is not None else None,
        "before": before,  # None: nothing stored, the default (or the kind-wide value) applied
        "after": after,
    }


def set_deadline_days(*, actor, kind, severity=None, working_days: int) -> DeadlineSetting:
    """Store the working days of a clock; ``severity`` only for the rectification clock.

    A value equal to the DESIGN default is stored like any other: it keeps applying if the
    default in the code changes later. Saving the value already stored changes nothing.
    """
    _check_actor(actor)
    kind = _deadline_kind(kind)
    severity = _severity_for(kind, severity)
    working_days = _working_days(working_days)
    setting, *duplicates = _settings_for(kind, severity) or [None]
    for duplicate in duplicates:
        db.session.delete(duplicate)
    before = setting.working_days if setting is not None else None
    if before == working_days:
        db.session.flush()
        return setting
    if setting is None:
        setting = DeadlineSetting(kind=kind, severity=severity, working_days=working_days)
        try:
            with db.session.begin_nested():
                db.session.add(setting)
        except IntegrityError:
            # Another administrator created the same row in the meantime.
            raise VersionConflict() from None
    else:
        setting.working_days = working_days
        db.session.flush()
    record_event(
        actor=actor,
        action="deadline_setting_changed",
        subject=DEADLINES_SUBJECT,
        data=_setting_data(kind, severity, before, working_days),
    )
    return setting


def reset_deadline_days(*, actor, kind, severity=None) -> None:
    """Forget the stored value: the DESIGN default (or, for one severity, the kind-wide
    value) applies again. Nothing to forget changes nothing."""
    _check_actor(actor)
    kind = _deadline_kind(kind)
    severity = _severity_for(kind, severity)
    settings = _settings_for(kind, severity)
    if not settings:
        return
    before = settings[0].working_days
    for setting in settings:
        db.session.delete(setting)
    db.session.flush()
    record_event(
        actor=actor,
        action="deadline_setting_reset",
        subject=DEADLINES_SUBJECT,
        data=_setting_data(kind, severity, before, None),
    )


def _override_data(override: CalendarOverride) -> dict:
    return {"is_working_day": override.is_working_day, "note": override.note}


def _is_date(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _note(note) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _l("At most %(max)s characters.", max=NOTE_MAX_LENGTH), field="note"
        )
    return note


def _override_days(day, last_day) -> list[date]:
    if not _is_date(day):
        raise ValidationError(_l("Enter a date."), field="day")
    if last_day is None:
        return [day]
    if not _is_date(last_day):
        raise ValidationError(_l("Enter a date."), field="last_day")
    if last_day < day:
        raise ValidationError(_l("The last day is before the first day."), field="last_day")
    count = (last_day - day).days + 1
    if count > MAX_OVERRIDE_RANGE_DAYS:
        raise ValidationError(
            _l("A range can have at most %(max)s days.", max=MAX_OVERRIDE_RANGE_DAYS), field="last_day"
        )
    return [day + timedelta(days=n) for n in range(count)]


def _overridden_days(first: date, last: date) -> list[date]:
    stmt = select(CalendarOverride.day).where(CalendarOverride.day.between(first, last))
    return sorted(db.session.scalars(stmt))


def _taken(days: list[date], taken: list[date]) -> ValidationError:
    if len(days) == 1:
        message = _l(
            "%(day)s already has an override; delete it first to change it.", day=taken[0].isoformat()
        )
    else:
        message = _l(
            "Nothing was added: these days already have an override: %(days)s. "
            "Delete them first or choose another range.",
            days=", ".join(d.isoformat() for d in taken),
        )
    return ValidationError(message, field="day")


def add_calendar_overrides(
    *, actor, day: date, last_day: date | None = None, is_working_day: bool, note: str = ""
) -> list[CalendarOverride]:
    """Declare every day from ``day`` to ``last_day`` (inclusive; None: ``day`` alone) a
    working day or a holiday, whatever the official schedule says, all with the same note:
    a holiday period or a make-up working day of a State Council schedule in one go.

    All or nothing: a range of more than MAX_OVERRIDE_RANGE_DAYS days, or one with a day
    that already has an override, adds nothing. One override per day: to change it, remove
    it and add another (both are recorded). Every day added is its own history event, as if
    added alone; the events of a range also name the range.
    """
    _check_actor(actor)
    days = _override_days(day, last_day)
    if not isinstance(is_working_day, bool):
        raise ValidationError(_l("Choose a working day or a holiday."), field="is_working_day")
    note = _note(note)
    taken = _overridden_days(days[0], days[-1])
    if taken:
        raise _taken(days, taken)
    overrides = [CalendarOverride(day=d, is_working_day=is_working_day, note=note) for d in days]
    try:
        with db.session.begin_nested():
            db.session.add_all(overrides)
    except IntegrityError:
        # Another administrator added one of these days in the meantime.
        taken = _overridden_days(days[0], days[-1])
        raise (_taken(days, taken) if taken else VersionConflict()) from None
    forget_calendar()
    span = {"range": {"first": days[0].isoformat(), "last": days[-1].isoformat()}} if len(days) > 1 else {}
    record_events(
        NewEvent(
            actor=actor,
            action="calendar_override_added",
            subject=calendar_subject(override.day),
            data={"before": None, "after": _override_data(override), **span},
        )
        for override in overrides
    )
    return overrides


def add_calendar_override(*, actor, day: date, is_working_day: bool, note: str = "") -> CalendarOverride:
    """Declare one day a working day or a holiday (see ``add_calendar_overrides``)."""
    (override,) = add_calendar_overrides(actor=actor, day=day, is_working_day=is_working_day, note=note)
    return override


def remove_calendar_override(*, actor, day: date) -> None:
    """Remove a day's override: the official schedule applies to it again."""
    _check_actor(actor)
    override = None
    if isinstance(day, date) and not isinstance(day, datetime):
        override = db.session.get(CalendarOverride, day)
    if override is None:
        raise NotFound(_l("This day has no override."))
    before = _override_data(override)
    db.session.delete(override)
    db.session.flush()
    forget_calendar()
    record_event(
        actor=actor,
        action="calendar_override_removed",
        subject=calendar_subject(day),
        data={"before": before, "after": None},
    )


# --- Declared years ------------------------------------------------------------------------


def _year(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_YEAR <= value <= MAX_YEAR:
        raise ValidationError(
            _l("Enter a year from %(min)s to %(max)s.", min=MIN_YEAR, max=MAX_YEAR), field="year"
        )
    return value


def _year_overrides(year: int) -> dict:
    """How many holidays and working days of ``year`` the overrides set."""
    stmt = (
        select(CalendarOverride.is_working_day, func.count())
        .where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(CalendarOverride.is_working_day)
    )
    counts = dict(db.session.execute(stmt).all())
    return {"holidays": counts.get(False, 0), "working_days": counts.get(True, 0)}


def _year_data(declared: CalendarYear) -> dict:
    return {
        "note": declared.note,
        "declared_by_id": declared.declared_by_id,
        "declared_at": declared.declared_at.isoformat(),
    }


def declare_calendar_year(*, actor, year: int, note: str = "") -> CalendarYear:
    """Declare that the official schedule of ``year`` has been entered as overrides: every
    other day of the year follows the weekday rule (tracker.core.calendar).

    Only for a year the holiday package does not cover, and only once the year has at least
    one holiday override: a year without any holiday (New Year's Day, the Spring Festival)
    has certainly not been entered yet, and declaring it would give wrong deadlines.
    """
    _check_actor(actor)
    year = _year(year)
    if year in WorkingCalendar.covered_years():
        raise ValidationError(
            _l(
                "%(year)s is covered by the official holiday package (chinesecalendar); "
                "there is nothing to declare.",
                year=year,
            ),
            field="year",
        )
    note = _note(note)
    taken = ValidationError(_l("%(year)s has already been declared.", year=year), field="year")
    if db.session.get(CalendarYear, year) is not None:
        raise taken
    overrides = _year_overrides(year)
    if not overrides["holidays"]:
        raise ValidationError(
            _l(
                "Enter the official holidays of %(year)s as overrides first: the year has no "
                "holiday override yet.",
                year=year,
            ),
            field="year",
        )
    declared = CalendarYear(year=year, note=note, declared_by_id=actor.id, declared_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(declared)
    except IntegrityError:
        raise taken from None
    forget_calendar()
    record_event(
        actor=actor,
        action="calendar_year_declared",
        subject=calendar_year_subject(year),
        data={"before": None, "after": _year_data(declared), "overrides": overrides},
    )
    return declared


def withdraw_calendar_year(*, actor, year: int) -> None:
    """Withdraw a declaration: the year is unknown again, and counting into it is refused.
    Its overrides stay. Running clocks keep the due dates they were given."""
    _check_actor(actor)
    declared = None
    if isinstance(year, int) and not isinstance(year, bool):
        declared = db.session.get(CalendarYear, year)
    if declared is None:
        raise NotFound(_l("This year has not been declared."))
    before = _year_data(declared)
    db.session.delete(declared)
    db.session.flush()
    forget_calendar()
    record_event(
        actor=actor,
        action="calendar_year_withdrawn",
        subject=calendar_year_subject(year),
        data={"before": before, "after": None},
    )
