"""Bulletins (通报) and external supervisors' feedback: rules, figures, reads.

A bulletin is drafted by supervision staff for a period and a unit subtree, then published.
Publication computes the figures once and FREEZES them in ``Bulletin.content``: what external
supervisors read never changes afterwards, whatever happens to the cases later. A published
version is immutable; a correction is a new draft version that, once published, supersedes
the old one (which stays readable and points at its successor).

The frozen content is anonymised (DESIGN.md §6): unit names and case numbers are public,
people are not. Responsibilities keep the unit, the level and the kind, never the person's
name (``responsibility_text`` renders "counter clerk of 城关营业厅" / "城关营业厅营业员");
the complainant's name, phone and address and every staff name the case records are removed
from the summary and facts that are quoted.

Operations flush, never commit (STYLE.md §5), and write a history event on subject
``bulletin:<id>`` (``feedback:<id>`` for feedback) in the same transaction.
"""
import hashlib
import re
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.cases.models import Case, Measure, Responsibility, ViolationType
from tracker.cases.queries import LOCAL_TZ, local_day_start
from tracker.cases.states import (
    DETERMINATION_OUTCOMES,
    CaseState,
    Channel,
    Outcome,
    ResponsibilityKind,
    Severity,
    ViolationCategory,
)
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from tracker.core.history import canonical_json, record_event
from tracker.core.permissions import can_see_unit, is_external, is_staff, is_supervisor, scope_path
from tracker.extensions import db
from tracker.reports.models import Bulletin, Feedback
from tracker.reports.states import BulletinState
from tracker.units.models import Unit
from tracker.units.queries import in_subtree
from tracker.units.states import UnitLevel

TITLE_MAX = 200
INTRODUCTION_MAX = 20_000
FEEDBACK_SUBJECT_MAX = 200
FEEDBACK_BODY_MAX = 5_000
ANSWER_MAX = 5_000
MAX_PERIOD_DAYS = 366
TYPICAL_CASES = 5
LEADING_TYPES = 5
CONTENT_SCHEMA = 1

# A determination counts in a bulletin once it is final: accepted, or the appeal window
# elapsed, or the appeal was decided (not overturned). Determined-but-appealable and
# appealed cases may still change, and a reopened case is under inquiry again.
FINAL_STATES = (CaseState.rectifying, CaseState.rectification_submitted, CaseState.verified, CaseState.closed)

# What replaces personal data in quoted text: the conventional mark of Chinese bulletins.
REDACTED = "×××"


# --- permissions (side-effect free) ------------------------------------------------------------


def _bulletin_in_scope(user, bulletin) -> bool:
    prefix = scope_path(user)
    if prefix is None:
        return True
    return bulletin.unit is not None and bulletin.unit.path.startswith(prefix)


def can_view_bulletin(user, bulletin) -> bool:
    """Published bulletins are public to every signed-in user; drafts to staff in scope."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if bulletin.state == BulletinState.published:
        return True
    return is_staff(user) and _bulletin_in_scope(user, bulletin)


def can_manage_bulletins(user) -> bool:
    """Draft, publish and correct bulletins at all (DESIGN.md §1: supervision staff)."""
    return is_supervisor(user)


def can_edit_bulletin(user, bulletin) -> bool:
    return can_manage_bulletins(user) and _bulletin_in_scope(user, bulletin)


def can_send_feedback(user) -> bool:
    return is_external(user)


def can_answer_feedback(user, feedback) -> bool:
    if not is_supervisor(user):
        return False
    if scope_path(user) is None:
        return True
    return feedback.bulletin is not None and _bulletin_in_scope(user, feedback.bulletin)


# --- queries (always scoped) -------------------------------------------------------------------


def bulletins_visible_to(user):
    """Statement over the bulletins the user may read: published ones for everybody signed in,
    drafts too for staff whose scope covers the bulletin's unit."""
    stmt = select(Bulletin)
    if not (user and user.is_authenticated and user.is_active):
        return stmt.where(False)
    published = Bulletin.state == BulletinState.published
    if not is_staff(user):
        return stmt.where(published)
    prefix = scope_path(user)
    if prefix is None:
        return stmt
    in_scope = exists().where(Unit.id == Bulletin.unit_id, in_subtree(Unit.path, prefix))
    return stmt.where(or_(published, in_scope))


def get_bulletin_for(user, bulletin_id) -> Bulletin:
    """The bulletin if the user may read it; otherwise NotFound (a draft does not exist for them)."""
    bulletin = db.session.get(Bulletin, bulletin_id) if isinstance(bulletin_id, int) else None
    if bulletin is None or not can_view_bulletin(user, bulletin):
        raise NotFound()
    return bulletin


def current_condition():
    """SQL: the published bulletin has no published successor (it is the valid version)."""
    successor = aliased(Bulletin)
    return ~exists().where(successor.supersedes_id == Bulletin.id, successor.state == BulletinState.published)


def published_bulletins(user):
    """Published bulletins, newest first (for lists and the portal)."""
    return (
        bulletins_visible_to(user)
        .where(Bulletin.state == BulletinState.published)
        .order_by(Bulletin.published_at.desc(), Bulletin.id.desc())
    )


def superseded_by(bulletin) -> Bulletin | None:
    """The published version that replaces this one, if any."""
    return db.session.scalar(
        select(Bulletin).where(Bulletin.supersedes_id == bulletin.id,
                               Bulletin.state == BulletinState.published)
    )


def superseded_ids(bulletins) -> set[int]:
    """Which of these bulletins a published correction has superseded (for list badges)."""
    ids = [b.id for b in bulletins]
    if not ids:
        return set()
    return set(db.session.scalars(
        select(Bulletin.supersedes_id).where(Bulletin.supersedes_id.in_(ids),
                                             Bulletin.state == BulletinState.published)
    ))


def pending_correction(bulletin) -> Bulletin | None:
    """A draft correction of this version being prepared, if any."""
    return db.session.scalar(
        select(Bulletin).where(Bulletin.supersedes_id == bulletin.id, Bulletin.state == BulletinState.draft)
    )


def latest_unit_summaries(user, *, limit=5):
    """The rankings of the latest valid published bulletin for each scope (the whole
    organisation, a county …), newest first. Only frozen content: nothing live from cases."""
    rows = db.session.scalars(
        published_bulletins(user).where(current_condition()).order_by(None)
        .order_by(Bulletin.period_to.desc(), Bulletin.published_at.desc(), Bulletin.id.desc())
        .limit(200)
    )
    summaries, seen = [], set()
    for bulletin in rows:
        if bulletin.unit_id in seen:
            continue
        seen.add(bulletin.unit_id)
        summaries.append(bulletin)
        if len(summaries) >= limit:
            break
    return summaries


def feedback_visible_to(user):
    """External supervisors: their own feedback. Supervisors: feedback in their scope (all of it
    for the whole organisation; about bulletins of their subtree otherwise). Nobody else."""
    stmt = select(Feedback)
    if is_external(user):
        return stmt.where(Feedback.author_id == user.id)
    if not is_supervisor(user):
        return stmt.where(False)
    prefix = scope_path(user)
    if prefix is None:
        return stmt
    return stmt.join(Feedback.bulletin).join(Bulletin.unit).where(in_subtree(Unit.path, prefix))


def get_feedback_for(user, feedback_id) -> Feedback:
    feedback = db.session.scalar(feedback_visible_to(user).where(Feedback.id == feedback_id))
    if feedback is None:
        raise NotFound()
    return feedback


# --- validation helpers ------------------------------------------------------------------------


def _text(value, field, maximum, *, required):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_l("This field is required."), field=field)
    if len(value) > maximum:
        raise ValidationError(_l("At most %(n)s characters.", n=maximum), field=field)
    return value


def _period(period_from, period_to):
    errors = {}
    if not isinstance(period_from, date):
        errors.setdefault("period_from", []).append(_l("A date is required."))
    if not isinstance(period_to, date):
        errors.setdefault("period_to", []).append(_l("A date is required."))
    if not errors:
        if period_to < period_from:
            errors["period_to"] = [_l("The period ends before it starts.")]
        elif (period_to - period_from).days >= MAX_PERIOD_DAYS:
            errors["period_to"] = [_l("A bulletin covers at most %(n)s days.", n=MAX_PERIOD_DAYS)]
    if errors:
        raise ValidationError(fields=errors)
    return period_from, period_to


def _scope_unit(actor, unit):
    """The bulletin's subtree: a unit in the actor's scope; a scoped supervisor's own unit when
    none is named (a subtree office cannot publish for the whole organisation)."""
    if unit is None:
        return None if scope_path(actor) is None else actor.unit
    if not can_see_unit(actor, unit):
        raise ValidationError(_l("Unknown unit."), field="unit_code")
    return unit


def _check_manager(actor, bulletin=None):
    if not can_manage_bulletins(actor):
        raise PermissionDenied(_l("Only supervision staff draft and publish bulletins."))
    if bulletin is not None and not _bulletin_in_scope(actor, bulletin):
        raise NotFound()


def _lock_draft(bulletin):
    """Re-read the state under a row lock: a bulletin published meanwhile is not a draft."""
    state = db.session.execute(
        select(Bulletin.state).where(Bulletin.id == bulletin.id).with_for_update()
    ).scalar_one()
    if BulletinState(state) != BulletinState.draft or bulletin.state != BulletinState.draft:
        raise InvalidTransition(_l("A published bulletin cannot be changed; publish a correction instead."))


def _log(bulletin, actor, action, data=None):
    return record_event(actor=actor, action=action, subject=f"bulletin:{bulletin.id}", data=data or {})


def _snapshot(bulletin):
    return {
        "title": bulletin.title,
        "period_from": bulletin.period_from.isoformat(),
        "period_to": bulletin.period_to.isoformat(),
        "unit": bulletin.unit.code if bulletin.unit else None,
        "introduction": bulletin.introduction,
    }


# --- operations on bulletins -------------------------------------------------------------------


def create_bulletin(*, actor, title, period_from, period_to, unit=None, introduction=""):
    _check_manager(actor)
    title = _text(title, "title", TITLE_MAX, required=True)
    introduction = _text(introduction, "introduction", INTRODUCTION_MAX, required=False)
    period_from, period_to = _period(period_from, period_to)
    unit = _scope_unit(actor, unit)
    bulletin = Bulletin(
        title=title, period_from=period_from, period_to=period_to, unit=unit, introduction=introduction,
        state=BulletinState.draft, version_no=1, created_by_id=actor.id,
    )
    db.session.add(bulletin)
    db.session.flush()
    _log(bulletin, actor, "create_bulletin", _snapshot(bulletin))
    return bulletin


_UNSET = object()


def update_bulletin(bulletin, *, actor, title=None, period_from=None, period_to=None, unit=_UNSET,
                    introduction=None):
    """Change a draft; ``None`` (or an omitted unit) keeps a value. Published → InvalidTransition."""
    _check_manager(actor, bulletin)
    _lock_draft(bulletin)
    before = _snapshot(bulletin)
    if title is not None:
        bulletin.title = _text(title, "title", TITLE_MAX, required=True)
    if introduction is not None:
        bulletin.introduction = _text(introduction, "introduction", INTRODUCTION_MAX, required=False)
    bulletin.period_from, bulletin.period_to = _period(
        period_from if period_from is not None else bulletin.period_from,
        period_to if period_to is not None else bulletin.period_to,
    )
    if unit is not _UNSET:
        if bulletin.supersedes_id is not None and unit != bulletin.unit:
            # A correction replaces the same bulletin; another subtree is another bulletin.
            raise ValidationError(_l("A correction keeps the unit of the bulletin it corrects."),
                                  field="unit_code")
        bulletin.unit = _scope_unit(actor, unit)
    after = _snapshot(bulletin)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    db.session.flush()
    if changed:
        _log(bulletin, actor, "update_bulletin", {"changed": changed})
    return bulletin


def publish_bulletin(bulletin, *, actor):
    """Compute the figures, freeze them and publish. A correction supersedes its predecessor."""
    _check_manager(actor, bulletin)
    _lock_draft(bulletin)
    previous = None
    if bulletin.supersedes_id is not None:
        previous = db.session.execute(
            select(Bulletin).where(Bulletin.id == bulletin.supersedes_id).with_for_update()
        ).scalar_one()
        if superseded_by(previous) is not None:
            raise InvalidTransition(_l("The version this corrects was already corrected by another version."))
    content = compute_content(bulletin)
    bulletin.content = content
    bulletin.state = BulletinState.published
    bulletin.published_at = utcnow()
    bulletin.published_by_id = actor.id
    db.session.flush()
    digest = hashlib.sha256(canonical_json(content).encode()).hexdigest()
    _log(bulletin, actor, "publish_bulletin", {
        "version_no": bulletin.version_no,
        "supersedes": previous.id if previous else None,
        "content_sha256": digest,
        "totals": content["totals"],
    })
    return bulletin


def correct_bulletin(published, *, actor, title=None, introduction=None, period_from=None, period_to=None):
    """A new draft version of a published bulletin (version_no + 1, supersedes it once published)."""
    _check_manager(actor, published)
    if published.state != BulletinState.published:
        raise InvalidTransition(_l("Only a published bulletin can be corrected; edit the draft instead."))
    if superseded_by(published) is not None:
        raise InvalidTransition(_l("This version was already superseded; correct the latest version."))
    existing = pending_correction(published)
    if existing is not None:
        raise InvalidTransition(
            _l("A correction (version %(n)s) is already being drafted.", n=existing.version_no)
        )
    draft = Bulletin(
        title=_text(title if title is not None else published.title, "title", TITLE_MAX, required=True),
        introduction=_text(introduction if introduction is not None else published.introduction,
                           "introduction", INTRODUCTION_MAX, required=False),
        unit=published.unit,
        state=BulletinState.draft,
        version_no=published.version_no + 1,
        supersedes_id=published.id,
        created_by_id=actor.id,
    )
    draft.period_from, draft.period_to = _period(
        period_from if period_from is not None else published.period_from,
        period_to if period_to is not None else published.period_to,
    )
    db.session.add(draft)
    db.session.flush()
    _log(draft, actor, "correct_bulletin", {"supersedes": published.id, "version_no": draft.version_no,
                                            **_snapshot(draft)})
    return draft


# --- feedback ----------------------------------------------------------------------------------


def send_feedback(*, actor, subject, body, bulletin=None):
    """An external supervisor's opinion or suggestion (征求意见和建议), optionally on a bulletin."""
    if not can_send_feedback(actor):
        raise PermissionDenied(_l("Only external supervisors send feedback here."))
    if bulletin is not None and bulletin.state != BulletinState.published:
        raise ValidationError(_l("Unknown bulletin."), field="bulletin_id")
    feedback = Feedback(
        bulletin=bulletin,
        author_id=actor.id,
        subject=_text(subject, "subject", FEEDBACK_SUBJECT_MAX, required=True),
        body=_text(body, "body", FEEDBACK_BODY_MAX, required=True),
    )
    db.session.add(feedback)
    db.session.flush()
    record_event(actor=actor, action="send_feedback", subject=f"feedback:{feedback.id}",
                 data={"bulletin": bulletin.id if bulletin else None, "subject": feedback.subject})
    return feedback


def answer_feedback(feedback, *, actor, answer):
    if not is_supervisor(actor):
        raise PermissionDenied(_l("Only supervision staff answer feedback."))
    if not can_answer_feedback(actor, feedback):
        raise NotFound()
    answer = _text(answer, "answer", ANSWER_MAX, required=True)
    if feedback.answered_at is not None:
        raise InvalidTransition(_l("This feedback has already been answered."))
    feedback.answer, feedback.answered_by_id, feedback.answered_at = answer, actor.id, utcnow()
    db.session.flush()
    record_event(actor=actor, action="answer_feedback", subject=f"feedback:{feedback.id}",
                 data={"answer": answer})
    return feedback


# --- figures -----------------------------------------------------------------------------------


def _cases_in(bulletin):
    """Cases of the bulletin's subtree received in its period (local dates), duplicates excluded."""
    start = local_day_start(bulletin.period_from)
    end = local_day_start(bulletin.period_to + timedelta(days=1))
    stmt = (
        select(Case.id)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.received_at >= start, Case.received_at < end, Case.merged_into_id.is_(None))
    )
    if bulletin.unit is not None:
        stmt = stmt.where(in_subtree(Unit.path, bulletin.unit.path))
    return stmt


def _substantiated():
    return (Case.outcome.in_(DETERMINATION_OUTCOMES)) & (Case.state.in_(FINAL_STATES))


def _points_by_case(case_ids):
    """Points deducted per case (sum of its measures' points)."""
    return (
        select(Measure.case_id, func.coalesce(func.sum(Measure.points), 0).label("points"))
        .where(Measure.case_id.in_(case_ids))
        .group_by(Measure.case_id)
        .subquery()
    )


def compute_content(bulletin) -> dict:
    """The bulletin's figures as plain, anonymised JSON (what publication freezes)."""
    in_scope = Case.id.in_(_cases_in(bulletin))
    substantiated = _substantiated()
    points = _points_by_case(select(Case.id).where(in_scope, substantiated))
    totals_row = db.session.execute(
        select(
            func.count(Case.id),
            func.count(sql_case((substantiated, 1))),
            func.count(sql_case((substantiated & (Case.outcome == Outcome.partly_substantiated), 1))),
            func.count(sql_case((Case.outcome.in_((Outcome.unfounded, Outcome.overturned)), 1))),
            func.count(sql_case((Case.state == CaseState.closed, 1))),
        ).where(in_scope)
    ).one()
    total_points = db.session.scalar(select(func.coalesce(func.sum(points.c.points), 0))) or 0
    received, n_substantiated, n_partly, n_unfounded, n_closed = totals_row

    ranking = _ranking(in_scope, substantiated, points)
    totals = {
        "received": received,
        "substantiated": n_substantiated,
        "partly_substantiated": n_partly,
        "unfounded": n_unfounded,
        "pending": received - n_substantiated - n_unfounded,
        "closed": n_closed,
        "points": int(total_points),
        "units_with_cases": len(ranking),
        "units_with_substantiated": sum(1 for row in ranking if row["substantiated"]),
    }
    return {
        "schema": CONTENT_SCHEMA,
        "generated_at": utcnow().isoformat(),
        "period": {"from": bulletin.period_from.isoformat(), "to": bulletin.period_to.isoformat()},
        "unit": _unit_ref(bulletin.unit) if bulletin.unit else None,
        "totals": totals,
        "ranking": ranking,
        "categories": _categories(in_scope, substantiated),
        "violation_types": _leading_types(in_scope, substantiated),
        "channels": _channels(in_scope, substantiated),
        "severities": _severities(in_scope, substantiated),
        "typical_cases": _typical_cases(in_scope, substantiated, points),
    }


def _unit_ref(unit):
    return {"code": unit.code, "name": unit.name, "level": unit.level.value}


def _ranking(in_scope, substantiated, points):
    """Units by substantiated cases, then points, then cases received (worst first).

    The unit a case counts for is the case's own unit (a station, hall or team in practice);
    equal figures share a rank."""
    rows = db.session.execute(
        select(
            Case.unit_id,
            func.count(Case.id),
            func.count(sql_case((substantiated, 1))),
            func.coalesce(func.sum(points.c.points), 0),
        )
        .outerjoin(points, points.c.case_id == Case.id)
        .where(in_scope)
        .group_by(Case.unit_id)
    ).all()
    units = {u.id: u for u in db.session.scalars(
        select(Unit).where(Unit.id.in_([r[0] for r in rows])).options(selectinload(Unit.parent))
    )}
    entries = []
    for unit_id, received, n_substantiated, n_points in rows:
        unit = units[unit_id]
        entries.append({
            **_unit_ref(unit),
            "parent_name": unit.parent.name if unit.parent else None,
            "received": received,
            "substantiated": n_substantiated,
            "points": int(n_points),
        })
    entries.sort(key=lambda e: (-e["substantiated"], -e["points"], -e["received"], e["code"]))
    for entry in entries:
        entry["rank"] = 1 + sum(
            1 for other in entries
            if (other["substantiated"], other["points"]) > (entry["substantiated"], entry["points"])
        )
    return entries


def _categories(in_scope, substantiated):
    rows = db.session.execute(
        select(ViolationType.category, func.count(Case.id))
        .join(Case.violation_type)
        .where(in_scope, substantiated)
        .group_by(ViolationType.category)
    ).all()
    entries = [{"category": ViolationCategory(c).value, "count": n} for c, n in rows]
    entries.sort(key=lambda e: (-e["count"], e["category"]))
    return entries


def _leading_types(in_scope, substantiated):
    rows = db.session.execute(
        select(ViolationType.code, ViolationType.name, ViolationType.name_en, ViolationType.category,
               func.count(Case.id).label("n"))
        .join(Case.violation_type)
        .where(in_scope, substantiated)
        .group_by(ViolationType.code, ViolationType.name, ViolationType.name_en, ViolationType.category)
    ).all()
    entries = [
        {"code": code, "name": name, "name_en": name_en or "", "category": ViolationCategory(category).value,
         "count": n}
        for code, name, name_en, category, n in rows
    ]
    entries.sort(key=lambda e: (-e["count"], e["code"]))
    return entries[:LEADING_TYPES]


def _channels(in_scope, substantiated):
    rows = db.session.execute(
        select(Case.channel, func.count(Case.id), func.count(sql_case((substantiated, 1))))
        .where(in_scope)
        .group_by(Case.channel)
    ).all()
    entries = [{"channel": Channel(ch).value, "received": n, "substantiated": s} for ch, n, s in rows]
    order = [c.value for c in Channel]
    entries.sort(key=lambda e: (-e["received"], order.index(e["channel"])))
    return entries


def _severities(in_scope, substantiated):
    rows = dict(db.session.execute(
        select(Case.severity, func.count(Case.id)).where(in_scope, substantiated).group_by(Case.severity)
    ).all())
    counts = {Severity(k).value if k is not None else None: v for k, v in rows.items()}
    return [{"severity": s.value, "count": counts.get(s.value, 0)} for s in Severity]


def _typical_cases(in_scope, substantiated, points):
    """Up to five substantiated cases, the gravest first (then the most points, the earliest)."""
    candidates = db.session.execute(
        select(Case.id, Case.severity, func.coalesce(points.c.points, 0), Case.received_at)
        .outerjoin(points, points.c.case_id == Case.id)
        .where(in_scope, substantiated)
    ).all()
    candidates.sort(key=lambda r: (-(Severity(r[1]).rank if r[1] else -1), -int(r[2]), r[3], r[0]))
    chosen = [r[0] for r in candidates[:TYPICAL_CASES]]
    cases = {c.id: c for c in db.session.scalars(
        select(Case).where(Case.id.in_(chosen)).options(
            selectinload(Case.unit),
            selectinload(Case.violation_type),
            selectinload(Case.responsibilities).selectinload(Responsibility.unit),
            selectinload(Case.measures),
            selectinload(Case.interviews),
        )
    )}
    return [anonymised_case(cases[case_id]) for case_id in chosen]


# --- anonymisation -----------------------------------------------------------------------------


def _phone_pattern(phone):
    """The phone's digits with any spaces, dashes or dots between them, optionally +86 first."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 5:
        return None
    return r"(?:\+?86[\s\-.]?)?" + r"[\s\-.]?".join(re.escape(d) for d in digits)


def _staff_names(case) -> list[str]:
    """Display names of the staff the case involves: everyone who acted on it and the heads of
    its unit and of the units held responsible."""
    user_ids = {case.created_by_id, case.determined_by_id, case.explanation_by_id, case.appealed_by_id,
                case.appeal_decided_by_id, case.rectification_submitted_by_id, case.rectification_accepted_by_id}
    user_ids |= {i.acknowledged_by_id for i in case.interviews}
    unit_ids = {case.unit_id} | {r.unit_id for r in case.responsibilities}
    return list(db.session.scalars(
        select(User.display_name).where(or_(User.id.in_(user_ids - {None}),
                                            (User.unit_id.in_(unit_ids)) & (User.role == Role.unit_head)))
    ))


def personal_strings(case) -> list[str]:
    """Every name and address the case records about people: complainant, responsible
    persons, interviewers, the staff involved. Single characters are left alone (they would
    eat ordinary words)."""
    values = [case.complainant_name, case.complainant_address]
    values += [r.person_name for r in case.responsibilities]
    values += [i.interviewer for i in case.interviews]
    values += _staff_names(case)
    cleaned = {v.strip() for v in values if v and len(v.strip()) >= 2}
    return sorted(cleaned, key=len, reverse=True)  # longest first: "张伟强" before "张伟"


def scrub(text, case) -> str:
    """The text with the case's personal data replaced by ×××."""
    text = text or ""
    for value in personal_strings(case):
        text = text.replace(value, REDACTED)
    pattern = _phone_pattern(case.complainant_phone)
    if pattern:
        text = re.sub(pattern, REDACTED, text)
    return text


def anonymised_case(case) -> dict:
    """A typical case as external readers see it: number, unit, violation, the facts — and
    people only by role."""
    vt = case.violation_type
    measures_by_responsibility = {}
    for m in case.measures:
        measures_by_responsibility.setdefault(m.responsibility_id, []).append(
            {"kind": m.kind.value, "points": m.points}
        )
    return {
        "number": case.number,
        "month": case.received_at.astimezone(LOCAL_TZ).strftime("%Y-%m"),
        "unit": {**_unit_ref(case.unit), "parent_name": case.unit.parent.name if case.unit.parent else None},
        "channel": case.channel.value,
        "outcome": case.outcome.value if case.outcome else None,
        "severity": case.severity.value if case.severity else None,
        "violation_type": (
            {"code": vt.code, "name": vt.name, "name_en": vt.name_en or "", "category": vt.category.value,
             "clause": vt.clause}
            if vt else None
        ),
        "summary": scrub(case.summary, case),
        "facts": scrub(case.inquiry_facts, case),
        "responsibilities": [
            {
                "unit_code": r.unit.code,
                "unit_name": r.unit.name,
                "unit_level": r.unit.level.value,
                "kind": r.kind.value,
                "person": bool(r.person_name),
                "measures": measures_by_responsibility.get(r.id, []),
            }
            for r in case.responsibilities
        ],
    }


# The person's role when a responsibility names someone: the staff of a business hall are
# counter clerks (营业员), of a team its members, and so on; management and leadership
# responsibility rest with the unit's head and the leader in charge.
_DIRECT_ROLES = {
    UnitLevel.hall: _l("counter clerk"),
    UnitLevel.team: _l("team member"),
    UnitLevel.station: _l("supply station employee"),
    UnitLevel.county: _l("employee"),
    UnitLevel.company: _l("employee"),
}
_KIND_ROLES = {
    ResponsibilityKind.management: _l("head"),
    ResponsibilityKind.leadership: _l("leader in charge"),
}


def person_role(unit_level: str, kind: str) -> str:
    kind = ResponsibilityKind(kind)
    if kind == ResponsibilityKind.direct:
        return str(_DIRECT_ROLES[UnitLevel(unit_level)])
    return str(_KIND_ROLES[kind])


def responsibility_text(entry: dict) -> str:
    """Who answers, without a name: "counter clerk of 城关营业厅" (城关营业厅营业员), or the unit."""
    if entry.get("person"):
        return _("%(role)s of %(unit)s", role=person_role(entry["unit_level"], entry["kind"]),
                 unit=entry["unit_name"])
    return entry["unit_name"]


def kind_label(kind: str) -> str:
    return str(ResponsibilityKind(kind).label)
