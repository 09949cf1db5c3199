"""The inbox: what the user can do next, and the clocks running late in their scope.

Every read starts from ``cases_visible_to(user)`` (STYLE.md §7). SQL narrows the cases to the
states where the user's role has something to do; ``can_perform`` then confirms each task
with exactly the rules the operation will apply, so the inbox never offers a refused action.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from tracker.accounts.states import Role
from tracker.cases.deadlines import current_calendar
from tracker.cases.models import Case, Deadline, Notification, WarningInterview
from tracker.cases.permissions import can_perform
from tracker.cases.queries import cases_visible_to
from tracker.cases.states import DEADLINE_OWNER, Action, CaseState, DeadlineKind
from tracker.core.calendar import CalendarNotCovered
from tracker.extensions import db

INBOX_LIMIT = 200

A, S, K = Action, CaseState, DeadlineKind

# Per role and state, groups of actions: each group gives at most one task, its first action
# that is ready and allowed now (e.g. "accept the determination", else "appeal").
TASKS = {
    Role.unit_head: {
        S.inquiring: ((A.submit_explanation,),),
        S.determined: ((A.accept_determination, A.appeal),),
        S.rectifying: ((A.submit_rectification,), (A.acknowledge_interview,)),
        S.rectification_submitted: ((A.acknowledge_interview,),),
        S.verified: ((A.acknowledge_interview,),),
    },
    Role.supervisor: {
        S.registered: ((A.start_inquiry,),),
        S.inquiring: ((A.determine, A.record_inquiry),),
        S.appealed: ((A.decide_appeal,),),
        S.rectification_submitted: ((A.accept_rectification,),),
        S.verified: ((A.close, A.complete_measure, A.record_interview),),
        S.closed: ((A.record_follow_up,),),
    },
}

# The clocks that say by when a task is due (the earliest running one counts).
_INTAKE_CLOCKS = (K.contact, K.handling, K.regulator_reply)
TASK_CLOCKS = {
    A.start_inquiry: _INTAKE_CLOCKS,
    A.record_inquiry: _INTAKE_CLOCKS,
    A.determine: _INTAKE_CLOCKS,
    A.submit_explanation: (K.explanation,),
    A.accept_determination: (K.appeal_window,),
    A.appeal: (K.appeal_window,),
    A.decide_appeal: (K.appeal_decision,),
    A.submit_rectification: (K.rectification,),
    A.record_follow_up: (K.follow_up,),
}


def _inquiry_complete(case):
    return bool(case.inquiry_facts and case.inquiry_persons and case.inquiry_accountability)


# Allowed is not always the next step: determining waits for all three inquiry answers.
_READY = {A.determine: _inquiry_complete}


@dataclass
class InboxItem:
    case: Case
    action: Action
    due_at: datetime | None
    overdue: bool
    due_soon: bool


@dataclass
class ScopeClock:
    deadline: Deadline
    case: Case
    owner: Role
    overdue: bool
    due_soon: bool


def due_soon_horizon(now: datetime) -> datetime:
    """Due soon: within 24 hours, or by the end of the next working day if that is later."""
    horizon = now + timedelta(hours=24)
    try:
        return max(horizon, current_calendar().add_working_days(now, 1))
    except CalendarNotCovered:
        return horizon


def _running(deadline):
    return deadline.met_at is None and deadline.cancelled_at is None and deadline.paused_at is None


def _running_clock_exists(kind):
    return exists().where(
        Deadline.case_id == Case.id,
        Deadline.kind == kind,
        Deadline.met_at.is_(None),
        Deadline.cancelled_at.is_(None),
    )


def _held_interview_unacknowledged():
    return exists().where(
        WarningInterview.case_id == Case.id,
        WarningInterview.held_at.is_not(None),
        WarningInterview.acknowledged_at.is_(None),
    )


def _candidate_condition(user):
    """SQL: the cases where the user's role may have a task (confirmed later by can_perform)."""
    if user.role == Role.unit_head:
        return or_(
            and_(
                Case.state == S.inquiring,
                Case.explanation_requested_at.is_not(None),
                Case.explanation_submitted_at.is_(None),
            ),
            Case.state.in_([S.determined, S.rectifying]),
            and_(Case.state.in_([S.rectification_submitted, S.verified]), _held_interview_unacknowledged()),
        )
    if user.role == Role.supervisor:
        return or_(
            Case.state.in_([S.registered, S.inquiring, S.rectification_submitted, S.verified]),
            # Four eyes: an appeal is decided by someone other than the one who determined.
            and_(
                Case.state == S.appealed,
                or_(Case.determined_by_id.is_(None), Case.determined_by_id != user.id),
            ),
            and_(
                Case.state == S.closed,
                Case.follow_up_at.is_(None),
                Case.merged_into_id.is_(None),
                _running_clock_exists(K.follow_up),
            ),
        )
    return false()


def _task_due(case, action):
    kinds = TASK_CLOCKS.get(action, ())
    dues = [d.due_at for d in case.deadlines if d.kind in kinds and _running(d)]
    return min(dues, default=None)


def _tasks_of(user, case):
    for group in TASKS[user.role].get(case.state, ()):
        for action in group:
            ready = _READY.get(action)
            if (ready is None or ready(case)) and can_perform(user, case, action):
                yield action
                break


def inbox_items(user, now: datetime) -> list[InboxItem]:
    """The user's tasks, soonest due first (tasks without a clock last)."""
    if user.role not in TASKS:
        return []
    stmt = (
        cases_visible_to(user)
        .where(_candidate_condition(user))
        .options(
            contains_eager(Case.unit),
            selectinload(Case.deadlines),
            selectinload(Case.measures),
            selectinload(Case.interviews),
        )
    )
    horizon = due_soon_horizon(now)
    items = []
    for case in db.session.scalars(stmt):
        for action in _tasks_of(user, case):
            due_at = _task_due(case, action)
            overdue = due_at is not None and due_at < now
            due_soon = due_at is not None and not overdue and due_at <= horizon
            items.append(InboxItem(case, action, due_at, overdue, due_soon))
    items.sort(key=lambda i: (i.due_at is None, i.due_at or now, i.case.received_at, i.case.id))
    return items


def clocks_due_in_scope(user, now: datetime, *, limit=INBOX_LIMIT) -> tuple[list[ScopeClock], int]:
    """Running clocks in the user's scope that are overdue or due soon: (first ``limit``, total)."""
    owned = [kind for kind, role in DEADLINE_OWNER.items() if role is not None]
    visible = cases_visible_to(user).with_only_columns(Case.id)
    stmt = select(Deadline).where(
        Deadline.case_id.in_(visible),
        Deadline.kind.in_(owned),
        Deadline.met_at.is_(None),
        Deadline.cancelled_at.is_(None),
        Deadline.paused_at.is_(None),
        Deadline.due_at <= due_soon_horizon(now),
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    deadlines = db.session.scalars(
        stmt.options(selectinload(Deadline.case).selectinload(Case.unit))
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    ).all()
    clocks = [
        ScopeClock(d, d.case, DEADLINE_OWNER[d.kind], overdue=d.due_at < now, due_soon=d.due_at >= now)
        for d in deadlines
    ]
    return clocks, total


def notifications_of(user):
    """Statement over the user's notifications, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(selectinload(Notification.case).selectinload(Case.unit))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def get_notification_for(user, notification_id: int) -> Notification | None:
    """The user's own notification, never someone else's."""
    return db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
