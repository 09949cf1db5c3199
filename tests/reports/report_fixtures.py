"""A small, hand-built data set for the report tests (imported by the modules that use it).

Cases, all received within the last 30 days unless said otherwise (org from tests/conftest.py):

=====  ============  ===========  =========================================================
case   unit          channel      what happens
=====  ============  ===========  =========================================================
A      hall          95598        serious, interview held, rectification submitted on time
B      hall          walk-in      grave, determined (appeal window running)
C      team          petition     unfounded
D      other_station 95598        registered; its handling clock planted overdue
G      hall          95598        serious, rectification submitted late
E      hall          95598        received 40 days ago: outside the period
=====  ============  ===========  =========================================================

A, B and G name 李娜 (hall, direct responsibility) and the station (management); each has
2 performance points and a 200 yuan fine. Audits: one approved audit of the hall and one of
the other station in the period, one draft and one approved before the period.
"""
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.cases.conftest import determination, make_case, people, run_to, violation_type  # noqa: F401
from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection, ChecklistTemplate
from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.cases import operations as ops
from tracker.cases.models import Case
from tracker.cases.states import CaseState, Channel, DeadlineKind, MeasureKind
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports import stats
from tracker.reports.figures import LOCAL_TZ, Period

HOSTILE = '<img src="http://127.0.0.1:9/x"><style>@import url(http://127.0.0.1:9/x.css)</style>'


@dataclass
class DataSet:
    a: Case
    b: Case
    c: Case
    d: Case
    e: Case
    g: Case
    period: Period


def _determine(case, people, org, violation_type, **overrides):
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    ops.record_inquiry(case, actor=people.sup, version=case.version, facts="经核实，营业员李娜确有推诿情况。",
                       persons="城关营业厅营业员李娜", accountability="营业员负直接责任，供电所负管理责任。")
    ops.determine_case(case, actor=people.sup, version=case.version, **determination(org, violation_type, **overrides))
    db.session.flush()


@pytest.fixture
def dataset(org, people, make_case, violation_type):  # noqa: F811
    now = utcnow()
    a = make_case(summary="张伟反映营业员李娜态度生硬" + HOSTILE)
    run_to(a, CaseState.rectifying, people, org, violation_type)
    interview_measure = next(m for m in a.measures if m.kind == MeasureKind.warning_interview)
    ops.schedule_interview(a, actor=people.sup, version=a.version, measure_id=interview_measure.id,
                           scheduled_at=now - timedelta(hours=1), location="会议室", interviewer="王监督")
    db.session.flush()
    ops.record_interview(a, actor=people.sup, version=a.version, interview_id=a.interviews[0].id,
                         held_at=now - timedelta(minutes=30), minutes="已进行警示谈话")
    ops.submit_rectification(a, actor=people.head, version=a.version, text="已整改")

    b = make_case(channel=Channel.walk_in, phone=None)
    _determine(b, people, org, violation_type, severity="grave")

    c = make_case(unit=org.team, channel=Channel.petition)
    ops.start_inquiry(c, actor=people.sup, version=c.version)
    ops.mark_unfounded(c, actor=people.sup, version=c.version, reason="经核实不属实")

    d = make_case(unit=org.other_station)
    d.deadline(DeadlineKind.handling).due_at = now - timedelta(days=1)

    g = make_case()
    run_to(g, CaseState.rectifying, people, org, violation_type)
    g.deadline(DeadlineKind.rectification).due_at = now - timedelta(hours=1)
    db.session.flush()
    ops.submit_rectification(g, actor=people.head, version=g.version, text="整改完成")

    e = make_case(received_at=now - timedelta(days=40))
    db.session.flush()

    today = now.astimezone(LOCAL_TZ).date()
    return DataSet(a, b, c, d, e, g, Period(today - timedelta(days=30), today))


@pytest.fixture
def audits(org, people):
    """Section scores (earned weight / applicable weight):

    hall audit:  环境 pass 3 + fail 1 → 75.0; 行为 pass 2, n/a 4 → 100.0; score 80
    south audit: 环境 fail 3 + fail 1 → 0.0;  行为 pass 2 + pass 4 → 100.0; score 60
    organisation: 环境 3/8 → 37.5; 行为 8/8 → 100.0; average score 70
    """
    template = ChecklistTemplate(code="R-T", name="报告测试检查表", name_en="Report test", kind=AuditKind.inspection)
    db.session.add(template)
    db.session.flush()
    weights = {"环境": (3, 1), "行为": (2, 4)}
    items = {}
    for position, (name, name_en) in enumerate([("环境", "Environment"), ("行为", "Conduct")]):
        section = ChecklistSection(template_id=template.id, position=position, name=name, name_en=name_en)
        db.session.add(section)
        db.session.flush()
        for k, weight in enumerate(weights[name]):
            item = ChecklistItem(section_id=section.id, template_id=template.id, position=k,
                                 code=f"{name_en[:3]}{k}", text="检查项", weight=weight)
            db.session.add(item)
            items[(name, k)] = item
    db.session.flush()
    P, F, NA = ItemResult.passed, ItemResult.failed, ItemResult.not_applicable
    now = utcnow()

    def audit(unit, results, *, state=AuditState.approved, days_ago=2, score=None):
        row = Audit(kind=AuditKind.inspection, template_id=template.id, unit_id=unit.id,
                    visited_at=now - timedelta(days=days_ago), state=state, author_id=people.sup.id,
                    score=Decimal(score) if score is not None else None)
        db.session.add(row)
        db.session.flush()
        for key, result in results.items():
            db.session.add(AuditResult(audit_id=row.id, item_id=items[key].id, result=result))
        db.session.flush()
        if state == AuditState.approved:  # what approve_audit does for the dashboards' audit figures
            stats.add_approved_audit(db.session.connection(), row)
        return row

    audit(org.hall, {("环境", 0): P, ("环境", 1): F, ("行为", 0): P, ("行为", 1): NA}, score=80)
    audit(org.other_station, {("环境", 0): F, ("环境", 1): F, ("行为", 0): P, ("行为", 1): P}, score=60)
    audit(org.hall, {("环境", 0): F, ("环境", 1): F}, state=AuditState.draft, score=0)
    audit(org.hall, {("环境", 0): F, ("环境", 1): F}, days_ago=60, score=0)
    db.session.flush()
