"""tracker.reports.figures against numbers worked out by hand (report_fixtures.py)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from tests.reports.report_fixtures import HOSTILE, audits, dataset, make_case, people, violation_type  # noqa: F401
from tracker.cases import operations as ops
from tracker.cases.states import CaseState, Channel, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.core.errors import ValidationError
from tracker.extensions import db
from tracker.reports import figures as f
from tracker.reports.figures import Period, ReportTooLarge, Selection


def test_headline_of_the_company(dataset, people, org):
    h = f.headline(Selection(people.sup, org.company, dataset.period))
    assert h.cases == 5  # A B C D G; E is before the period
    assert h.substantiated == 3
    assert h.by_severity == {Severity.general: 0, Severity.serious: 2, Severity.grave: 1}
    assert h.overdue_steps == 2  # D's handling clock (open, past due) and G's rectification (met late)
    assert (h.rectification_met, h.rectification_on_time) == (2, 1)
    assert h.rectification_on_time_rate == 50.0
    assert h.interviews_held == 1
    assert h.points_total == 6
    assert h.fines_total == Decimal("600.00")
    assert h.substantiation_rate == 60.0


def test_subtree_scope_and_period(dataset, people, org):
    north = f.headline(Selection(people.sup, org.north, dataset.period))
    assert (north.cases, north.overdue_steps) == (4, 1)  # without D in the south
    hall = f.headline(Selection(people.sup, org.hall, dataset.period))
    assert (hall.cases, hall.substantiated) == (3, 3)  # A B G (C is the team's)
    wider = Period(dataset.period.date_from - timedelta(days=30), dataset.period.date_to)
    assert f.headline(Selection(people.sup, org.hall, wider)).cases == 4  # and E


def test_viewer_scope_limits_everything(dataset, people, org):
    # The hall's head asking for the whole company sees the hall only; other heads see none of it.
    assert f.headline(Selection(people.head, org.company, dataset.period)).cases == 3
    assert f.headline(Selection(people.head, None, dataset.period)).cases == 3
    assert f.headline(Selection(people.other_head, None, dataset.period)).cases == 1  # D
    assert f.headline(Selection(people.other_head, org.hall, dataset.period)).cases == 0
    assert f.headline(Selection(people.external, None, dataset.period)).cases == 0
    assert f.case_table(Selection(people.external, org.company, dataset.period)) == []


def test_merged_cases_are_not_counted(dataset, people, org, make_case):
    duplicate = make_case(summary="重复反映")
    ops.merge_case(duplicate, actor=people.sup, version=duplicate.version, target_number=dataset.d.number,
                   reason="同一事项")
    db.session.flush()
    assert f.headline(Selection(people.sup, org.company, dataset.period)).cases == 5


def test_breakdowns(dataset, people, org):
    selection = Selection(people.sup, org.company, dataset.period)
    categories = {row.key: (row.cases, row.substantiated) for row in f.by_category(selection)}
    assert categories[ViolationCategory.service] == (3, 3)
    assert categories[None] == (2, 0)  # C (unfounded) and D (registered) have no violation type
    assert sum(cases for cases, _ in categories.values()) == 5
    channels = {row.key: (row.cases, row.substantiated) for row in f.by_channel(selection)}
    assert channels[Channel.hotline_95598] == (3, 2)  # A D G
    assert channels[Channel.walk_in] == (1, 1)
    assert channels[Channel.petition] == (1, 0)
    assert channels[Channel.media] == (0, 0)  # every channel has a row
    severities = {row.key: (row.cases, row.substantiated) for row in f.by_severity(selection)}
    assert severities[Severity.serious] == (2, 2) and severities[Severity.grave] == (1, 1)
    assert severities[None] == (2, 0)


def test_monthly_trend_sums_to_the_headline(dataset, people, org):
    selection = Selection(people.sup, org.company, dataset.period)
    trend = f.monthly_trend(selection)
    assert [m.month for m in trend] == dataset.period.months()
    assert sum(m.cases for m in trend) == 5 and sum(m.substantiated for m in trend) == 3
    this_month = utcnow().astimezone(f.LOCAL_TZ).date().replace(day=1)
    assert next(m for m in trend if m.month == this_month).cases >= 1


def test_month_boundary_is_beijing_time(people, org, make_case):
    # 2025-01-31 17:30 UTC is 2025-02-01 01:30 in Beijing: a February case.
    from datetime import datetime, timezone

    make_case(received_at=datetime(2025, 1, 31, 17, 30, tzinfo=timezone.utc))
    make_case(received_at=datetime(2025, 1, 31, 15, 30, tzinfo=timezone.utc))  # 23:30 Beijing, January
    trend = f.monthly_trend(Selection(people.sup, org.company, Period(date(2025, 1, 1), date(2025, 2, 28))))
    assert [(m.month, m.cases) for m in trend] == [(date(2025, 1, 1), 1), (date(2025, 2, 1), 1)]
    february = Selection(people.sup, org.company, Period(date(2025, 2, 1), date(2025, 2, 28)))
    assert f.headline(february).cases == 1


def test_audit_scores_by_section_against_the_organisation(audits, people, org, dataset):
    result = f.audit_figures(Selection(people.sup, org.north, dataset.period))
    rows = {row.name: (row.score, row.org_score, row.audits) for row in result.sections}
    assert rows == {"环境": (75.0, 37.5, 1), "行为": (100.0, 100.0, 1)}
    assert (result.audits, result.average, result.org_audits, result.org_average) == (1, 80.0, 2, 70.0)
    # The hall's head gets the organisation average too (an aggregate), but only the hall's own.
    mine = f.audit_figures(Selection(people.head, None, dataset.period))
    assert {row.name: row.score for row in mine.sections} == {"环境": 75.0, "行为": 100.0}
    assert mine.org_average == 70.0


def test_case_table_has_no_personal_data(dataset, people, org):
    rows = f.case_table(Selection(people.sup, org.company, dataset.period))
    assert sorted(r.number for r in rows) == sorted(c.number for c in (dataset.a, dataset.b, dataset.c, dataset.d,
                                                                        dataset.g))
    assert [r.received_on for r in rows] == sorted(r.received_on for r in rows)  # oldest first
    row = next(r for r in rows if r.number == dataset.b.number)
    assert (row.unit_name, row.channel, row.category, row.severity, row.state) == (
        org.hall.name, Channel.walk_in, ViolationCategory.service, Severity.grave, CaseState.determined)
    assert not any(hasattr(r, "complainant_name") or hasattr(r, "summary") for r in rows)
    assert f.count_cases(Selection(people.sup, org.company, dataset.period)) == 5


def test_typical_cases_are_anonymised_and_gravest_first(dataset, people, org):
    typical = f.typical_cases(Selection(people.sup, org.company, dataset.period))
    assert [t.number for t in typical][0] == dataset.b.number  # grave first
    assert {t.number for t in typical} == {dataset.a.number, dataset.b.number, dataset.g.number}
    a = next(t for t in typical if t.number == dataset.a.number)
    text = a.summary + a.facts
    assert "张伟" not in text and "李娜" not in text
    assert str(f.WITHHELD) in a.summary
    assert a.summary.endswith(HOSTILE)  # kept as text here; the templates escape it
    assert {(m.kind.value, m.responsibility.value, m.unit_name) for m in a.measures} >= {
        ("performance_points", "direct", org.hall.name), ("fine", "management", org.station.name)}
    assert not any(hasattr(m, "person_name") for m in a.measures)


def test_early_warning_repeat_person_and_unit(dataset, people, org):
    warning = f.early_warning(Selection(people.sup, org.company, dataset.period))
    assert [(w.person_name, w.unit_code, w.cases) for w in warning.repeat_people] == [("李娜", org.hall.code, 3)]
    assert [(w.unit_code, w.cases) for w in warning.repeat_units] == [(org.hall.code, 3)]
    flag = warning.repeat_units[0]
    assert flag.gravest == Severity.grave and flag.proposed_severity == Severity.grave
    # The hall: A B G E recently, nothing before → rising. Below the threshold: nothing.
    assert [(t.unit_code, t.recent, t.previous) for t in warning.rising_units] == [(org.hall.code, 4, 0)]
    quiet = f.early_warning(Selection(people.sup, org.company, dataset.period), threshold=4, trend_min_cases=5)
    assert quiet.empty


def test_early_warning_window_and_scope(dataset, people, org):
    long_ago = dataset.period.date_to + timedelta(days=400)
    assert f.early_warning(Selection(people.sup, org.company, dataset.period), as_of=long_ago).repeat_people == []
    assert f.early_warning(Selection(people.other_head, None, dataset.period)).empty


def test_rising_trend_needs_half_again(people, org, make_case):
    now = utcnow()
    for days in (100, 110, 120, 130):  # four in the previous three months
        make_case(unit=org.other_station, received_at=now - timedelta(days=days))
    for days in (5, 10, 15, 20, 25):  # five recently: +25 %, not rising
        make_case(unit=org.other_station, received_at=now - timedelta(days=days))
    today = now.astimezone(f.LOCAL_TZ).date()
    selection = Selection(people.sup, org.south, Period(today - timedelta(days=30), today))
    assert f.early_warning(selection).rising_units == []
    make_case(unit=org.other_station, received_at=now - timedelta(days=3))  # six: +50 %
    assert [(t.recent, t.previous, t.rise_percent) for t in f.early_warning(selection).rising_units] == [(6, 4, 50)]


def test_size_limit_and_period_checks(dataset, people, org):
    selection = Selection(people.sup, org.company, dataset.period)
    with pytest.raises(ReportTooLarge) as error:
        f.unit_figures(selection, with_cases=True, max_cases=4)
    with force_locale("en"):
        assert "shorter period" in str(error.value.message)
    assert f.unit_figures(selection, with_cases=True, max_cases=5).cases
    with pytest.raises(ValidationError):
        Period(date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(ValidationError):
        Period(date(2020, 1, 1), date(2025, 1, 1))


def test_add_months_clamps_to_the_month_end():
    assert f.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert f.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert f.add_months(date(2025, 1, 15), 12) == date(2026, 1, 15)
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months() == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
