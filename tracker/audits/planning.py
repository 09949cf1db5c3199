"""Audit plans (检查计划) and coverage: who visits which unit when, and what was missed.

Operations flush, never commit, and write history (``audit_plan:<id>``). Reads are scoped to
the user. Plans reveal when mystery shoppers will come, so only supervision staff (who
edit them, within their scope) and administrators (who read them) see them: never unit
heads, never external supervisors.

Coverage counts *visits*: submitted or approved audits (drafts may be abandoned, returned
ones are still to be corrected and re-submitted) with ``visited_at`` in the period, at the
audited levels (supply stations and business halls).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.audits.models import Audit, AuditPlan, AuditPlanEntry
from tracker.audits.scorecards import local_today
from tracker.audits.states import AuditKind, AuditState
from tracker.cases.queries import local_day_start
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.history import record_event
from tracker.core.permissions import can_see_unit, is_admin, is_supervisor, scope_path
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import in_subtree
from tracker.units.states import UnitLevel

AUDITED_LEVELS = (UnitLevel.station, UnitLevel.hall)
VISIT_STATES = (AuditState.submitted, AuditState.approved)
OVER_VISIT_FACTOR = 2  # "far more often": more than twice the median of the visited units
MAX_PLAN_DAYS = 366


# --- permissions ------------------------------------------------------------------------------


def can_view_plans(user) -> bool:
    return is_supervisor(user) or is_admin(user)


def can_edit_plans(user) -> bool:
    """Supervision staff plan the visits; administrators only read the plans."""
    return is_supervisor(user)


# --- reads ------------------------------------------------------------------------------------


def plans_visible_to(user):
    """Statement over the plans a user may see: all of them for the whole organisation; for a
    scoped supervisor the plans made inside their scope or with an entry inside it."""
    stmt = select(AuditPlan).order_by(AuditPlan.period_from.desc(), AuditPlan.id.desc())
    if not can_view_plans(user):
        return stmt.where(False)
    prefix = scope_path(user)
    if prefix is None:
        return stmt
    made_inside = exists().where(
        User.id == AuditPlan.created_by_id, Unit.id == User.unit_id, in_subtree(Unit.path, prefix)
    )
    entry_inside = exists().where(
        AuditPlanEntry.plan_id == AuditPlan.id,
        Unit.id == AuditPlanEntry.unit_id,
        in_subtree(Unit.path, prefix),
    )
    return stmt.where(made_inside | entry_inside)


def get_plan_for(user, plan_id: int) -> AuditPlan:
    plan = db.session.scalar(plans_visible_to(user).where(AuditPlan.id == plan_id))
    if plan is None:
        raise NotFound()
    return plan


def plan_entries_for(user, plan: AuditPlan) -> list[AuditPlanEntry]:
    """The plan's entries for units in the user's scope, by date."""
    stmt = (
        select(AuditPlanEntry)
        .join(Unit, AuditPlanEntry.unit_id == Unit.id)
        .where(AuditPlanEntry.plan_id == plan.id)
        .order_by(AuditPlanEntry.planned_on, Unit.path, AuditPlanEntry.id)
        .options(selectinload(AuditPlanEntry.unit), selectinload(AuditPlanEntry.auditor))
    )
    prefix = scope_path(user)
    if prefix is not None:
        stmt = stmt.where(in_subtree(Unit.path, prefix))
    return list(db.session.scalars(stmt))


def get_entry_for(user, plan: AuditPlan, entry_id: int) -> AuditPlanEntry:
    entry = db.session.get(AuditPlanEntry, entry_id)
    if entry is None or entry.plan_id != plan.id or not can_see_unit(user, entry.unit):
        raise NotFound()
    return entry


def auditor_candidates() -> list[User]:
    """Active supervision staff, who may be planned as auditors."""
    return list(db.session.scalars(
        select(User)
        .where(User.role == Role.supervisor, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ))


def audited_units(user, unit: Unit | None = None) -> list[Unit]:
    """Active stations and halls in the user's scope (and the unit's subtree), in tree order."""
    stmt = select(Unit).where(Unit.level.in_(AUDITED_LEVELS), Unit.active.is_(True)).order_by(Unit.path)
    return list(db.session.scalars(stmt.where(*_scope(user, unit))))


def _scope(user, unit):
    if not can_view_plans(user):
        return [False]
    conditions = []
    prefix = scope_path(user)
    if prefix is not None:
        conditions.append(in_subtree(Unit.path, prefix))
    if unit is not None:
        conditions.append(in_subtree(Unit.path, unit.path))
    return conditions


def _visits_in(date_from: date, date_to: date):
    return [
        Audit.state.in_(VISIT_STATES),
        Audit.visited_at >= local_day_start(date_from),
        Audit.visited_at < local_day_start(date_to + timedelta(days=1)),
    ]


def visit_counts(user, *, date_from: date, date_to: date, unit: Unit | None = None) -> dict[int, int]:
    """{unit id: visits in the period} for the units in scope that had any."""
    rows = db.session.execute(
        select(Audit.unit_id, func.count(Audit.id))
        .join(Unit, Audit.unit_id == Unit.id)
        .where(*_visits_in(date_from, date_to), *_scope(user, unit))
        .group_by(Audit.unit_id)
    ).all()
    return {unit_id: count for unit_id, count in rows}


@dataclass
class EntryStatus:
    entry: AuditPlanEntry
    status: str  # "done", "overdue" (planned day passed, not done) or "pending"

    @property
    def label(self):
        return {"done": _l("done"), "overdue": _l("overdue"), "pending": _l("planned")}[self.status]


def entry_statuses(user, plan: AuditPlan, *, today: date | None = None) -> list[EntryStatus]:
    """Each visible entry of the plan, done or not. An entry is done when a visit of its unit
    and kind lies in the plan's period; with several entries for one unit and kind, the
    visits count against the earliest entries first (three planned, two made: the last is
    not done)."""
    today = today or local_today()
    entries = plan_entries_for(user, plan)
    unit_ids = {e.unit_id for e in entries}
    made = {}
    if unit_ids:
        rows = db.session.execute(
            select(Audit.unit_id, Audit.kind, func.count(Audit.id))
            .where(*_visits_in(plan.period_from, plan.period_to), Audit.unit_id.in_(unit_ids))
            .group_by(Audit.unit_id, Audit.kind)
        ).all()
        made = {(unit_id, AuditKind(kind)): count for unit_id, kind, count in rows}
    statuses = []
    for entry in entries:  # ordered by planned_on
        key = (entry.unit_id, entry.kind)
        if made.get(key, 0) > 0:
            made[key] -= 1
            status = "done"
        else:
            status = "overdue" if entry.planned_on < today else "pending"
        statuses.append(EntryStatus(entry, status))
    return statuses


@dataclass
class Coverage:
    date_from: date
    date_to: date
    unit: Unit | None
    not_visited: list[Unit]
    over_visited: list[tuple[Unit, int]]  # (unit, visits), most visited first
    median_visits: float | None
    visited: int  # audited units with at least one visit
    audited: int  # audited units in scope
    entries: list[EntryStatus] = field(default_factory=list)

    def entries_with(self, status):
        return [e for e in self.entries if e.status == status]


def coverage(user, *, date_from: date, date_to: date, unit: Unit | None = None, plan: AuditPlan | None = None,
             today: date | None = None) -> Coverage:
    """Which stations and halls of the scope were not visited in the period, which were
    visited far more often than the others, and (with a plan) which planned visits were
    made and which are overdue."""
    units = audited_units(user, unit)
    counts = visit_counts(user, date_from=date_from, date_to=date_to, unit=unit)
    visited = [counts[u.id] for u in units if counts.get(u.id)]
    middle = median(visited) if visited else None
    over = sorted(
        ((u, counts[u.id]) for u in units
         if middle is not None and counts.get(u.id, 0) > OVER_VISIT_FACTOR * middle),
        key=lambda pair: (-pair[1], pair[0].path),
    )
    result = Coverage(
        date_from=date_from,
        date_to=date_to,
        unit=unit,
        not_visited=[u for u in units if not counts.get(u.id)],
        over_visited=over,
        median_visits=middle,
        visited=len(visited),
        audited=len(units),
    )
    if plan is not None:
        statuses = entry_statuses(user, plan, today=today)
        if unit is not None:
            statuses = [s for s in statuses if s.entry.unit.path.startswith(unit.path)]
        result.entries = statuses
    return result


# --- operations -------------------------------------------------------------------------------


def _check_editor(actor):
    if not can_edit_plans(actor):
        raise PermissionDenied()


def create_plan(*, actor, name: str, period_from: date, period_to: date) -> AuditPlan:
    _check_editor(actor)
    name = (name or "").strip()
    fields = {}
    if not name:
        fields["name"] = [_l("A name is required.")]
    elif len(name) > 120:
        fields["name"] = [_l("At most 120 characters.")]
    if period_from is None:
        fields["period_from"] = [_l("A start date is required.")]
    if period_to is None:
        fields["period_to"] = [_l("An end date is required.")]
    elif period_from is not None and period_to < period_from:
        fields["period_to"] = [_l("The end of the period lies before its start.")]
    elif period_from is not None and (period_to - period_from).days >= MAX_PLAN_DAYS:
        fields["period_to"] = [_l("A plan covers at most one year.")]
    if fields:
        raise ValidationError(fields=fields)
    plan = AuditPlan(name=name, period_from=period_from, period_to=period_to, created_by_id=actor.id)
    db.session.add(plan)
    db.session.flush()
    record_event(
        actor=actor, action="create_audit_plan", subject=f"audit_plan:{plan.id}",
        data={"name": name, "period_from": period_from.isoformat(), "period_to": period_to.isoformat()},
    )
    return plan


def add_plan_entry(plan: AuditPlan, *, actor, unit: Unit | None, auditor: User | None, kind: AuditKind,
                   planned_on: date) -> AuditPlanEntry:
    """Plan one visit. The unit must be active and in the actor's scope, the day inside the
    plan's period, and the auditor (if named yet) an active supervisor who may see the unit."""
    _check_editor(actor)
    fields = {}
    if unit is None:
        fields["unit_code"] = [_l("Choose a unit.")]
    elif not can_see_unit(actor, unit):
        fields["unit_code"] = [_l("This unit is outside your scope.")]
    elif not unit.active:
        fields["unit_code"] = [_l("This unit is deactivated.")]
    if planned_on is None:
        fields["planned_on"] = [_l("A date is required.")]
    elif not plan.period_from <= planned_on <= plan.period_to:
        fields["planned_on"] = [_l(
            "The date lies outside the plan's period (%(start)s – %(end)s).",
            start=plan.period_from.isoformat(), end=plan.period_to.isoformat(),
        )]
    if auditor is not None:
        if not is_supervisor(auditor):
            fields["auditor_id"] = [_l("The auditor must be an active member of the supervision staff.")]
        elif "unit_code" not in fields and not can_see_unit(auditor, unit):
            fields["auditor_id"] = [_l("This unit is outside the auditor's scope.")]
    if not fields:
        duplicate = db.session.scalar(
            select(AuditPlanEntry.id).where(
                AuditPlanEntry.plan_id == plan.id, AuditPlanEntry.unit_id == unit.id,
                AuditPlanEntry.kind == kind, AuditPlanEntry.planned_on == planned_on,
            )
        )
        if duplicate is not None:
            fields["planned_on"] = [_l("This visit is already in the plan.")]
    if fields:
        raise ValidationError(fields=fields)
    entry = AuditPlanEntry(unit_id=unit.id, auditor_id=auditor.id if auditor else None, kind=kind,
                           planned_on=planned_on)
    plan.entries.append(entry)
    db.session.flush()
    record_event(
        actor=actor, action="add_audit_plan_entry", subject=f"audit_plan:{plan.id}",
        data={"entry_id": entry.id, "unit": unit.code, "kind": kind.value,
              "planned_on": planned_on.isoformat(), "auditor_id": entry.auditor_id},
    )
    return entry


def remove_plan_entry(entry: AuditPlanEntry, *, actor) -> None:
    """Take a planned visit out of the plan; an entry an audit was recorded against stays."""
    _check_editor(actor)
    if not can_see_unit(actor, entry.unit):
        raise NotFound()
    if db.session.scalar(select(Audit.id).where(Audit.plan_entry_id == entry.id).limit(1)) is not None:
        raise ValidationError(_l("An audit was recorded for this planned visit; it stays in the plan."))
    plan = entry.plan
    data = {"entry_id": entry.id, "unit": entry.unit.code, "kind": entry.kind.value,
            "planned_on": entry.planned_on.isoformat(), "auditor_id": entry.auditor_id}
    plan.entries.remove(entry)  # delete-orphan
    db.session.flush()
    record_event(actor=actor, action="remove_audit_plan_entry", subject=f"audit_plan:{plan.id}", data=data)
