"""Reads of audits and checklists, always scoped to the user (STYLE.md §7)."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection, ChecklistTemplate
from tracker.audits.permissions import can_view_audit
from tracker.audits.scoring import Line, score, section_scores
from tracker.audits.states import AuditKind, AuditState
from tracker.cases.models import Attachment
from tracker.cases.queries import local_day_start
from tracker.core.errors import NotFound
from tracker.core.paging import keyset_page
from tracker.core.permissions import is_admin, is_staff, is_supervisor, scope_path
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import in_subtree


def audits_visible_to(user):
    """Statement over the audits the user may see: staff in scope; unit heads approved ones only."""
    stmt = select(Audit).join(Audit.unit)
    if not is_staff(user):
        return stmt.where(False)
    prefix = scope_path(user)
    if prefix is not None:
        stmt = stmt.where(in_subtree(Unit.path, prefix))
    if not (is_supervisor(user) or is_admin(user)):
        stmt = stmt.where(Audit.state == AuditState.approved)
    return stmt


def _with_results(stmt):
    return stmt.options(
        selectinload(Audit.results).selectinload(AuditResult.item),
        selectinload(Audit.results).selectinload(AuditResult.case),
        selectinload(Audit.auditors),
        selectinload(Audit.template),
        selectinload(Audit.unit),
    )


def get_audit_for(user, audit_id) -> Audit:
    """The audit if the user may see it; otherwise NotFound (no hint that it exists)."""
    audit = db.session.scalar(_with_results(select(Audit).where(Audit.id == audit_id)))
    if audit is None or not can_view_audit(user, audit):
        raise NotFound()
    return audit


@dataclass
class AuditFilters:
    unit: Unit | None = None
    kind: AuditKind | None = None
    state: AuditState | None = None
    date_from: date | None = None
    date_to: date | None = None


def filtered_audits(user, filters: AuditFilters):
    stmt = audits_visible_to(user)
    if filters.unit is not None:
        stmt = stmt.where(in_subtree(Unit.path, filters.unit.path))
    if filters.kind is not None:
        stmt = stmt.where(Audit.kind == filters.kind)
    if filters.state is not None:
        stmt = stmt.where(Audit.state == filters.state)
    if filters.date_from is not None:
        stmt = stmt.where(Audit.visited_at >= local_day_start(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(Audit.visited_at < local_day_start(filters.date_to + timedelta(days=1)))
    return stmt


def list_audits(user, filters: AuditFilters, *, cursor=None, limit=50, with_results=False):
    """One page of the user's audits, latest visit first; returns (audits, next_cursor)."""
    stmt = filtered_audits(user, filters).options(
        selectinload(Audit.unit), selectinload(Audit.template), selectinload(Audit.author), selectinload(Audit.auditors)
    )
    if with_results:
        stmt = _with_results(stmt)
    return keyset_page(
        db.session, stmt, [Audit.visited_at, Audit.id], cursor=cursor, limit=limit, descending=True,
        parse=lambda values: [datetime.fromisoformat(values[0]), int(values[1])],
    )


# --- one audit --------------------------------------------------------------------------------


def ordered_results(audit) -> list[AuditResult]:
    """The audit's results in checklist order (section, then item position)."""
    by_item = {r.item_id: r for r in audit.results}
    return [by_item[i.id] for s in audit.template.sections for i in s.items if i.id in by_item]


def score_lines(audit) -> list[Line]:
    return [Line(r.item.weight, r.result, r.item.critical, r.item.section_id) for r in audit.results]


def audit_score(audit):
    return score(score_lines(audit))


@dataclass
class SectionView:
    section: ChecklistSection
    results: list
    score: object


def results_by_section(audit) -> list[SectionView]:
    """The audit's results grouped by the sections of its template version, in checklist order."""
    by_item = {r.item_id: r for r in audit.results}
    scores = section_scores(score_lines(audit))
    views = []
    for section in audit.template.sections:
        results = [by_item[i.id] for i in section.items if i.id in by_item]
        views.append(SectionView(section, results, scores.get(section.id, score([]))))
    return views


def attachments_by_result(audit) -> dict[int, list]:
    """The evidence of each item of the audit (also after its case received it)."""
    ids = [r.id for r in audit.results]
    if not ids:
        return {}
    grouped: dict[int, list] = {}
    rows = db.session.scalars(
        select(Attachment).where(Attachment.audit_result_id.in_(ids))
        .options(selectinload(Attachment.uploaded_by))
        .order_by(Attachment.uploaded_at, Attachment.id)
    )
    for attachment in rows:
        grouped.setdefault(attachment.audit_result_id, []).append(attachment)
    return grouped


def finding_cases(audit) -> list:
    """The cases the audit's failed items opened or joined, each once, in item order."""
    seen, cases = set(), []
    for result in audit.results:
        if result.case is not None and result.case.id not in seen:
            seen.add(result.case.id)
            cases.append(result.case)
    return cases


def findings_of_case(user, case) -> list[AuditResult]:
    """The audit items that opened or joined this case, of audits the user may see."""
    results = db.session.scalars(
        select(AuditResult).where(AuditResult.case_id == case.id)
        .options(selectinload(AuditResult.audit), selectinload(AuditResult.item))
        .order_by(AuditResult.id)
    ).all()
    return [r for r in results if can_view_audit(user, r.audit)]


# --- checklists -------------------------------------------------------------------------------


def _with_items(stmt):
    return stmt.options(
        selectinload(ChecklistTemplate.sections).selectinload(ChecklistSection.items)
        .selectinload(ChecklistItem.violation_type)
    )


def active_templates(kind=None):
    stmt = select(ChecklistTemplate).where(ChecklistTemplate.active.is_(True)).order_by(ChecklistTemplate.code)
    if kind is not None:
        stmt = stmt.where(ChecklistTemplate.kind == kind)
    return db.session.scalars(_with_items(stmt)).all()


def active_template(code) -> ChecklistTemplate | None:
    return db.session.scalar(
        _with_items(select(ChecklistTemplate).where(ChecklistTemplate.code == code,
                                                    ChecklistTemplate.active.is_(True)))
    )


def get_template(template_id) -> ChecklistTemplate:
    template = db.session.scalar(_with_items(select(ChecklistTemplate).where(ChecklistTemplate.id == template_id)))
    if template is None:
        raise NotFound()
    return template


def template_versions():
    """Every template version with the number of audits recorded on it, by code then version."""
    counts = dict(db.session.execute(select(Audit.template_id, func.count()).group_by(Audit.template_id)).all())
    templates = db.session.scalars(
        select(ChecklistTemplate).options(selectinload(ChecklistTemplate.sections).selectinload(ChecklistSection.items))
        .order_by(ChecklistTemplate.code, ChecklistTemplate.version.desc())
    ).all()
    return [(t, counts.get(t.id, 0)) for t in templates]


def audits_on(template) -> int:
    return db.session.scalar(select(func.count()).select_from(Audit).where(Audit.template_id == template.id))


def auditor_candidates(user):
    """Supervisors who may be listed as auditors (active supervision staff)."""
    return db.session.scalars(
        select(User).where(User.role == Role.supervisor, User.active.is_(True)).order_by(User.display_name)
    ).all()
