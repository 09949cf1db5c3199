"""The case statistics roll-up: the sums the dashboards and reports read, per unit and day.

Every figure of ``tracker.reports.figures`` that depends only on the cases of a subtree and a
period — counts by channel, severity, violation type, month and outcome, clocks met late,
rectifications met and on time, interviews held, points and fines — is a sum over rows of
``case_day_stats`` (``CaseDayStat``): one row per unit, Beijing day of receipt, channel, severity,
violation type and substantiation, holding the sums over the cases of the unit's *whole
subtree*. ``case_month_stats`` (``CaseMonthStat``) holds the same sums per month. The figures of
any subtree over any period therefore read the rows of one unit, the subtree's root: the month
rows of the whole months and the day rows of the days at either end, whatever the number of
cases.

Exactly right, not approximately: the rows change in the transaction that changes the cases.

- A session hook notes, in every flush, the cases it touches (a case, or one of its clocks,
  measures or interviews, inserted, changed or deleted). Before the flush it reads their
  contribution from the database, after the flush it reads it again, and it adds the difference
  to the rows of the case's unit and of every unit above (``INSERT … ON CONFLICT DO UPDATE SET
  n = n + excluded.n``). Additions commute, so concurrent transactions compose; on PostgreSQL the
  rows touched are locked until commit like any updated row.
- Writes that bypass the ORM (``tracker.loadgen``'s bulk inserts) call ``rebuild()`` at the end.
- Moving a unit moves its subtree's sums from the old ancestors to the new (``move_subtree``).
- Audits count once approved, and an approved audit never changes: ``approve_audit`` adds it
  to ``audit_day_stats`` and ``audit_section_stats`` (``add_approved_audit``).
- ``check()`` compares the table with a computation from scratch: the tests run it after random
  workflows, and ``flask --app tracker stats check`` runs it on a live database.

Merged cases contribute nothing (the figures leave duplicates out).
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date, Select, String, and_, case as sql_case, cast, delete, event, func, literal, select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection
from tracker.audits.states import AuditState, ItemResult
from tracker.cases.models import Case, Deadline, Measure, WarningInterview, case_id_of
from tracker.cases.states import DETERMINATION_OUTCOMES, DeadlineKind, Severity
from tracker.core.history import HistoryHead
from tracker.reports import repeats
from tracker.reports.models import (
    AuditDayStat, AuditSectionStat, CaseDayStat, CaseMonthStat, RunningClockStat, UnitMonthCount,
)
from tracker.units.models import Unit

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TABLE = CaseDayStat.__table__
MONTH_TABLE = CaseMonthStat.__table__
DIMENSIONS = ("channel", "severity", "violation_type_id", "substantiated")
KEY = ("unit_id", "day", *DIMENSIONS)
MONTH_KEY = ("unit_id", "month", *DIMENSIONS)
CLOCK_TABLE = RunningClockStat.__table__
CLOCK_KEY = ("unit_id", "day", "due_day")
VALUES = ("cases", "steps_met_late", "rectification_met", "rectification_on_time", "interviews_held",
          "points", "fines")
OWN_TABLE = UnitMonthCount.__table__  # a unit's own cases per month, not its subtree's
OWN_KEY = ("unit_id", "month")
OWN_VALUES = ("received", "determined", "determined_general", "determined_serious", "determined_grave")
SEVERITY_COLUMNS = {"general": 2, "serious": 3, "grave": 4}  # severity → its place in OWN_VALUES
# What a flush must touch for a case's contribution to change.
TRACKED = (Case, Deadline, Measure, WarningInterview)
CHUNK = 2000  # case ids per statement


# ---------------------------------------------------------------------------- per case


def _per_case_sums(case_filter):
    """Subqueries of each case's sums from its clocks, interviews and measures, restricted by
    ``case_filter(column)`` (a condition on the case id column), or everything when None."""
    def restricted(stmt, column):
        return stmt.where(case_filter(column)) if case_filter is not None else stmt

    rectification_met = and_(Deadline.kind == DeadlineKind.rectification, Deadline.met_at.is_not(None))
    clocks = restricted(select(
        Deadline.case_id,
        func.sum(sql_case((and_(
            Deadline.kind != DeadlineKind.appeal_window, Deadline.cancelled_at.is_(None),
            Deadline.paused_at.is_(None), Deadline.met_at.is_not(None), Deadline.met_at > Deadline.due_at,
        ), 1), else_=0)).label("steps_met_late"),
        func.sum(sql_case((rectification_met, 1), else_=0)).label("rectification_met"),
        func.sum(sql_case((and_(rectification_met, Deadline.met_at <= Deadline.due_at), 1),
                          else_=0)).label("rectification_on_time"),
    ), Deadline.case_id).group_by(Deadline.case_id).subquery("clock_sums")
    interviews = restricted(
        select(WarningInterview.case_id, func.count(WarningInterview.id).label("interviews_held"))
        .where(WarningInterview.held_at.is_not(None)),
        WarningInterview.case_id,
    ).group_by(WarningInterview.case_id).subquery("interview_sums")
    measures = restricted(
        select(Measure.case_id, func.sum(Measure.points).label("points"),
               func.sum(Measure.amount).label("fines")),
        Measure.case_id,
    ).group_by(Measure.case_id).subquery("measure_sums")
    return clocks, interviews, measures


def _facts(case_filter, *, day_column):
    """One row per (unmerged) case: its unit, the roll-up key and its sums."""
    clocks, interviews, measures = _per_case_sums(case_filter)
    stmt = (
        select(
            Case.id.label("case_id"),
            Case.unit_id.label("unit_id"),
            day_column.label("day"),
            cast(Case.channel, String).label("channel"),
            func.coalesce(Case.severity, "", type_=String).label("severity"),
            func.coalesce(Case.violation_type_id, 0).label("violation_type_id"),
            sql_case((Case.outcome.in_(DETERMINATION_OUTCOMES), literal(True)),
                     else_=literal(False)).label("substantiated"),
            literal(1).label("cases"),
            func.coalesce(clocks.c.steps_met_late, 0).label("steps_met_late"),
            func.coalesce(clocks.c.rectification_met, 0).label("rectification_met"),
            func.coalesce(clocks.c.rectification_on_time, 0).label("rectification_on_time"),
            func.coalesce(interviews.c.interviews_held, 0).label("interviews_held"),
            func.coalesce(measures.c.points, 0).label("points"),
            func.coalesce(measures.c.fines, 0).label("fines"),
        )
        .select_from(Case)
        .outerjoin(clocks, clocks.c.case_id == Case.id)
        .outerjoin(interviews, interviews.c.case_id == Case.id)
        .outerjoin(measures, measures.c.case_id == Case.id)
        .where(Case.merged_into_id.is_(None))
    )
    if case_filter is not None:
        stmt = stmt.where(case_filter(Case.id))
    return stmt


def running_clock():
    """The clocks that can be overdue now: running, and not the appeal window (nobody can be
    late on it)."""
    return and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.paused_at.is_(None),
                Deadline.kind != DeadlineKind.appeal_window)


def _local_day(connection):
    """SQL: the Beijing date of ``cases.received_at`` (stored in UTC)."""
    if connection.dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", Case.received_at), Date)
    return func.date(Case.received_at, "+8 hours")


@dataclass(frozen=True)
class _Contribution:
    unit_path: str
    key: tuple  # day, channel, severity, violation type id, substantiated
    values: tuple
    running: dict  # Beijing due day → running clocks
    determined_on: date | None = None  # Beijing day of determination, when substantiated (or partly)

    @property
    def unit_id(self) -> int:
        return ancestor_ids(self.unit_path)[-1]


def _contributions(connection, case_ids) -> dict[int, _Contribution]:
    """What each of these cases adds to the roll-up now (merged cases add nothing)."""
    found = {}
    ids = sorted(case_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        running = defaultdict(lambda: defaultdict(int))
        for case_id, due_at in connection.execute(
            select(Deadline.case_id, Deadline.due_at).where(Deadline.case_id.in_(chunk), running_clock())
        ):
            running[case_id][due_at.astimezone(LOCAL_TZ).date()] += 1
        stmt = _facts(lambda column: column.in_(chunk), day_column=Case.received_at.label("received_at"))
        stmt = stmt.add_columns(Unit.path, Case.determined_at).join(Unit, Unit.id == Case.unit_id)
        for row in connection.execute(stmt).mappings():
            day = row["day"].astimezone(LOCAL_TZ).date()
            determined = row["determined_at"] if row["substantiated"] else None
            found[row["case_id"]] = _Contribution(
                row["path"],
                (day, row["channel"], row["severity"], int(row["violation_type_id"]),
                 bool(row["substantiated"])),
                tuple(Decimal(str(row[name])) if name == "fines" else int(row[name]) for name in VALUES),
                dict(running.get(row["case_id"], {})),
                determined.astimezone(LOCAL_TZ).date() if determined is not None else None,
            )
    return found


@lru_cache(maxsize=8192)
def ancestor_ids(path: str) -> tuple[int, ...]:
    """The unit and every unit above it, from its materialised path ("/1/8/23/"). Cached: a path
    names the same units for good (a moved unit gets a new path), and the import asks for each
    new case's twice (0.8 s of 17 s for 20,000 work orders, profiled)."""
    return tuple(int(part) for part in path.strip("/").split("/") if part)


def _add(deltas, clocks, contribution: _Contribution, sign: int, own=None):
    if own is not None:
        unit_id = contribution.unit_id
        own[(unit_id, _month_of(contribution.key[0]))][0] += sign
        if contribution.determined_on is not None:
            counts = own[(unit_id, _month_of(contribution.determined_on))]
            counts[1] += sign
            if (column := SEVERITY_COLUMNS.get(contribution.key[2])) is not None:
                counts[column] += sign
    for unit_id in ancestor_ids(contribution.unit_path):
        total = deltas[(unit_id, *contribution.key)]
        for i, value in enumerate(contribution.values):
            total[i] += sign * value
        for due_day, count in contribution.running.items():
            clocks[(unit_id, contribution.key[0], due_day)] += sign * count


def _adding(connection, table, key, source=None, values=VALUES):
    """INSERT into a roll-up table that adds to the sums of a row that exists."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table) if source is None else insert(table).from_select(list(key + values), source)
    return stmt.on_conflict_do_update(index_elements=list(key),
                                      set_={name: table.c[name] + stmt.excluded[name] for name in values})


def _month_of(day):
    return day.replace(day=1)


def apply_changes(connection, before: dict, after: dict) -> None:
    """Add ``after`` minus ``before`` (contributions by case id) to the rows of every ancestor.

    On PostgreSQL the chain head is locked first (every change of a case appends to the history
    and takes that lock anyway): transactions then write the shared ancestor rows one after the
    other and can never wait for each other's rows in opposite orders (a deadlock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(HistoryHead.__table__.c.id).where(HistoryHead.__table__.c.id == 1)
                           .with_for_update())
    deltas = defaultdict(lambda: [0, 0, 0, 0, 0, 0, Decimal("0")])
    clocks = defaultdict(int)
    own = defaultdict(lambda: [0] * len(OWN_VALUES))
    for contribution in before.values():
        _add(deltas, clocks, contribution, -1, own)
    for contribution in after.values():
        _add(deltas, clocks, contribution, +1, own)
    months = defaultdict(lambda: [0, 0, 0, 0, 0, 0, Decimal("0")])
    for (unit_id, day, *dimensions), values in deltas.items():
        total = months[(unit_id, _month_of(day), *dimensions)]
        for i, value in enumerate(values):
            total[i] += value
    for table, key, sums in ((TABLE, KEY, deltas), (MONTH_TABLE, MONTH_KEY, months)):
        rows = [dict(zip(key, k)) | dict(zip(VALUES, values))
                for k, values in sorted(sums.items()) if any(values)]
        if rows:
            connection.execute(_adding(connection, table, key), rows)
    rows = [dict(zip(CLOCK_KEY, k), clocks=n) for k, n in sorted(clocks.items()) if n]
    if rows:
        connection.execute(_adding(connection, CLOCK_TABLE, CLOCK_KEY, values=("clocks",)), rows)
    rows = [dict(zip(OWN_KEY, k)) | dict(zip(OWN_VALUES, values))
            for k, values in sorted(own.items()) if any(values)]
    if rows:
        connection.execute(_adding(connection, OWN_TABLE, OWN_KEY, values=OWN_VALUES), rows)


# ---------------------------------------------------------------------------- the session hook


def _touched(session):
    return [obj for obj in chain(session.new, session.dirty, session.deleted) if isinstance(obj, TRACKED)]


def _before_flush(session, _flush_context, _instances):
    touched = _touched(session)
    if not touched:
        session.info.pop("case_stats", None)
        return
    # Cases new in this flush have counted nowhere yet (their ids may be reserved beforehand).
    new_cases = {obj.id for obj in session.new if isinstance(obj, Case) and obj.id is not None}
    existing = {case_id for case_id in map(case_id_of, touched) if case_id is not None} - new_cases
    connection = session.connection()
    session.info["case_stats"] = (touched, existing, _contributions(connection, existing) if existing else {})


def _after_flush(session, _flush_context):
    pending = session.info.pop("case_stats", None)
    if pending is None:
        return
    touched, existing, before = pending
    ids = existing | {case_id for case_id in map(case_id_of, touched) if case_id is not None}
    connection = session.connection()
    after = _contributions(connection, ids)
    deferred = session.info.get("case_stats_deferred")
    if deferred is not None:
        deferred.append((before, after))
    else:
        apply_changes(connection, before, after)


def note_inserted(session, case_ids) -> None:
    """Count new cases written outside a flush (``tracker.core.database.insert_loaded``), with
    their clocks, as the flush hook counts the ones it sees: at once, or at the end of the
    ``deferred`` block. (They have no repeat marks: a new case has no responsibilities.)"""
    if not case_ids:
        return
    connection = session.connection()
    after = _contributions(connection, set(case_ids))
    deferred = session.info.get("case_stats_deferred")
    if deferred is not None:
        deferred.append(({}, after))
    else:
        apply_changes(connection, {}, after)


@contextmanager
def deferred(session):
    """Within the block, collect each flush's changes and apply their sum once at the end:
    a bulk operation that flushes many times (the 95598 import) touches every ancestor's rows
    once instead of once per flush. Same transaction, same result; nothing is applied if the
    block raises (the caller rolls back)."""
    if "case_stats_deferred" in session.info:  # already deferring: the outer block applies
        yield
        return
    collected = session.info["case_stats_deferred"] = []
    try:
        yield
        session.flush()
    finally:
        session.info.pop("case_stats_deferred", None)
    before = [contribution for changes, _after in collected for contribution in changes.values()]
    after = [contribution for _before, changes in collected for contribution in changes.values()]
    apply_changes(session.connection(), dict(enumerate(before)), dict(enumerate(after)))


def install() -> None:
    """Keep the roll-up and the repeat marks in step with every ORM flush (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
    repeats.install()


# ---------------------------------------------------------------------------- whole-table operations


def _into_ancestors(rows, key, values):
    """SELECT adding up ``rows`` (a subquery with ``unit_id``, the rest of ``key`` and
    ``values``) into the unit and every unit above it (``units.path`` prefixes).

    In two steps: the rows are summed per unit first, in one pass over them, and only those
    sums are spread over the ancestors, through the pairs (unit, ancestor) of the tree. Joining
    the rows to the ancestors directly made SQLite read every case once per ancestor, in unit
    order, and check each running clock against every unit's path: at a million cases the
    rebuild took 30 minutes."""
    dimensions = key[1:]
    own = (
        select(rows.c.unit_id, *[rows.c[name] for name in dimensions],
               *[func.sum(rows.c[name]).label(name) for name in values])
        .group_by(rows.c.unit_id, *[rows.c[name] for name in dimensions])
        .subquery("own")
    )
    unit, ancestor = aliased(Unit), aliased(Unit)
    tree = (
        select(unit.id.label("unit_id"), ancestor.id.label("ancestor_id"))
        .join(ancestor, unit.path.like(ancestor.path + "%"))
        .cte("tree").prefix_with("MATERIALIZED")
    )
    return (
        select(tree.c.ancestor_id.label("unit_id"), *[own.c[name] for name in dimensions],
               *[func.sum(own.c[name]).label(name) for name in values])
        .select_from(own)
        .join(tree, tree.c.unit_id == own.c.unit_id)
        .group_by(tree.c.ancestor_id, *[own.c[name] for name in dimensions])
    )


def _from_scratch(connection):
    """SELECT of every roll-up row computed from the cases."""
    return _into_ancestors(_facts(None, day_column=_local_day(connection)).subquery("facts"), KEY, VALUES)


def _month_column(connection, day_column):
    if connection.dialect.name == "postgresql":
        return cast(func.date_trunc("month", day_column), Date)
    return func.date(day_column, "start of month")


def _months_of(connection, day_rows):
    """SELECT of month rows summing a SELECT (or table) of day rows."""
    rows = day_rows.subquery("days") if isinstance(day_rows, Select) else day_rows
    month = _month_column(connection, rows.c.day)
    return (
        select(rows.c.unit_id, month.label("month"), *[rows.c[name] for name in DIMENSIONS],
               *[func.sum(rows.c[name]).label(name) for name in VALUES])
        .group_by(rows.c.unit_id, month, *[rows.c[name] for name in DIMENSIONS])
    )


def _clocks_from_scratch(connection):
    """SELECT of every running-clock row computed from the clocks."""
    if connection.dialect.name == "postgresql":
        due_day = cast(func.timezone("Asia/Shanghai", Deadline.due_at), Date)
    else:
        due_day = func.date(Deadline.due_at, "+8 hours")
    clocks = (
        select(Case.unit_id, _local_day(connection).label("day"), due_day.label("due_day"),
               literal(1).label("clocks"))
        .select_from(Deadline).join(Case, Case.id == Deadline.case_id)
        .where(running_clock(), Case.merged_into_id.is_(None))
        .subquery("running")
    )
    return _into_ancestors(clocks, CLOCK_KEY, ("clocks",))


def _own_from_scratch(connection):
    """SELECT of every row of ``unit_month_counts`` computed from the cases."""
    def local_month(column):
        if connection.dialect.name == "postgresql":
            return cast(func.date_trunc("month", func.timezone("Asia/Shanghai", column)), Date)
        return func.date(column, "+8 hours", "start of month")

    zero, one = literal(0), literal(1)
    received = (
        select(Case.unit_id, local_month(Case.received_at).label("month"), one.label("received"),
               *[zero.label(name) for name in OWN_VALUES[1:]])
        .where(Case.merged_into_id.is_(None))
    )
    by_severity = [sql_case((Case.severity == Severity(name), 1), else_=0).label(f"determined_{name}")
                   for name in SEVERITY_COLUMNS]
    determined = (
        select(Case.unit_id, local_month(Case.determined_at).label("month"), zero.label("received"),
               one.label("determined"), *by_severity)
        .where(Case.merged_into_id.is_(None), Case.outcome.in_(DETERMINATION_OUTCOMES),
               Case.determined_at.is_not(None))
    )
    both = received.union_all(determined).subquery("own")
    return (select(both.c.unit_id, both.c.month, *[func.sum(both.c[name]).label(name) for name in OWN_VALUES])
            .group_by(both.c.unit_id, both.c.month))


def rebuild(connection, *, clocks_only=False, repeat_marks=True, own_counts=True) -> int:
    """Recompute the tables (and the repeat marks, ``tracker.reports.repeats``) from the cases;
    returns the number of day rows. ``clocks_only``: the running-clock table alone;
    ``repeat_marks=False``, ``own_counts=False``: not the marks, not ``unit_month_counts``
    (migration 0004 runs before their tables exist)."""
    connection.execute(delete(CLOCK_TABLE))
    connection.execute(CLOCK_TABLE.insert().from_select(list(CLOCK_KEY) + ["clocks"],
                                                        _clocks_from_scratch(connection)))
    if not clocks_only:
        rebuild_audits(connection)
        connection.execute(delete(MONTH_TABLE))
        connection.execute(delete(TABLE))
        connection.execute(TABLE.insert().from_select(list(KEY + VALUES), _from_scratch(connection)))
        connection.execute(MONTH_TABLE.insert().from_select(list(MONTH_KEY + VALUES),
                                                            _months_of(connection, TABLE)))
        if own_counts:
            rebuild_own(connection)
        if repeat_marks:
            repeats.rebuild(connection)
    return connection.scalar(select(func.count()).select_from(TABLE))


def rebuild_own(connection) -> None:
    """Recompute ``unit_month_counts`` alone (migration 0007 fills it this way)."""
    connection.execute(delete(OWN_TABLE))
    connection.execute(OWN_TABLE.insert().from_select(list(OWN_KEY + OWN_VALUES),
                                                      _own_from_scratch(connection)))


def _normalised(rows, key_names=KEY, value_names=VALUES):
    """{key: values} without all-zero rows (what is left after a case moved away)."""
    result = {}
    for row in rows:
        key = tuple(str(row[name]) if name in ("day", "month", "due_day")
                    else (bool(row[name]) if name == "substantiated" else row[name])
                    for name in key_names)
        values = tuple(Decimal(str(row[name])).quantize(Decimal("0.01")) if name in ("fines", "score_sum")
                       else int(row[name]) for name in value_names)
        if any(values):
            result[key] = values
    return result


def check(connection) -> list[str]:
    """The differences between the tables and a computation from scratch (empty: in step)."""
    scratch = _from_scratch(connection)
    problems = []
    for table, key_names, value_names, expected_rows in (
        (TABLE, KEY, VALUES, scratch),
        (MONTH_TABLE, MONTH_KEY, VALUES, _months_of(connection, scratch)),
        (CLOCK_TABLE, CLOCK_KEY, ("clocks",), _clocks_from_scratch(connection)),
        (OWN_TABLE, OWN_KEY, OWN_VALUES, _own_from_scratch(connection)),
        (AUDIT_TABLE, AUDIT_KEY, AUDIT_VALUES, _audit_sources(connection)[0]),
        (SECTION_TABLE, SECTION_KEY, SECTION_VALUES, _audit_sources(connection)[1]),
    ):
        stored = _normalised(connection.execute(select(table)).mappings(), key_names, value_names)
        expected = _normalised(connection.execute(expected_rows).mappings(), key_names, value_names)
        for key in sorted(stored.keys() | expected.keys(), key=str):
            if stored.get(key) != expected.get(key):
                problems.append(f"{table.name} {dict(zip(key_names, key))}: "
                                f"stored {stored.get(key)}, expected {expected.get(key)}")
    return problems + repeats.check(connection)


def move_subtree(connection, unit_id: int, old_path: str, new_path: str) -> None:
    """A unit was moved from ``old_path`` to ``new_path``: its subtree's sums (the unit's own
    rows) leave the ancestors it no longer has and join the new ones."""
    old, new = set(ancestor_ids(old_path)), set(ancestor_ids(new_path))
    for ancestors, sign in ((old - new, -1), (new - old, +1)):
        for ancestor in sorted(ancestors):
            for table, key, values in ((TABLE, KEY, VALUES), (MONTH_TABLE, MONTH_KEY, VALUES),
                                       (CLOCK_TABLE, CLOCK_KEY, ("clocks",)),
                                       (AUDIT_TABLE, AUDIT_KEY, AUDIT_VALUES),
                                       (SECTION_TABLE, SECTION_KEY, SECTION_VALUES)):
                rows = select(literal(ancestor).label("unit_id"), *[table.c[name] for name in key[1:]],
                              *[(table.c[name] * sign).label(name) for name in values]
                              ).where(table.c.unit_id == unit_id)
                connection.execute(_adding(connection, table, key, rows, values))


# ---------------------------------------------------------------------------- audits


AUDIT_TABLE = AuditDayStat.__table__
AUDIT_KEY, AUDIT_VALUES = ("unit_id", "day"), ("audits", "scored", "score_sum")
SECTION_TABLE = AuditSectionStat.__table__
SECTION_KEY = ("unit_id", "day", "section_name", "section_name_en")
SECTION_VALUES = ("earned", "applicable", "audits")


def _visit_day(connection):
    if connection.dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", Audit.visited_at), Date)
    return func.date(Audit.visited_at, "+8 hours")


def _audit_sources(connection, audit_id=None):
    """SELECTs of the audit rows and the section rows of approved audits (or of one), added up
    into every ancestor of the audit's unit."""
    only = [Audit.id == audit_id] if audit_id is not None else []
    per_audit = (
        select(Audit.unit_id, _visit_day(connection).label("day"), literal(1).label("audits"),
               sql_case((Audit.score.is_not(None), 1), else_=0).label("scored"),
               func.coalesce(Audit.score, 0).label("score_sum"))
        .where(Audit.state == AuditState.approved, *only)
        .subquery("per_audit")
    )
    answered = AuditResult.result.in_([ItemResult.passed, ItemResult.failed])
    applicable = sql_case((answered, ChecklistItem.weight), else_=0)
    earned = sql_case((AuditResult.result == ItemResult.passed, ChecklistItem.weight), else_=0)
    per_section = (
        select(Audit.unit_id, _visit_day(connection).label("day"),
               ChecklistSection.name.label("section_name"),
               func.coalesce(ChecklistSection.name_en, "").label("section_name_en"),
               func.sum(earned).label("earned"), func.sum(applicable).label("applicable"),
               literal(1).label("audits"))
        .select_from(AuditResult)
        .join(Audit, Audit.id == AuditResult.audit_id)
        .join(ChecklistItem, ChecklistItem.id == AuditResult.item_id)
        .join(ChecklistSection, ChecklistSection.id == ChecklistItem.section_id)
        .where(Audit.state == AuditState.approved, *only)
        .group_by(Audit.id, Audit.unit_id, Audit.visited_at, ChecklistSection.name, ChecklistSection.name_en)
        .subquery("per_section")
    )

    return (_into_ancestors(per_audit, AUDIT_KEY, AUDIT_VALUES),
            _into_ancestors(per_section, SECTION_KEY, SECTION_VALUES))


def add_approved_audit(connection, audit) -> None:
    """An audit was approved (it never changes again): add it to the audit roll-ups."""
    audits, sections = _audit_sources(connection, audit.id)
    connection.execute(_adding(connection, AUDIT_TABLE, AUDIT_KEY, audits, AUDIT_VALUES))
    connection.execute(_adding(connection, SECTION_TABLE, SECTION_KEY, sections, SECTION_VALUES))


def rebuild_audits(connection) -> None:
    audits, sections = _audit_sources(connection)
    connection.execute(delete(AUDIT_TABLE))
    connection.execute(delete(SECTION_TABLE))
    connection.execute(AUDIT_TABLE.insert().from_select(list(AUDIT_KEY + AUDIT_VALUES), audits))
    connection.execute(SECTION_TABLE.insert().from_select(list(SECTION_KEY + SECTION_VALUES), sections))
