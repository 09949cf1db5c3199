"""The statistics roll-up (tracker.reports.stats) stays exactly equal to the cases.

Every change reaches it in the same transaction: registration, the workflow, clocks met late,
interviews, measures, merging, moving a unit; a bulk load is repaired by ``rebuild``. ``check``
compares the table with a computation from scratch and names the rows that differ.
"""
from contextlib import nullcontext
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from tests.reports.report_fixtures import audits, dataset, make_case, people, violation_type  # noqa: F401
from tracker.cases import operations as ops
from tracker.cases.models import Case, Deadline
from tracker.cases.states import Channel, DeadlineKind
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports import figures as f
from tracker.reports import stats
from tracker.reports.figures import Period, Selection
from tracker.reports.models import AuditSectionStat, CaseDayStat
from tracker.units import operations as unit_ops


def in_step():
    return stats.check(db.session.connection()) == []


def company_cases(people, org, period):
    return f.headline(Selection(people.sup, org.company, period)).cases


def test_the_workflow_keeps_the_roll_up_in_step(dataset, people, org):  # noqa: F811
    assert in_step()
    # The data set registers, determines, interviews and rectifies through the operations:
    # the rows exist and add up to what the figures say.
    rows = db.session.scalars(select(CaseDayStat).where(CaseDayStat.unit_id == org.company.id)).all()
    assert sum(row.cases for row in rows) == 6  # A, B, C, D, G and E (outside the dashboard period)
    assert company_cases(people, org, dataset.period) == 5


def test_a_flush_that_changes_a_case_moves_its_sums(dataset, people, org):  # noqa: F811
    selection = Selection(people.sup, org.company, dataset.period)
    before = f.by_channel(selection)
    dataset.c.channel = Channel.media  # petition → media, by any ORM change
    db.session.flush()
    after = {row.key: row.cases for row in f.by_channel(selection)}
    assert after[Channel.media] == {row.key: row.cases for row in before}[Channel.media] + 1
    assert after[Channel.petition] == {row.key: row.cases for row in before}[Channel.petition] - 1
    assert in_step()


def test_a_clock_met_late_counts_as_an_overdue_step(dataset, people, org):  # noqa: F811
    selection = Selection(people.sup, org.company, dataset.period)
    overdue = f.headline(selection).overdue_steps
    clock = next(d for d in dataset.c.deadlines if d.met_at is None and d.cancelled_at is None)
    clock.due_at = utcnow() - timedelta(days=2)
    clock.met_at = utcnow() - timedelta(days=1)
    db.session.flush()
    assert f.headline(selection).overdue_steps == overdue + 1
    assert in_step()


def test_merging_removes_the_duplicate(dataset, people, org, make_case):  # noqa: F811
    duplicate = make_case()
    selection = Selection(people.sup, org.company, dataset.period)
    assert f.headline(selection).cases == 6
    ops.merge_case(duplicate, actor=people.sup, version=duplicate.version, target_number=dataset.a.number,
                   reason="重复投诉")
    db.session.flush()
    assert f.headline(selection).cases == 5
    assert in_step()


def test_moving_a_unit_moves_its_cases_between_counties(dataset, people, org):  # noqa: F811
    north = Selection(people.sup, org.north, dataset.period)
    south = Selection(people.sup, org.south, dataset.period)
    north_cases, south_cases = f.headline(north).cases, f.headline(south).cases
    station_cases = f.headline(Selection(people.sup, org.station, dataset.period)).cases
    assert station_cases > 0
    unit_ops.move_unit(org.station, actor=people.admin, new_parent=org.south)
    db.session.flush()
    assert f.headline(north).cases == north_cases - station_cases
    assert f.headline(south).cases == south_cases + station_cases
    assert in_step()


def test_check_names_a_wrong_row_and_rebuild_repairs_it(dataset, people, org):  # noqa: F811
    connection = db.session.connection()
    connection.execute(update(CaseDayStat).where(CaseDayStat.unit_id == org.company.id).values(cases=CaseDayStat.cases + 1))
    problems = stats.check(connection)
    assert problems and all(f"'unit_id': {org.company.id}" in problem for problem in problems)
    assert stats.rebuild(connection) > 0
    assert in_step()
    assert company_cases(people, org, dataset.period) == 5


def test_writes_around_the_orm_need_a_rebuild(dataset, people, org):  # noqa: F811
    """What ``tracker.loadgen`` does: Core statements are invisible to the session hook."""
    connection = db.session.connection()
    connection.execute(update(Case).where(Case.id == dataset.c.id).values(channel=Channel.media))
    assert not in_step()
    stats.rebuild(connection)
    assert in_step()


@pytest.mark.parametrize("days", [0, 1])
def test_periods_cut_at_beijing_midnight(people, org, make_case, days):
    """A case received at 23:30 Beijing time belongs to that day, whatever the UTC date."""
    case = make_case()
    case.received_at = (utcnow() - timedelta(days=3)).replace(hour=15, minute=30, second=0, microsecond=0)  # 23:30 +8
    db.session.flush()
    local_day = f.local_date(case.received_at)
    period = Period(local_day + timedelta(days=days), local_day + timedelta(days=days))
    assert f.headline(Selection(people.sup, org.company, period)).cases == (1 if days == 0 else 0)
    assert in_step()


def test_open_clocks_past_due_are_counted_live(people, org, make_case):
    case = make_case()
    clock = db.session.scalar(select(Deadline).where(Deadline.case_id == case.id,
                                                     Deadline.kind == DeadlineKind.handling))
    today = f.local_date(utcnow())
    selection = Selection(people.sup, org.company, Period(today - timedelta(days=30), today))
    assert f.headline(selection).overdue_steps == 0
    later = clock.due_at + timedelta(minutes=1)
    running_then = [d for d in case.deadlines if d.met_at is None and d.due_at < later]
    assert clock in running_then
    assert f.headline(selection, now=later).overdue_steps == len(running_then)
    clock.met_at = later  # met late: now in the roll-up instead
    db.session.flush()
    assert f.headline(selection, now=later).overdue_steps == len(running_then)
    assert in_step()


def test_periods_of_whole_and_partial_months_count_every_case_once(people, org, make_case):
    """The month rows serve whole months, the day rows the ends of a period: every period counts
    exactly the cases received in it."""
    today = f.local_date(utcnow())
    first = f.add_months(today.replace(day=1), -3)
    days = [first, first + timedelta(days=14), f.add_months(first, 1) - timedelta(days=1), f.add_months(first, 1),
            f.add_months(first, 2) + timedelta(days=9), f.add_months(first, 3) - timedelta(days=1)]
    for day in days:
        case = make_case()
        case.received_at = datetime.combine(day, time(12), tzinfo=f.LOCAL_TZ)
    db.session.flush()
    assert in_step()
    periods = [
        (first, f.add_months(first, 3) - timedelta(days=1)),  # three whole months
        (first + timedelta(days=1), f.add_months(first, 2) + timedelta(days=9)),  # partial at both ends
        (first + timedelta(days=14), first + timedelta(days=14)),  # one day
        (f.add_months(first, 1) - timedelta(days=1), f.add_months(first, 1)),  # across a month's end
        (f.add_months(first, 1), f.add_months(first, 2) - timedelta(days=1)),  # one whole month
    ]
    for date_from, date_to in periods:
        expected = sum(date_from <= day <= date_to for day in days)
        selection = Selection(people.sup, org.company, Period(date_from, date_to))
        assert f.headline(selection).cases == expected, (date_from, date_to)
        assert sum(row.cases for row in f.monthly_trend(selection)) == expected


def test_audit_rows_are_checked_too(audits, people, org, dataset):  # noqa: F811
    assert in_step()
    connection = db.session.connection()
    connection.execute(update(AuditSectionStat).values(earned=AuditSectionStat.earned + 1))
    assert any(problem.startswith("audit_section_stats") for problem in stats.check(connection))


def test_deferred_changes_are_applied_once_at_the_end(people, org, make_case):
    """A bulk operation defers the roll-up: several flushes, one update, the same result."""
    connection = db.session.connection()
    today = f.local_date(utcnow())
    selection = Selection(people.sup, org.company, Period(today - timedelta(days=30), today))
    with stats.deferred(db.session):
        first = make_case()
        db.session.flush()
        first.channel = Channel.media  # touched again in a later flush
        make_case()
        db.session.flush()
        assert f.headline(selection).cases == 0  # nothing applied yet
    assert f.headline(selection).cases == 2
    assert {row.key: row.cases for row in f.by_channel(selection)}[Channel.media] == 1
    assert stats.check(connection) == []


@pytest.mark.parametrize("defer", [False, True])
def test_a_batch_registered_outside_the_unit_of_work_is_counted(people, org, defer):
    """register_cases writes a batch with one INSERT per table, which the flush hook never sees:
    it counts the cases and their clocks itself, at once or when the deferred block ends."""
    today = f.local_date(utcnow())
    selection = Selection(people.sup, org.company, Period(today - timedelta(days=30), today))
    received = utcnow() - timedelta(days=2)
    items = [ops.NewCase(Channel.hotline_95598, unit, received, f"批量登记{i}",
                         complainant=ops.Complainant(phone="13800000000"), external_ref=f"BATCH-{i}")
             for i, unit in enumerate([org.hall, org.team, org.other_station])]
    with stats.deferred(db.session) if defer else nullcontext():
        registered = ops.register_cases(items, actor=people.sup)
        if defer:
            assert f.headline(selection).cases == 0
    assert f.headline(selection).cases == 3
    assert f.headline(selection, now=received + timedelta(days=400)).overdue_steps == 6  # contact + handling each
    assert in_step()
    case = registered[1][0]
    assert case in db.session and case.unit is org.team and {d.kind for d in case.deadlines} == {
        DeadlineKind.contact, DeadlineKind.handling}
    assert case.state.value == "registered" and case.version == 1 and not case.measures
