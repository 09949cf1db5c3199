"""The figures of a unit's subtree over a period (DESIGN.md §7), and early warning (§4).

Pure reads returning plain dataclasses; the web dashboard and the PDF report show the same
objects. Every statement is scoped twice: to the viewer (``cases_visible_to`` semantics:
their scope subtree) and to the selected unit's subtree.

The counts and sums come from the roll-up of ``tracker.reports.stats`` (``cube``): one statement
over the rows of the selection's root unit, kept exactly in step with the cases, so a dashboard
costs the same at a thousand cases and at a million. What changes with the clock (running
clocks past due) and what names people (early warning) is read from the cases; only the case
table and the few typical cases load rows.

Conventions:
- The period is a pair of Beijing dates, both included, on ``Case.received_at``.
- Merged cases are left out everywhere: they are duplicates of the case they were merged
  into, which is counted.
- "Substantiated" means substantiated or partly substantiated; a determination overturned on
  appeal is not.
- Overdue steps are the clocks of the selected cases that are overdue now, as
  ``Deadline.is_overdue`` says (met late, or open past due; paused and cancelled clocks are
  not), without the appeal window, on which nobody can be late.
- Points and fines are summed over the measures of substantiated cases.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case as sql_case, func, literal, literal_column, select, tuple_
from sqlalchemy.orm import aliased, selectinload

from tracker.cases.models import Case, Deadline, Measure, Responsibility, ViolationType
from tracker.cases.states import (
    DETERMINATION_OUTCOMES,
    CaseState,
    Channel,
    MeasureKind,
    Outcome,
    ResponsibilityKind,
    Severity,
    ViolationCategory,
)
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, ValidationError
from tracker.core.permissions import is_staff, scope_path
from tracker.extensions import db
from tracker.reports import stats
from tracker.reports.models import (
    AuditDayStat, AuditSectionStat, CaseDayStat, CaseMonthStat, RepeatMark, RunningClockStat, UnitMonthCount,
)
from tracker.reports.repeats import REPEAT_THRESHOLD, REPEAT_WINDOW_MONTHS
from tracker.units.models import Unit
from tracker.units.queries import in_subtree

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LOCAL_OFFSET_HOURS = 8  # Beijing has no daylight saving time

# Early warning (DESIGN.md §4): 3 substantiated cases in 6 months (tracker.reports.repeats); a
# rising trend is the last 3 months against the 3 before, up by half or more with at least 3
# recent cases.
TREND_MONTHS = 3
TREND_MIN_CASES = 3
TREND_MIN_RISE = Decimal("0.5")

TYPICAL_CASES = 3
FACTS_MAX_CHARS = 160
MAX_PERIOD_DAYS = 3 * 366


class ReportTooLarge(DomainError):
    code = "report_too_large"
    status = 422
    default_message = _l("The period is too large; choose a shorter period or a smaller unit.")


# ---------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class Period:
    """Beijing dates, both included."""

    date_from: date
    date_to: date

    def __post_init__(self):
        if self.date_to < self.date_from:
            raise ValidationError(_l("The end of the period is before its start."), field="to")
        if (self.date_to - self.date_from).days > MAX_PERIOD_DAYS:
            raise ValidationError(_l("A period may span three years at the most."), field="from")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=LOCAL_TZ)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)

    def months(self) -> list[date]:
        """First days of the months the period touches."""
        month, last = self.date_from.replace(day=1), self.date_to.replace(day=1)
        months = []
        while month <= last:
            months.append(month)
            month = add_months(month, 1)
        return months


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Selection:
    """Whose figures: the viewer's scope, narrowed to a unit's subtree, over a period."""

    viewer: object
    unit: Unit | None
    period: Period

    def unit_conditions(self):
        """WHERE conditions on Unit: the viewer's scope, as ``cases_visible_to`` has it, and the
        selected subtree."""
        if not is_staff(self.viewer):
            return [literal(False)]
        conditions = []
        prefix = scope_path(self.viewer)
        if prefix is not None:
            conditions.append(in_subtree(Unit.path, prefix))
        if self.unit is not None:
            conditions.append(in_subtree(Unit.path, self.unit.path))
        return conditions

    def case_conditions(self, *, with_period=True):
        """WHERE conditions selecting the cases, for a statement that joins Case.unit: the
        unit conditions, without merged duplicates, received in the period. Plain conditions
        rather than ``cases.id IN (SELECT …)``, so the database reads the cases once."""
        conditions = [*self.unit_conditions(), Case.merged_into_id.is_(None)]
        if with_period:
            conditions += [Case.received_at >= self.period.start, Case.received_at < self.period.end]
        return conditions

    def root_unit_ids(self) -> list[int]:
        """The units whose roll-up rows hold the selection (tracker.reports.stats): the deeper
        of the viewer's scope and the selected unit, or every top unit for the whole
        organisation; none when the two subtrees do not meet."""
        if not is_staff(self.viewer):
            return []
        paths = [p for p in (scope_path(self.viewer), self.unit.path if self.unit is not None else None) if p]
        if not paths:
            return top_unit_ids()
        deepest = max(paths, key=len)
        if not all(deepest.startswith(p) for p in paths):
            return []
        last = deepest.strip("/").rsplit("/", 1)[-1]
        return [int(last)] if last.isdigit() else []  # "/-/": a unit head without a unit


def top_unit_ids() -> list[int]:
    """The roots of the organisation tree: their roll-up rows hold everything."""
    return list(db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id)))


def _substantiated():
    return Case.outcome.in_(DETERMINATION_OUTCOMES)


def _dialect():
    return db.session.get_bind().dialect.name


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_TZ).date() if moment is not None else None


# ---------------------------------------------------------------------------- the roll-up


@dataclass(frozen=True, slots=True)
class CubeRow:
    """The sums of the selected cases for one month and one combination of channel, severity,
    violation type and substantiation."""

    month: str  # "YYYY-MM", Beijing time
    channel: Channel
    severity: Severity | None
    violation_type_id: int | None
    substantiated: bool
    cases: int
    steps_met_late: int
    rectification_met: int
    rectification_on_time: int
    interviews_held: int
    points: int
    fines: Decimal


def cube(selection) -> list[CubeRow]:
    """The roll-up rows of the selection's root units over the period, summed by month: the
    month rows of the period's whole months and the day rows of the days at either end, so a
    six-month dashboard of the whole organisation reads a few thousand rows whatever the number
    of cases."""
    roots = selection.root_unit_ids()
    if not roots:
        return []
    period = selection.period
    first_whole = period.date_from.replace(day=1)
    if period.date_from.day != 1:
        first_whole = add_months(first_whole, 1)
    # The month of the period's last day counts whole if that day is the month's last.
    after_whole = period.date_to.replace(day=1)
    if (period.date_to + timedelta(days=1)).day == 1:
        after_whole = add_months(after_whole, 1)
    if after_whole <= first_whole:  # no whole month: every day from the day rows
        first_whole = after_whole = period.date_to + timedelta(days=1)
    postgresql = _dialect() == "postgresql"
    # Half-open ranges, one statement each: PostgreSQL answers an OR of two day ranges by
    # filtering every day row of the root (360,000 at a million cases) instead of two index
    # ranges. The day rows lie in the months at either end, which are never whole: no month
    # comes from two statements, so their rows are the cube as they are.
    ranges = [
        (CaseDayStat, CaseDayStat.day, period.date_from, first_whole),
        (CaseMonthStat, CaseMonthStat.month, first_whole, after_whole),
        (CaseDayStat, CaseDayStat.day, after_whole, period.date_to + timedelta(days=1)),
    ]
    channels, severities = {c.value: c for c in Channel}, {s.value: s for s in Severity}
    rows = []
    for model, column, low, high in ranges:
        if low >= high:
            continue
        month = func.to_char(column, "YYYY-MM") if postgresql else func.strftime("%Y-%m", column)
        keys = (model.channel, model.severity, model.violation_type_id, model.substantiated)
        if model is CaseMonthStat and len(roots) == 1:  # one row per key already: nothing to add up
            stmt = select(month, *keys, *[getattr(model, name) for name in stats.VALUES])
        else:
            stmt = (select(month, *keys, *[func.sum(getattr(model, name)) for name in stats.VALUES])
                    .group_by(month, *keys))
        rows += [
            CubeRow(m, channels[channel], severities.get(severity), vt or None, bool(subst), int(n), int(late),
                    int(rect), int(on_time), int(held), int(points),
                    fines if isinstance(fines, Decimal) else Decimal(str(fines or 0)))
            for m, channel, severity, vt, subst, n, late, rect, on_time, held, points, fines in db.session.execute(
                stmt.where(model.unit_id.in_(roots), column >= low, column < high)
            )
        ]
    return rows


def _cube(selection, rows):
    return cube(selection) if rows is None else rows


# ---------------------------------------------------------------------------- headline


@dataclass
class Headline:
    cases: int = 0
    substantiated: int = 0
    by_severity: dict = field(default_factory=dict)  # Severity → substantiated cases
    overdue_steps: int = 0
    rectification_met: int = 0
    rectification_on_time: int = 0
    interviews_held: int = 0
    points_total: int = 0
    fines_total: Decimal = Decimal("0")

    @property
    def substantiation_rate(self) -> float | None:
        return self.substantiated / self.cases * 100 if self.cases else None

    @property
    def rectification_on_time_rate(self) -> float | None:
        return self.rectification_on_time / self.rectification_met * 100 if self.rectification_met else None


def open_overdue_steps(selection, now: datetime) -> int:
    """Running clocks of the selected cases past their due time ``now``: the roll-up's clocks due
    on the days before today (Beijing), plus those due earlier today, read through the
    running-clock index. Exact at any moment, though nothing is written when a clock falls due."""
    roots = selection.root_unit_ids()
    if not roots:
        return 0
    today = local_date(now)
    midnight = datetime.combine(today, time.min, tzinfo=LOCAL_TZ)
    earlier_days = db.session.scalar(
        select(func.coalesce(func.sum(RunningClockStat.clocks), 0))
        .where(RunningClockStat.unit_id.in_(roots), RunningClockStat.day >= selection.period.date_from,
               RunningClockStat.day <= selection.period.date_to, RunningClockStat.due_day < today)
    )
    earlier_today = db.session.scalar(
        select(func.count(Deadline.id))
        .join(Case, Case.id == Deadline.case_id)
        .join(Unit, Unit.id == Case.unit_id)
        .where(stats.running_clock(), Deadline.due_at >= midnight, Deadline.due_at < now,
               *selection.case_conditions())
    ) if now > midnight else 0
    return int(earlier_days) + earlier_today


def headline(selection: Selection, *, now: datetime | None = None,
             rows: list[CubeRow] | None = None) -> Headline:
    rows = _cube(selection, rows)
    result = Headline(by_severity={s: 0 for s in Severity})
    for row in rows:
        result.cases += row.cases
        result.overdue_steps += row.steps_met_late
        result.rectification_met += row.rectification_met
        result.rectification_on_time += row.rectification_on_time
        result.interviews_held += row.interviews_held
        if row.substantiated:
            result.substantiated += row.cases
            result.points_total += row.points
            result.fines_total += row.fines
            if row.severity is not None:
                result.by_severity[row.severity] += row.cases
    result.overdue_steps += open_overdue_steps(selection, now or utcnow())
    result.fines_total = result.fines_total.quantize(Decimal("0.01"))
    return result


# ---------------------------------------------------------------------------- breakdowns


@dataclass
class BreakdownRow:
    key: object  # the enum member, or None for "not classified"
    cases: int
    substantiated: int

    @property
    def label(self):
        return self.key.label if self.key is not None else _l("Not classified")


def _breakdown(rows, key_of, members):
    counts = {}
    for row in rows:
        cases, subst = counts.get(key_of(row), (0, 0))
        counts[key_of(row)] = (cases + row.cases, subst + (row.cases if row.substantiated else 0))
    result = [BreakdownRow(m, *counts.get(m, (0, 0))) for m in members]
    if None in counts:
        result.append(BreakdownRow(None, *counts[None]))
    return result


def by_category(selection, *, rows=None):
    categories = dict(db.session.execute(select(ViolationType.id, ViolationType.category)).all())
    return _breakdown(_cube(selection, rows), lambda row: categories.get(row.violation_type_id),
                      list(ViolationCategory))


def by_channel(selection, *, rows=None):
    return _breakdown(_cube(selection, rows), lambda row: row.channel, list(Channel))


def by_severity(selection, *, rows=None):
    return _breakdown(_cube(selection, rows), lambda row: row.severity, list(Severity))


@dataclass
class MonthRow:
    month: date
    cases: int
    substantiated: int


def monthly_trend(selection, *, rows=None) -> list[MonthRow]:
    counts = {}
    for row in _cube(selection, rows):
        cases, subst = counts.get(row.month, (0, 0))
        counts[row.month] = (cases + row.cases, subst + (row.cases if row.substantiated else 0))
    return [MonthRow(m, *counts.get(m.strftime("%Y-%m"), (0, 0))) for m in selection.period.months()]


# ---------------------------------------------------------------------------- audits


@dataclass
class AuditSectionRow:
    name: str
    name_en: str
    score: float | None  # the subtree's
    org_score: float | None  # the whole organisation's
    audits: int  # the subtree's approved audits with this section answered

    def title(self, english=False):
        return self.name_en if english and self.name_en else self.name


@dataclass
class AuditFigures:
    audits: int
    average: float | None
    org_audits: int
    org_average: float | None
    sections: list[AuditSectionRow]


def _section_scores(roots, period):
    """{(name, name_en): (score %, audits)} over approved audits visited in the period in the
    subtrees of ``roots``, from the audit roll-up (tracker.reports.stats).

    Section score = earned weight / applicable weight × 100 (tracker.audits.scoring).
    """
    if not roots:
        return {}
    stmt = (
        select(AuditSectionStat.section_name, AuditSectionStat.section_name_en,
               func.sum(AuditSectionStat.earned), func.sum(AuditSectionStat.applicable),
               func.sum(AuditSectionStat.audits))
        .where(AuditSectionStat.unit_id.in_(roots), AuditSectionStat.day >= period.date_from,
               AuditSectionStat.day <= period.date_to)
        .group_by(AuditSectionStat.section_name, AuditSectionStat.section_name_en)
    )
    return {
        (name, name_en or ""): (round(float(e) * 100 / float(a), 1) if a else None, int(n))
        for name, name_en, e, a, n in db.session.execute(stmt)
    }


def _audit_average(roots, period):
    if not roots:
        return 0, None
    count, scored, total = db.session.execute(
        select(func.coalesce(func.sum(AuditDayStat.audits), 0),
               func.coalesce(func.sum(AuditDayStat.scored), 0), func.sum(AuditDayStat.score_sum))
        .where(AuditDayStat.unit_id.in_(roots), AuditDayStat.day >= period.date_from,
               AuditDayStat.day <= period.date_to)
    ).one()
    return int(count), (round(float(total) / int(scored), 1) if scored else None)


def audit_figures(selection) -> AuditFigures:
    """Audit scores by section for the subtree against the organisation average (an aggregate,
    so every staff member may see it)."""
    everything = top_unit_ids()
    roots = selection.root_unit_ids()
    org = _section_scores(everything, selection.period)
    mine = org if roots == everything else _section_scores(roots, selection.period)
    sections = [
        AuditSectionRow(name, name_en, mine.get((name, name_en), (None, 0))[0], org_score,
                        mine.get((name, name_en), (None, 0))[1])
        for (name, name_en), (org_score, _n) in sorted(org.items())
    ]
    org_audits, org_average = _audit_average(everything, selection.period)
    if roots == everything:
        audits, average = org_audits, org_average
    else:
        audits, average = _audit_average(roots, selection.period)
    return AuditFigures(audits, average, org_audits, org_average, sections)


# ---------------------------------------------------------------------------- case table


@dataclass
class CaseRow:
    number: str
    received_on: date
    unit_name: str
    channel: Channel
    category: ViolationCategory | None
    severity: Severity | None
    state: CaseState
    outcome: Outcome | None


def count_cases(selection) -> int:
    return sum(row.cases for row in cube(selection))


def case_table(selection, *, limit: int | None = None) -> list[CaseRow]:
    """The selected cases, oldest first. No complainant data is read at all."""
    stmt = (
        select(Case.number, Case.received_at, Unit.name, Case.channel, ViolationType.category,
               Case.severity, Case.state, Case.outcome)
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(ViolationType, ViolationType.id == Case.violation_type_id)
        .where(*selection.case_conditions())
        .order_by(Case.received_at, Case.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        CaseRow(number, local_date(received), unit_name, channel, category, severity, state, outcome)
        for number, received, unit_name, channel, category, severity, state, outcome in db.session.execute(stmt)
    ]


# ---------------------------------------------------------------------------- typical cases


@dataclass
class TypicalMeasure:
    kind: MeasureKind
    responsibility: ResponsibilityKind
    unit_name: str
    points: int | None
    amount: Decimal | None


@dataclass
class TypicalCase:
    number: str
    received_on: date
    unit_name: str
    category: ViolationCategory | None
    violation_name: str
    violation_name_en: str
    severity: Severity
    outcome: Outcome
    summary: str
    facts: str
    measures: list[TypicalMeasure]


WITHHELD = _l("(name withheld)")


def anonymise(text: str, names) -> str:
    """Replace known personal names (complainant, responsible people) in free text."""
    text = text or ""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if len(name) >= 2:
            text = text.replace(name, str(WITHHELD))
    return text


def shorten(text: str, limit: int = FACTS_MAX_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def typical_cases(selection, *, limit: int = TYPICAL_CASES) -> list[TypicalCase]:
    """A few substantiated grave or serious cases, gravest and latest first, anonymised:
    no complainant, people by the kind of their responsibility and their unit, never by name."""
    rank = sql_case((Case.severity == Severity.grave, 0), else_=1)
    cases = db.session.scalars(
        select(Case)
        .join(Unit, Unit.id == Case.unit_id)
        .where(*selection.case_conditions(), _substantiated(),
               Case.severity.in_([Severity.grave, Severity.serious]))
        .order_by(rank, Case.received_at.desc(), Case.id.desc())
        .limit(limit)
        .options(
            selectinload(Case.unit), selectinload(Case.violation_type),
            selectinload(Case.measures).selectinload(Measure.responsibility).selectinload(Responsibility.unit),
            selectinload(Case.responsibilities),
        )
    ).all()
    result = []
    for c in cases:
        names = [c.complainant_name] + [r.person_name for r in c.responsibilities]
        result.append(TypicalCase(
            number=c.number,
            received_on=local_date(c.received_at),
            unit_name=c.unit.name,
            category=c.violation_type.category if c.violation_type else None,
            violation_name=c.violation_type.name if c.violation_type else "",
            violation_name_en=c.violation_type.name_en if c.violation_type else "",
            severity=c.severity,
            outcome=c.outcome,
            summary=anonymise(c.summary, names),
            facts=shorten(anonymise(c.inquiry_facts, names)),
            measures=[
                TypicalMeasure(m.kind, m.responsibility.kind, m.responsibility.unit.name, m.points, m.amount)
                for m in c.measures
            ],
        ))
    return result


# ---------------------------------------------------------------------------- early warning


@dataclass
class RepeatFlag:
    unit_code: str
    unit_name: str
    person_name: str | None  # None: the unit itself
    cases: int
    gravest: Severity | None
    latest_on: date | None

    @property
    def proposed_severity(self) -> Severity:
        """One level above the gravest so far (DESIGN.md §4: propose a higher severity)."""
        order = list(Severity)
        if self.gravest is None:
            return Severity.serious
        return order[min(order.index(self.gravest) + 1, len(order) - 1)]


@dataclass
class TrendFlag:
    unit_code: str
    unit_name: str
    recent: int
    previous: int

    @property
    def rise_percent(self) -> int | None:
        return round((self.recent - self.previous) * 100 / self.previous) if self.previous else None


@dataclass
class EarlyWarning:
    window_from: date
    window_to: date
    repeat_people: list[RepeatFlag]
    repeat_units: list[RepeatFlag]
    rising_units: list[TrendFlag]

    @property
    def empty(self):
        return not (self.repeat_people or self.repeat_units or self.rising_units)


# ---------------------------------------------------------------------------- a unit's own cases


RECEIVED, DETERMINED = "received", "determined"


def _month_pieces(date_from: date, date_to: date):
    """How to count the days ``date_from``..``date_to`` per unit: the months to read from
    ``unit_month_counts`` (whole months, and months a part is subtracted from), the day ranges
    to count from the cases and add, and those to count and subtract.

    A month the period covers only in part is counted from its cases, or, when the rest of the
    month is the shorter side, as the month's row minus the rest. The month of today therefore
    costs next to nothing: its rest is the future, where no case is."""
    months, added, subtracted = [], [], []
    month = date_from.replace(day=1)
    while month <= date_to:
        following = add_months(month, 1)
        last = following - timedelta(days=1)
        first_day, last_day = max(date_from, month), min(date_to, last)
        rest = None
        if first_day == month and last_day < last:
            rest = (last_day + timedelta(days=1), last)
        elif last_day == last and first_day > month:
            rest = (month, first_day - timedelta(days=1))
        if (first_day, last_day) == (month, last):
            months.append(month)
        elif rest is not None and (rest[1] - rest[0]) < (last_day - first_day):
            months.append(month)
            subtracted.append(rest)
        else:
            added.append((first_day, last_day))
        month = following
    return months, added, subtracted


def _own_counts(selection, kind: str, date_from: date, date_to: date, *, cache: dict) -> dict[int, list[int]]:
    """Per unit of the selection, its own (not its subtree's) cases received, or determined
    substantiated, on the Beijing days ``date_from``..``date_to``: {unit id: [n]}, or for
    ``DETERMINED`` {unit id: [n, general, serious, grave]}. Whole months come from
    ``unit_month_counts``, the days at the ends from the cases (``_month_pieces``); ``cache``
    keeps the day ranges counted already within one early warning."""
    months, added, subtracted = _month_pieces(date_from, date_to)
    table = UnitMonthCount
    columns = [table.received] if kind == RECEIVED else [
        table.determined, table.determined_general, table.determined_serious, table.determined_grave]
    totals: dict[int, list[int]] = {}
    connection = db.session.connection()  # plain rows, without the ORM's result processing

    def add(rows, sign):
        for unit_id, *values in rows:
            values = [sign * int(value or 0) for value in values]
            total = totals.get(unit_id)
            totals[unit_id] = values if total is None else [a + b for a, b in zip(total, values)]

    if months:
        unit_id = _by_unit(selection, table.unit_id)
        add(connection.execute(
            _in_scope(select(unit_id, *[func.sum(c) for c in columns]), selection, table.unit_id)
            .where(table.month.in_(months))
            .group_by(unit_id)
        ), +1)
    for ranges, sign in ((added, +1), (subtracted, -1)):
        for first_day, last_day in ranges:
            key = (kind, first_day, last_day)
            if key not in cache:
                cache[key] = connection.execute(_own_cases(selection, kind, first_day, last_day)).all()
            add(cache[key], sign)
    return {unit_id: counts for unit_id, counts in totals.items() if counts[0]}


def _in_scope(stmt, selection, unit_id_column):
    """``stmt`` limited to the selection's units: ``unit_id IN (SELECT id FROM units WHERE …)``,
    which both databases answer unit by unit from an index by unit and time (a join led SQLite
    to read all 2,000 units' ranges and check each unit's path); nothing for every unit."""
    conditions = selection.unit_conditions()
    if not conditions:
        return stmt
    return stmt.where(unit_id_column.in_(select(Unit.id).where(*conditions)))


def _by_unit(selection, column=Case.unit_id):
    """The column to group rows of a few days or months by unit. Over every unit, SQLite would
    rather read an index by unit and time unit by unit (2,000 short ranges: 10–16 ms for ten
    days of cases) than one range of an index by time, grouped afterwards (0–6 ms); ``+ 0`` keeps
    it from the first. A subtree's units are better read unit by unit."""
    return column if selection.unit_conditions() else column + literal_column("0")


def _own_cases(selection, kind, first_day, last_day):
    """SELECT of the own cases per unit received (or determined substantiated) on those days."""
    period = Period(first_day, last_day)
    unit_id = _by_unit(selection)
    if kind == RECEIVED:
        # count(*): the indexes of the cases by receipt cover the query
        stmt = select(unit_id, func.count()).where(Case.received_at >= period.start,
                                                   Case.received_at < period.end)
    else:
        stmt = select(
            unit_id, func.count(),
            *[func.sum(sql_case((Case.severity == severity, 1), else_=0)) for severity in Severity],
        ).where(_substantiated(), Case.determined_at >= period.start, Case.determined_at < period.end)
    return _in_scope(stmt, selection, Case.unit_id).where(Case.merged_into_id.is_(None)).group_by(unit_id)


def _gravest(column):
    """SQL: the gravest severity in the group, as its rank (0 general .. 2 grave)."""
    return func.max(sql_case(*[(column == s, s.rank) for s in Severity], else_=None))


def early_warning(selection, *, as_of: date | None = None, threshold: int = REPEAT_THRESHOLD,
                  window_months: int = REPEAT_WINDOW_MONTHS, trend_months: int = TREND_MONTHS,
                  trend_min_cases: int = TREND_MIN_CASES, trend_min_rise: Decimal = TREND_MIN_RISE) -> EarlyWarning:
    """Repeat violations (by person within a unit, and by unit) and units with a rising trend.

    Repeats count substantiated cases *determined* in the ``window_months`` up to ``as_of``
    (default: the end of the selection's period); trends compare cases *received* in the last
    ``trend_months`` with the ``trend_months`` before.
    """
    as_of = as_of or min(selection.period.date_to, local_date(utcnow()))
    window = Period(add_months(as_of, -window_months) + timedelta(days=1), as_of)
    scoped = selection.case_conditions(with_period=False)
    determined_in_window = [
        _substantiated(), Case.determined_at >= window.start, Case.determined_at < window.end,
    ]
    responsible = aliased(Unit)  # the person's unit; Unit is the case's, which the scope applies to
    if threshold == REPEAT_THRESHOLD:
        # Only the people the repeat marks name as candidates (tracker.reports.repeats).
        mark = RepeatMark
        candidates = select(mark.unit_id, mark.person_name).where(
            mark.earlier_at >= window.start, mark.determined_at < window.end
        )
        source = (
            select(mark.case_id, mark.unit_id, mark.person_name)
            .where(tuple_(mark.unit_id, mark.person_name).in_(candidates),
                   mark.determined_at >= window.start, mark.determined_at < window.end)
            .subquery("marked")
        )
    else:
        source = (
            select(Responsibility.case_id, Responsibility.unit_id, Responsibility.person_name)
            .where(Responsibility.person_name.is_not(None), Responsibility.person_name != "")
            .subquery("named")
        )
    person = source.c.person_name
    cases_of_person = func.count(func.distinct(Case.id))
    people = [
        RepeatFlag(code, name, person_name, n, list(Severity)[g] if g is not None else None, local_date(latest))
        for code, name, person_name, n, g, latest in db.session.execute(
            select(responsible.code, responsible.name, person,
                   cases_of_person, _gravest(Case.severity), func.max(Case.determined_at))
            .select_from(source)
            .join(Case, Case.id == source.c.case_id)
            .join(Unit, Unit.id == Case.unit_id)
            .join(responsible, responsible.id == source.c.unit_id)
            .where(*scoped, *determined_in_window)
            .group_by(responsible.code, responsible.name, person)
            .having(cases_of_person >= threshold)
            .order_by(cases_of_person.desc(), responsible.code, person)
        )
    ]
    # Units: their own cases (unit_month_counts, and the cases of the days at the window's ends),
    # named afterwards.
    cache = {}
    repeated = {unit_id: counts for unit_id, counts in
                _own_counts(selection, DETERMINED, window.date_from, window.date_to, cache=cache).items()
                if counts[0] >= threshold}
    recent = Period(add_months(as_of, -trend_months) + timedelta(days=1), as_of)
    previous = Period(add_months(as_of, -2 * trend_months) + timedelta(days=1), recent.date_from - timedelta(days=1))
    recent_counts = _own_counts(selection, RECEIVED, recent.date_from, recent.date_to, cache=cache)
    previous_counts = _own_counts(selection, RECEIVED, previous.date_from, previous.date_to, cache=cache)
    trends = {}
    for unit_id, (r,) in recent_counts.items():
        p = previous_counts.get(unit_id, [0])[0]
        if r >= trend_min_cases and r > p and r - p >= p * trend_min_rise:
            trends[unit_id] = (r, p)
    names = _unit_names(selection)
    latest = _latest_determinations(selection, repeated, window)
    units = sorted(
        (RepeatFlag(*names[unit_id], None, n, _gravest_of(by_severity), local_date(latest.get(unit_id)))
         for unit_id, (n, *by_severity) in repeated.items()),
        key=lambda flag: (-flag.cases, flag.unit_code),
    )
    rising = sorted((TrendFlag(*names[unit_id], r, p) for unit_id, (r, p) in trends.items()),
                    key=lambda flag: (-flag.recent, flag.unit_code))
    return EarlyWarning(window.date_from, window.date_to, people, units, rising)


def _gravest_of(by_severity) -> Severity | None:
    """The gravest severity with a case, from the counts per severity in ``Severity`` order."""
    return next((severity for severity, n in zip(reversed(Severity), reversed(by_severity)) if n), None)


def _unit_names(selection) -> dict[int, tuple[str, str]]:
    """{unit id: (code, name)} of the selection's units (every unit in scope: cheaper than a
    list of the ids wanted, which can be most of them)."""
    return {unit_id: (code, name) for unit_id, code, name in db.session.execute(
        select(Unit.id, Unit.code, Unit.name).where(*selection.unit_conditions()))}


LATEST_LOOKBACK_DAYS = 31


def _latest_determinations(selection, unit_ids, window) -> dict[int, datetime]:
    """{unit id: when its latest own substantiated case of the window was determined}, for the
    units given. Nearly every unit with repeats has a case determined in the window's last
    month: one range of the cases gives theirs. For the others, the index of the cases by unit
    and determination is read backwards from the window's end, unit by unit."""
    recent = Period(max(window.date_from, window.date_to - timedelta(days=LATEST_LOOKBACK_DAYS - 1)),
                    window.date_to)
    unit_id = _by_unit(selection)
    found = dict(db.session.execute(
        _in_scope(select(unit_id, func.max(Case.determined_at)), selection, Case.unit_id)
        .where(Case.merged_into_id.is_(None), _substantiated(),
               Case.determined_at >= recent.start, Case.determined_at < recent.end)
        .group_by(unit_id)
    ).all())
    latest = (
        select(Case.determined_at)
        .where(Case.unit_id == Unit.id, Case.merged_into_id.is_(None), _substantiated(),
               Case.determined_at >= window.start, Case.determined_at < window.end)
        .order_by(Case.determined_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    missing = sorted(set(unit_ids) - found.keys())
    found.update(db.session.execute(select(Unit.id, latest).where(Unit.id.in_(missing))).all())
    return found


# ---------------------------------------------------------------------------- everything


@dataclass
class UnitFigures:
    """All the figures of one selection: what the dashboard and the PDF show."""

    selection: Selection
    headline: Headline
    categories: list[BreakdownRow]
    channels: list[BreakdownRow]
    severities: list[BreakdownRow]
    trend: list[MonthRow]
    audits: AuditFigures
    generated_at: datetime
    cases: list[CaseRow] | None = None
    typical: list[TypicalCase] | None = None
    warning: EarlyWarning | None = None


def unit_figures(selection, *, with_cases=False, max_cases=None, with_warning=False) -> UnitFigures:
    """Gather the figures; ``with_cases`` adds the case table and typical cases (the PDF),
    refusing with ``ReportTooLarge`` beyond ``max_cases``."""
    rows = cube(selection)
    figures = UnitFigures(
        selection=selection,
        headline=headline(selection, rows=rows),
        categories=by_category(selection, rows=rows),
        channels=by_channel(selection, rows=rows),
        severities=by_severity(selection, rows=rows),
        trend=monthly_trend(selection, rows=rows),
        audits=audit_figures(selection),
        generated_at=utcnow(),
    )
    if with_cases:
        if max_cases is not None and figures.headline.cases > max_cases:
            raise ReportTooLarge()
        figures.cases = case_table(selection)
        figures.typical = typical_cases(selection)
    if with_warning:
        figures.warning = early_warning(selection)
    return figures
