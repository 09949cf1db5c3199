"""One operation per audit verb, shared by the web pages and the API (STYLE.md §4–§8).

Each takes the record, the acting user and validated values; checks the rules
(``tracker.audits.permissions``), changes the records and appends a history event in the same
transaction. They flush, never commit.

History events of audits name their people by pseudonym code only (``"auditors": ["A-07"]``),
so no event data carries an auditor's name (DESIGN.md §5). The actor of an event is who acted,
as everywhere; events of an audit are not shown to the audited unit.
"""
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from tracker.audits.models import (
    Audit,
    AuditorPseudonym,
    AuditResult,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)
from tracker.audits.permissions import can_create_audit, check_audit_action, pseudonym_label
from tracker.audits.queries import audit_score, audits_on
from tracker.audits.states import TEMPLATE_KINDS, AuditAction, AuditKind, AuditState, ItemResult
from tracker.cases import operations as case_ops
from tracker.cases.models import Attachment, Case, ViolationType
from tracker.cases.states import CaseState, Channel
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition, PermissionDenied, ValidationError, VersionConflict
from tracker.core.history import record_event
from tracker.core.permissions import can_manage_checklists, can_see_unit, is_supervisor
from tracker.extensions import db
from tracker.seed.data_checklists import CHECKLISTS

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NOTE_MAX_LENGTH = 2000
SUMMARY_MAX_LENGTH = 200  # Case.summary

# --- plumbing ---------------------------------------------------------------------------------


def lock_audit(audit: Audit) -> None:
    """Bump the audit's version if nobody changed it since it was loaded, else VersionConflict.

    The same conditional UPDATE as ``tracker.cases.operations.lock_for_change``: it takes the
    row lock, so of two concurrent writers exactly one wins; the version rises by one per change.
    """
    now = utcnow()
    result = db.session.execute(
        update(Audit)
        .where(Audit.id == audit.id, Audit.version == audit.version)
        .values(version=Audit.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise VersionConflict()
    set_committed_value(audit, "version", audit.version + 1)
    set_committed_value(audit, "updated_at", now)


def _begin(audit, actor, action: AuditAction, version):
    check_audit_action(actor, audit, action, version=version)
    lock_audit(audit)


def _log(audit, actor, action: str, data=None):
    return record_event(actor=actor, action=action, subject=f"audit:{audit.id}",
                        data={"state": audit.state.value, **(data or {})})


# --- pseudonyms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pseudonym:
    code: str  # "A-07": stable for the person across all audits

    @property
    def display(self) -> str:
        """“暗访员 A-07” in the reader's language."""
        return pseudonym_label(self.code)

    def __str__(self):
        return self.code


_PSEUDONYM = re.compile(r"^A-(\d+)$")


def pseudonym_for(user) -> Pseudonym:
    """The person's pseudonym; the next free number is given on first use and kept for good."""
    existing = db.session.get(AuditorPseudonym, user.id)
    if existing is not None:
        return Pseudonym(existing.code)
    for _attempt in range(5):
        taken = [int(m.group(1)) for code in db.session.scalars(select(AuditorPseudonym.code))
                 if (m := _PSEUDONYM.match(code))]
        code = f"A-{max(taken, default=0) + 1:02d}"
        try:
            # A savepoint: a concurrent first use taking the same number is retried, not fatal.
            with db.session.begin_nested():
                db.session.add(AuditorPseudonym(user_id=user.id, code=code))
        except IntegrityError:
            existing = db.session.get(AuditorPseudonym, user.id)
            if existing is not None:
                return Pseudonym(existing.code)
            continue
        return Pseudonym(code)
    raise VersionConflict()


# --- checklist templates ----------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_LENGTHS = {"name": 120, "name_en": 160, "code": 32, "clause": 255}


def _text(value, limit, *, required, label, errors):
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if required and not value:
        errors.append(_("%(what)s: this field is required.", what=label))
    elif len(value) > limit:
        errors.append(_("%(what)s: at most %(n)s characters.", what=label, n=limit))
    return value


def _clean_item(spec, *, position, seen, previous_types, errors):
    code = (spec.get("code") or "").strip().upper()
    where = code or _("item %(n)s", n=position)
    if not code or len(code) > _LENGTHS["code"] or not _CODE.match(code):
        errors.append(_("%(item)s: the code is up to %(n)s letters, digits, - and _.", item=where, n=_LENGTHS["code"]))
    elif code in seen:
        errors.append(_("%(item)s: the code is used twice.", item=where))
    seen.add(code)
    text = _text(spec.get("text"), 20000, required=True, label=where, errors=errors)
    weight = spec.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        errors.append(_("%(item)s: the weight is a whole number from 1 to 100.", item=where))
    vt_code = (spec.get("violation_type_code") or "").strip().upper()
    violation_type = db.session.scalar(select(ViolationType).where(ViolationType.code == vt_code)) if vt_code else None
    # A deactivated type is not offered any more, but an item that already cites it may keep it.
    if violation_type is None or not (violation_type.active or previous_types.get(code) == vt_code):
        errors.append(_("%(item)s: choose a violation type of the catalogue.", item=where))
    clause = _text(spec.get("clause"), _LENGTHS["clause"], required=False, label=where, errors=errors)
    return {"code": code, "text": text, "weight": weight, "critical": bool(spec.get("critical")),
            "violation_type": violation_type, "clause": clause}


def _clean_template(*, name, name_en, sections, previous_types=None) -> dict:
    """Check a whole template; one ValidationError names every problem (fields name, sections)."""
    name_errors, errors = [], []
    name = _text(name, _LENGTHS["name"], required=True, label=_("Name"), errors=name_errors)
    name_en = _text(name_en, _LENGTHS["name_en"], required=False, label=_("English name"), errors=name_errors)
    seen, clean_sections, count = set(), [], 0
    for s_index, section in enumerate(sections or (), start=1):
        label = _("section %(n)s", n=s_index)
        s_name = _text(section.get("name"), _LENGTHS["name"], required=True, label=label, errors=errors)
        s_name_en = _text(section.get("name_en"), _LENGTHS["name_en"], required=False, label=label, errors=errors)
        items = []
        for spec in section.get("items") or ():
            count += 1
            items.append(_clean_item(spec, position=count, seen=seen, previous_types=previous_types or {}, errors=errors))
        if not items:
            errors.append(_("%(section)s: a section needs at least one item.", section=s_name or label))
        clean_sections.append({"name": s_name, "name_en": s_name_en, "items": items})
    if count == 0:
        errors.append(_("A checklist needs at least one item."))
    fields = {}
    if name_errors:
        fields["name"] = name_errors
    if errors:
        fields["sections"] = errors
    if fields:
        raise ValidationError(fields=fields)
    return {"name": name, "name_en": name_en, "sections": clean_sections}


def _fill(template, clean):
    """Sections and items of a template that has its id (items carry the template's id too)."""
    for s_pos, section in enumerate(clean["sections"]):
        row = ChecklistSection(position=s_pos, name=section["name"], name_en=section["name_en"])
        template.sections.append(row)
        for i_pos, item in enumerate(section["items"]):
            row.items.append(ChecklistItem(
                template_id=template.id, position=i_pos, code=item["code"], text=item["text"],
                weight=item["weight"], critical=item["critical"], violation_type=item["violation_type"],
                clause=item["clause"],
            ))


def _snapshot(template) -> dict:
    return {
        "name": template.name,
        "name_en": template.name_en,
        "sections": [
            {"name": s.name, "name_en": s.name_en, "items": [
                {"code": i.code, "text": i.text, "weight": i.weight, "critical": i.critical,
                 "violation_type_code": i.violation_type.code if i.violation_type else None, "clause": i.clause}
                for i in s.items
            ]}
            for s in template.sections
        ],
    }


def _clean_snapshot(clean) -> dict:
    return {
        "name": clean["name"],
        "name_en": clean["name_en"],
        "sections": [
            {"name": s["name"], "name_en": s["name_en"], "items": [
                {"code": i["code"], "text": i["text"], "weight": i["weight"], "critical": i["critical"],
                 "violation_type_code": i["violation_type"].code, "clause": i["clause"]}
                for i in s["items"]
            ]}
            for s in clean["sections"]
        ],
    }


def _item_changes(before, after) -> dict:
    old = {i["code"]: i for s in before["sections"] for i in s["items"]}
    new = {i["code"]: i for s in after["sections"] for i in s["items"]}
    return {
        "added": [c for c in new if c not in old],
        "removed": [c for c in old if c not in new],
        "changed": [c for c in new if c in old and new[c] != old[c]],
    }


def _new_template(*, code, version, kind, clean, actor) -> ChecklistTemplate:
    template = ChecklistTemplate(code=code, version=version, kind=kind, name=clean["name"], name_en=clean["name_en"],
                                 active=True, created_by_id=actor.id if actor is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(template)
    except IntegrityError:
        # Someone created this version at the same moment.
        raise VersionConflict() from None
    _fill(template, clean)
    db.session.flush()
    return template


def seed_checklists(entries=None) -> int:
    """Add the standard checklist templates that are missing (by code); returns the number created.

    Needs the violation catalogue (``seed_violation_types``) first.
    """
    existing = set(db.session.scalars(select(ChecklistTemplate.code)))
    created = []
    for spec in CHECKLISTS if entries is None else entries:
        if spec["code"] in existing:
            continue
        clean = _clean_template(name=spec["name"], name_en=spec.get("name_en", ""), sections=spec["sections"])
        _new_template(code=spec["code"], version=1, kind=AuditKind(spec["kind"]), clean=clean, actor=None)
        existing.add(spec["code"])
        created.append(spec["code"])
    if created:
        record_event(actor=None, action="checklists_seeded", subject="checklists", data={"created": created})
    return len(created)


def revise_template(template: ChecklistTemplate, *, actor, name, name_en="", sections) -> ChecklistTemplate:
    """Change a checklist. A version audits were recorded on is never changed: the changes become
    the next version (the old one is kept, inactive); an unused version is edited in place.

    ``sections``: ``[{"name", "name_en", "items": [{"code", "text", "weight", "critical",
    "violation_type_code", "clause"}]}]``. Returns the current version.
    """
    if not can_manage_checklists(actor):
        raise PermissionDenied()
    if not template.active:
        raise InvalidTransition(_l("Only the current version of a checklist can be changed."))
    previous_types = {i.code: i.violation_type.code for s in template.sections for i in s.items if i.violation_type}
    clean = _clean_template(name=name, name_en=name_en, sections=sections, previous_types=previous_types)
    before, after = _snapshot(template), _clean_snapshot(clean)
    if before == after:
        return template
    if audits_on(template):
        template.active = False
        db.session.flush()
        target = _new_template(code=template.code, version=template.version + 1, kind=template.kind,
                               clean=clean, actor=actor)
    else:
        template.name, template.name_en = clean["name"], clean["name_en"]
        template.sections.clear()
        db.session.flush()  # the old items go first: the new ones may reuse their codes
        _fill(template, clean)
        db.session.flush()
        target = template
    record_event(
        actor=actor, action="checklist_revised", subject=f"checklist:{template.code}",
        data={"from_version": template.version, "to_version": target.version,
              "name": {"before": before["name"], "after": after["name"]}, **_item_changes(before, after)},
    )
    return target


# --- audits -----------------------------------------------------------------------------------


def _auditor_users(auditors) -> list:
    users, errors = [], []
    for user in auditors or ():
        if user is None or not is_supervisor(user):
            errors.append(_("Auditors are active supervision staff."))
            continue
        if user not in users:
            users.append(user)
    if errors:
        raise ValidationError(fields={"auditors": errors[:1]})
    return users


def create_audit(*, actor, kind, template, unit, visited_at, auditors=(), note="") -> Audit:
    """A draft audit of the unit on the template's current version, one empty result per item."""
    if not can_create_audit(actor):
        raise PermissionDenied(_l("Only supervision staff file audits."))
    kind = AuditKind(kind)
    if unit is None or not can_see_unit(actor, unit):
        raise ValidationError(_l("Unknown unit."), field="unit_code")
    if not unit.active:
        raise ValidationError(_l("The unit is deactivated."), field="unit_code")
    if template is None or not template.active:
        raise ValidationError(_l("Choose a current checklist."), field="template_code")
    if template.kind not in TEMPLATE_KINDS[kind]:
        raise ValidationError(_l("This checklist is not for this kind of audit."), field="template_code")
    if visited_at > utcnow():
        raise ValidationError(_l("The visit cannot be in the future."), field="visited_at")
    note = (note or "").strip()
    if len(note) > 20000:
        raise ValidationError(_l("At most %(n)s characters.", n=20000), field="note")
    people = _auditor_users(auditors)
    audit = Audit(kind=kind, template=template, unit=unit, visited_at=visited_at, note=note, author_id=actor.id,
                  state=AuditState.draft, version=1)
    audit.auditors = people
    for section in template.sections:
        for item in section.items:
            audit.results.append(AuditResult(item=item, result=None, note=""))
    db.session.add(audit)
    db.session.flush()
    codes = [pseudonym_for(p).code for p in [actor, *[p for p in people if p.id != actor.id]]]
    _log(audit, actor, "audit_created", {
        "kind": kind.value, "template": template.code, "template_version": template.version, "unit": unit.code,
        "visited_at": visited_at.isoformat(), "auditors": codes,
    })
    return audit


def _parse_results(audit, results) -> list:
    """[(AuditResult, new result or ..., new note or ...)]; ``...`` leaves a value as it is."""
    by_code = {r.item.code: r for r in audit.results}
    parsed, errors = [], []
    for entry in results or ():
        code = (entry.get("item_code") or "").strip() if isinstance(entry, dict) else ""
        row = by_code.get(code)
        if row is None:
            errors.append(_("This checklist has no item %(code)s.", code=code or "—"))
            continue
        value = ...
        if "result" in entry:
            raw = entry["result"]
            if raw in (None, ""):
                value = None
            elif raw in ItemResult._value2member_map_:
                value = ItemResult(raw)
            else:
                errors.append(_("%(code)s: the result is pass, fail or na.", code=code))
                continue
        note = ...
        if entry.get("note") is not None:
            note = str(entry["note"]).strip()
            if len(note) > NOTE_MAX_LENGTH:
                errors.append(_("%(code)s: the note has at most %(n)s characters.", code=code, n=NOTE_MAX_LENGTH))
                continue
        parsed.append((row, value, note))
    if errors:
        raise ValidationError(fields={"results": errors})
    return parsed


def record_results(audit: Audit, *, actor, version, results) -> Audit:
    """Save some or all results (partial saves while the audit is a draft or returned).

    ``results``: ``[{"item_code", "result": "pass"|"fail"|"na"|None, "note"}]``; a key left out
    keeps its value. A save that changes nothing does not move the version.
    """
    check_audit_action(actor, audit, AuditAction.record, version=version)
    changes = []
    parsed = _parse_results(audit, results)
    for row, value, note in parsed:
        change = {}
        if value is not ... and value != row.result:
            change["result"] = [row.result.value if row.result else None, value.value if value else None]
        if note is not ... and note != row.note:
            change["note"] = note
        if change:
            changes.append((row, value, note, {"item": row.item.code, **change}))
    if not changes:
        return audit
    lock_audit(audit)
    for row, value, note, _change in changes:
        if value is not ...:
            row.result = value
        if note is not ...:
            row.note = note
    db.session.flush()
    _log(audit, actor, "audit_results_recorded", {"changes": [c[3] for c in changes]})
    return audit


def submit_audit(audit: Audit, *, actor, version=None) -> Audit:
    """Every item answered: the score is computed and the audit waits for review."""
    _begin(audit, actor, AuditAction.submit, version)
    result = audit_score(audit)
    audit.score, audit.critical_failed = result.percent, result.critical_failed
    audit.state, audit.submitted_at = AuditState.submitted, utcnow()
    _log(audit, actor, "audit_submitted", {
        "score": str(result.percent) if result.percent is not None else None,
        "critical_failed": result.critical_failed,
    })
    return audit


def return_audit(audit: Audit, *, actor, reason, version=None) -> Audit:
    _begin(audit, actor, AuditAction.return_, version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("This field is required."), field="reason")
    audit.state, audit.returned_reason = AuditState.returned, reason
    _log(audit, actor, "audit_returned", {"reason": reason})
    return audit


def _open_case_for(unit_id, violation_type_id):
    """The open case of the unit and violation type a finding joins, the latest received."""
    if violation_type_id is None:
        return None
    return db.session.scalar(
        select(Case).where(
            Case.unit_id == unit_id,
            Case.violation_type_id == violation_type_id,
            Case.state != CaseState.closed,
            Case.merged_into_id.is_(None),
        ).order_by(Case.received_at.desc(), Case.id.desc()).limit(1)
    )


def _finding_details(audit, result) -> str:
    reference = _(
        "Found by audit #%(id)s (%(kind)s, %(template)s v%(version)s) on %(date)s, item %(code)s. %(clause)s",
        id=audit.id, kind=audit.kind.label, template=audit.template.name, version=audit.template.version,
        date=audit.visited_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d"), code=result.item.code,
        clause=result.item.clause,
    ).strip()
    return "\n\n".join(part for part in ((result.note or "").strip(), reference) if part)


def _take_finding(audit, result, actor) -> tuple[Case, bool, list[int]]:
    """Open a case for a failed item, or join the open case of the same unit and violation type."""
    item = result.item
    case = _open_case_for(audit.unit_id, item.violation_type_id)
    joined = case is not None
    if joined:
        case_ops.lock_for_change(case)
    else:
        active_type = item.violation_type if item.violation_type and item.violation_type.active else None
        case, _created = case_ops.register_case(
            actor=actor, channel=Channel.audit, unit=audit.unit, received_at=audit.visited_at,
            summary=item.text[:SUMMARY_MAX_LENGTH], details=_finding_details(audit, result),
            violation_type_code=active_type.code if active_type else None,
        )
    result.case = case
    evidence = db.session.scalars(select(Attachment).where(Attachment.audit_result_id == result.id)).all()
    for attachment in evidence:
        attachment.case_id = case.id
    if joined:
        case.updated_at = utcnow()
        record_event(
            actor=actor, action="audit_finding_joined", subject=f"case:{case.number}", case=case,
            data={"audit_id": audit.id, "item_code": item.code, "note": (result.note or "").strip(),
                  "attachments": [a.id for a in evidence]},
        )
    return case, joined, [a.id for a in evidence]


def approve_audit(audit: Audit, *, actor, version=None) -> list[Case]:
    """Approve (four eyes): every failed item opens a case or joins the open case of the same
    unit and violation type, and its evidence goes to that case. Returns those cases."""
    _begin(audit, actor, AuditAction.approve, version)
    now = utcnow()
    cases, findings = [], []
    for result in audit.results:
        if result.result != ItemResult.failed:
            continue
        case, joined, evidence = _take_finding(audit, result, actor)
        db.session.flush()
        if case not in cases:
            cases.append(case)
        findings.append({"item": result.item.code, "case": case.number, "joined": joined, "attachments": evidence})
    audit.state, audit.approved_at, audit.approved_by_id = AuditState.approved, now, actor.id
    _log(audit, actor, "audit_approved", {"findings": findings})
    db.session.flush()
    from tracker.reports import stats  # the dashboards' audit scores

    stats.add_approved_audit(db.session.connection(), audit)
    return cases


# --- one entry point for web and API ----------------------------------------------------------


def perform(audit: Audit, action: AuditAction, *, actor, version, **params) -> list[Case]:
    """Submit, approve or return, as the web form and the API endpoint both do; the cases the
    approval opened or joined (none for the others)."""
    if action == AuditAction.submit:
        submit_audit(audit, actor=actor, version=version)
    elif action == AuditAction.approve:
        return approve_audit(audit, actor=actor, version=version)
    elif action == AuditAction.return_:
        return_audit(audit, actor=actor, version=version, reason=params.get("reason"))
    else:
        raise InvalidTransition()
    return []
