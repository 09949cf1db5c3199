"""Repeat marks: how early warning finds the people with repeated violations quickly.

DESIGN.md §4 flags a person — a name within the responsible unit — with ``REPEAT_THRESHOLD``
substantiated cases determined within ``REPEAT_WINDOW_MONTHS``. Counting that by grouping every
responsibility of the window is the one dashboard figure the roll-up cannot sum: at a million
cases the organisation's six months hold about 180,000 (unit, person) groups, of which a few
hundred qualify, and grouping them took a second. The marks index the answer instead.

- ``repeat_marks`` (``RepeatMark``) has one row per (responsible unit, person name, case) for
  every case that counts: determined substantiated or partly, not a merged duplicate, with a
  named person.
- A person's marks are ordered by determination time, then case id. ``earlier_at`` is the
  determination time of the mark ``REPEAT_THRESHOLD - 1`` places earlier (NULL for the first
  ones).

A person has at least ``REPEAT_THRESHOLD`` marks determined in a window [s, e) exactly when one
of their marks is determined before e and has ``earlier_at`` ≥ s. If so, that mark and the ones
between it and its ``earlier_at`` all lie in [s, e). Conversely, the window's marks of the person
are consecutive in the order, and the ``REPEAT_THRESHOLD``-th of them has the first of them, or
a later one, as its ``earlier_at``. So the candidates of any window are a range of the
``earlier_at`` index, and early warning counts the marks of those few people only
(``tracker.reports.figures.early_warning``). Only the default threshold can use the marks; any
other is counted from the responsibilities.

Exact like the roll-up (``tracker.reports.stats``): after every flush that touches a case or its
responsibilities, the marks of those cases are compared with what the cases say now, and the
``earlier_at`` of every person concerned is recomputed (a person has few marks). On PostgreSQL
this happens under the chain-head lock, which every change of a case takes anyway, so two
transactions marking the same person run one after the other. ``rebuild`` and ``check`` are
called by the roll-up's own (``flask --app tracker stats rebuild|check``).
"""
from __future__ import annotations

from itertools import chain

from sqlalchemy import and_, bindparam, delete, event, func, inspect, select, tuple_, update
from sqlalchemy.orm import Session

from tracker.cases.models import Case, Responsibility, case_id_of
from tracker.cases.states import DETERMINATION_OUTCOMES
from tracker.core.database import UTCDateTime
from tracker.core.history import HistoryHead
from tracker.reports.models import RepeatMark

REPEAT_THRESHOLD = 3  # substantiated cases of one person or unit (DESIGN.md §4)
REPEAT_WINDOW_MONTHS = 6

MARKS = RepeatMark.__table__
COLUMNS = ("unit_id", "person_name", "case_id", "determined_at")
CHUNK = 500  # case ids or people per statement (SQLite's parameter limit)


def counted_marks():
    """SELECT of the marks the cases call for (``COLUMNS``), before ``earlier_at``."""
    return (
        select(Responsibility.unit_id, Responsibility.person_name, Responsibility.case_id, Case.determined_at)
        .join(Case, Case.id == Responsibility.case_id)
        .where(Responsibility.person_name.is_not(None), Responsibility.person_name != "",
               Case.outcome.in_(DETERMINATION_OUTCOMES), Case.merged_into_id.is_(None),
               Case.determined_at.is_not(None))
        .distinct()
    )


def _from_scratch():
    """SELECT of every mark with its ``earlier_at``, computed from the cases."""
    marks = counted_marks().subquery("counted")
    earlier = func.lag(marks.c.determined_at, REPEAT_THRESHOLD - 1, type_=UTCDateTime).over(
        partition_by=(marks.c.unit_id, marks.c.person_name), order_by=(marks.c.determined_at, marks.c.case_id)
    )
    return select(*[marks.c[name] for name in COLUMNS], earlier.label("earlier_at"))


def rebuild(connection) -> int:
    """Recompute every mark from the cases; returns how many there are."""
    connection.execute(delete(MARKS))
    connection.execute(MARKS.insert().from_select([*COLUMNS, "earlier_at"], _from_scratch()))
    return connection.scalar(select(func.count()).select_from(MARKS))


def check(connection) -> list[str]:
    """The differences between the marks and a computation from scratch (empty: in step)."""
    def rows(stmt):
        return {(r.unit_id, r.person_name, r.case_id): (r.determined_at, r.earlier_at)
                for r in connection.execute(stmt)}

    stored, expected = rows(select(MARKS)), rows(_from_scratch())
    return [f"repeat_marks {dict(zip(COLUMNS, key))}: stored {stored.get(key)}, expected {expected.get(key)}"
            for key in sorted(stored.keys() | expected.keys(), key=str) if stored.get(key) != expected.get(key)]


def refresh(connection, case_ids) -> None:
    """Bring the marks of these cases in line with the cases, and renumber the people concerned."""
    ids = sorted(case_ids)
    wanted, stored = {}, {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for row in connection.execute(counted_marks().where(Responsibility.case_id.in_(chunk))):
            wanted[(row.unit_id, row.person_name, row.case_id)] = row.determined_at
        for row in connection.execute(select(*[MARKS.c[name] for name in COLUMNS])
                                      .where(MARKS.c.case_id.in_(chunk))):
            stored[(row.unit_id, row.person_name, row.case_id)] = row.determined_at
    gone = [key for key in stored if wanted.get(key) != stored[key]]
    new = [key for key in wanted if stored.get(key) != wanted[key]]
    if not gone and not new:
        return
    if connection.dialect.name == "postgresql":  # see the module's docstring
        head = HistoryHead.__table__
        connection.execute(select(head.c.id).where(head.c.id == 1).with_for_update())
    key_columns = tuple_(MARKS.c.unit_id, MARKS.c.person_name, MARKS.c.case_id)
    for start in range(0, len(gone), CHUNK):
        connection.execute(delete(MARKS).where(key_columns.in_(gone[start:start + CHUNK])))
    if new:
        connection.execute(MARKS.insert(), [dict(zip(COLUMNS, (*key, wanted[key]))) for key in sorted(new)])
    renumber(connection, {key[:2] for key in chain(gone, new)})


def renumber(connection, people) -> None:
    """Recompute ``earlier_at`` of every mark of these (unit id, person name) pairs."""
    people = sorted(people)
    changes = []
    for start in range(0, len(people), CHUNK):
        rows = connection.execute(
            select(MARKS).where(tuple_(MARKS.c.unit_id, MARKS.c.person_name).in_(people[start:start + CHUNK]))
            .order_by(MARKS.c.unit_id, MARKS.c.person_name, MARKS.c.determined_at, MARKS.c.case_id)
        ).all()
        for i, row in enumerate(rows):
            back = rows[i - (REPEAT_THRESHOLD - 1)] if i >= REPEAT_THRESHOLD - 1 else None
            same_person = back is not None and (back.unit_id, back.person_name) == (row.unit_id, row.person_name)
            earlier_at = back.determined_at if same_person else None
            if earlier_at != row.earlier_at:
                changes.append({"u": row.unit_id, "p": row.person_name, "c": row.case_id, "e": earlier_at})
    if changes:
        connection.execute(
            update(MARKS).where(and_(MARKS.c.unit_id == bindparam("u"), MARKS.c.person_name == bindparam("p"),
                                     MARKS.c.case_id == bindparam("c")))
            .values(earlier_at=bindparam("e")),
            changes,
        )


# ---------------------------------------------------------------------------- the session hook


# What a case's marks depend on besides its responsibilities. A new case has marks only through
# responsibilities new in the same flush, which count by themselves.
WATCHED = ("outcome", "merged_into_id", "determined_at")


def _changes_marks(case) -> bool:
    state = inspect(case)
    return state.deleted or any(state.attrs[name].history.has_changes() for name in WATCHED)


def _touched_case_ids(session) -> set[int]:
    """Cases whose marks this flush may have changed (read in ``after_flush``, where the session
    still lists what it flushed and the attributes still hold their history)."""
    touched = chain(
        (obj for obj in chain(session.new, session.dirty, session.deleted) if isinstance(obj, Responsibility)),
        (obj for obj in chain(session.dirty, session.deleted) if isinstance(obj, Case) and _changes_marks(obj)),
    )
    return {case_id for obj in touched if (case_id := case_id_of(obj)) is not None}


def _after_flush(session, _flush_context):
    case_ids = _touched_case_ids(session)
    if case_ids:
        refresh(session.connection(), case_ids)


def install() -> None:
    """Keep the marks in step with every ORM flush (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
