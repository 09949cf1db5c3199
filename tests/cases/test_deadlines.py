"""Clocks on the working-day calendar across the 2025 National Day holiday (Oct 1–8 off,
Sat Oct 11 a make-up working day), extension, pause and overdue lists."""
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tracker.cases import operations as ops
from tracker.cases.queries import CaseFilters, list_cases
from tracker.cases.states import Channel, DeadlineKind
from tracker.extensions import db

BEIJING = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=BEIJING)


def _due(case, kind):
    return case.deadline(kind).due_at.astimezone(BEIJING)


def test_national_day_and_a_make_up_saturday(org, people, make_case):
    with time_machine.travel(at(2025, 9, 30, 11, 0), tick=False):
        case = make_case(channel=Channel.regulator_12398, received_at=at(2025, 9, 30, 10, 0))
    assert _due(case, DeadlineKind.contact) == at(2025, 10, 9, 23, 59, 59)  # the holiday does not count
    assert _due(case, DeadlineKind.handling) == at(2025, 10, 16, 23, 59, 59)  # Sat Oct 11 does
    assert _due(case, DeadlineKind.regulator_reply) == at(2025, 10, 21, 23, 59, 59)
    with time_machine.travel(at(2025, 10, 10, 9, 0), tick=False):
        ops.start_inquiry(case, actor=people.sup, version=case.version)
        ops.request_explanation(case, actor=people.sup, version=case.version)
    # Friday + 3 working days: Sat 11 (make-up), Mon 13, Tue 14.
    assert _due(case, DeadlineKind.explanation) == at(2025, 10, 14, 23, 59, 59)
    # The contact clock was met by starting the inquiry, a day late.
    contact = case.deadline(DeadlineKind.contact)
    assert contact.met_at is not None and contact.is_overdue(at(2025, 10, 10, 9, 0))


def test_extension_and_pause_are_recorded_with_their_reason(org, people, make_case):
    with time_machine.travel(at(2025, 9, 30, 11, 0), tick=False):
        case = make_case(received_at=at(2025, 9, 30, 10, 0))
        ops.extend_deadline(case, actor=people.sup, version=case.version, kind="handling", days=2, reason="客户出差")
    assert _due(case, DeadlineKind.handling) == at(2025, 10, 20, 23, 59, 59)
    with time_machine.travel(at(2025, 10, 13, 9, 0), tick=False):
        ops.pause_deadline(case, actor=people.sup, version=case.version, kind="handling", reason="等待司法鉴定")
    with time_machine.travel(at(2025, 10, 15, 9, 0), tick=False):
        event = ops.resume_deadline(case, actor=people.sup, version=case.version, kind="handling")
    assert event.data["paused_working_days"] == 2
    assert _due(case, DeadlineKind.handling) == at(2025, 10, 22, 23, 59, 59)


def test_overdue_filter(org, people, make_case):
    with time_machine.travel(at(2025, 9, 30, 11, 0), tick=False):
        late = make_case(received_at=at(2025, 9, 30, 10, 0))
    with time_machine.travel(at(2025, 10, 10, 9, 0), tick=False):
        fresh = make_case(received_at=at(2025, 10, 10, 8, 0))
        db.session.flush()
        overdue, _ = list_cases(people.sup, CaseFilters(overdue=True))
    assert late in overdue and fresh not in overdue


def test_a_registration_refused_for_2027_succeeds_once_the_year_is_declared(org, people, make_case, undeclared_years):
    """Tue 2026-12-29: the 12398 reply clock (10 working days) runs into 2027, which the holiday
    package does not cover. Once the administrator has entered New Year's Day 2027 and declared
    the year, the same registration goes through and the clocks skip the holiday."""
    from datetime import date

    import pytest
    from sqlalchemy import func, select

    from tracker.cases.models import Case
    from tracker.core.calendar import CalendarNotCovered
    from tracker.settings import operations as settings_ops

    def cases():
        return db.session.scalar(select(func.count()).select_from(Case))

    with time_machine.travel(at(2026, 12, 29, 11, 0), tick=False):
        before = cases()
        with pytest.raises(CalendarNotCovered) as refused:
            make_case(channel=Channel.regulator_12398, received_at=at(2026, 12, 29, 10, 0))
        assert refused.value.year == 2027
        assert cases() == before

        settings_ops.add_calendar_override(actor=people.admin, day=date(2027, 1, 1), is_working_day=False,
                                           note="元旦")
        settings_ops.declare_calendar_year(actor=people.admin, year=2027, note="国务院办公厅通知")
        case = make_case(channel=Channel.regulator_12398, received_at=at(2026, 12, 29, 10, 0))
    assert cases() == before + 1
    assert _due(case, DeadlineKind.contact) == at(2026, 12, 30, 23, 59, 59)
    # Wed 12-30, Thu 12-31, (Fri 01-01 holiday, weekend), Mon 01-04 .. Fri 01-08.
    assert _due(case, DeadlineKind.handling) == at(2027, 1, 8, 23, 59, 59)
    # ... then Mon 01-11, Tue 01-12, Wed 01-13.
    assert _due(case, DeadlineKind.regulator_reply) == at(2027, 1, 13, 23, 59, 59)
