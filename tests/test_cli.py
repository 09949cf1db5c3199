from datetime import date

from sqlalchemy import func, select

from tracker.accounts.models import User
from tracker.cases.models import Case
from tracker.core.history import verify_chain
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.states import UnitLevel


def test_create_user(runner, org):
    result = runner.invoke(
        args=["create-user", "--username", "head1", "--password", "long-enough-1", "--role", "unit_head", "--unit", "C-N-1"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "head1"))
    assert user.unit.code == "C-N-1"


def test_create_user_reports_errors(runner):
    result = runner.invoke(args=["create-user", "--username", "x", "--password", "short", "--role", "supervisor"])
    assert result.exit_code != 0
    assert "password" in result.output
    result = runner.invoke(
        args=["create-user", "--username", "y", "--password", "long-enough-1", "--role", "unit_head", "--unit", "NOPE"]
    )
    assert result.exit_code != 0
    assert "Unknown unit code" in result.output


def test_seed_demo_is_idempotent_and_believable(runner):
    first = runner.invoke(args=["seed-demo", "--password", "demo-pass-1", "--cases", "40"])
    assert first.exit_code == 0, first.output
    units = db.session.scalar(select(func.count()).select_from(Unit))
    users = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["seed-demo", "--password", "demo-pass-1", "--cases", "40"])
    assert second.exit_code == 0, second.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == units
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    levels = dict(db.session.execute(select(Unit.level, func.count()).group_by(Unit.level)).all())
    assert levels[UnitLevel.company] == 1 and levels[UnitLevel.county] == 3 and levels[UnitLevel.station] >= 12
    assert levels[UnitLevel.hall] >= 12 and levels[UnitLevel.team] >= 12
    roles = {u.role.value for u in db.session.scalars(select(User))}
    assert roles == {"admin", "supervisor", "unit_head", "external"}
    assert "sup_wang" in first.output and "demo-pass-1" in first.output
    # The demo cases were replayed through the real workflow: several states, an intact chain.
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.external_ref.like("DEMO-%"))) == 40
    states = set(db.session.scalars(select(Case.state).distinct()))
    assert len(states) >= 5
    assert verify_chain().ok


def test_stats_check_and_rebuild(runner, org, make_user):
    from datetime import timedelta

    from sqlalchemy import update

    from tracker.cases import operations as ops
    from tracker.cases.states import Channel
    from tracker.core.database import utcnow
    from tracker.reports.models import CaseDayStat

    sup = make_user("supervisor", username="sup_cli")
    ops.register_case(actor=sup, channel=Channel.hotline_95598, unit=org.hall,
                      received_at=utcnow() - timedelta(hours=2), summary="营业厅无人值守")
    db.session.flush()
    result = runner.invoke(args=["stats", "check"])
    assert result.exit_code == 0, result.output
    db.session.execute(update(CaseDayStat).values(cases=CaseDayStat.cases + 1))
    result = runner.invoke(args=["stats", "check"])
    assert result.exit_code == 1 and "stats rebuild" in result.output
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["stats", "check"]).exit_code == 0


def test_seed_demo_declares_the_years_after_the_holiday_package(runner, undeclared_years):
    """The demo's clocks run weeks past today: the years the package does not cover, up to next
    year, are declared by the demo administrator with New Year's Day entered, and recorded."""
    from tracker.cases.deadlines import current_calendar
    from tracker.cases.models import CalendarYear
    from tracker.core.calendar import WorkingCalendar
    from tracker.core.database import utcnow
    from tracker.core.history import HistoryEvent

    today = current_calendar().local_date(utcnow())
    expected = list(range(WorkingCalendar.covered_years()[-1] + 1, today.year + 2))
    result = runner.invoke(args=["seed-demo", "--password", "demo-pass-1", "--cases", "0", "--audits", "0"])
    assert result.exit_code == 0, result.output
    assert [y.year for y in db.session.scalars(select(CalendarYear).order_by(CalendarYear.year))] == expected
    declared = db.session.scalars(select(HistoryEvent.subject).where(HistoryEvent.action == "calendar_year_declared"))
    assert sorted(declared) == [f"calendar-year:{year}" for year in expected]
    for year in expected:
        assert current_calendar().is_working_day(date(year, 1, 1)) is False  # 元旦
        assert current_calendar().is_working_day(date(year, 1, 4)) is (date(year, 1, 4).weekday() < 5)
