"""Working-day calendar: deadlines across real Chinese holiday schedules.

Every expected date below was checked against the data of chinesecalendar 1.11.0:

* National Day 2025: 10-01..10-08 off; make-up working days Sun 09-28 and Sat 10-11.
* New Year 2026: 01-01..01-03 off; make-up working day Sun 01-04.
* Spring Festival 2026: 02-15..02-23 off; make-up working days Sat 02-14 and Sat 02-28.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from tracker.core.calendar import (
    CalendarNotCovered,
    WorkingCalendar,
    default_calendar,
)
from tracker.core.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An aware moment in Shanghai local time."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("d", "working"),
    [
        (date(2025, 9, 26), True),  # ordinary Friday
        (date(2025, 9, 27), False),  # ordinary Saturday
        (date(2025, 9, 28), True),  # make-up Sunday before National Day
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 6), False),  # Mid-autumn Festival, a Monday
        (date(2025, 10, 8), False),  # last day of the holiday, a Wednesday
        (date(2025, 10, 11), True),  # make-up Saturday after National Day
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2025, 10, 18), False),  # ordinary Saturday
        (date(2025, 10, 19), False),  # ordinary Sunday
        (date(2026, 1, 4), True),  # make-up Sunday after New Year
        (date(2026, 2, 14), True),  # make-up Saturday before Spring Festival
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 2, 28), True),  # make-up Saturday after Spring Festival
    ],
)
def test_is_working_day(cal, d, working):
    assert cal.is_working_day(d) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Received Tue 2025-09-30, just before National Day.
        (at(2025, 9, 30), 0, end_of(2025, 9, 30)),
        (at(2025, 9, 30), 1, end_of(2025, 10, 9)),
        (at(2025, 9, 30), 2, end_of(2025, 10, 10)),
        (at(2025, 9, 30), 3, end_of(2025, 10, 11)),  # the make-up Saturday counts
        (at(2025, 9, 30), 4, end_of(2025, 10, 13)),  # Sun 10-12 does not
        (at(2025, 9, 30), 10, end_of(2025, 10, 21)),
        # Received Fri 2025-09-26: the ordinary Saturday is off, the make-up Sunday is not.
        (at(2025, 9, 26), 1, end_of(2025, 9, 28)),
        (at(2025, 9, 26), 3, end_of(2025, 9, 30)),
        (at(2025, 9, 26), 4, end_of(2025, 10, 9)),
        # Ordinary weekend: Fri -> Mon.
        (at(2025, 10, 17), 1, end_of(2025, 10, 20)),
        # Across New Year 2026 into the make-up Sunday.
        (at(2025, 12, 31), 1, end_of(2026, 1, 4)),
        (at(2025, 12, 31), 2, end_of(2026, 1, 5)),
        # Spring Festival 2026.
        (at(2026, 2, 13), 1, end_of(2026, 2, 14)),  # make-up Saturday
        (at(2026, 2, 13), 2, end_of(2026, 2, 24)),
        (at(2026, 2, 12), 5, end_of(2026, 2, 26)),
        (at(2026, 2, 27), 1, end_of(2026, 2, 28)),  # make-up Saturday
        (at(2026, 2, 28), 1, end_of(2026, 3, 2)),
    ],
)
def test_add_working_days(cal, start, days, due):
    result = cal.add_working_days(start, days)
    assert result == due
    assert result.tzinfo == SHANGHAI
    assert (result.hour, result.minute, result.second) == (23, 59, 59)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Received on a holiday: days=0 is the end of the next working day ...
        (at(2025, 10, 1), 0, end_of(2025, 10, 9)),
        (at(2026, 2, 16), 0, end_of(2026, 2, 24)),
        (at(2025, 10, 12), 0, end_of(2025, 10, 13)),  # ordinary Sunday
        # ... and N days are still N working days after the receipt date.
        (at(2025, 10, 1), 1, end_of(2025, 10, 9)),
        (at(2025, 10, 1), 3, end_of(2025, 10, 11)),
        (at(2025, 10, 8, 23, 30), 1, end_of(2025, 10, 9)),
        (at(2026, 2, 16), 1, end_of(2026, 2, 24)),
        (at(2025, 10, 12), 1, end_of(2025, 10, 13)),
    ],
)
def test_receipt_on_non_working_day(cal, start, days, due):
    assert cal.add_working_days(start, days) == due


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # 20:00 UTC on 09-30 is already 04:00 on 10-01 in Shanghai, a holiday.
        (datetime(2025, 9, 30, 20, 0), 0, end_of(2025, 10, 9)),
        (datetime(2025, 9, 30, 20, 0), 1, end_of(2025, 10, 9)),
        (datetime(2025, 9, 30, 20, 0), 2, end_of(2025, 10, 10)),
        # 15:59 UTC is 23:59 local, still 09-30.
        (datetime(2025, 9, 30, 15, 59), 0, end_of(2025, 9, 30)),
        (datetime(2025, 9, 30, 15, 59), 1, end_of(2025, 10, 9)),
    ],
)
def test_naive_datetime_is_utc(cal, start, days, due):
    assert cal.add_working_days(start, days) == due
    assert cal.add_working_days(start.replace(tzinfo=timezone.utc), days) == due


def test_aware_datetime_in_other_zone_is_converted(cal):
    # 2025-09-30 18:00 in New York is 2025-10-01 06:00 in Shanghai.
    start = datetime(2025, 9, 30, 18, 0, tzinfo=ZoneInfo("America/New_York"))
    assert cal.add_working_days(start, 0) == end_of(2025, 10, 9)


def test_time_zone_of_the_calendar_decides_the_local_day():
    start = datetime(2025, 9, 30, 20, 0, tzinfo=timezone.utc)
    utc_cal = WorkingCalendar(tz="UTC")
    due = utc_cal.add_working_days(start, 0)
    assert due == datetime(2025, 9, 30, 23, 59, 59, tzinfo=timezone.utc)
    assert due.tzinfo == ZoneInfo("UTC")
    assert WorkingCalendar(tz=SHANGHAI).add_working_days(start, 0) == end_of(2025, 10, 9)


def test_negative_days_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(at(2025, 9, 30), -1)


@pytest.mark.parametrize(
    ("d", "nxt"),
    [
        (date(2025, 9, 26), date(2025, 9, 28)),  # make-up Sunday
        (date(2025, 9, 30), date(2025, 10, 9)),
        (date(2025, 10, 3), date(2025, 10, 9)),
        (date(2025, 10, 10), date(2025, 10, 11)),  # make-up Saturday
        (date(2025, 10, 11), date(2025, 10, 13)),
        (date(2025, 10, 17), date(2025, 10, 20)),  # ordinary weekend
        (date(2026, 2, 14), date(2026, 2, 24)),
    ],
)
def test_next_working_day(cal, d, nxt):
    assert cal.next_working_day(d) == nxt


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (at(2025, 9, 30), at(2025, 10, 8), 0),  # whole holiday: no working day
        (at(2025, 9, 30), at(2025, 10, 9), 1),
        (at(2025, 9, 30), at(2025, 10, 11), 3),
        (at(2025, 9, 30), at(2025, 10, 12), 3),
        (at(2025, 9, 30), at(2025, 10, 13), 4),
        (at(2025, 9, 26), at(2025, 10, 13), 7),  # 09-28, 29, 30, 10-09, 10, 11, 13
        (at(2025, 10, 1), at(2025, 10, 9), 1),  # start on a holiday
        (at(2025, 9, 30, 9), at(2025, 9, 30, 17), 0),  # same local day
        (at(2025, 10, 9), at(2025, 9, 30), 0),  # end before start
        (at(2025, 10, 9), at(2025, 10, 9), 0),
        (at(2026, 2, 13), at(2026, 2, 24), 2),  # 02-14 and 02-24
    ],
)
def test_working_days_between(cal, start, end, expected):
    assert cal.working_days_between(start, end) == expected


@pytest.mark.parametrize("days", [1, 2, 3, 4, 7])
def test_working_days_between_matches_add_working_days(cal, days):
    start = at(2025, 9, 30)
    assert cal.working_days_between(start, cal.add_working_days(start, days)) == days


def test_working_days_between_uses_local_dates(cal):
    # Naive = UTC: 09-30 15:00Z is 23:00 on 09-30, 09-30 17:00Z is 01:00 on 10-01 (holiday),
    # 10-08 16:30Z is 00:30 on 10-09 (a working day).
    assert cal.working_days_between(datetime(2025, 9, 30, 15), datetime(2025, 9, 30, 17)) == 0
    assert cal.working_days_between(datetime(2025, 9, 30, 15), datetime(2025, 10, 8, 16, 30)) == 1


def test_covered_years():
    years = WorkingCalendar.covered_years()
    assert isinstance(years, range)
    assert 2025 in years and 2026 in years
    assert 2099 not in years
    assert years is WorkingCalendar.covered_years()  # cached
    cal = WorkingCalendar()
    for year in (years[0], years[-1]):
        cal.is_working_day(date(year, 12, 31))
    for year in (years[0] - 1, years[-1] + 1):
        with pytest.raises(CalendarNotCovered):
            cal.is_working_day(date(year, 6, 1))


def test_calendar_not_covered(cal):
    with pytest.raises(CalendarNotCovered) as excinfo:
        cal.is_working_day(date(2099, 3, 2))
    err = excinfo.value
    assert isinstance(err, DomainError)
    assert err.year == 2099
    assert err.code == "calendar_not_covered"
    assert err.status == 422
    assert "2099" in str(err.message)
    assert "2099" in str(err)


def test_deadline_running_into_uncovered_year_raises(cal):
    last = WorkingCalendar.covered_years()[-1]
    with pytest.raises(CalendarNotCovered) as excinfo:
        cal.add_working_days(at(last, 12, 31), 5)
    assert excinfo.value.year == last + 1
    with pytest.raises(CalendarNotCovered):
        cal.working_days_between(at(2099, 1, 5), at(2099, 1, 9))


def test_extra_workdays_cover_unknown_year():
    cal = WorkingCalendar(extra_workdays=[date(2099, 3, 2)])
    assert cal.is_working_day(date(2099, 3, 2)) is True
    with pytest.raises(CalendarNotCovered):
        cal.is_working_day(date(2099, 3, 3))


def test_extra_holidays_cover_unknown_year():
    cal = WorkingCalendar(extra_holidays=[date(2099, 3, 2)])
    assert cal.is_working_day(date(2099, 3, 2)) is False


@pytest.mark.parametrize(
    ("overrides", "start", "days", "due"),
    [
        # An extra holiday on 10-09 pushes the first day after National Day to 10-10.
        ({"extra_holidays": [date(2025, 10, 9)]}, at(2025, 9, 30), 1, end_of(2025, 10, 10)),
        # Cancelling the make-up Saturday 10-11.
        ({"extra_holidays": [date(2025, 10, 11)]}, at(2025, 9, 30), 3, end_of(2025, 10, 13)),
        # Making the ordinary Sunday 10-12 a working day.
        ({"extra_workdays": [date(2025, 10, 12)]}, at(2025, 10, 10), 2, end_of(2025, 10, 12)),
        # Making a National Day holiday a working day.
        ({"extra_workdays": [date(2025, 10, 8)]}, at(2025, 9, 30), 1, end_of(2025, 10, 8)),
    ],
)
def test_overrides_change_deadlines(cal, overrides, start, days, due):
    assert cal.add_working_days(start, days) != due
    assert WorkingCalendar(**overrides).add_working_days(start, days) == due


def test_conflicting_overrides_rejected():
    with pytest.raises(ValueError):
        WorkingCalendar(extra_holidays=[date(2025, 10, 9)], extra_workdays=[date(2025, 10, 9)])


def test_datetime_is_not_accepted_as_date(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(at(2025, 10, 1))
    with pytest.raises(TypeError):
        WorkingCalendar(extra_holidays=[at(2025, 10, 9)])


def test_local_date(cal):
    assert cal.local_date(datetime(2025, 9, 30, 16, 0)) == date(2025, 10, 1)
    assert cal.local_date(at(2025, 9, 30, 0, 5)) == date(2025, 9, 30)


def test_default_calendar():
    cal = default_calendar()
    assert cal is default_calendar()
    assert cal.tz == SHANGHAI
    assert cal.add_working_days(at(2025, 9, 30), 1) == end_of(2025, 10, 9)
    assert cal.add_working_days(at(2025, 9, 30), 1).utcoffset() == timedelta(hours=8)


# --- Declared years: a year the package does not cover, entered by the administrator ---------

# chinesecalendar 1.11.0 (requirements.txt) ends with 2026; 2099 is far beyond any release.
DECLARED = 2099


def test_the_package_does_not_cover_2027():
    """The tests below count into 2027 as an uncovered year. If a newer package covers it,
    move them to the first year it does not cover."""
    assert 2026 in WorkingCalendar.covered_years()
    assert 2027 not in WorkingCalendar.covered_years()


@pytest.mark.parametrize(
    ("d", "working"),
    [
        (date(2099, 3, 2), True),  # Monday
        (date(2099, 3, 6), True),  # Friday
        (date(2099, 3, 7), False),  # Saturday
        (date(2099, 3, 8), False),  # Sunday
    ],
)
def test_a_declared_year_follows_the_weekday_rule(d, working):
    assert WorkingCalendar(declared_years={DECLARED}).is_working_day(d) is working
    with pytest.raises(CalendarNotCovered):
        WorkingCalendar().is_working_day(d)


@pytest.mark.parametrize(
    ("calendar", "d", "working"),
    [
        # 1. An override wins over the weekday rule of a declared year ...
        (WorkingCalendar(declared_years={DECLARED}, extra_holidays=[date(2099, 3, 2)]),
         date(2099, 3, 2), False),
        (WorkingCalendar(declared_years={DECLARED}, extra_workdays=[date(2099, 3, 7)]),
         date(2099, 3, 7), True),
        # ... and over the package.
        (WorkingCalendar(declared_years={2025}, extra_workdays=[date(2025, 10, 1)]), date(2025, 10, 1), True),
        # 2. The package wins over a declaration of a year it covers: the weekday rule would
        # make National Day (a Wednesday) a working day and the make-up Saturday a day off.
        (WorkingCalendar(declared_years={2025}), date(2025, 10, 1), False),
        (WorkingCalendar(declared_years={2025}), date(2025, 10, 11), True),
    ],
)
def test_lookup_order_override_package_declared_year(calendar, d, working):
    assert calendar.is_working_day(d) is working


def test_a_declaration_covers_its_own_year_only():
    cal = WorkingCalendar(declared_years={DECLARED})
    assert cal.is_working_day(date(DECLARED, 12, 31))  # a Thursday
    for d in (date(DECLARED - 1, 12, 31), date(DECLARED + 1, 1, 1)):
        with pytest.raises(CalendarNotCovered) as excinfo:
            cal.is_working_day(d)
        assert excinfo.value.year == d.year


def test_knows_year():
    cal = WorkingCalendar(declared_years={DECLARED})
    assert cal.knows_year(2025) and cal.knows_year(DECLARED)
    assert not cal.knows_year(DECLARED - 1)
    assert not WorkingCalendar().knows_year(DECLARED)


def test_a_deadline_across_new_year_into_a_declared_2027():
    """Thu 2026-12-31 (a working day of the package's 2026) into 2027, declared with its New
    Year's Day holiday (Fri 2027-01-01) entered as an override."""
    undeclared = WorkingCalendar(extra_holidays=[date(2027, 1, 1)])
    with pytest.raises(CalendarNotCovered) as excinfo:
        undeclared.add_working_days(at(2026, 12, 31), 1)
    assert excinfo.value.year == 2027

    cal = WorkingCalendar(declared_years={2027}, extra_holidays=[date(2027, 1, 1)])
    # Fri 01-01 is the holiday, Sat and Sun follow the weekday rule: Monday is the first day.
    assert cal.add_working_days(at(2026, 12, 31), 1) == end_of(2027, 1, 4)
    assert cal.add_working_days(at(2026, 12, 31), 10) == end_of(2027, 1, 15)
    assert cal.add_working_days(at(2027, 1, 1), 0) == end_of(2027, 1, 4)
    assert cal.working_days_between(at(2026, 12, 31), at(2027, 1, 15)) == 10
    # Without the override the holiday would count as an ordinary Friday.
    assert WorkingCalendar(declared_years={2027}).add_working_days(at(2026, 12, 31), 1) == end_of(2027, 1, 1)


def test_declared_years_are_a_frozenset():
    cal = WorkingCalendar(declared_years=[2027, 2027, 2028])
    assert cal.declared_years == frozenset({2027, 2028})


def test_the_refusal_tells_what_the_administrator_can_do(cal, app_ctx):
    with pytest.raises(CalendarNotCovered) as excinfo:
        cal.is_working_day(date(DECLARED, 3, 2))
    with force_locale("en"):
        assert str(excinfo.value.message) == (
            f"The working-day calendar does not cover {DECLARED}; ask the administrator to enter the "
            f"official holidays of {DECLARED} and declare the year on the calendar settings page."
        )
    with force_locale("zh_Hans_CN"):
        assert str(excinfo.value.message) == (
            f"工作日历未包含 {DECLARED} 年，请联系系统管理员在工作日历设置页录入 {DECLARED} 年的法定节假日安排并声明该年份。"
        )
