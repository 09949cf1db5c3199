"""Audit scorecards: how a unit's subtree scores, section by section, over a period. Pure reads.

Only approved audits count. A section's score is earned weight / applicable weight × 100,
pooled over every approved audit in the bucket (month or quarter): items marked n.a. (and
unanswered ones) are not applicable, so they count neither way (DESIGN.md §5). Sections are
told apart by template code and section name, so a section keeps its line across template
versions. The overall figures (visits, average score, critical failures) use the score and
flag each audit stores when it is submitted.

The organisation comparison is the same computation over every approved audit. It is an
aggregate with no record of any other unit in it, so it is shown to everyone who may see a
scorecard, including unit heads; everything else is limited to the user's scope. Scorecards
name no people at all: neither auditors nor approvers.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import fmean

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection, ChecklistTemplate
from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.cases.queries import LOCAL_TZ, local_day_start
from tracker.core.database import utcnow
from tracker.core.errors import NotFound
from tracker.core.permissions import can_see_unit, is_staff, scope_path
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import get_unit_by_code, in_subtree

GRANULARITIES = ("month", "quarter")
MAX_PERIOD_DAYS = 5 * 366


def can_view_scorecards(user) -> bool:
    """Supervisors and admins (within their scope) and unit heads (their own subtree)."""
    return is_staff(user)


# --- periods ----------------------------------------------------------------------------------


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_twelve_months(today: date | None = None) -> tuple[date, date]:
    """From the first day of the month eleven months ago up to today: twelve monthly buckets."""
    today = today or local_today()
    return add_months(today, -11), today


def quarter_of(day: date) -> tuple[date, date]:
    """First and last day of the quarter containing ``day``."""
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return first, add_months(first, 3) - timedelta(days=1)


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # inclusive
    label: str


def buckets_for(date_from: date, date_to: date, granularity: str = "month") -> list[Bucket]:
    """Months or quarters that the period touches, in order."""
    step = 3 if granularity == "quarter" else 1
    start = quarter_of(date_from)[0] if step == 3 else date_from.replace(day=1)
    buckets = []
    while start <= date_to:
        following = add_months(start, step)
        if step == 3:
            label = _l("%(year)s Q%(quarter)s", year=start.year, quarter=(start.month - 1) // 3 + 1)
        else:
            label = f"{start.year}-{start.month:02d}"
        buckets.append(Bucket(start, following - timedelta(days=1), label))
        start = following
    return buckets


def _bucket_key(day: date, granularity: str):
    return (day.year, (day.month - 1) // 3) if granularity == "quarter" else (day.year, day.month)


# --- results ----------------------------------------------------------------------------------


def localized(name: str, name_en: str) -> str:
    return name_en if name_en and str(get_locale()) == "en" else name


@dataclass
class SectionScores:
    name: str
    name_en: str
    position: int
    unit: list  # one score (or None) per bucket
    organisation: list
    unit_period: float | None = None
    organisation_period: float | None = None

    @property
    def label(self):
        return localized(self.name, self.name_en)


@dataclass
class TemplateScores:
    code: str
    name: str
    name_en: str
    sections: list[SectionScores] = field(default_factory=list)

    @property
    def label(self):
        return localized(self.name, self.name_en)


@dataclass
class Summary:
    visits: int = 0
    average_score: float | None = None
    critical_failures: int = 0


@dataclass
class Scorecard:
    unit: Unit | None  # None: the whole organisation
    date_from: date
    date_to: date
    granularity: str
    kind: AuditKind | None
    buckets: list[Bucket]
    unit_summary: Summary
    organisation_summary: Summary
    unit_scores: list  # average audit score per bucket
    organisation_scores: list
    templates: list[TemplateScores]

    @property
    def is_organisation(self):
        return self.unit is None


def scope_conditions(user, unit: Unit | None) -> list:
    """Conditions on ``Unit.path``: the user's scope, narrowed to the unit's subtree."""
    conditions = []
    if not is_staff(user):
        return [False]
    prefix = scope_path(user)
    if prefix is not None:
        conditions.append(in_subtree(Unit.path, prefix))
    if unit is not None:
        conditions.append(in_subtree(Unit.path, unit.path))
    return conditions


def _approved_in(date_from: date, date_to: date, kind: AuditKind | None) -> list:
    conditions = [
        Audit.state == AuditState.approved,
        Audit.visited_at >= local_day_start(date_from),
        Audit.visited_at < local_day_start(date_to + timedelta(days=1)),
    ]
    if kind is not None:
        conditions.append(Audit.kind == kind)
    return conditions


def approved_audits(user, unit: Unit | None, *, date_from: date, date_to: date,
                    kind: AuditKind | None = None):
    """Statement: the approved audits of the unit's subtree in the period, newest first."""
    return (
        select(Audit)
        .join(Unit, Audit.unit_id == Unit.id)
        .where(*_approved_in(date_from, date_to, kind), *scope_conditions(user, unit))
        .order_by(Audit.visited_at.desc(), Audit.id.desc())
        .options(selectinload(Audit.unit), selectinload(Audit.template))
    )


def _overall(conditions, buckets, granularity) -> tuple[Summary, list]:
    rows = db.session.execute(
        select(Audit.visited_at, Audit.score, Audit.critical_failed)
        .join(Unit, Audit.unit_id == Unit.id)
        .where(*conditions)
    ).all()
    index = {_bucket_key(b.start, granularity): i for i, b in enumerate(buckets)}
    per_bucket = [[] for _ in buckets]
    scores, critical = [], 0
    for visited_at, score, critical_failed in rows:
        critical += bool(critical_failed)
        if score is None:
            continue
        scores.append(float(score))
        i = index.get(_bucket_key(visited_at.astimezone(LOCAL_TZ).date(), granularity))
        if i is not None:
            per_bucket[i].append(float(score))
    summary = Summary(len(rows), fmean(scores) if scores else None, critical)
    return summary, [fmean(s) if s else None for s in per_bucket]


def _section_weights(conditions, buckets, granularity):
    """{(template code, section name): [[earned, applicable] per bucket]} and the names."""
    weight = func.sum(ChecklistItem.weight)
    rows = db.session.execute(
        select(
            Audit.visited_at, ChecklistTemplate.code, ChecklistTemplate.version, ChecklistTemplate.name,
            ChecklistTemplate.name_en, ChecklistSection.name, ChecklistSection.name_en,
            ChecklistSection.position,
            AuditResult.result, weight,
        )
        .select_from(AuditResult)
        .join(Audit, AuditResult.audit_id == Audit.id)
        .join(Unit, Audit.unit_id == Unit.id)
        .join(ChecklistItem, AuditResult.item_id == ChecklistItem.id)
        .join(ChecklistSection, ChecklistItem.section_id == ChecklistSection.id)
        .join(ChecklistTemplate, ChecklistSection.template_id == ChecklistTemplate.id)
        .where(*conditions, AuditResult.result.in_([ItemResult.passed, ItemResult.failed]))
        .group_by(
            Audit.visited_at, ChecklistTemplate.id, ChecklistTemplate.code, ChecklistTemplate.version,
            ChecklistTemplate.name, ChecklistTemplate.name_en, ChecklistSection.id, ChecklistSection.name,
            ChecklistSection.name_en, ChecklistSection.position, AuditResult.result,
        )
    ).all()
    index = {_bucket_key(b.start, granularity): i for i, b in enumerate(buckets)}
    weights, names = {}, {}
    for visited_at, code, version, t_name, t_name_en, s_name, s_name_en, position, result, total in rows:
        i = index.get(_bucket_key(visited_at.astimezone(LOCAL_TZ).date(), granularity))
        if i is None:
            continue
        key = (code, s_name)
        cells = weights.setdefault(key, [[0, 0] for _ in buckets])
        cells[i][1] += int(total)
        if result == ItemResult.passed:
            cells[i][0] += int(total)
        # Names of the newest template version seen win.
        if key not in names or names[key][0] < version:
            names[key] = (version, t_name, t_name_en, s_name_en, position)
    return weights, names


def _ratio(earned, applicable):
    return earned * 100 / applicable if applicable else None


def _period_score(cells):
    return _ratio(sum(c[0] for c in cells), sum(c[1] for c in cells))


def unit_scorecard(
    user,
    unit: Unit | None,
    *,
    date_from: date,
    date_to: date,
    granularity: str = "month",
    kind: AuditKind | None = None,
) -> Scorecard:
    """The scorecard of ``unit``'s subtree (``None``: everything in the user's scope), with
    the organisation's figures beside it."""
    if granularity not in GRANULARITIES:
        raise ValueError(granularity)
    buckets = buckets_for(date_from, date_to, granularity)
    period = _approved_in(date_from, date_to, kind)
    mine = [*period, *scope_conditions(user, unit)]
    unit_summary, unit_scores = _overall(mine, buckets, granularity)
    org_summary, org_scores = _overall(period, buckets, granularity)
    unit_weights, names = _section_weights(mine, buckets, granularity)
    org_weights, _ = _section_weights(period, buckets, granularity)

    templates: dict[str, TemplateScores] = {}
    template_versions: dict[str, int] = {}
    for key in sorted(unit_weights, key=lambda k: (k[0], names[k][4], k[1])):
        code, section_name = key
        version, t_name, t_name_en, s_name_en, position = names[key]
        if code not in templates or template_versions[code] < version:
            previous = templates.get(code)
            templates[code] = TemplateScores(code, t_name, t_name_en, previous.sections if previous else [])
            template_versions[code] = version
        mine_cells = unit_weights[key]
        org_cells = org_weights.get(key, [[0, 0] for _ in buckets])
        templates[code].sections.append(SectionScores(
            name=section_name,
            name_en=s_name_en,
            position=position,
            unit=[_ratio(*c) for c in mine_cells],
            organisation=[_ratio(*c) for c in org_cells],
            unit_period=_period_score(mine_cells),
            organisation_period=_period_score(org_cells),
        ))
    return Scorecard(
        unit=unit,
        date_from=date_from,
        date_to=date_to,
        granularity=granularity,
        kind=kind,
        buckets=buckets,
        unit_summary=unit_summary,
        organisation_summary=org_summary,
        unit_scores=unit_scores,
        organisation_scores=org_scores,
        templates=[templates[code] for code in sorted(templates)],
    )


def scorecard_unit_for(user, code: str | None) -> Unit | None:
    """The unit a scorecard is asked for. No code: the user's own scope (None for the whole
    organisation). A unit outside the user's scope does not exist for them (NotFound)."""
    if code:
        unit = get_unit_by_code(code)
        if unit is None or not can_see_unit(user, unit):
            raise NotFound()
        return unit
    if scope_path(user) is None:
        return None
    if user.unit is None:
        raise NotFound()
    return user.unit
