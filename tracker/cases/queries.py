"""Reads of cases, always scoped to what the user may see (STYLE.md §7)."""
import difflib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from tracker.cases.models import Case, Deadline, Responsibility
from tracker.cases.permissions import can_view_case
from tracker.cases.privacy import normalise_phone
from tracker.cases.search import text_condition
from tracker.cases.states import DETERMINATION_OUTCOMES, CaseState, Channel, Severity
from tracker.core.database import utcnow
from tracker.core.errors import NotFound
from tracker.core.history import HistoryEvent
from tracker.core.paging import keyset_page
from tracker.core.permissions import is_staff, scope_path
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import in_subtree

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def cases_visible_to(user):
    """Statement over the cases in the user's scope; nothing for users who see no cases."""
    stmt = select(Case).join(Case.unit)
    if not is_staff(user):
        return stmt.where(False)
    prefix = scope_path(user)
    if prefix is not None:
        stmt = stmt.where(in_subtree(Unit.path, prefix))
    return stmt


def case_detail_options(*, unit_joined=False):
    """Load everything the case page and the API's case object read, in a fixed number of
    queries whatever the case holds (no lazy load per responsibility or per case in a list).
    ``unit_joined``: the statement already joins Case.unit (``cases_visible_to``)."""
    return (
        contains_eager(Case.unit) if unit_joined else joinedload(Case.unit),
        joinedload(Case.violation_type),
        joinedload(Case.merged_into),
        selectinload(Case.responsibilities).joinedload(Responsibility.unit),
        selectinload(Case.measures),
        selectinload(Case.interviews),
        selectinload(Case.deadlines),
    )


def case_list_options():
    """What a row of the case list shows: the unit (from the scope's join) and the next deadline."""
    return (contains_eager(Case.unit), selectinload(Case.deadlines))


def get_case_for(user, number: str) -> Case:
    """The case with this number if the user may see it; otherwise NotFound (no hint it exists)."""
    case = db.session.scalar(select(Case).where(Case.number == number).options(*case_detail_options()))
    if case is None or not can_view_case(user, case):
        raise NotFound()
    return case


def overdue_condition(now):
    return exists().where(
        Deadline.case_id == Case.id,
        Deadline.met_at.is_(None),
        Deadline.cancelled_at.is_(None),
        Deadline.paused_at.is_(None),
        Deadline.due_at < now,
    )


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


@dataclass
class CaseFilters:
    unit: Unit | None = None
    state: CaseState | None = None
    channel: Channel | None = None
    severity: Severity | None = None
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    phone: str | None = None


SORTS = {
    "received_desc": (("received_at", True),),
    "received_asc": (("received_at", False),),
    "updated_desc": (("updated_at", True),),
}


def filtered_cases(user, filters: CaseFilters):
    stmt = cases_visible_to(user)
    if filters.unit is not None:
        stmt = stmt.where(in_subtree(Unit.path, filters.unit.path))
    if filters.state is not None:
        stmt = stmt.where(Case.state == filters.state)
    if filters.channel is not None:
        stmt = stmt.where(Case.channel == filters.channel)
    if filters.severity is not None:
        stmt = stmt.where(Case.severity == filters.severity)
    if filters.overdue:
        stmt = stmt.where(overdue_condition(utcnow()))
    if filters.date_from is not None:
        stmt = stmt.where(Case.received_at >= local_day_start(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(Case.received_at < local_day_start(filters.date_to + timedelta(days=1)))
    if filters.q and (term := filters.q.strip()):
        stmt = stmt.where(text_condition(term, db.session))
    if filters.phone:
        # Searchable without being shown: the phone is matched, never put in the results.
        stmt = stmt.where(Case.complainant_phone == normalise_phone(filters.phone))
    return stmt


def list_cases(user, filters: CaseFilters, *, sort="received_desc", cursor=None, limit=50, options=None):
    """One page of the user's cases; returns (cases, next_cursor). ``options``: what to load
    with them (``case_list_options()`` by default; ``case_detail_options(unit_joined=True)``
    for whole case objects)."""
    column_name, descending = SORTS.get(sort, SORTS["received_desc"])[0]
    column = getattr(Case, column_name)
    stmt = filtered_cases(user, filters).options(*(options or case_list_options()))
    return keyset_page(
        db.session, stmt, [column, Case.id], cursor=cursor, limit=limit, descending=descending,
        parse=lambda values: [datetime.fromisoformat(values[0]), int(values[1])],
    )


def case_events(case):
    return db.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.case_id == case.id)
        .order_by(HistoryEvent.seq)
        .options(selectinload(HistoryEvent.actor))
    ).all()


DUPLICATE_WINDOW = timedelta(days=30)
SIMILARITY_THRESHOLD = 0.6


def suspected_duplicates(user, *, unit, phone=None, summary="", received_at=None, exclude_id=None, limit=10):
    """Open cases that may be the same complaint: same unit and phone, or a very similar summary,
    within 30 days. Only cases the user may see are considered."""
    received_at = received_at or utcnow()
    stmt = (
        cases_visible_to(user)
        .where(
            Case.unit_id == unit.id,
            Case.received_at >= received_at - DUPLICATE_WINDOW,
            Case.received_at <= received_at + DUPLICATE_WINDOW,
            Case.merged_into_id.is_(None),
        )
        .order_by(Case.received_at.desc())
        .limit(200)
    )
    if exclude_id is not None:
        stmt = stmt.where(Case.id != exclude_id)
    phone = normalise_phone(phone)
    matches = []
    for case in db.session.scalars(stmt):
        same_phone = bool(phone) and case.complainant_phone == phone
        ratio = difflib.SequenceMatcher(None, summary or "", case.summary).ratio() if summary else 0.0
        if same_phone or ratio >= SIMILARITY_THRESHOLD:
            matches.append(case)
        if len(matches) >= limit:
            break
    return matches


REPEAT_WINDOW = timedelta(days=183)
REPEAT_THRESHOLD = 3


def repeat_violation_count(case) -> int:
    """Substantiated cases of the same unit in the last six months, this one included if it
    were determined now (early warning, DESIGN.md §4: 3 in 6 months raise a flag)."""
    earlier = db.session.scalar(
        select(func.count()).select_from(Case).where(
            Case.unit_id == case.unit_id,
            Case.id != case.id,
            Case.outcome.in_(DETERMINATION_OUTCOMES),
            Case.determined_at >= utcnow() - REPEAT_WINDOW,
        )
    )
    return earlier + 1
