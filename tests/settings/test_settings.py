"""The administrator's settings: deadline clocks and the working-day calendar (DESIGN.md §4).

Real dates of the official 2026 schedule (chinesecalendar): National Day holiday Thu 10-01 to
Wed 10-07, Sat 2026-10-10 is a make-up working day (调休), Sun 2026-10-11 is a rest day.
"""
from datetime import date, datetime, time

import pytest
from flask_babel import force_locale
from flask import g
from sqlalchemy import func, select

from tracker.cases.deadlines import current_calendar, working_days_for
from tracker.cases.models import CalendarOverride, CalendarYear, DeadlineSetting
from tracker.cases.states import DEFAULT_DEADLINE_DAYS, DeadlineKind, Severity
from tracker.core import permissions as perms
from tracker.core.calendar import CalendarNotCovered, WorkingCalendar
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.main.navigation import nav_endpoints_for
from tracker.settings import operations as ops
from tracker.settings.queries import check_date, deadline_rows, uncovered_years

# These tests start where production does: no year declared beyond the holiday package.
pytestmark = pytest.mark.usefixtures("undeclared_years")

MAKE_UP_SATURDAY = date(2026, 10, 10)
REST_SUNDAY = date(2026, 10, 11)
SHANGHAI = WorkingCalendar().tz


def at_noon(d):
    return datetime.combine(d, time(12), tzinfo=SHANGHAI)


def events(action=None):
    stmt = select(HistoryEvent).order_by(HistoryEvent.seq)
    if action:
        stmt = stmt.where(HistoryEvent.action == action)
    return db.session.scalars(stmt).all()


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def web_admin(login_as):
    """An administrator logged in on the test client, reading English pages."""
    user = login_as("admin")
    user.locale = "en"
    db.session.commit()
    return user


def test_the_real_calendar_is_what_these_tests_assume():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(MAKE_UP_SATURDAY)
    assert not calendar.is_working_day(REST_SUNDAY)
    assert not calendar.is_working_day(date(2026, 10, 7))
    assert 2026 in WorkingCalendar.covered_years()


# --- Deadline settings: operations ---------------------------------------------------------


def test_explanation_clock_set_and_reset(admin):
    assert working_days_for(DeadlineKind.explanation) == 3
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.explanation, working_days=5)
    assert working_days_for(DeadlineKind.explanation) == 5
    ops.reset_deadline_days(actor=admin, kind=DeadlineKind.explanation)
    assert working_days_for(DeadlineKind.explanation) == DEFAULT_DEADLINE_DAYS[DeadlineKind.explanation] == 3
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 0


def test_setting_twice_updates_the_one_row(admin):
    ops.set_deadline_days(actor=admin, kind="handling", working_days=6)
    ops.set_deadline_days(actor=admin, kind="handling", working_days=8)
    rows = db.session.scalars(select(DeadlineSetting)).all()
    assert [(r.severity, r.working_days) for r in rows] == [(None, 8)]


def test_duplicate_rows_for_a_whole_clock_are_merged(admin):
    # NULL severities never collide in the unique constraint; two simultaneous saves leave two rows.
    db.session.add_all([DeadlineSetting(kind=DeadlineKind.handling, severity=None, working_days=d) for d in (6, 9)])
    db.session.flush()
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.handling, working_days=8)
    rows = db.session.scalars(select(DeadlineSetting)).all()
    assert [(r.severity, r.working_days) for r in rows] == [(None, 8)]
    ops.reset_deadline_days(actor=admin, kind=DeadlineKind.handling)
    assert working_days_for(DeadlineKind.handling) == 7


def test_setting_the_default_value_is_stored(admin):
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.contact, working_days=1)
    assert working_days_for(DeadlineKind.contact) == 1
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 1


def test_rectification_per_severity(admin):
    ops.set_deadline_days(
        actor=admin, kind=DeadlineKind.rectification, severity=Severity.grave, working_days=5
    )
    assert working_days_for(DeadlineKind.rectification, Severity.grave) == 5
    assert working_days_for(DeadlineKind.rectification, Severity.general) == 10
    assert working_days_for(DeadlineKind.rectification) == 10
    # The kind-wide value moves the severities without their own value, not the others.
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.rectification, working_days=15)
    assert working_days_for(DeadlineKind.rectification, Severity.general) == 15
    assert working_days_for(DeadlineKind.rectification, Severity.grave) == 5
    ops.reset_deadline_days(actor=admin, kind=DeadlineKind.rectification, severity="grave")
    assert working_days_for(DeadlineKind.rectification, Severity.grave) == 15


@pytest.mark.parametrize("kind", [k for k in DeadlineKind if k != DeadlineKind.rectification])
def test_only_rectification_takes_a_severity(admin, kind):
    with pytest.raises(ValidationError) as info:
        ops.set_deadline_days(actor=admin, kind=kind, severity=Severity.grave, working_days=4)
    assert "severity" in info.value.fields
    with pytest.raises(ValidationError):
        ops.reset_deadline_days(actor=admin, kind=kind, severity=Severity.grave)
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "explanation", "working_days": -1}, "working_days"),
        ({"kind": "explanation", "working_days": 366}, "working_days"),
        ({"kind": "explanation", "working_days": True}, "working_days"),
        ({"kind": "explanation", "working_days": "5"}, "working_days"),
        ({"kind": "explanation", "working_days": None}, "working_days"),
        ({"kind": "nonsense", "working_days": 5}, "kind"),
        ({"kind": "rectification", "severity": "fatal", "working_days": 5}, "severity"),
    ],
)
def test_invalid_deadline_settings_are_field_errors(admin, kwargs, field):
    with pytest.raises(ValidationError) as info:
        ops.set_deadline_days(actor=admin, **kwargs)
    assert field in info.value.fields
    assert events() == []


@pytest.mark.parametrize("days", [0, 365])
def test_the_range_ends_are_allowed(admin, days):
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.follow_up, working_days=days)
    assert working_days_for(DeadlineKind.follow_up) == days


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external", None])
def test_only_admins_change_settings(org, make_user, role):
    actor = make_user(role, org.station if role == "unit_head" else None) if role else None
    with pytest.raises(PermissionDenied):
        ops.set_deadline_days(actor=actor, kind=DeadlineKind.explanation, working_days=5)
    with pytest.raises(PermissionDenied):
        ops.reset_deadline_days(actor=actor, kind=DeadlineKind.explanation)
    with pytest.raises(PermissionDenied):
        ops.add_calendar_override(actor=actor, day=REST_SUNDAY, is_working_day=True, note="")
    with pytest.raises(PermissionDenied):
        ops.remove_calendar_override(actor=actor, day=REST_SUNDAY)
    assert working_days_for(DeadlineKind.explanation) == 3


def test_deadline_rows_show_default_stored_and_current(admin):
    ops.set_deadline_days(actor=admin, kind="rectification", severity="grave", working_days=5)
    rows = {(r.kind, r.severity): r for r in deadline_rows()}
    assert len(rows) == len(DeadlineKind) + len(Severity)
    grave = rows[(DeadlineKind.rectification, Severity.grave)]
    assert (grave.default, grave.stored, grave.current, grave.key) == (10, 5, 5, "rectification-grave")
    general = rows[(DeadlineKind.rectification, Severity.general)]
    assert (general.stored, general.current) == (None, 10)


# --- Calendar overrides: operations --------------------------------------------------------


def test_override_changes_the_current_calendar(admin):
    before = current_calendar()  # cached on g for this context
    assert before.is_working_day(MAKE_UP_SATURDAY)
    friday = at_noon(date(2026, 10, 9))
    assert before.add_working_days(friday, 1).date() == MAKE_UP_SATURDAY

    ops.add_calendar_override(actor=admin, day=MAKE_UP_SATURDAY, is_working_day=False, note="单位统一安排")
    assert not current_calendar().is_working_day(MAKE_UP_SATURDAY)
    # Sunday is a rest day, so the next working day after Friday is Monday.
    assert current_calendar().add_working_days(friday, 1).date() == date(2026, 10, 12)

    ops.add_calendar_override(actor=admin, day=REST_SUNDAY, is_working_day=True, note="")
    assert current_calendar().add_working_days(friday, 1).date() == REST_SUNDAY

    ops.remove_calendar_override(actor=admin, day=MAKE_UP_SATURDAY)
    ops.remove_calendar_override(actor=admin, day=REST_SUNDAY)
    assert current_calendar().add_working_days(friday, 1).date() == MAKE_UP_SATURDAY


def test_override_is_seen_in_a_fresh_app_context(app, admin):
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SATURDAY, is_working_day=False, note="")
    g.pop("_working_calendar", None)
    with app.app_context():
        assert not current_calendar().is_working_day(MAKE_UP_SATURDAY)


def test_duplicate_override_is_refused(admin):
    ops.add_calendar_override(actor=admin, day=REST_SUNDAY, is_working_day=True, note="")
    with pytest.raises(ValidationError) as info:
        ops.add_calendar_override(actor=admin, day=REST_SUNDAY, is_working_day=False, note="")
    assert "day" in info.value.fields
    assert db.session.get(CalendarOverride, REST_SUNDAY).is_working_day is True


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"day": datetime(2026, 10, 10, 8), "is_working_day": False}, "day"),
        ({"day": "2026-10-10", "is_working_day": False}, "day"),
        ({"day": MAKE_UP_SATURDAY, "is_working_day": "no"}, "is_working_day"),
        ({"day": MAKE_UP_SATURDAY, "is_working_day": False, "note": "x" * 121}, "note"),
    ],
)
def test_invalid_overrides_are_field_errors(admin, kwargs, field):
    with pytest.raises(ValidationError) as info:
        ops.add_calendar_override(actor=admin, **{"note": "", **kwargs})
    assert field in info.value.fields


def test_removing_a_missing_override_is_not_found(admin):
    with pytest.raises(NotFound):
        ops.remove_calendar_override(actor=admin, day=REST_SUNDAY)


def test_overrides_settle_days_of_an_uncovered_year_one_by_one(admin):
    uncovered = date(max(WorkingCalendar.covered_years()) + 1, 3, 2)
    with pytest.raises(CalendarNotCovered):
        current_calendar().is_working_day(uncovered)
    ops.add_calendar_override(actor=admin, day=uncovered, is_working_day=True, note="")
    assert current_calendar().is_working_day(uncovered)


# --- History -------------------------------------------------------------------------------


def test_every_change_is_recorded(admin):
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.explanation, working_days=5)
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.explanation, working_days=5)  # no change
    ops.set_deadline_days(actor=admin, kind="rectification", severity="grave", working_days=4)
    ops.reset_deadline_days(actor=admin, kind=DeadlineKind.explanation)
    ops.reset_deadline_days(actor=admin, kind=DeadlineKind.explanation)  # nothing to reset
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SATURDAY, is_working_day=False, note="  停工  ")
    ops.remove_calendar_override(actor=admin, day=MAKE_UP_SATURDAY)

    recorded = [(e.action, e.subject, e.data, e.actor_id) for e in events()]
    assert recorded == [
        ("deadline_setting_changed", "settings:deadlines",
         {"kind": "explanation", "severity": None, "before": None, "after": 5}, admin.id),
        ("deadline_setting_changed", "settings:deadlines",
         {"kind": "rectification", "severity": "grave", "before": None, "after": 4}, admin.id),
        ("deadline_setting_reset", "settings:deadlines",
         {"kind": "explanation", "severity": None, "before": 5, "after": None}, admin.id),
        ("calendar_override_added", "calendar:2026-10-10",
         {"before": None, "after": {"is_working_day": False, "note": "停工"}}, admin.id),
        ("calendar_override_removed", "calendar:2026-10-10",
         {"before": {"is_working_day": False, "note": "停工"}, "after": None}, admin.id),
    ]
    assert verify_chain().ok


def test_an_update_records_before_and_after(admin):
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.appeal_window, working_days=7)
    ops.set_deadline_days(actor=admin, kind=DeadlineKind.appeal_window, working_days=4)
    assert events()[-1].data == {"kind": "appeal_window", "severity": None, "before": 7, "after": 4}


# --- Pure helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, covered, expected",
    [
        (date(2026, 11, 21), range(2004, 2027), [2027]),
        (date(2027, 1, 5), range(2004, 2027), [2027, 2028]),
        (date(2025, 6, 1), range(2004, 2027), []),
        (date(2026, 1, 1), range(0), [2026, 2027]),
    ],
)
def test_uncovered_years(today, covered, expected):
    assert uncovered_years(today, covered) == expected


def test_check_date_across_national_day():
    result = check_date(WorkingCalendar(), date(2025, 9, 30), 3)
    assert result.is_working_day and not result.overridden
    assert result.due == datetime(2025, 10, 11, 23, 59, 59, tzinfo=SHANGHAI)


# --- Web: deadlines ------------------------------------------------------------------------


def test_deadlines_page_lists_every_clock(client, web_admin):
    html = client.get("/admin/settings/deadlines").get_data(as_text=True)
    for kind in DeadlineKind:
        assert f'id="deadline-{kind.value}"' in html
        with force_locale("en"):  # the admin reads English pages
            assert str(kind.label) in html
    for severity in Severity:
        assert f'id="deadline-rectification-{severity.value}"' in html
    assert 'name="explanation-working_days"' in html
    assert "<td>1 working day</td>" in html and "<td>7 working days</td>" in html


def test_admin_sets_and_resets_a_clock_on_the_page(client, web_admin):
    response = client.post("/admin/settings/deadlines/explanation", data={"explanation-working_days": "5"})
    assert response.status_code == 302
    assert working_days_for(DeadlineKind.explanation) == 5
    html = client.get("/admin/settings/deadlines").get_data(as_text=True)
    assert "set by the administrator" in html
    assert "/admin/settings/deadlines/explanation/reset" in html

    assert client.post("/admin/settings/deadlines/explanation/reset").status_code == 302
    assert working_days_for(DeadlineKind.explanation) == 3
    assert [e.action for e in events()] == ["deadline_setting_changed", "deadline_setting_reset"]
    assert events()[0].actor_id == web_admin.id


def test_admin_sets_a_severity_on_the_page(client, web_admin):
    response = client.post(
        "/admin/settings/deadlines/rectification/grave", data={"rectification-grave-working_days": "5"}
    )
    assert response.status_code == 302
    assert working_days_for(DeadlineKind.rectification, Severity.grave) == 5
    assert working_days_for(DeadlineKind.rectification, Severity.general) == 10


@pytest.mark.parametrize("value", ["366", "-1"])
def test_out_of_range_days_are_a_field_error_on_the_page(client, web_admin, value):
    response = client.post("/admin/settings/deadlines/explanation", data={"explanation-working_days": value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a whole number of working days from 0 to 365." in html
    assert 'id="explanation-working_days"' in html and "is-invalid" in html
    assert working_days_for(DeadlineKind.explanation) == 3


def test_a_non_number_is_a_field_error_on_the_page(client, web_admin):
    response = client.post("/admin/settings/deadlines/explanation", data={"explanation-working_days": "five"})
    assert response.status_code == 422
    assert "is-invalid" in response.get_data(as_text=True)


def test_a_severity_for_another_clock_is_refused_on_the_page(client, web_admin):
    response = client.post(
        "/admin/settings/deadlines/explanation/grave", data={"explanation-grave-working_days": "2"}
    )
    assert response.status_code == 422
    assert "Only the rectification deadline can differ by severity." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 0


def test_unknown_clocks_are_not_found(client, web_admin):
    response = client.post("/admin/settings/deadlines/nonsense", data={"nonsense-working_days": "2"})
    assert response.status_code == 404
    assert client.post("/admin/settings/deadlines/rectification/fatal").status_code == 404


# --- Web: calendar -------------------------------------------------------------------------


def test_admin_adds_and_deletes_an_override_on_the_page(client, web_admin):
    response = client.post(
        "/admin/settings/calendar/overrides",
        data={"day": "2026-10-10", "day_type": "holiday", "note": "检修停工"},
    )
    assert response.status_code == 302
    g.pop("_working_calendar", None)  # the test's own context cached the calendar before
    assert not current_calendar().is_working_day(MAKE_UP_SATURDAY)
    html = client.get("/admin/settings/calendar").get_data(as_text=True)
    assert "检修停工" in html and "/admin/settings/calendar/overrides/2026-10-10/delete" in html

    assert client.post("/admin/settings/calendar/overrides/2026-10-10/delete").status_code == 302
    g.pop("_working_calendar", None)
    assert current_calendar().is_working_day(MAKE_UP_SATURDAY)
    assert [e.action for e in events()] == ["calendar_override_added", "calendar_override_removed"]


def test_duplicate_override_is_refused_on_the_page(client, web_admin):
    data = {"day": "2026-10-11", "day_type": "working", "note": ""}
    assert client.post("/admin/settings/calendar/overrides", data=data).status_code == 302
    response = client.post("/admin/settings/calendar/overrides", data={**data, "day_type": "holiday"})
    assert response.status_code == 422
    assert "2026-10-11 already has an override" in response.get_data(as_text=True)
    assert db.session.get(CalendarOverride, REST_SUNDAY).is_working_day is True


@pytest.mark.parametrize(
    "data",
    [
        {"day": "", "day_type": "holiday"},
        {"day": "2026-13-01", "day_type": "holiday"},
        {"day": "2026-10-10", "day_type": "maybe"},
        {"day": "2026-10-10", "day_type": "holiday", "note": "x" * 121},
    ],
)
def test_malformed_overrides_are_field_errors(client, web_admin, data):
    response = client.post("/admin/settings/calendar/overrides", data=data)
    assert response.status_code == 422
    assert "is-invalid" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CalendarOverride)) == 0


def test_deleting_a_missing_or_malformed_override_is_not_found(client, web_admin):
    assert client.post("/admin/settings/calendar/overrides/2026-10-10/delete").status_code == 404
    assert client.post("/admin/settings/calendar/overrides/tomorrow/delete").status_code == 404


def test_the_calendar_page_shows_coverage(client, web_admin):
    covered = WorkingCalendar.covered_years()
    html = client.get("/admin/settings/calendar").get_data(as_text=True)
    assert f"{covered[0]} to {covered[-1]}" in html


def test_coverage_warning_for_an_uncovered_year(client, web_admin, monkeypatch):
    this_year = current_calendar().local_date(datetime.now(SHANGHAI)).year
    monkeypatch.setattr(WorkingCalendar, "covered_years", staticmethod(lambda: range(2004, this_year)))
    html = client.get("/admin/settings/calendar").get_data(as_text=True)
    assert f'id="coverage-warning-{this_year}"' in html
    assert f'id="coverage-warning-{this_year + 1}"' in html
    assert f"{this_year} is not covered." in html
    assert "chinesecalendar" in html


def test_no_warning_when_both_years_are_covered(client, web_admin, monkeypatch):
    monkeypatch.setattr(WorkingCalendar, "covered_years", staticmethod(lambda: range(2004, 2101)))
    html = client.get("/admin/settings/calendar").get_data(as_text=True)
    assert "coverage-warning-" not in html


def test_check_a_date(client, web_admin):
    html = client.get("/admin/settings/calendar?check-day=2026-10-09&check-days=1").get_data(as_text=True)
    assert 'id="check-result"' in html
    assert "Friday, October 9, 2026 is a working day." in html
    assert "ends at the end of Saturday, October 10, 2026." in html


def test_check_a_date_uses_the_overrides(client, web_admin, admin):
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SATURDAY, is_working_day=False, note="")
    db.session.commit()
    html = client.get("/admin/settings/calendar?check-day=2026-10-10&check-days=1").get_data(as_text=True)
    assert "Saturday, October 10, 2026 is not a working day." in html
    assert "(set by an override)" in html
    assert "ends at the end of Monday, October 12, 2026." in html


def test_check_a_date_in_an_uncovered_year_is_a_form_error(client, web_admin):
    year = max(WorkingCalendar.covered_years()) + 1
    response = client.get(f"/admin/settings/calendar?check-day={year - 1}-12-31&check-days=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"The working-day calendar does not cover {year}" in html
    assert 'id="check-result"' not in html


def test_check_a_date_with_bad_input_is_a_field_error(client, web_admin):
    html = client.get("/admin/settings/calendar?check-day=2026-10-09&check-days=400").get_data(as_text=True)
    assert "is-invalid" in html and 'id="check-result"' not in html


# --- Access --------------------------------------------------------------------------------

# One sample URL per rule of the blueprint; test_every_settings_url_is_listed keeps it complete.
SETTINGS_URLS = [
    ("GET", "settings.index", "/admin/settings/"),
    ("GET", "settings.deadlines", "/admin/settings/deadlines"),
    ("POST", "settings.set_deadline", "/admin/settings/deadlines/explanation"),
    ("POST", "settings.set_deadline", "/admin/settings/deadlines/rectification/grave"),
    ("POST", "settings.reset_deadline", "/admin/settings/deadlines/explanation/reset"),
    ("POST", "settings.reset_deadline", "/admin/settings/deadlines/rectification/grave/reset"),
    ("GET", "settings.calendar", "/admin/settings/calendar"),
    ("GET", "settings.calendar", "/admin/settings/calendar?check-day=2026-10-09&check-days=1"),
    ("POST", "settings.add_override", "/admin/settings/calendar/overrides"),
    ("POST", "settings.delete_override", "/admin/settings/calendar/overrides/2026-10-10/delete"),
    ("POST", "settings.declare_year", "/admin/settings/calendar/years"),
    ("POST", "settings.withdraw_year", "/admin/settings/calendar/years/2027/withdraw"),
]


def test_every_settings_url_is_listed(app):
    rules = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("settings.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == {(endpoint, method) for method, endpoint, _url in SETTINGS_URLS}


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external"])
def test_non_admins_get_403_everywhere(client, login_as, org, role, admin):
    ops.add_calendar_override(actor=admin, day=MAKE_UP_SATURDAY, is_working_day=False, note="")
    ops.add_calendar_override(actor=admin, day=date(2027, 1, 1), is_working_day=False, note="")
    ops.declare_calendar_year(actor=admin, year=2027, note="")
    db.session.commit()
    login_as(role, org.station if role == "unit_head" else None)
    data = {"explanation-working_days": "5", "rectification-grave-working_days": "5",
            "day": "2026-10-11", "last_day": "2026-10-12", "day_type": "working", "note": "",
            "declare-year": "2028", "declare-note": ""}
    for method, _endpoint, url in SETTINGS_URLS:
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 0
    overridden = [o.day for o in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))]
    assert overridden == [MAKE_UP_SATURDAY, date(2027, 1, 1)]
    assert [y.year for y in db.session.scalars(select(CalendarYear))] == [2027]
    assert [e.action for e in events()] == ["calendar_override_added"] * 2 + ["calendar_year_declared"]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for method, _endpoint, url in SETTINGS_URLS:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role, allowed", [("admin", True), ("supervisor", False), ("external", False)])
def test_navigation_entries(make_user, role, allowed):
    user = make_user(role)
    assert perms.can_manage_settings(user) is allowed
    endpoints = nav_endpoints_for(user)
    assert ("settings.deadlines" in endpoints) is allowed
    assert ("settings.calendar" in endpoints) is allowed
