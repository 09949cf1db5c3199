"""What the settings pages show. Reads only; the numbers come from the same functions the
clocks use (tracker.cases.deadlines), so the page never disagrees with a running case."""
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.cases.deadlines import current_calendar, working_days_for
from tracker.cases.models import CalendarOverride, CalendarYear, DeadlineSetting
from tracker.cases.states import DEFAULT_DEADLINE_DAYS, DeadlineKind, Severity
from tracker.core.calendar import CalendarNotCovered, WorkingCalendar, default_calendar
from tracker.core.database import utcnow
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
    declared: bool = False  # the package does not cover the year, the administrator declared it

    @property
    def redundant(self) -> bool:
        return self.official is not None and self.official == self.override.is_working_day


def official_working_day(day: date) -> bool | None:
    try:
        return default_calendar().is_working_day(day)
    except CalendarNotCovered:
        return None


def override_rows(declared_years=frozenset()) -> list[OverrideRow]:
    overrides = db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
    rows = []
    for override in overrides:
        official = official_working_day(override.day)
        rows.append(OverrideRow(override, official, official is None and override.day.year in declared_years))
    return rows


@dataclass(frozen=True)
class DeclaredYearRow:
    declared: CalendarYear
    holidays: int  # overrides of the year that make a day a holiday
    working_days: int  # ... and a working day (make-up working days)
    covered: bool  # the package now covers the year too: the declaration no longer applies


def declared_year_rows() -> list[DeclaredYearRow]:
    """The declared years with the overrides entered for each, in order."""
    overrides = db.session.execute(select(CalendarOverride.day, CalendarOverride.is_working_day))
    counts = Counter((day.year, is_working_day) for day, is_working_day in overrides)
    covered = WorkingCalendar.covered_years()
    stmt = select(CalendarYear).options(joinedload(CalendarYear.declared_by)).order_by(CalendarYear.year)
    return [
        DeclaredYearRow(
            declared,
            holidays=counts[(declared.year, False)],
            working_days=counts[(declared.year, True)],
            covered=declared.year in covered,
        )
        for declared in db.session.scalars(stmt)
    ]


def uncovered_years(today: date, covered: range | None = None, declared=frozenset()) -> list[int]:
    """This year and next year, where neither the installed holiday package has a schedule
    nor the administrator has declared the year: counting a deadline into them is refused."""
    covered = WorkingCalendar.covered_years() if covered is None else covered
    return [year for year in (today.year, today.year + 1) if year not in covered and year not in declared]


def years_to_declare() -> list[int]:
    """``uncovered_years`` of the current calendar today (Beijing time): what the administrator
    is warned about on the calendar page and on the home page."""
    calendar = current_calendar()
    return uncovered_years(calendar.local_date(utcnow()), declared=calendar.declared_years)


@dataclass(frozen=True)
class DateCheck:
    day: date
    is_working_day: bool
    overridden: bool
    days: int
    due: datetime  # end of the last day, in the calendar's time zone
    declared: bool = False  # the answer for the day comes from the weekday rule of a declared year


def check_date(calendar: WorkingCalendar, day: date, days: int) -> DateCheck:
    """Whether ``day`` is a working day, and when a clock of ``days`` started on it ends.

    Raises CalendarNotCovered when the answer needs a year the calendar does not know.
    """
    start = datetime.combine(day, time(12), tzinfo=calendar.tz)
    overridden = day in calendar.extra_holidays or day in calendar.extra_workdays
    return DateCheck(
        day=day,
        is_working_day=calendar.is_working_day(day),
        overridden=overridden,
        days=days,
        due=calendar.add_working_days(start, days),
        declared=not overridden and day.year in calendar.declared_years and official_working_day(day) is None,
    )
