"""What the settings pages show. Reads only; the numbers come from the same functions the
clocks use (tracker.cases.deadlines), so the page never disagrees with a running case."""
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from tracker.cases.deadlines import working_days_for
from tracker.cases.models import CalendarOverride, DeadlineSetting
from tracker.cases.states import DEFAULT_DEADLINE_DAYS, DeadlineKind, Severity
from tracker.core.calendar import CalendarNotCovered, WorkingCalendar, default_calendar
from tracker.extensions import db
from tracker.settings.operations import PER_SEVERITY_KINDS


@dataclass(frozen=True)
class DeadlineRow:
    kind: DeadlineKind
    severity: Severity | None
    default: int  # DESIGN.md §4
    stored: int | None  # the administrator's value for exactly this row, if any
    current: int  # what a clock started now gets

    @property
    def key(self) -> str:
        """Unique on the page: the prefix of the row's form fields."""
        return f"{self.kind.value}-{self.severity.value}" if self.severity else self.kind.value


def deadline_rows() -> list[DeadlineRow]:
    """Every clock, and for the rectification clock one more row per severity."""
    stored = {(s.kind, s.severity): s.working_days for s in db.session.scalars(select(DeadlineSetting))}
    rows = []
    for kind in DeadlineKind:
        severities = [None, *Severity] if kind in PER_SEVERITY_KINDS else [None]
        for severity in severities:
            rows.append(
                DeadlineRow(
                    kind=kind,
                    severity=severity,
                    default=DEFAULT_DEADLINE_DAYS[kind],
                    stored=stored.get((kind, severity)),
                    current=working_days_for(kind, severity),
                )
            )
    return rows


@dataclass(frozen=True)
class OverrideRow:
    override: CalendarOverride
    official: bool | None  # the package's answer for the day; None: the year is not covered

    @property
    def redundant(self) -> bool:
        return self.official is not None and self.official == self.override.is_working_day


def official_working_day(day: date) -> bool | None:
    try:
        return default_calendar().is_working_day(day)
    except CalendarNotCovered:
        return None


def override_rows() -> list[OverrideRow]:
    overrides = db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
    return [OverrideRow(o, official_working_day(o.day)) for o in overrides]


def uncovered_years(today: date, covered: range | None = None) -> list[int]:
    """This year and next year, where the installed holiday package has no schedule."""
    covered = WorkingCalendar.covered_years() if covered is None else covered
    return [year for year in (today.year, today.year + 1) if year not in covered]


@dataclass(frozen=True)
class DateCheck:
    day: date
    is_working_day: bool
    overridden: bool
    days: int
    due: datetime  # end of the last day, in the calendar's time zone


def check_date(calendar: WorkingCalendar, day: date, days: int) -> DateCheck:
    """Whether ``day`` is a working day, and when a clock of ``days`` started on it ends.

    Raises CalendarNotCovered when the answer needs a year the calendar does not know.
    """
    start = datetime.combine(day, time(12), tzinfo=calendar.tz)
    return DateCheck(
        day=day,
        is_working_day=calendar.is_working_day(day),
        overridden=day in calendar.extra_holidays or day in calendar.extra_workdays,
        days=days,
        due=calendar.add_working_days(start, days),
    )
