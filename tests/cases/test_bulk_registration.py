"""register_cases: the same cases, clocks and history events as register_case one by one,
with a number of SQL statements that does not grow with the number of cases."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.test_query_counts import count_queries
from tracker.cases import operations as ops
from tracker.cases.models import Case, Deadline
from tracker.cases.states import Channel, DeadlineKind
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent, HistoryHead, verify_chain
from tracker.extensions import db

BEIJING = ZoneInfo("Asia/Shanghai")
CASE_COLUMNS = [column.key for column in Case.__table__.columns
                if column.key not in ("id", "number", "created_at", "updated_at")]
CLOCK_COLUMNS = [column.key for column in Deadline.__table__.columns if column.key not in ("id", "case_id")]


def _items(org, violation_type, prefix="B"):
    """One of each kind of registration: every channel's clocks, with and without phone, reference
    and violation type, and values that need trimming and normalising."""
    ago = utcnow() - timedelta(days=3)
    return [
        ops.NewCase(Channel.hotline_95598, org.hall, ago, "  营业员态度生硬  ", "  客户反映营业员态度冷淡。 ",
                    ops.Complainant(" 张伟 ", "+86 138-1234-5678", " 人民路88号 "), f" {prefix}-1 "),
        ops.NewCase(Channel.regulator_12398, org.team, ago - timedelta(hours=5), "抢修超时", "",
                    ops.Complainant("李娜", "13900001111"), f"{prefix}-2", violation_type.code),
        ops.NewCase(Channel.walk_in, org.station, ago - timedelta(days=1), "现场投诉：计量争议",
                    complainant=ops.Complainant(name="王芳")),
        ops.NewCase(Channel.audit, org.hall, ago - timedelta(days=2), "暗访发现：未执行一次性告知",
                    complainant=ops.Complainant(phone="13700000000"), external_ref=f"{prefix}-4",
                    violation_type_code=violation_type.code),
        ops.NewCase(Channel.hotline_95598, org.north, datetime(2025, 9, 30, 3, tzinfo=timezone.utc), "国庆前受理",
                    complainant=ops.Complainant(phone="13800000000"), external_ref=f"{prefix}-5"),
    ]


def _register_one_by_one(actor, items):
    results = []
    for item in items:
        results.append(ops.register_case(
            actor=actor, channel=item.channel, unit=item.unit, received_at=item.received_at,
            summary=item.summary, details=item.details, complainant=item.complainant,
            external_ref=item.external_ref, violation_type_code=item.violation_type_code,
        ))
    return results


def _snapshot(results):
    """Everything registration wrote, as plain values; the number stands in for the id."""
    db.session.flush()
    db.session.expire_all()  # read back what the database holds, not what the objects say
    snapshot = []
    for case, created in results:
        clocks = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id))
        events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.case_id == case.id)
                                    .order_by(HistoryEvent.seq))
        assert case.number == f"JD-{utcnow().astimezone(BEIJING).year}-{case.id:06d}"
        snapshot.append({
            "created": created,
            "case": {column: getattr(case, column) for column in CASE_COLUMNS},
            "clocks": [{column: getattr(clock, column) for column in CLOCK_COLUMNS} for clock in clocks],
            "events": [(event.action, event.subject.replace(case.number, "<number>"), event.data,
                        event.actor_id, event.actor_name) for event in events],
        })
    return snapshot


def _chain_position():
    head = db.session.get(HistoryHead, 1)
    db.session.refresh(head)
    return head.seq, db.session.scalar(select(func.count()).select_from(Case))


def test_the_bulk_path_writes_what_single_registrations_write(org, people, violation_type):
    items = _items(org, violation_type)
    savepoint = db.session.begin_nested()
    one_by_one = _snapshot(_register_one_by_one(people.sup, items))
    savepoint.rollback()

    seq_before, _ = _chain_position()
    results = ops.register_cases(items, actor=people.sup)
    # The objects returned carry what was written, the clocks included, without loading anything.
    case = results[1][0]
    with count_queries() as statements:
        assert [clock.kind for clock in case.deadlines] == [
            DeadlineKind.contact, DeadlineKind.handling, DeadlineKind.regulator_reply]
        assert case.number.startswith("JD-") and case.severity == violation_type.severity
    assert statements == []

    bulk = _snapshot(results)
    assert bulk == one_by_one
    assert [[clock["kind"] for clock in entry["clocks"]] for entry in bulk] == [
        [DeadlineKind.contact, DeadlineKind.handling],
        [DeadlineKind.contact, DeadlineKind.handling, DeadlineKind.regulator_reply],
        [DeadlineKind.handling],  # no phone, no contact clock
        [DeadlineKind.handling],  # findings of audits have no complainant to contact
        [DeadlineKind.contact, DeadlineKind.handling],
    ]
    # Received on the eve of National Day 2025 (10-01..10-08 off, Saturday 10-11 worked):
    # contact within 1 working day, handling within 7.
    assert [clock["due_at"].astimezone(BEIJING) for clock in bulk[4]["clocks"]] == [
        datetime(2025, 10, 9, 23, 59, 59, tzinfo=BEIJING), datetime(2025, 10, 16, 23, 59, 59, tzinfo=BEIJING)]
    assert bulk[0]["case"]["complainant_phone"] == "13812345678" and bulk[0]["case"]["external_ref"] == "B-1"
    assert bulk[0]["events"] == [("register", "case:<number>", {
        "to": "registered", "channel": "hotline_95598", "unit": org.hall.code, "external_ref": "B-1",
        "summary": "营业员态度生硬"}, people.sup.id, people.sup.username)]
    # Appended in order, one event per case, the chain intact.
    seqs = [db.session.scalar(select(HistoryEvent.seq).where(HistoryEvent.case_id == case.id))
            for case, _ in results]
    assert seqs == list(range(seq_before + 1, seq_before + 6))
    assert _chain_position()[0] == seq_before + 5
    assert verify_chain().ok


def test_repeats_within_the_batch_and_registered_references(org, people, violation_type):
    existing, _ = ops.register_case(actor=people.sup, channel=Channel.hotline_95598, unit=org.hall,
                                    received_at=utcnow() - timedelta(days=1), summary="早先登记",
                                    external_ref="R-1")
    db.session.flush()
    seq_before, cases_before = _chain_position()
    ago = utcnow() - timedelta(hours=2)
    results = ops.register_cases([
        ops.NewCase(Channel.hotline_95598, org.hall, ago, "又一次", external_ref=" R-1 "),  # registered already
        ops.NewCase(Channel.hotline_95598, org.team, ago, "第一次", external_ref="R-2"),
        ops.NewCase(Channel.walk_in, org.team, ago, "同号不同渠道", external_ref="R-2"),  # another channel: new
        ops.NewCase(Channel.hotline_95598, org.hall, ago, "重复，摘要不同", external_ref="R-2"),  # the first wins
    ], actor=people.sup)
    assert [created for _, created in results] == [False, True, True, False]
    assert results[0][0] is existing and results[3][0] is results[1][0]
    assert results[1][0].summary == "第一次" and results[1][0].unit_id == org.team.id
    assert _chain_position() == (seq_before + 2, cases_before + 2)
    assert verify_chain().ok

    # The whole batch again: nothing new.
    again = ops.register_cases([ops.NewCase(Channel.walk_in, org.team, ago, "x", external_ref="R-2")],
                               actor=people.sup)
    assert again == [(results[2][0], False)]
    assert _chain_position() == (seq_before + 2, cases_before + 2)


def _deactivated(org):
    org.team.active = False
    return org.team


REFUSALS = {
    "no unit": (lambda org: {"unit": None}, ValidationError, "unit_code"),
    "deactivated unit": (lambda org: {"unit": _deactivated(org)}, ValidationError, "unit_code"),
    "future": (lambda org: {"received_at": utcnow() + timedelta(hours=1)}, ValidationError, "received_at"),
    "unknown violation type": (lambda org: {"violation_type_code": "NOPE"}, ValidationError,
                               "violation_type_code"),
    "blank summary": (lambda org: {"summary": "   "}, ValidationError, "summary"),
    # The calendar package has no schedule before 2004: the clocks cannot be computed.
    "calendar not covered": (lambda org: {"received_at": datetime(2003, 6, 2, 2, tzinfo=timezone.utc)},
                             DomainError, None),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_the_first_refused_item_is_named_and_nothing_is_written(org, people, refusal):
    change, error_class, field = REFUSALS[refusal]
    ago = utcnow() - timedelta(hours=2)
    good = [ops.NewCase(Channel.hotline_95598, org.hall, ago, f"正常 {i}", external_ref=f"OK-{i}",
                        complainant=ops.Complainant(phone="13800000000")) for i in range(4)]
    bad = replace(good[2], **change(org))
    items = [good[0], good[1], bad, good[3]]
    before = _chain_position()

    with pytest.raises(error_class) as refused:
        ops.register_cases(items, actor=people.sup)
    assert refused.value.item_index == 2
    assert _chain_position() == before

    # The same error as register_case gives for that item.
    with pytest.raises(error_class) as single:
        _register_one_by_one(people.sup, [bad])
    assert type(refused.value) is type(single.value)
    assert str(refused.value.message) == str(single.value.message)
    assert refused.value.fields == single.value.fields
    if field:
        assert field in refused.value.fields


def test_only_supervisors_register_and_the_first_item_is_named(org, people):
    item = ops.NewCase(Channel.walk_in, org.hall, utcnow() - timedelta(hours=1), "投诉")
    with pytest.raises(PermissionDenied) as refused:
        ops.register_cases([item, item], actor=people.head)
    assert refused.value.item_index == 0
    assert ops.register_cases([], actor=people.head) == []


def test_a_reference_registered_outside_the_actors_scope_is_refused(org, people, make_user):
    ops.register_case(actor=people.sup, channel=Channel.hotline_95598, unit=org.other_station,
                      received_at=utcnow() - timedelta(days=1), summary="南县的工单", external_ref="S-1")
    north = make_user("supervisor", org.north, username="sup_north")
    ago = utcnow() - timedelta(hours=1)
    with pytest.raises(ValidationError) as refused:
        ops.register_cases([ops.NewCase(Channel.hotline_95598, org.hall, ago, "北县", external_ref="N-1"),
                            ops.NewCase(Channel.hotline_95598, org.hall, ago, "同号", external_ref="S-1")],
                           actor=north)
    assert refused.value.item_index == 1 and "external_ref" in refused.value.fields


def _batch(org, n, prefix):
    ago = utcnow() - timedelta(days=2)
    units = [org.hall, org.team, org.station]
    return [ops.NewCase(Channel.hotline_95598, units[i % 3], ago - timedelta(minutes=i), f"工单 {i}", "诉求内容",
                        ops.Complainant("张伟", f"1380000{i:04d}", "人民路"), f"{prefix}-{i}")
            for i in range(n)]


def test_the_number_of_statements_does_not_grow_with_the_batch(org, people):
    ops.register_cases(_batch(org, 3, "WARM"), actor=people.sup)  # the calendar is cached alike for both
    with count_queries() as small:
        ops.register_cases(_batch(org, 10, "S"), actor=people.sup)
    with count_queries() as large:
        ops.register_cases(_batch(org, 200, "L"), actor=people.sup)
    assert len(large) <= len(small) + 2, "\n".join(large)
    assert len(small) < 40  # a handful of our own; the rest keeps the statistics roll-up (reports.stats)
    assert db.session.scalar(select(func.count()).where(Case.external_ref.like("L-%"))) == 200
    assert verify_chain().ok


def test_the_statistics_roll_up_sees_the_new_cases(org, people):
    """Cases and clocks are written as ORM objects in ordinary flushes, so the session hook that
    keeps the roll-up (tracker.reports.stats) counts them."""
    from tracker.reports import stats

    ops.register_cases(_batch(org, 30, "ST"), actor=people.sup)
    assert stats.check(db.session.connection()) == []
