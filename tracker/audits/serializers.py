"""The Audit and the checklist as API.md describes them, seen by one user (auditors by pseudonym
for those who may not know them)."""
from tracker.audits.queries import ordered_results
from tracker.audits.permissions import auditor_display, available_actions, can_record


def _iso(value):
    return value.isoformat() if value is not None else None


def audit_to_dict(audit, user) -> dict:
    return {
        "id": audit.id,
        "kind": audit.kind.value,
        "template_code": audit.template.code,
        "template_version": audit.template.version,
        "template_name": audit.template.name,
        "unit_code": audit.unit.code,
        "unit_name": audit.unit.name,
        "visited_at": _iso(audit.visited_at),
        "state": audit.state.value,
        "score": float(audit.score) if audit.score is not None else None,
        "critical_failed": audit.critical_failed,
        "note": audit.note,
        "returned_reason": audit.returned_reason,
        "submitted_at": _iso(audit.submitted_at),
        "approved_at": _iso(audit.approved_at),
        "results": [
            {
                "item_code": r.item.code,
                "result": r.result.value if r.result else None,
                "note": r.note,
                "weight": r.item.weight,
                "critical": r.item.critical,
                "case_number": r.case.number if r.case is not None else None,
            }
            for r in ordered_results(audit)
        ],
        "auditors": [label.as_dict() for label in auditor_display(user, audit)],
        "version": audit.version,
        "created_at": _iso(audit.created_at),
        "updated_at": _iso(audit.updated_at),
        "available_actions": (["record"] if can_record(user, audit) else [])
        + [a.value for a in available_actions(user, audit)],
    }


def template_to_dict(template) -> dict:
    return {
        "code": template.code,
        "name": template.name,
        "name_en": template.name_en,
        "kind": template.kind.value,
        "version": template.version,
        "sections": [
            {
                "name": section.name,
                "name_en": section.name_en,
                "items": [
                    {
                        "code": item.code,
                        "text": item.text,
                        "weight": item.weight,
                        "critical": item.critical,
                        "violation_type_code": item.violation_type.code if item.violation_type else None,
                        "clause": item.clause,
                    }
                    for item in section.items
                ],
            }
            for section in template.sections
        ],
    }
