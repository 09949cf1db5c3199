"""``seed-demo``: a believable organisation and demo accounts, created once, found again after.

Every step looks records up by their natural key (unit code, username) first, so running the
command twice changes nothing.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from tracker.accounts import operations as account_ops
from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.audits.operations import seed_checklists
from tracker.catalogue.operations import seed_violation_types
from tracker.seed.data_org import DEMO_USERS, ORGANISATION
from tracker.seed.demo_audits import seed_demo_audits
from tracker.seed.demo_cases import seed_demo_cases
from tracker.units import operations as unit_ops
from tracker.units.queries import get_unit_by_code
from tracker.units.states import UnitLevel
from tracker.extensions import db


@dataclass
class SeedSummary:
    units_created: int = 0
    users: list = field(default_factory=list)
    users_created: int = 0
    violation_types_created: int = 0
    cases_created: int = 0
    checklists_created: int = 0
    audits_created: int = 0
    calendar_years_declared: list = field(default_factory=list)


def _seed_units(nodes, parent, summary):
    for node in nodes:
        unit = get_unit_by_code(node["code"])
        if unit is None:
            unit = unit_ops.create_unit(
                actor=None, code=node["code"], name=node["name"], level=UnitLevel(node["level"]), parent=parent
            )
            summary.units_created += 1
        _seed_units(node.get("children", ()), unit, summary)


def _seed_users(password, summary):
    for spec in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == spec["username"]))
        if user is None:
            user = account_ops.create_user(
                actor=None,
                username=spec["username"],
                display_name=spec["display_name"],
                password=password,
                role=Role(spec["role"]),
                unit=get_unit_by_code(spec["unit_code"]) if spec.get("unit_code") else None,
                email=spec.get("email"),
            )
            summary.users_created += 1
        summary.users.append(user)


def _seed_calendar(summary):
    """Declare the years after the holiday package's up to next year, so that the demo's clocks
    can be counted whatever the date. Only New Year's Day is entered: the notes say that the rest
    of the official schedule must be entered before real use (docs/design-notes.md)."""
    from tracker.cases.models import CalendarOverride, CalendarYear
    from tracker.core.calendar import WorkingCalendar, default_calendar
    from tracker.core.database import utcnow
    from tracker.settings import operations as settings_ops

    admin = next(user for user in summary.users if user.role == Role.admin)
    last_covered = WorkingCalendar.covered_years()[-1]
    for year in range(last_covered + 1, default_calendar().local_date(utcnow()).year + 2):
        if db.session.get(CalendarYear, year) is not None:
            continue
        new_year = date(year, 1, 1)
        if db.session.get(CalendarOverride, new_year) is None:
            settings_ops.add_calendar_override(actor=admin, day=new_year, is_working_day=False,
                                               note="元旦（演示数据）")
        settings_ops.declare_calendar_year(actor=admin, year=year,
                                           note="演示数据：仅录入元旦，正式使用前请录入国务院办公厅公布的安排")
        summary.calendar_years_declared.append(year)


def seed_demo(*, password: str, cases: int = 200, audits: int = 40, echo=lambda message: None) -> SeedSummary:
    summary = SeedSummary()
    _seed_units(ORGANISATION, None, summary)
    echo(f"Units: {summary.units_created} created.")
    _seed_users(password, summary)
    echo(f"Users: {summary.users_created} created.")
    _seed_calendar(summary)
    if summary.calendar_years_declared:
        echo(f"Calendar years declared: {', '.join(map(str, summary.calendar_years_declared))}.")
    summary.violation_types_created = seed_violation_types()
    echo(f"Violation types: {summary.violation_types_created} created.")
    summary.checklists_created = seed_checklists()
    echo(f"Checklists: {summary.checklists_created} created.")
    db.session.flush()
    summary.cases_created = seed_demo_cases(count=cases, echo=echo)
    summary.audits_created = seed_demo_audits(count=audits, echo=echo)
    return summary
