"""Early warning's repeat units and rising units count each unit's own cases from
``unit_month_counts`` (whole months) and the cases (the days at a window's ends): the same units,
counts, gravest severities and latest days as counting the cases one by one, whatever day the
window ends on, and the table follows every change of a case."""
from datetime import datetime, time, timedelta

from hypothesis import given, strategies as st

from tests.cases.conftest import determination
from tests.reports.report_fixtures import make_case, people, violation_type  # noqa: F401
from tracker.cases import operations as ops
from tracker.cases.models import Case
from tracker.cases.states import DETERMINATION_OUTCOMES
from tracker.core.database import as_of, utcnow
from tracker.extensions import db
from tracker.reports import figures as f
from tracker.reports import stats
from tracker.reports.figures import LOCAL_TZ, Period, Selection
from tracker.reports.models import UnitMonthCount


def at_noon(day):
    return datetime.combine(day, time(12), tzinfo=LOCAL_TZ)


def determine(case, people, org, violation_type, *, at, severity="serious"):  # noqa: F811
    """Determined substantiated at ``at``, the case's own unit responsible."""
    with as_of(at):
        ops.start_inquiry(case, actor=people.sup, version=case.version)
        ops.record_inquiry(case, actor=people.sup, version=case.version, facts="经核实属实。",
                           persons="营业员周敏", accountability="营业员负直接责任。")
        ops.determine_case(case, actor=people.sup, version=case.version, **determination(
            org, violation_type, severity=severity, measures=[],
            responsibilities=[{"unit_code": case.unit.code, "person_name": "周敏", "kind": "direct"}]))
        db.session.flush()


def counted_one_by_one(as_of, *, threshold, trend_months=f.TREND_MONTHS, trend_min_cases=1):
    """The unit lists of early warning, from every case in Python (merged cases left out)."""
    cases = [c for c in db.session.query(Case) if c.merged_into_id is None]
    window = Period(f.add_months(as_of, -f.REPEAT_WINDOW_MONTHS) + timedelta(days=1), as_of)
    repeats = {}
    for case in cases:
        day = f.local_date(case.determined_at)
        if case.outcome in DETERMINATION_OUTCOMES and day and window.date_from <= day <= window.date_to:
            repeats.setdefault(case.unit.code, []).append((day, case.severity))
    units = sorted(((code, len(found), max((s for _d, s in found if s), key=lambda s: s.rank, default=None),
                     max(d for d, _s in found)) for code, found in repeats.items() if len(found) >= threshold),
                   key=lambda row: (-row[1], row[0]))
    recent_from = f.add_months(as_of, -trend_months) + timedelta(days=1)
    previous_from = f.add_months(as_of, -2 * trend_months) + timedelta(days=1)
    received = {}
    for case in cases:
        day = f.local_date(case.received_at)
        counts = received.setdefault(case.unit.code, [0, 0])
        if recent_from <= day <= as_of:
            counts[0] += 1
        elif previous_from <= day < recent_from:
            counts[1] += 1
    rising = sorted(((code, r, p) for code, (r, p) in received.items()
                     if r >= trend_min_cases and r > p and r - p >= p * f.TREND_MIN_RISE),
                    key=lambda row: (-row[1], row[0]))
    return units, rising


def counted_by_early_warning(selection, as_of, *, threshold):
    warning = f.early_warning(selection, as_of=as_of, threshold=threshold, trend_min_cases=1)
    return ([(w.unit_code, w.cases, w.gravest, w.latest_on) for w in warning.repeat_units],
            [(t.unit_code, t.recent, t.previous) for t in warning.rising_units])


def test_unit_lists_match_the_cases_on_every_day(people, org, make_case, violation_type):  # noqa: F811
    """Cases received and determined on both sides of month ends, over seven months; early
    warning on every other day of those months (and a little into the future) agrees with
    counting the cases."""
    today = f.local_date(utcnow())
    start = f.add_months(today.replace(day=1), -7)
    units = [org.hall, org.team, org.other_station]
    received_days = [start + timedelta(days=d) for d in (0, 13, 30, 31, 58, 59, 61, 90, 121, 150, 151, 180, 200)]
    received_days = [d for d in received_days if d < today] + [today]
    for i, day in enumerate(received_days):
        make_case(unit=units[i % 3], received_at=min(at_noon(day), utcnow() - timedelta(minutes=5)))
    cases = db.session.query(Case).order_by(Case.id).all()
    for i, case in enumerate(cases):
        if i % 3 != 2:  # two of every three are determined, a week later (but not after now)
            when = min(at_noon(f.local_date(case.received_at) + timedelta(days=7)), utcnow())
            determine(case, people, org, violation_type, at=when, severity=("general", "serious", "grave")[i % 3])
    ops.merge_case(cases[2], actor=people.sup, version=cases[2].version, target_number=cases[3].number,
                   reason="重复工单")  # the merged one counts nowhere
    db.session.flush()
    assert stats.check(db.session.connection()) == []
    selection = Selection(people.sup, org.company, Period(today - timedelta(days=30), today))
    day = start
    while day <= today + timedelta(days=20):
        assert counted_by_early_warning(selection, day, threshold=1) == counted_one_by_one(day, threshold=1), day
        day += timedelta(days=2)
    assert counted_by_early_warning(selection, today, threshold=2) == counted_one_by_one(today, threshold=2)
    # Scoped: the south county sees its own unit only.
    south = counted_by_early_warning(Selection(people.sup, org.south, Period(today, today)), today, threshold=1)
    assert {row[0] for row in south[0] + south[1]} <= {org.other_station.code}


def test_the_table_follows_a_determination_and_its_appeal(people, org, make_case, violation_type):  # noqa: F811
    case = make_case(unit=org.hall)
    month = f.local_date(case.received_at).replace(day=1)

    def row():
        found = db.session.get(UnitMonthCount, (org.hall.id, month))
        db.session.refresh(found)
        return found.received, found.determined, found.determined_serious

    assert row() == (1, 0, 0)
    determine(case, people, org, violation_type, at=utcnow())
    assert row() == (1, 1, 1)
    ops.appeal_case(case, actor=people.head, version=case.version, grounds="认定有误")
    ops.decide_appeal(case, actor=people.sup2, version=case.version, decision="overturned", reason="复核不属实")
    db.session.flush()
    assert row() == (1, 0, 0)
    assert stats.check(db.session.connection()) == []
    # check names a wrong row, and rebuild repairs it.
    connection = db.session.connection()
    connection.execute(UnitMonthCount.__table__.update().values(received=UnitMonthCount.received + 1))
    assert any(problem.startswith("unit_month_counts") for problem in stats.check(connection))
    stats.rebuild(connection)
    assert stats.check(connection) == [] and row() == (1, 0, 0)


@given(st.dates(), st.integers(min_value=0, max_value=400))
def test_month_pieces_cover_each_day_once(date_from, length):
    """The whole months, plus the days added, minus the days subtracted, are the period's days."""
    date_to = date_from + timedelta(days=length)
    if date_to.year > 9998:
        return
    months, added, subtracted = f._month_pieces(date_from, date_to)
    counted = {}
    for month in months:
        day = month
        while day.month == month.month:
            counted[day] = counted.get(day, 0) + 1
            day += timedelta(days=1)
    for ranges, sign in ((added, 1), (subtracted, -1)):
        for first, last in ranges:
            assert first <= last
            day = first
            while day <= last:
                counted[day] = counted.get(day, 0) + sign
                day += timedelta(days=1)
    assert {day for day, n in counted.items() if n} == {date_from + timedelta(days=d) for d in range(length + 1)}
    assert set(counted.values()) <= {0, 1}
    assert len(added) + len(subtracted) <= 2
