"""``seed-demo``: a believable organisation and demo accounts, created once, found again after.

Every step looks records up by their natural key (unit code, username) first, so running the
command twice changes nothing.
"""
from dataclasses import dataclass, field

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


def seed_demo(*, password: str, cases: int = 200, audits: int = 40, echo=lambda message: None) -> SeedSummary:
    summary = SeedSummary()
    _seed_units(ORGANISATION, None, summary)
    echo(f"Units: {summary.units_created} created.")
    _seed_users(password, summary)
    echo(f"Users: {summary.users_created} created.")
    summary.violation_types_created = seed_violation_types()
    echo(f"Violation types: {summary.violation_types_created} created.")
    summary.checklists_created = seed_checklists()
    echo(f"Checklists: {summary.checklists_created} created.")
    db.session.flush()
    summary.cases_created = seed_demo_cases(count=cases, echo=echo)
    summary.audits_created = seed_demo_audits(count=audits, echo=echo)
    return summary
