"""The case search: a term anywhere in the summary, details, number or reference, any letter case.

On SQLite a term of three characters or more is looked up in the FTS5 trigram index
(tracker/cases/search.py) unless it has many matches, a shorter one with LIKE; on PostgreSQL
always LIKE/ILIKE. Whichever path, the cases found are those that hold the term."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from tracker.cases import operations as ops
from tracker.cases import search
from tracker.cases.models import Case
from tracker.cases.queries import CaseFilters, filtered_cases
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.extensions import db

TEXTS = [
    ("电费异常 AbC", "营业厅工作人员称\"系统故障\"，要求客户次日再来"),
    ("停电未通知", "抢修人员 NEAR 现场* 态度生硬 (无解释)"),
    ("表计故障abc", "50%的电费_多收_，客户要求退还\\差额"),
    ("Service ATTITUDE", "客户反映 service attitude 问题；电费 AND 计量"),
    ("电表", "x"),
]
ALPHABET = "电费表故障营业厅 AbCcNEAR*\"%_\\()-:0125"


def _found(user, term):
    stmt = filtered_cases(user, CaseFilters(q=term)).with_only_columns(Case.id)
    return set(db.session.scalars(stmt))


def _holding(cases, term):
    term = term.strip().lower()
    return {case.id for case in cases
            if any(term in (value or "").lower()
                   for value in (case.summary, case.details, case.number, case.external_ref))}


@pytest.mark.parametrize("drive_limit", [search.FTS_DRIVE_LIMIT, 0], ids=["rare term", "common term"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_search_finds_exactly_the_cases_that_hold_the_term(org, people, make_case, monkeypatch, drive_limit,
                                                             data):
    """On SQLite a term with more matches than the limit is searched with LIKE: both paths."""
    monkeypatch.setattr(search, "FTS_DRIVE_LIMIT", drive_limit)
    if not db.session.scalar(select(Case.id).where(Case.external_ref == "REF-电费-A1")):
        for i, (summary, details) in enumerate(TEXTS):
            reference = f"REF-电费-A{i + 1}" if i % 2 == 0 else None
            make_case(summary=summary, details=details, external_ref=reference)
    cases = db.session.scalars(select(Case)).all()
    texts = [value for case in cases for value in (case.summary, case.details, case.number, case.external_ref)
             if value]
    source = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, max(0, len(source) - 1)))
    term = data.draw(st.one_of(
        st.integers(1, 8).map(lambda n: source[start:start + n]),  # a piece of a text
        st.integers(1, 8).map(lambda n: source[start:start + n].swapcase()),  # in the other case
        st.text(alphabet=ALPHABET, min_size=1, max_size=6),  # anything, mostly found nowhere
    ))
    if not term.strip():
        return
    assert _found(people.sup, term) == _holding(cases, term)


def _index_is_consistent():
    """SQLite: FTS5's own check that the index holds exactly the texts of ``cases``."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO cases_fts(cases_fts, rank) VALUES ('integrity-check', 1)"))


def test_the_index_follows_edits_and_deletions(org, people, make_case):
    case = make_case(summary="计量装置接线错误", details="客户投诉电表走快")
    other = make_case(summary="服务态度问题", details="无")
    assert _found(people.sup, "接线错误") == {case.id}
    assert _found(people.sup, case.number) == {case.id}

    case.summary = "抄表员估抄电量"
    db.session.flush()
    assert _found(people.sup, "接线错误") == set()
    assert _found(people.sup, "估抄电量") == {case.id}
    assert _found(people.sup, "电表走快") == {case.id}  # the details did not change

    db.session.execute(text("UPDATE cases SET details = '已核实无误' WHERE id = :id"), {"id": other.id})
    assert _found(people.sup, "已核实无误") == {other.id}  # a write outside the ORM is indexed too
    _index_is_consistent()

    if db.session.get_bind().dialect.name == "sqlite":  # the tracker deletes no case; a DBA might
        db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
        db.session.execute(text("DELETE FROM cases WHERE id = :id"), {"id": other.id})
        assert _found(people.sup, "已核实无误") == set()
        _index_is_consistent()


def test_a_search_stays_within_the_users_scope(org, people, make_case):
    hall = make_case(unit=org.hall, summary="营业厅排队时间过长")
    elsewhere = make_case(unit=org.other_station, summary="营业厅排队时间过长")
    assert _found(people.sup, "排队时间过长") == {hall.id, elsewhere.id}
    assert _found(people.head, "排队时间过长") == {hall.id}
    assert _found(people.other_head, "排队时间过长") == {elsewhere.id}
    assert _found(people.external, "排队时间过长") == set()


@contextmanager
def case_inserts():
    """The rows in the VALUES of each INSERT INTO cases sent to the driver inside the block."""
    sent = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO cases "):
            sent.append(statement.count("), (") + 1)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def test_cases_registered_in_bulk_are_indexed_in_a_few_statements(org, people):
    """The 95598 import registers thousands of cases at once. They are written in multi-row
    statements, not one statement per case: on SQLite every statement that fires the index's
    trigger makes FTS5 write a segment of its own (12.7-18.4 s instead of 3.4-3.7 s for 20,000
    cases). Whatever the batching, each case is found by its own text."""
    ago = utcnow() - timedelta(days=1)
    items = [ops.NewCase(Channel.hotline_95598, org.hall, ago - timedelta(minutes=i), f"批量工单第{i}号",
                         f"诉求编号{i:04d}甲乙", external_ref=f"BULK-{i}") for i in range(1500)]
    with case_inserts() as sent:
        ops.register_cases(items, actor=people.sup)
    if db.session.get_bind().dialect.name == "sqlite":  # (PostgreSQL has no such trigger)
        assert sum(sent) == 1500 and len(sent) <= 3, f"rows per statement: {sent}"
    registered = {case.external_ref: case.id for case in db.session.scalars(
        select(Case).where(Case.external_ref.like("BULK-%")))}
    for i in (0, 777, 1499):
        assert _found(people.sup, f"诉求编号{i:04d}甲乙") == {registered[f"BULK-{i}"]}
    assert _found(people.sup, "BULK-1499") == {registered["BULK-1499"]}
    _index_is_consistent()
