"""Changes to the deadline clocks and the working-day calendar (DESIGN.md §4).

Administrators only. Flush, never commit; every change appends a history event in the same
transaction. A change applies to clocks started afterwards: running clocks keep the due date
they were given.
"""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.cases.deadlines import forget_calendar
from tracker.cases.models import CalendarOverride, DeadlineSetting
from tracker.cases.states import DeadlineKind, Severity
from tracker.core.errors import NotFound, PermissionDenied, ValidationError, VersionConflict
from tracker.core.history import record_event
from tracker.core.permissions import can_manage_settings
from tracker.extensions import db

MAX_WORKING_DAYS = 365  # the table's CHECK constraint
NOTE_MAX_LENGTH = 120  # CalendarOverride.note
# The only clock whose length may depend on the severity (DESIGN.md §4).
PER_SEVERITY_KINDS = frozenset({DeadlineKind.rectification})

DEADLINES_SUBJECT = "settings:deadlines"


def calendar_subject(day: date) -> str:
    return f"calendar:{day.isoformat()}"


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


def add_calendar_override(*, actor, day: date, is_working_day: bool, note: str = "") -> CalendarOverride:
    """Declare one day a working day or a holiday, whatever the official schedule says.

    One override per day: to change it, remove it and add another (both are recorded).
    """
    _check_actor(actor)
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValidationError(_l("Enter a date."), field="day")
    if not isinstance(is_working_day, bool):
        raise ValidationError(_l("Choose a working day or a holiday."), field="is_working_day")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _l("At most %(max)s characters.", max=NOTE_MAX_LENGTH), field="note"
        )
    taken = ValidationError(
        _l("%(day)s already has an override; delete it first to change it.", day=day.isoformat()),
        field="day",
    )
    if db.session.get(CalendarOverride, day) is not None:
        raise taken
    override = CalendarOverride(day=day, is_working_day=is_working_day, note=note)
    try:
        with db.session.begin_nested():
            db.session.add(override)
    except IntegrityError:
        raise taken from None
    forget_calendar()
    record_event(
        actor=actor,
        action="calendar_override_added",
        subject=calendar_subject(day),
        data={"before": None, "after": _override_data(override)},
    )
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
