"""Declared calendar years and ranges of overrides: what the administrator does when the holiday
package (chinesecalendar 1.11.0, 2004–2026) does not cover a year (DESIGN.md §4).

2027 is the year the package does not cover (tests/core/test_calendar.py checks that). Its
schedule here is made up for the tests: New Year's Day Fri 2027-01-01, a Spring Festival period
Sat 02-06 to Sun 02-14, a make-up working day Sun 01-31.
"""
from datetime import date, datetime

import pytest
import time_machine
from flask import g
from flask_babel import force_locale
from sqlalchemy import func, select

from tracker.cases.deadlines import current_calendar
from tracker.cases.models import CalendarOverride, CalendarYear
from tracker.core.calendar import CalendarNotCovered, WorkingCalendar
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.settings import operations as ops
from tracker.settings.queries import declared_year_rows, uncovered_years, years_to_declare

# These tests start where production does: no year declared beyond the holiday package.
pytestmark = pytest.mark.usefixtures("undeclared_years")

SHANGHAI = WorkingCalendar().tz
NEW_YEAR = date(2027, 1, 1)  # Friday
FIRST_MONDAY = date(2027, 1, 4)
MAKE_UP_SUNDAY = date(2027, 1, 31)
SPRING = (date(2027, 2, 6), date(2027, 2, 14))
TODAY = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)


def events(action=None):
    stmt = select(HistoryEvent).order_by(HistoryEvent.seq)
    if action:
        stmt = stmt.where(HistoryEvent.action == action)
    return db.session.scalars(stmt).all()


def en(message) -> str:
    with force_locale("en"):
        return str(message)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def fresh_calendar():
    g.pop("_working_calendar", None)  # what a new request would build
    return current_calendar()


@pytest.fixture
def admin(make_user):
    return make_user("admin", display_name="系统管理员")


def enter_new_year(admin):
    ops.add_calendar_override(actor=admin, day=NEW_YEAR, is_working_day=False, note="元旦")


def add_spring_festival(admin, note=""):
    return ops.add_calendar_overrides(actor=admin, day=SPRING[0], last_day=SPRING[1], is_working_day=False,
                                      note=note)


def admin_client(login_as, locale="en"):
    """Log an administrator in (inside the test's time travel: the session is timed by the clock)."""
    user = login_as("admin", display_name="系统管理员")
    user.locale = locale
    db.session.commit()
    return user


# --- Declaring and withdrawing: operations -------------------------------------------------


def test_a_declared_year_is_counted_with_its_overrides_and_the_weekday_rule(admin):
    with pytest.raises(CalendarNotCovered):
        current_calendar().is_working_day(FIRST_MONDAY)
    enter_new_year(admin)
    declared = ops.declare_calendar_year(actor=admin, year=2027, note="国办发明电〔2026〕X号")
    assert (declared.year, declared.note, declared.declared_by_id) == (2027, "国办发明电〔2026〕X号", admin.id)
    calendar = current_calendar()
    assert calendar.declared_years == {2027}
    assert calendar.is_working_day(FIRST_MONDAY)
    assert not calendar.is_working_day(NEW_YEAR)
    assert not calendar.is_working_day(date(2027, 1, 2))  # Saturday
    start = datetime(2026, 12, 31, 12, tzinfo=SHANGHAI)
    assert calendar.add_working_days(start, 1) == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)

    ops.withdraw_calendar_year(actor=admin, year=2027)
    with pytest.raises(CalendarNotCovered):
        current_calendar().is_working_day(FIRST_MONDAY)
    assert not current_calendar().is_working_day(NEW_YEAR)  # the override stays
    assert count(CalendarYear) == 0


def test_a_declaration_is_seen_in_a_fresh_app_context(app, admin):
    enter_new_year(admin)
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    g.pop("_working_calendar", None)
    with app.app_context():
        assert current_calendar().is_working_day(FIRST_MONDAY)


def test_declaring_and_withdrawing_are_recorded(admin):
    enter_new_year(admin)
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SUNDAY, is_working_day=True, note="调休")
    declared = ops.declare_calendar_year(actor=admin, year=2027, note="  国务院通知  ")
    ops.withdraw_calendar_year(actor=admin, year=2027)

    year_data = {"note": "国务院通知", "declared_by_id": admin.id, "declared_at": declared.declared_at.isoformat()}
    recorded = [(e.action, e.subject, e.data, e.actor_id) for e in events() if "year" in e.action]
    assert recorded == [
        ("calendar_year_declared", "calendar-year:2027",
         {"before": None, "after": year_data, "overrides": {"holidays": 1, "working_days": 1}}, admin.id),
        ("calendar_year_withdrawn", "calendar-year:2027", {"before": year_data, "after": None}, admin.id),
    ]
    assert verify_chain().ok


def test_a_year_the_package_covers_is_refused(admin):
    ops.add_calendar_override(actor=admin, day=date(2026, 10, 12), is_working_day=False, note="")
    with pytest.raises(ValidationError) as info:
        ops.declare_calendar_year(actor=admin, year=2026, note="")
    assert "year" in info.value.fields
    assert "covered by the official holiday package" in en(info.value.message)
    assert count(CalendarYear) == 0


def test_a_year_is_declared_once(admin):
    enter_new_year(admin)
    ops.declare_calendar_year(actor=admin, year=2027, note="第一次")
    with pytest.raises(ValidationError) as info:
        ops.declare_calendar_year(actor=admin, year=2027, note="第二次")
    assert "year" in info.value.fields and "already been declared" in en(info.value.message)
    assert db.session.get(CalendarYear, 2027).note == "第一次"
    assert len(events("calendar_year_declared")) == 1


@pytest.mark.parametrize("overrides", [[], [(MAKE_UP_SUNDAY, True)], [(date(2028, 1, 3), False)]])
def test_a_year_without_a_holiday_override_is_refused(admin, overrides):
    """No holiday entered for the year (New Year's Day at least): its schedule is not in yet."""
    for day, working in overrides:
        ops.add_calendar_override(actor=admin, day=day, is_working_day=working, note="")
    with pytest.raises(ValidationError) as info:
        ops.declare_calendar_year(actor=admin, year=2027, note="")
    assert "year" in info.value.fields and "no holiday override" in en(info.value.message)
    assert count(CalendarYear) == 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"year": 1999}, "year"),
        ({"year": 2101}, "year"),
        ({"year": "2027"}, "year"),
        ({"year": True}, "year"),
        ({"year": None}, "year"),
        ({"year": 2027, "note": "x" * 121}, "note"),
    ],
)
def test_invalid_declarations_are_field_errors(admin, kwargs, field):
    enter_new_year(admin)
    with pytest.raises(ValidationError) as info:
        ops.declare_calendar_year(actor=admin, **{"note": "", **kwargs})
    assert field in info.value.fields
    assert count(CalendarYear) == 0 and events("calendar_year_declared") == []


@pytest.mark.parametrize("year", [2027, 2099, "2027", None])
def test_withdrawing_an_undeclared_year_is_not_found(admin, year):
    with pytest.raises(NotFound):
        ops.withdraw_calendar_year(actor=admin, year=year)


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external", None])
def test_only_admins_declare_withdraw_or_add_ranges(org, make_user, admin, role):
    enter_new_year(admin)
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    actor = make_user(role, org.station if role == "unit_head" else None) if role else None
    with pytest.raises(PermissionDenied):
        ops.declare_calendar_year(actor=actor, year=2028, note="")
    with pytest.raises(PermissionDenied):
        ops.withdraw_calendar_year(actor=actor, year=2027)
    with pytest.raises(PermissionDenied):
        ops.add_calendar_overrides(actor=actor, day=SPRING[0], last_day=SPRING[1], is_working_day=False)
    assert [y.year for y in db.session.scalars(select(CalendarYear))] == [2027]
    assert count(CalendarOverride) == 1


def test_declared_year_rows_count_the_overrides(admin):
    add_spring_festival(admin, note="春节")
    enter_new_year(admin)
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SUNDAY, is_working_day=True, note="")
    ops.add_calendar_override(actor=admin, day=date(2028, 1, 3), is_working_day=False, note="")  # not 2027's
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    (row,) = declared_year_rows()
    assert (row.declared.year, row.holidays, row.working_days, row.covered) == (2027, 10, 1, False)
    assert row.declared.declared_by.display_name == "系统管理员"


# --- Ranges of overrides -------------------------------------------------------------------


def test_a_range_adds_every_day_and_records_each(admin):
    added = ops.add_calendar_overrides(
        actor=admin, day=SPRING[0], last_day=SPRING[1], is_working_day=False, note=" 春节 "
    )
    days = [date(2027, 2, d) for d in range(6, 15)]
    assert [o.day for o in added] == days
    stored = db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)).all()
    assert [(o.day, o.is_working_day, o.note) for o in stored] == [(d, False, "春节") for d in days]
    span = {"first": "2027-02-06", "last": "2027-02-14"}
    assert [(e.subject, e.data, e.actor_id) for e in events()] == [
        (f"calendar:{d.isoformat()}", {"before": None, "after": {"is_working_day": False, "note": "春节"},
                                       "range": span}, admin.id)
        for d in days
    ]
    assert {e.action for e in events()} == {"calendar_override_added"}
    assert verify_chain().ok
    calendar = current_calendar()
    assert all(not calendar.is_working_day(d) for d in days)


def test_a_range_of_one_day_is_a_single_override(admin):
    (override,) = ops.add_calendar_overrides(
        actor=admin, day=MAKE_UP_SUNDAY, last_day=MAKE_UP_SUNDAY, is_working_day=True, note=""
    )
    assert override.day == MAKE_UP_SUNDAY
    assert events()[0].data == {"before": None, "after": {"is_working_day": True, "note": ""}}


def test_a_range_with_an_overridden_day_adds_nothing(admin):
    ops.add_calendar_override(actor=admin, day=date(2027, 2, 8), is_working_day=True, note="")
    ops.add_calendar_override(actor=admin, day=date(2027, 2, 12), is_working_day=False, note="")
    with pytest.raises(ValidationError) as info:
        add_spring_festival(admin)
    assert "day" in info.value.fields
    message = en(info.value.message)
    assert "2027-02-08, 2027-02-12" in message and "Nothing was added" in message
    assert count(CalendarOverride) == 2
    assert len(events()) == 2


def test_a_range_that_loses_a_race_adds_nothing(admin, monkeypatch):
    """Another administrator added a day of the range after the check: the insert fails as a
    whole, the day is named, and the range's other days are not left behind."""
    ops.add_calendar_override(actor=admin, day=date(2027, 2, 10), is_working_day=True, note="")
    real, calls = ops._overridden_days, []

    def overridden_days(first, last):
        calls.append((first, last))
        return [] if len(calls) == 1 else real(first, last)  # the first check sees nothing

    monkeypatch.setattr(ops, "_overridden_days", overridden_days)
    with pytest.raises(ValidationError) as info:
        add_spring_festival(admin)
    assert "2027-02-10" in en(info.value.message)
    assert len(calls) == 2
    assert [o.day for o in db.session.scalars(select(CalendarOverride))] == [date(2027, 2, 10)]
    assert len(events()) == 1


@pytest.mark.parametrize(
    "last_day, message",
    [
        (date(2027, 2, 5), "The last day is before the first day."),
        (date(2027, 3, 9), "A range can have at most 31 days."),  # 32 days
        (datetime(2027, 2, 14, 8), "Enter a date."),
        ("2027-02-14", "Enter a date."),
    ],
)
def test_range_limits(admin, last_day, message):
    with pytest.raises(ValidationError) as info:
        ops.add_calendar_overrides(actor=admin, day=SPRING[0], last_day=last_day, is_working_day=False)
    assert [en(m) for m in info.value.fields["last_day"]] == [message]
    assert count(CalendarOverride) == 0 and events() == []


def test_a_range_of_31_days_is_allowed(admin):
    added = ops.add_calendar_overrides(
        actor=admin, day=date(2027, 2, 6), last_day=date(2027, 3, 8), is_working_day=False, note=""
    )
    assert len(added) == 31 == len(events())


# --- Warnings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, declared, expected",
    [
        (date(2026, 11, 21), frozenset(), [2027]),
        (date(2026, 11, 21), frozenset({2027}), []),
        (date(2027, 1, 5), frozenset({2027}), [2028]),
        (date(2027, 1, 5), frozenset({2028}), [2027]),
    ],
)
def test_uncovered_years_leave_out_declared_years(today, declared, expected):
    assert uncovered_years(today, range(2004, 2027), declared) == expected


def test_years_to_declare_follow_the_clock_and_the_declarations(admin):
    with time_machine.travel(TODAY, tick=False):
        assert years_to_declare() == [2027]
        enter_new_year(admin)
        ops.declare_calendar_year(actor=admin, year=2027, note="")
        assert years_to_declare() == []
    with time_machine.travel(datetime(2025, 6, 1, tzinfo=SHANGHAI), tick=False):
        assert years_to_declare() == []


# --- Web -----------------------------------------------------------------------------------


def test_admin_enters_a_year_declares_and_withdraws_it_on_the_page(client, login_as):
    with time_machine.travel(TODAY, tick=False):
        user = admin_client(login_as)
        html = client.get("/admin/settings/calendar").get_data(as_text=True)
        assert 'id="coverage-warning-2027"' in html
        assert "No declared years." in html

        response = client.post("/admin/settings/calendar/overrides",
                               data={"day": "2027-01-01", "last_day": "2027-01-03", "day_type": "holiday",
                                     "note": "元旦"})
        assert response.status_code == 302
        response = client.post("/admin/settings/calendar/years",
                               data={"declare-year": "2027", "declare-note": "国办发明电"})
        assert response.status_code == 302
        assert db.session.get(CalendarYear, 2027).declared_by_id == user.id

        html = client.get("/admin/settings/calendar").get_data(as_text=True)
        assert "coverage-warning-" not in html
        assert "3 overrides from 2027-01-01 to 2027-01-03 have been added." in html
        assert "2027 has been declared" in html
        assert 'id="declared-year-2027"' in html
        assert "国办发明电" in html and "系统管理员" in html and "3 holidays" in html
        assert "/admin/settings/calendar/years/2027/withdraw" in html
        assert "declared year" in html  # the overrides of the declared year say so

        html = client.get("/admin/settings/calendar?check-day=2026-12-31&check-days=1").get_data(as_text=True)
        assert 'id="check-result"' in html
        assert "ends at the end of Monday, January 4, 2027." in html
        html = client.get("/admin/settings/calendar?check-day=2027-01-05&check-days=1").get_data(as_text=True)
        assert "Tuesday, January 5, 2027 is a working day." in html
        assert "(weekday rule of a declared year)" in html

        assert client.post("/admin/settings/calendar/years/2027/withdraw").status_code == 302
        html = client.get("/admin/settings/calendar").get_data(as_text=True)
        assert "The declaration of 2027 has been withdrawn." in html
        assert 'id="coverage-warning-2027"' in html and 'id="declared-year-2027"' not in html
    assert [e.action for e in events() if "year" in e.action] == [
        "calendar_year_declared", "calendar_year_withdrawn"]
    assert [e.actor_id for e in events()] == [user.id] * 5


def test_a_range_is_added_on_the_page(client, login_as):
    admin_client(login_as)
    response = client.post("/admin/settings/calendar/overrides",
                           data={"day": "2027-02-06", "last_day": "2027-02-14", "day_type": "holiday",
                                 "note": "春节"})
    assert response.status_code == 302
    html = client.get("/admin/settings/calendar").get_data(as_text=True)
    assert "9 overrides from 2027-02-06 to 2027-02-14 have been added." in html
    assert count(CalendarOverride) == 9


@pytest.mark.parametrize(
    "data, message",
    [
        ({"last_day": "2027-02-05"}, "The last day is before the first day."),
        ({"last_day": "2027-03-09"}, "A range can have at most 31 days."),
        ({"last_day": "2027-02-30"}, "Not a valid date value."),
        ({"day": "2027-02-10"}, "Nothing was added: these days already have an override: 2027-02-10."),
    ],
)
def test_range_errors_are_shown_on_the_form(client, login_as, admin, data, message):
    ops.add_calendar_override(actor=admin, day=date(2027, 2, 10), is_working_day=False, note="")
    db.session.commit()
    admin_client(login_as)
    form = {"day": "2027-02-06", "last_day": "2027-02-14", "day_type": "holiday", "note": ""}
    response = client.post("/admin/settings/calendar/overrides", data={**form, **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert count(CalendarOverride) == 1


@pytest.mark.parametrize(
    "year, message",
    [
        ("2026", "2026 is covered by the official holiday package (chinesecalendar); "
                 "there is nothing to declare."),
        ("2028", "Enter the official holidays of 2028 as overrides first: "
                 "the year has no holiday override yet."),
        ("1999", "Enter a year from 2000 to 2100."),
        ("next", "Not a valid integer value."),
        ("", "This field is required."),
    ],
)
def test_declaration_errors_are_shown_on_the_form(client, login_as, year, message):
    admin_client(login_as)
    data = {"declare-year": year, "declare-note": "备注"}
    response = client.post("/admin/settings/calendar/years", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="declare-year"' in html and "is-invalid" in html
    assert 'value="备注"' in html  # the input is kept
    assert count(CalendarYear) == 0


def test_declaration_errors_are_translated(client, login_as):
    admin_client(login_as, locale="zh_Hans_CN")
    response = client.post("/admin/settings/calendar/years", data={"declare-year": "2026"})
    assert response.status_code == 422
    assert "2026 年已由官方节假日包（chinesecalendar）覆盖，无需声明。" in response.get_data(as_text=True)


def test_a_duplicate_declaration_is_refused_on_the_page(client, login_as, admin):
    enter_new_year(admin)
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    db.session.commit()
    admin_client(login_as)
    response = client.post("/admin/settings/calendar/years", data={"declare-year": "2027"})
    assert response.status_code == 422
    assert "2027 has already been declared." in response.get_data(as_text=True)


def test_withdrawing_an_undeclared_year_is_not_found_on_the_page(client, login_as):
    admin_client(login_as)
    assert client.post("/admin/settings/calendar/years/2027/withdraw").status_code == 404
    assert client.post("/admin/settings/calendar/years/next/withdraw").status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external"])
def test_non_admins_cannot_declare_or_withdraw(client, login_as, org, admin, role):
    enter_new_year(admin)
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    db.session.commit()
    login_as(role, org.station if role == "unit_head" else None)
    assert client.post("/admin/settings/calendar/years", data={"declare-year": "2028"}).status_code == 403
    assert client.post("/admin/settings/calendar/years/2027/withdraw").status_code == 403
    assert [y.year for y in db.session.scalars(select(CalendarYear))] == [2027]


def test_the_home_page_warns_the_administrator(client, login_as, admin):
    with time_machine.travel(TODAY, tick=False):
        admin_client(login_as)
        html = client.get("/").get_data(as_text=True)
        assert 'id="calendar-warning-2027"' in html
        assert "The working-day calendar does not know 2027." in html
        assert 'href="/admin/settings/calendar"' in html
        enter_new_year(admin)
        ops.declare_calendar_year(actor=admin, year=2027, note="")
        db.session.commit()
        assert "calendar-warning-" not in client.get("/").get_data(as_text=True)


def test_the_home_page_warning_is_translated(client, login_as):
    with time_machine.travel(TODAY, tick=False):
        admin_client(login_as, locale="zh_Hans_CN")
        html = client.get("/").get_data(as_text=True)
    assert "工作日历尚未包含 2027 年。" in html


def test_no_warning_when_this_year_and_next_are_covered(client, login_as):
    with time_machine.travel(datetime(2025, 6, 1, 10, tzinfo=SHANGHAI), tick=False):
        admin_client(login_as)
        assert "calendar-warning-" not in client.get("/").get_data(as_text=True)
        assert "coverage-warning-" not in client.get("/admin/settings/calendar").get_data(as_text=True)


@pytest.mark.parametrize("role", ["supervisor", "unit_head"])
def test_other_roles_see_no_calendar_warning(client, login_as, org, role):
    with time_machine.travel(TODAY, tick=False):
        login_as(role, org.station if role == "unit_head" else None)
        response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert "calendar-warning-" not in response.get_data(as_text=True)
