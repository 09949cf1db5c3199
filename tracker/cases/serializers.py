"""The Case as API.md describes it, seen by one user (complainant masked per role)."""
from tracker.cases.permissions import available_actions
from tracker.cases.privacy import complainant_for, event_actor_for
from tracker.core.database import utcnow


def _iso(value):
    return value.isoformat() if value is not None else None


def deadline_to_dict(deadline, now):
    return {
        "kind": deadline.kind.value,
        "started_at": _iso(deadline.started_at),
        "due_at": _iso(deadline.due_at),
        "met_at": _iso(deadline.met_at),
        "paused": deadline.paused_at is not None,
        "extended_days": deadline.extended_days,
        "overdue": deadline.is_overdue(now),
    }


def case_to_dict(case, user, *, with_actions=True, granted=None):
    """``granted``: for lists, whether the user holds a complainant grant (read for all rows at once)."""
    now = utcnow()
    return {
        "number": case.number,
        "state": case.state.value,
        "outcome": case.outcome.value if case.outcome else None,
        "channel": case.channel.value,
        "external_ref": case.external_ref,
        "unit_code": case.unit.code,
        "unit_name": case.unit.name,
        "received_at": _iso(case.received_at),
        "summary": case.summary,
        "details": case.details,
        "complainant": complainant_for(user, case, granted=granted),
        "violation_type_code": case.violation_type.code if case.violation_type else None,
        "severity": case.severity.value if case.severity else None,
        "version": case.version,
        "deadlines": [deadline_to_dict(d, now) for d in case.deadlines if d.cancelled_at is None],
        "inquiry": {
            "facts": case.inquiry_facts,
            "persons": case.inquiry_persons,
            "accountability": case.inquiry_accountability,
        },
        "explanation": {
            "requested_at": _iso(case.explanation_requested_at),
            "text": case.explanation_text,
            "submitted_at": _iso(case.explanation_submitted_at),
        },
        "responsibilities": [
            {"id": r.id, "unit_code": r.unit.code, "person_name": r.person_name, "kind": r.kind.value}
            for r in case.responsibilities
        ],
        "measures": [
            {
                "id": m.id,
                "kind": m.kind.value,
                "responsibility_id": m.responsibility_id,
                "points": m.points,
                "amount": float(m.amount) if m.amount is not None else None,
                "done": m.done,
            }
            for m in case.measures
        ],
        "interviews": [
            {
                "id": i.id,
                "measure_id": i.measure_id,
                "scheduled_at": _iso(i.scheduled_at),
                "location": i.location,
                "interviewer": i.interviewer,
                "held_at": _iso(i.held_at),
                "minutes": i.minutes,
                "acknowledged_at": _iso(i.acknowledged_at),
            }
            for i in case.interviews
        ],
        "appeal": {
            "grounds": case.appeal_grounds,
            "appealed_at": _iso(case.appealed_at),
            "decision": case.appeal_decision.value if case.appeal_decision else None,
            "reason": case.appeal_reason,
            "decided_at": _iso(case.appeal_decided_at),
        },
        "rectification": {
            "text": case.rectification_text,
            "submitted_at": _iso(case.rectification_submitted_at),
            "returned_reason": case.rectification_returned_reason,
            "accepted_at": _iso(case.rectification_accepted_at),
            "note": case.rectification_note,
        },
        "follow_up": (
            {"result": case.follow_up_result.value, "note": case.follow_up_note, "at": _iso(case.follow_up_at)}
            if case.follow_up_result
            else None
        ),
        "merged_into": case.merged_into.number if case.merged_into else None,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "available_actions": [a.value for a in available_actions(user, case)] if with_actions else None,
    }


def event_to_dict(event, viewer, case):
    return {
        "seq": event.seq,
        "at": _iso(event.at),
        "actor": event_actor_for(viewer, case, event),
        "action": event.action,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
