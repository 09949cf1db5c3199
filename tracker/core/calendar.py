"""Working-day calendar for supervision deadlines (时限).

Deadlines are counted in working days of the Chinese calendar: weekends and public
holidays are off, while the make-up working days (调休) that the State Council moves onto
a weekend count as working days. The official schedule comes from the maintained
``chinesecalendar`` package; an administrator can override single days on top of it
(``extra_holidays`` / ``extra_workdays``).

A year the package does not cover (it only knows the years up to its last release) has no
answer, so counting into it raises :class:`CalendarNotCovered`, unless the administrator has
*declared* the year (``declared_years``): that means the year's official State Council
schedule (holidays and make-up working days) has been entered as overrides, and every other
day of the year follows the weekday rule (Monday to Friday working, Saturday and Sunday off).
For a day the lookup order is: override, package, weekday rule of a declared year, refusal.

Everything here is plain Python: no Flask application context is needed to compute dates.
The only Flask piece is the lazily translated message of :class:`CalendarNotCovered`,
which is evaluated when it is rendered.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
from flask_babel import lazy_gettext as _l

from tracker.core.errors import DomainError

# Years probed to find what the installed package covers. Its data starts in 2004; the
# upper bound only has to lie beyond any schedule that can realistically be published.
_PROBE_YEARS = range(2004, 2101)

# A deadline expires at the last second of its day, local time.
_END_OF_DAY = time(23, 59, 59)

_ONE_DAY = timedelta(days=1)


class CalendarNotCovered(DomainError):
    """A date falls in a year for which no official holiday schedule is known.

    Guessing (e.g. "weekdays are working days") would silently produce wrong deadlines
    around holidays, so the operation is refused until an administrator has entered the
    year's holidays as overrides and declared the year (or the package is upgraded).
    """

    code = "calendar_not_covered"
    status = 422
    default_message = _l(
        "The working-day calendar does not cover this date; ask the administrator to enter "
        "that year's official holidays and declare the year on the calendar settings page."
    )

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            _l(
                "The working-day calendar does not cover %(year)s; ask the administrator to enter "
                "the official holidays of %(year)s and declare the year on the calendar settings page.",
                year=year,
            )
        )


@functools.cache
def _covered_years() -> range:
    covered = []
    for year in _PROBE_YEARS:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            continue
        covered.append(year)
    if not covered:
        return range(0)
    # The package validates against the span of its data, so coverage is contiguous.
    return range(covered[0], covered[-1] + 1)


class WorkingCalendar:
    """Chinese working-day calendar in one time zone, with administrator overrides and the
    years the administrator declared (see the module docstring).

    Moments (``datetime``) are mapped to a local date in ``tz`` before anything is
    counted, because "the day a complaint was received" is the local calendar day.
    Naive datetimes are taken to be UTC, which is how the application stores them.
    """

    def __init__(
        self,
        tz: ZoneInfo | str = "Asia/Shanghai",
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        declared_years: Iterable[int] = (),
    ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self.extra_workdays = frozenset(_as_date(d) for d in extra_workdays)
        self.declared_years = frozenset(declared_years)
        conflicting = self.extra_holidays & self.extra_workdays
        if conflicting:
            days = ", ".join(d.isoformat() for d in sorted(conflicting))
            raise ValueError(f"days overridden both as holiday and as working day: {days}")

    @staticmethod
    def covered_years() -> range:
        """Years for which the installed ``chinesecalendar`` package has a schedule.

        Discovered once by probing the package and cached for the life of the process.
        """
        return _covered_years()

    def local_date(self, moment: datetime) -> date:
        """The calendar day of ``moment`` in this calendar's time zone (naive means UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.tz).date()

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day.

        In order: an override of the day; the package's schedule; for a year the package
        does not cover but the administrator declared, the weekday rule (Monday to Friday).
        Raises :class:`CalendarNotCovered` when none of them knows the day.
        """
        d = _as_date(d)
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError as exc:
            if d.year in self.declared_years:
                return d.weekday() < 5
            raise CalendarNotCovered(d.year) from exc

    def knows_year(self, year: int) -> bool:
        """Whether every day of ``year`` has an answer: the package covers it or it is declared."""
        return year in self.covered_years() or year in self.declared_years

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _as_date(d) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Deadline for something received at ``start`` with a limit of ``days`` working days.

        Rule: take the local date of ``start`` (naive datetimes are UTC); the deadline is
        the end (23:59:59 local time) of the ``days``-th working day strictly after that
        date. The receipt day itself never counts, whether or not it is a working day, so
        receipt on a holiday still gives ``days`` working days after the receipt date
        (in effect the clock starts on the next working day). ``days == 0`` means the end
        of the receipt day if it is a working day, otherwise the end of the next working
        day.

        Example: received Tue 2025-09-30 (National Day holiday 10-01..10-08, make-up
        working day Sat 10-11): 1 day -> 2025-10-09 23:59:59, 3 days -> 2025-10-11
        23:59:59.

        Returns an aware datetime in this calendar's time zone. Raises ``ValueError`` for
        negative ``days`` and :class:`CalendarNotCovered` if the count runs into a year
        without a known schedule.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        day = self.local_date(start)
        if days == 0:
            if not self.is_working_day(day):
                day = self.next_working_day(day)
        else:
            for _ in range(days):
                day = self.next_working_day(day)
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.tz)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after ``start``'s local date up to and including ``end``'s.

        This is the number of working days a clock running from ``start`` to ``end`` has
        consumed, consistent with :meth:`add_working_days` (the start day never counts),
        so it serves both for pausing/extending a deadline and for "days overdue".
        Returns 0 if ``end`` is not after ``start``.
        """
        if end <= start:
            return 0
        day, last = self.local_date(start), self.local_date(end)
        count = 0
        while day < last:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


def _as_date(d: date) -> date:
    # A datetime is also a date, but it never equals the date of the same day and its
    # "day" depends on the time zone, so silently accepting one would give wrong answers.
    if isinstance(d, datetime):
        raise TypeError("expected a date, got a datetime; use WorkingCalendar.local_date()")
    return d


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The package's calendar alone: Asia/Shanghai, no overrides, no declared years."""
    return WorkingCalendar()
