"""Enums of the case domain and the transition table. Pure Python, no database.

The table says, for each action, which role performs it, from which states, and where the
case goes; operations enforce it, permissions read it to offer exactly the allowed actions.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tracker.accounts.states import Role
from tracker.core.enums import LabelledEnum


class Channel(LabelledEnum):
    hotline_95598 = "hotline_95598"
    regulator_12398 = "regulator_12398"
    petition = "petition"
    media = "media"
    external_supervisor = "external_supervisor"
    walk_in = "walk_in"
    online = "online"
    audit = "audit"

    @classmethod
    def _labels(cls):
        return {
            "hotline_95598": _l("95598 work order"),
            "regulator_12398": _l("12398 regulator hotline"),
            "petition": _l("Petition"),
            "media": _l("Media / internet"),
            "external_supervisor": _l("External supervisor"),
            "walk_in": _l("Walk-in"),
            "online": _l("Online"),
            "audit": _l("Audit finding"),
        }


class CaseState(LabelledEnum):
    registered = "registered"
    inquiring = "inquiring"
    determined = "determined"
    appealed = "appealed"
    rectifying = "rectifying"
    rectification_submitted = "rectification_submitted"
    verified = "verified"
    closed = "closed"

    @classmethod
    def _labels(cls):
        return {
            "registered": _l("Registered"),
            "inquiring": _l("Under inquiry"),
            "determined": _l("Determined"),
            "appealed": _l("Appealed"),
            "rectifying": _l("Rectifying"),
            "rectification_submitted": _l("Rectification submitted"),
            "verified": _l("Rectification verified"),
            "closed": _l("Closed"),
        }


OPEN_STATES = frozenset(CaseState) - {CaseState.closed}


class Outcome(LabelledEnum):
    substantiated = "substantiated"
    partly_substantiated = "partly_substantiated"
    unfounded = "unfounded"
    overturned = "overturned"

    @classmethod
    def _labels(cls):
        return {
            "substantiated": _l("Substantiated"),
            "partly_substantiated": _l("Partly substantiated"),
            "unfounded": _l("Unfounded"),
            "overturned": _l("Overturned on appeal"),
        }


# Outcomes a determination may record (the other two come from mark_unfounded / an appeal).
DETERMINATION_OUTCOMES = (Outcome.substantiated, Outcome.partly_substantiated)


class Severity(LabelledEnum):
    general = "general"
    serious = "serious"
    grave = "grave"

    @classmethod
    def _labels(cls):
        return {"general": _l("General"), "serious": _l("Serious"), "grave": _l("Grave")}

    @property
    def rank(self):
        return list(Severity).index(self)


class ViolationCategory(LabelledEnum):
    ten_prohibitions = "ten_prohibitions"
    service = "service"
    business_process = "business_process"
    outage = "outage"
    supply_quality = "supply_quality"
    grid_construction = "grid_construction"

    @classmethod
    def _labels(cls):
        return {
            "ten_prohibitions": _l("Ten prohibitions"),
            "service": _l("Service"),
            "business_process": _l("Business process"),
            "outage": _l("Outage and reconnection"),
            "supply_quality": _l("Supply quality"),
            "grid_construction": _l("Grid construction"),
        }


class ResponsibilityKind(LabelledEnum):
    direct = "direct"
    management = "management"
    leadership = "leadership"

    @classmethod
    def _labels(cls):
        return {
            "direct": _l("Direct responsibility"),
            "management": _l("Management responsibility"),
            "leadership": _l("Leadership responsibility"),
        }


class MeasureKind(LabelledEnum):
    warning_interview = "warning_interview"
    circulated_criticism = "circulated_criticism"
    written_self_examination = "written_self_examination"
    performance_points = "performance_points"
    fine = "fine"
    reassignment = "reassignment"
    disciplinary_referral = "disciplinary_referral"

    @classmethod
    def _labels(cls):
        return {
            "warning_interview": _l("Warning interview"),
            "circulated_criticism": _l("Circulated criticism"),
            "written_self_examination": _l("Written self-examination"),
            "performance_points": _l("Performance points deduction"),
            "fine": _l("Financial penalty"),
            "reassignment": _l("Reassignment"),
            "disciplinary_referral": _l("Disciplinary referral"),
        }


class FollowUpResult(LabelledEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"

    @classmethod
    def _labels(cls):
        return {
            "satisfied": _l("Satisfied"),
            "basically_satisfied": _l("Basically satisfied"),
            "unsatisfied": _l("Unsatisfied"),
        }


class AppealDecision(LabelledEnum):
    upheld = "upheld"
    amended = "amended"
    overturned = "overturned"

    @classmethod
    def _labels(cls):
        return {"upheld": _l("Upheld"), "amended": _l("Amended"), "overturned": _l("Overturned")}


class DeadlineKind(LabelledEnum):
    contact = "contact"
    handling = "handling"
    regulator_reply = "regulator_reply"
    explanation = "explanation"
    appeal_window = "appeal_window"
    appeal_decision = "appeal_decision"
    rectification = "rectification"
    follow_up = "follow_up"

    @classmethod
    def _labels(cls):
        return {
            "contact": _l("Contact the complainant"),
            "handling": _l("Handling opinion to the complainant"),
            "regulator_reply": _l("Reply to the 12398 transfer"),
            "explanation": _l("Explanation"),
            "appeal_window": _l("Appeal window"),
            "appeal_decision": _l("Appeal decision"),
            "rectification": _l("Rectification"),
            "follow_up": _l("Follow-up call"),
        }


# Working days per clock (DESIGN.md §4); the administrator can change them (DeadlineSetting).
DEFAULT_DEADLINE_DAYS = {
    DeadlineKind.contact: 1,
    DeadlineKind.handling: 7,
    DeadlineKind.regulator_reply: 10,
    DeadlineKind.explanation: 3,
    DeadlineKind.appeal_window: 5,
    DeadlineKind.appeal_decision: 5,
    DeadlineKind.rectification: 10,
    DeadlineKind.follow_up: 3,
}

# Who must act when a clock runs (the appeal window only runs, nobody is late on it).
DEADLINE_OWNER = {
    DeadlineKind.contact: Role.supervisor,
    DeadlineKind.handling: Role.supervisor,
    DeadlineKind.regulator_reply: Role.supervisor,
    DeadlineKind.explanation: Role.unit_head,
    DeadlineKind.appeal_window: None,
    DeadlineKind.appeal_decision: Role.supervisor,
    DeadlineKind.rectification: Role.unit_head,
    DeadlineKind.follow_up: Role.supervisor,
}


class Action(LabelledEnum):
    start_inquiry = "start_inquiry"
    record_inquiry = "record_inquiry"
    request_explanation = "request_explanation"
    submit_explanation = "submit_explanation"
    mark_unfounded = "mark_unfounded"
    determine = "determine"
    accept_determination = "accept_determination"
    appeal = "appeal"
    decide_appeal = "decide_appeal"
    schedule_interview = "schedule_interview"
    record_interview = "record_interview"
    acknowledge_interview = "acknowledge_interview"
    submit_rectification = "submit_rectification"
    return_rectification = "return_rectification"
    accept_rectification = "accept_rectification"
    close = "close"
    record_follow_up = "record_follow_up"
    reopen = "reopen"
    extend_deadline = "extend_deadline"
    merge_into = "merge_into"
    grant_complainant_access = "grant_complainant_access"
    complete_measure = "complete_measure"
    pause_deadline = "pause_deadline"
    resume_deadline = "resume_deadline"

    @classmethod
    def _labels(cls):
        return {
            "start_inquiry": _l("Start the inquiry"),
            "record_inquiry": _l("Record the inquiry (三问)"),
            "request_explanation": _l("Request an explanation"),
            "submit_explanation": _l("Submit the explanation"),
            "mark_unfounded": _l("Mark as unfounded"),
            "determine": _l("Determine responsibility"),
            "accept_determination": _l("Accept the determination"),
            "appeal": _l("Appeal"),
            "decide_appeal": _l("Decide the appeal"),
            "schedule_interview": _l("Schedule a warning interview"),
            "record_interview": _l("Record a held interview"),
            "acknowledge_interview": _l("Acknowledge the interview"),
            "submit_rectification": _l("Submit the rectification"),
            "return_rectification": _l("Return the rectification"),
            "accept_rectification": _l("Accept the rectification"),
            "close": _l("Close the case"),
            "record_follow_up": _l("Record the follow-up call"),
            "reopen": _l("Reopen"),
            "extend_deadline": _l("Extend a deadline"),
            "merge_into": _l("Merge into another case"),
            "grant_complainant_access": _l("Grant access to the complainant's data"),
            "complete_measure": _l("Mark a measure as carried out"),
            "pause_deadline": _l("Pause a deadline"),
            "resume_deadline": _l("Resume a deadline"),
        }


@dataclass(frozen=True)
class Transition:
    role: Role
    from_states: frozenset
    to_state: CaseState | None  # None: the state does not change (or the operation decides)


S = CaseState
TRANSITIONS = {
    Action.start_inquiry: Transition(Role.supervisor, frozenset({S.registered}), S.inquiring),
    Action.record_inquiry: Transition(Role.supervisor, frozenset({S.inquiring}), None),
    Action.request_explanation: Transition(Role.supervisor, frozenset({S.inquiring}), None),
    Action.submit_explanation: Transition(Role.unit_head, frozenset({S.inquiring}), None),
    Action.mark_unfounded: Transition(Role.supervisor, frozenset({S.inquiring}), S.closed),
    Action.determine: Transition(Role.supervisor, frozenset({S.inquiring}), S.determined),
    Action.accept_determination: Transition(Role.unit_head, frozenset({S.determined}), S.rectifying),
    Action.appeal: Transition(Role.unit_head, frozenset({S.determined}), S.appealed),
    Action.decide_appeal: Transition(Role.supervisor, frozenset({S.appealed}), None),
    Action.schedule_interview: Transition(Role.supervisor, frozenset({S.determined, S.rectifying}), None),
    Action.record_interview: Transition(
        Role.supervisor, frozenset({S.rectifying, S.rectification_submitted, S.verified}), None
    ),
    Action.acknowledge_interview: Transition(
        Role.unit_head, frozenset({S.rectifying, S.rectification_submitted, S.verified}), None
    ),
    Action.submit_rectification: Transition(Role.unit_head, frozenset({S.rectifying}), S.rectification_submitted),
    Action.return_rectification: Transition(Role.supervisor, frozenset({S.rectification_submitted}), S.rectifying),
    Action.accept_rectification: Transition(Role.supervisor, frozenset({S.rectification_submitted}), S.verified),
    Action.close: Transition(Role.supervisor, frozenset({S.verified}), S.closed),
    Action.record_follow_up: Transition(Role.supervisor, frozenset({S.closed}), None),
    Action.reopen: Transition(Role.supervisor, frozenset({S.closed}), S.inquiring),
    Action.extend_deadline: Transition(Role.supervisor, OPEN_STATES, None),
    Action.merge_into: Transition(Role.supervisor, frozenset({S.registered, S.inquiring}), S.closed),
    Action.grant_complainant_access: Transition(Role.supervisor, frozenset(CaseState), None),
    Action.complete_measure: Transition(
        Role.supervisor, frozenset({S.determined, S.rectifying, S.rectification_submitted, S.verified}), None
    ),
    Action.pause_deadline: Transition(Role.supervisor, OPEN_STATES, None),
    Action.resume_deadline: Transition(Role.supervisor, OPEN_STATES, None),
}
