"""Repeat marks (tracker.reports.repeats): early warning names the same people from the marks as
from the responsibilities, at the edges of the window too, and the marks follow every change of
a case (determination, overturn on appeal, merge) in the same transaction."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.reports.report_fixtures import audits, dataset, make_case, people, violation_type  # noqa: F401
from tests.cases.conftest import determination, run_to
from tracker.cases import operations as ops
from tracker.cases.states import CaseState
from tracker.core.database import as_of, utcnow
from tracker.extensions import db
from tracker.reports import figures as f
from tracker.reports import repeats, stats
from tracker.reports.figures import LOCAL_TZ, Period, Selection
from tracker.reports.models import RepeatMark


@pytest.fixture
def live(monkeypatch):
    """Early warning counted from the responsibilities, as for any threshold but the default."""
    def warning(selection, **kwargs):
        with monkeypatch.context() as patch:
            patch.setattr(f, "REPEAT_THRESHOLD", -1)
            return f.early_warning(selection, **kwargs)
    return warning


def people_of(warning):
    return [(w.unit_code, w.person_name, w.cases, w.gravest, w.latest_on) for w in warning.repeat_people]


def marks_of(name):
    return db.session.execute(
        select(RepeatMark.case_id, RepeatMark.determined_at, RepeatMark.earlier_at)
        .where(RepeatMark.person_name == name).order_by(RepeatMark.determined_at, RepeatMark.case_id)
    ).all()


def determine(case, people, org, violation_type, *, person, at):  # noqa: F811
    with as_of(at):
        ops.start_inquiry(case, actor=people.sup, version=case.version)
        ops.record_inquiry(case, actor=people.sup, version=case.version, facts="经核实属实。",
                           persons=f"营业员{person}", accountability="营业员负直接责任。")
        body = determination(org, violation_type)
        body["responsibilities"][0]["person_name"] = person
        ops.determine_case(case, actor=people.sup, version=case.version, **body)
        db.session.flush()


def test_marks_name_the_people_the_responsibilities_name(dataset, people, org, live):  # noqa: F811
    selection = Selection(people.sup, org.company, dataset.period)
    flagged = people_of(f.early_warning(selection))
    assert [row[:3] for row in flagged] == [(org.hall.code, "李娜", 3)]
    assert flagged == people_of(live(selection))
    # A, B and G name 李娜: the third mark points back at the first.
    marks = marks_of("李娜")
    assert [m.case_id for m in marks] == sorted([dataset.a.id, dataset.b.id, dataset.g.id])
    assert [m.earlier_at for m in marks] == [None, None, marks[0].determined_at]
    assert stats.check(db.session.connection()) == []


def test_the_window_edges_agree_with_the_responsibilities(people, org, make_case, violation_type, live):  # noqa: F811
    now = utcnow()
    for days_ago in (170, 100, 10):
        case = make_case(received_at=now - timedelta(days=days_ago + 1))
        determine(case, people, org, violation_type, person="周敏", at=now - timedelta(days=days_ago))
    today = now.astimezone(LOCAL_TZ).date()
    selection = Selection(people.sup, org.company, Period(today - timedelta(days=400), today))
    # Today the six months hold all three; a fortnight on, the first has left the window; and the
    # day before the third was determined, only two had been.
    for as_of_day, expected in ((today, 3), (today + timedelta(days=15), None), (today - timedelta(days=11), None)):
        flagged = people_of(f.early_warning(selection, as_of=as_of_day))
        assert flagged == people_of(live(selection, as_of=as_of_day))
        assert [row[2] for row in flagged if row[1] == "周敏"] == ([expected] if expected else [])


def test_overturned_and_amended_appeals_move_the_marks(dataset, people, org, violation_type, make_case,  # noqa: F811
                                                               live):
    selection = Selection(people.sup, org.company, dataset.period)
    ops.appeal_case(dataset.b, actor=people.head, version=dataset.b.version, grounds="认定有误")
    ops.decide_appeal(dataset.b, actor=people.sup2, version=dataset.b.version, decision="overturned",
                      reason="复核不属实")
    db.session.flush()
    assert dataset.b.id not in [m.case_id for m in marks_of("李娜")]
    assert people_of(f.early_warning(selection)) == people_of(live(selection)) == []
    assert stats.check(db.session.connection()) == []

    # A fresh case for 李娜 flags her again; amended on appeal to name someone else, it no longer does.
    again = run_to(make_case(summary="营业员李娜再次推诿"), CaseState.determined, people, org, violation_type)
    assert [row[2] for row in people_of(f.early_warning(selection))] == [3]
    ops.appeal_case(again, actor=people.head, version=again.version, grounds="责任人认定有误")
    amended = determination(org, violation_type)
    amended["responsibilities"][0]["person_name"] = "王强"
    ops.decide_appeal(again, actor=people.sup2, version=again.version, decision="amended", reason="改为王强",
                      **amended)
    db.session.flush()
    assert again.id not in [m.case_id for m in marks_of("李娜")]
    assert [m.case_id for m in marks_of("王强")] == [again.id]
    assert people_of(f.early_warning(selection)) == people_of(live(selection)) == []
    assert stats.check(db.session.connection()) == []


def test_rebuild_gives_what_the_hook_kept(dataset, people, org):  # noqa: F811
    connection = db.session.connection()
    kept = db.session.execute(select(RepeatMark.__table__)).all()
    assert repeats.rebuild(connection) == len(kept) == 3
    assert sorted(db.session.execute(select(RepeatMark.__table__)).all()) == sorted(kept)
    # A mark planted by hand is reported by check.
    connection.execute(RepeatMark.__table__.update().values(earlier_at=None))
    problems = repeats.check(connection)
    assert len(problems) == 1 and "李娜" in problems[0]
