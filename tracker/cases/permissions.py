"""Who may see a case and who may take which action now. Side-effect free.

``check_action`` raises the domain error that explains a refusal (403 role or scope, 409
state); ``can_perform`` is the same question as a bool, for templates and action lists.
"""
from flask_babel import lazy_gettext as _l

from tracker.accounts.states import Role
from tracker.cases.states import TRANSITIONS, Action, CaseState, DeadlineKind, MeasureKind
from tracker.core.database import utcnow
from tracker.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
    VersionConflict,
)
from tracker.core.permissions import can_see_unit, is_staff, is_supervisor


def can_view_case(user, case) -> bool:
    return is_staff(user) and can_see_unit(user, case.unit)


def _state_error(case):
    return InvalidTransition(
        _l("This action is not allowed while the case is “%(state)s”.", state=case.state.label)
    )


def _explanation_pending(case):
    return case.explanation_requested_at is not None and case.explanation_submitted_at is None


def _guard_submit_explanation(user, case):
    if not _explanation_pending(case):
        raise InvalidTransition(_l("No explanation has been requested, or it was already submitted."))


def _guard_appeal(user, case):
    window = case.deadline(DeadlineKind.appeal_window)
    if window is not None and window.due_at < utcnow():
        raise InvalidTransition(_l("The appeal window has elapsed."))


def _guard_decide_appeal(user, case):
    if case.determined_by_id == user.id:
        raise PermissionDenied(_l("The appeal must be decided by a supervisor other than the one who determined."))


def _guard_schedule_interview(user, case):
    if not any(m.kind == MeasureKind.warning_interview for m in case.measures):
        raise InvalidTransition(_l("No warning interview was decided for this case."))


def _guard_record_interview(user, case):
    if not any(i.held_at is None for i in case.interviews):
        raise InvalidTransition(_l("There is no scheduled interview waiting to be held."))


def _guard_acknowledge_interview(user, case):
    if not any(i.held_at is not None and i.acknowledged_at is None for i in case.interviews):
        raise InvalidTransition(_l("There is no held interview waiting for acknowledgement."))


def _guard_accept_rectification(user, case):
    if case.rectification_submitted_by_id == user.id:
        raise PermissionDenied(_l("A rectification cannot be accepted by the one who submitted it."))


def _guard_close(user, case):
    if case.rectification_accepted_at is None:
        raise InvalidTransition(_l("The rectification has not been accepted."))
    if any(i.held_at is None or i.acknowledged_at is None for i in case.interviews):
        raise InvalidTransition(_l("Every warning interview must be held and acknowledged first."))
    interview_measures = {i.measure_id for i in case.interviews}
    if any(m.kind == MeasureKind.warning_interview and m.id not in interview_measures for m in case.measures):
        raise InvalidTransition(_l("A decided warning interview has not been scheduled yet."))
    if any(not m.done for m in case.measures if m.kind != MeasureKind.warning_interview):
        raise InvalidTransition(_l("Every accountability measure must be carried out first."))


def _guard_record_follow_up(user, case):
    if case.merged_into_id is not None:
        raise InvalidTransition(_l("A merged case is followed up through the case it was merged into."))
    if case.follow_up_at is not None:
        raise InvalidTransition(_l("The follow-up call has already been recorded."))


def _guard_complete_measure(user, case):
    if not any(not m.done and m.kind != MeasureKind.warning_interview for m in case.measures):
        raise InvalidTransition(_l("No accountability measure is waiting to be carried out."))


def _guard_extend_deadline(user, case):
    if not any(d.paused_at is None for d in case.open_deadlines):
        raise InvalidTransition(_l("No deadline is running."))


def _guard_resume_deadline(user, case):
    if not any(d.paused_at is not None for d in case.open_deadlines):
        raise InvalidTransition(_l("No deadline is paused."))


_GUARDS = {
    Action.extend_deadline: _guard_extend_deadline,
    Action.pause_deadline: _guard_extend_deadline,
    Action.resume_deadline: _guard_resume_deadline,
    Action.submit_explanation: _guard_submit_explanation,
    Action.appeal: _guard_appeal,
    Action.decide_appeal: _guard_decide_appeal,
    Action.schedule_interview: _guard_schedule_interview,
    Action.record_interview: _guard_record_interview,
    Action.acknowledge_interview: _guard_acknowledge_interview,
    Action.accept_rectification: _guard_accept_rectification,
    Action.close: _guard_close,
    Action.record_follow_up: _guard_record_follow_up,
    Action.complete_measure: _guard_complete_measure,
}


def _version(value) -> int:
    """The version the client saw, as a number (forms send text): 422 when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(field="version") from None


def check_action(user, case, action: Action, *, version=None) -> None:
    """Raise why ``user`` may not take ``action`` on ``case`` now; return if they may.

    Order: scope (404, the case does not exist for them), role (403), version (409),
    state (409), then the action's own rule (four eyes, windows, prerequisites).
    """
    if not can_view_case(user, case):
        raise NotFound()
    transition = TRANSITIONS[action]
    if user.role != transition.role:
        raise PermissionDenied(_l("Your role cannot take this action."))
    if version is not None and _version(version) != case.version:
        raise VersionConflict()
    if case.state not in transition.from_states:
        raise _state_error(case)
    guard = _GUARDS.get(action)
    if guard is not None:
        guard(user, case)


def can_perform(user, case, action: Action) -> bool:
    try:
        check_action(user, case, action)
    except DomainError:
        return False
    return True


def available_actions(user, case) -> list[Action]:
    return [action for action in TRANSITIONS if can_perform(user, case, action)]


def can_upload_evidence(user, case) -> bool:
    return can_view_case(user, case) and user.role in (Role.supervisor, Role.unit_head) and (
        case.state != CaseState.closed or is_supervisor(user)
    )
