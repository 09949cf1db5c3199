"""Inbox, notifications, e-mail after commit, and the escalation tick."""
import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from flask_babel import force_locale
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tracker.accounts.models import User
from tracker.cases import operations as ops
from tracker.cases.escalation import escalate_overdue
from tracker.cases.models import Case, Notification, ViolationType
from tracker.cases.notification_texts import notification_text
from tracker.cases.states import Action, CaseState, Channel, DeadlineKind, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition
from tracker.core.history import HistoryEvent
from tracker.extensions import db
from tracker.inbox.queries import clocks_due_in_scope, inbox_items

KINDS = [
    "explanation_requested", "explanation_submitted", "determination_made", "appeal_decided",
    "interview_scheduled", "interview_held", "rectification_submitted", "rectification_returned",
    "deadline_overdue", "case_assigned",
]


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def violation_type(app_ctx):
    vt = ViolationType(code="T-1", category=ViolationCategory.service, name="服务态度差",
                       severity=Severity.general, points=2)
    db.session.add(vt)
    db.session.flush()
    return vt


@pytest.fixture
def people(org, make_user):
    def user(role, unit, username, email=None, locale=None):
        made = make_user(role, unit, username=username, email=email)
        made.locale = locale
        return made

    return type("People", (), dict(
        sup=user("supervisor", None, "inbox_sup_a", "sup_a@example.com", "en"),
        sup2=user("supervisor", None, "inbox_sup_b"),
        head=user("unit_head", org.hall, "inbox_head_hall", "hall@example.com", "en"),
        station_head=user("unit_head", org.station, "inbox_head_station", "station@example.com", "zh_Hans_CN"),
        other_head=user("unit_head", org.other_station, "inbox_head_other"),
    ))


@pytest.fixture
def new_case(org, people):
    counter = iter(range(1, 1000))

    def _make(unit=None, **kwargs):
        n = next(counter)
        case, _ = ops.register_case(
            actor=people.sup, channel=Channel.hotline_95598, unit=unit or org.hall,
            received_at=utcnow() - timedelta(hours=2), summary=f"营业员态度生硬（{n}）",
            complainant=ops.Complainant(name="张伟", phone="13812345678"), external_ref=f"INBOX-{n:04d}",
            **kwargs,
        )
        db.session.flush()
        return case

    return _make


def inquire(case, people, *, explanation_days=None):
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    if explanation_days is not None:
        ops.request_explanation(case, actor=people.sup, version=case.version, due_days=explanation_days)
    db.session.flush()
    return case


def determine(case, people, org, violation_type):
    inquire(case, people)
    ops.record_inquiry(case, actor=people.sup, version=case.version, facts="态度生硬属实。",
                       persons="营业员李娜", accountability="营业员负直接责任。")
    ops.determine_case(
        case, actor=people.sup, version=case.version, outcome="substantiated",
        violation_type_code=violation_type.code, severity="general",
        responsibilities=[{"unit_code": org.hall.code, "person_name": "李娜", "kind": "direct"}],
    )
    db.session.flush()
    return case


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 Message accepted for delivery"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    collector.port = controller.port
    try:
        yield collector
    finally:
        app.config.update(saved)
        controller.stop()


# --- inbox ----------------------------------------------------------------------------------


def test_unit_head_sees_explanations_to_submit_soonest_first(client, auth, org, people, new_case):
    later = inquire(new_case(), people, explanation_days=5)
    sooner = inquire(new_case(), people, explanation_days=2)
    inquire(new_case(), people)  # no explanation asked: nothing for the unit
    now = utcnow()

    items = inbox_items(people.head, now)
    assert [(i.case, i.action) for i in items] == [
        (sooner, Action.submit_explanation), (later, Action.submit_explanation),
    ]
    assert items[0].due_at == sooner.deadline(DeadlineKind.explanation).due_at
    assert not items[0].overdue
    assert inbox_items(people.other_head, now) == []
    assert inbox_items(people.station_head, now) == items  # the subtree's head sees it too

    db.session.commit()
    auth.login(people.head.username)
    page = client.get("/inbox").get_data(as_text=True)
    assert page.index(sooner.number) < page.index(later.number)
    assert f'href="/cases/{sooner.number}"' in page
    assert "Submit the explanation" in page
    auth.logout()
    auth.login(people.other_head.username)
    page = client.get("/inbox").get_data(as_text=True)
    assert sooner.number not in page and later.number not in page


def test_supervisor_tasks_and_four_eyes_on_appeals(org, people, new_case, violation_type):
    registered = new_case()
    case = determine(new_case(), people, org, violation_type)
    now = utcnow()
    head_items = inbox_items(people.head, now)
    assert [(i.case, i.action) for i in head_items] == [(case, Action.accept_determination)]
    assert head_items[0].due_at == case.deadline(DeadlineKind.appeal_window).due_at

    ops.appeal_case(case, actor=people.head, version=case.version, grounds="已按规定解释，不应认定。")
    db.session.flush()
    mine = {(i.case, i.action) for i in inbox_items(people.sup, now)}
    assert (registered, Action.start_inquiry) in mine
    assert not any(c == case for c, _ in mine)  # the determining supervisor does not decide
    other = {(i.case, i.action) for i in inbox_items(people.sup2, now)}
    assert (case, Action.decide_appeal) in other
    assert inbox_items(people.head, now) == []


def test_inbox_page_is_for_staff_only(client, login_as):
    login_as("external")
    assert client.get("/inbox").status_code == 403
    assert client.get("/notifications").status_code == 200


def test_home_sends_staff_to_the_inbox(client, login_as, auth, people, new_case):
    case = new_case()
    db.session.commit()
    auth.login(people.sup.username)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    page = client.get("/inbox").get_data(as_text=True)
    assert case.number in page and "Start the inquiry" in page
    auth.logout()
    login_as("admin")
    assert client.get("/").status_code == 200
    assert client.get("/inbox").status_code == 200  # no tasks, but the late clocks of the organisation


# --- notifications --------------------------------------------------------------------------


def test_every_kind_has_its_own_text():
    texts = {str(notification_text(kind)) for kind in KINDS}
    assert len(texts) == len(KINDS)
    assert str(notification_text("no-such-kind")) not in texts


def test_notifications_are_listed_translated_and_marked_read(client, auth, people, new_case):
    first = inquire(new_case(), people, explanation_days=3)
    second = inquire(new_case(), people, explanation_days=3)
    db.session.commit()
    rows = db.session.scalars(select(Notification).where(Notification.user_id == people.head.id)).all()
    assert {(n.case_id, n.kind) for n in rows} == {
        (first.id, "explanation_requested"), (second.id, "explanation_requested"),
    }

    auth.login(people.head.username)  # locale "en"
    page = client.get("/notifications").get_data(as_text=True)
    with force_locale("en"):
        assert page.count(str(notification_text("explanation_requested"))) == 2
    assert page.index(second.number) < page.index(first.number)  # newest first
    assert 'badge rounded-pill text-bg-warning">2<' in page

    opened = next(n for n in rows if n.case_id == first.id)
    response = client.post(f"/notifications/{opened.id}/open")
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{first.number}"
    assert db.session.get(Notification, opened.id).read_at is not None
    assert 'badge rounded-pill text-bg-warning">1<' in client.get("/notifications").get_data(as_text=True)

    assert client.post("/notifications/read").status_code == 302
    assert all(n.read_at is not None for n in db.session.scalars(
        select(Notification).where(Notification.user_id == people.head.id)))
    assert "text-bg-warning" not in client.get("/notifications").get_data(as_text=True)


def test_nobody_opens_someone_elses_notification(client, auth, people, new_case):
    inquire(new_case(), people, explanation_days=3)
    db.session.commit()
    theirs = db.session.scalar(select(Notification).where(Notification.user_id == people.head.id))
    auth.login(people.other_head.username)
    assert client.post(f"/notifications/{theirs.id}/open").status_code == 404
    assert db.session.get(Notification, theirs.id).read_at is None


# --- e-mail ---------------------------------------------------------------------------------


def test_mail_is_sent_after_commit_only(smtp, people, new_case):
    case = inquire(new_case(), people)
    db.session.commit()

    ops.request_explanation(case, actor=people.sup, version=case.version)
    db.session.flush()
    assert smtp.messages == []  # not before the commit
    db.session.commit()
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["hall@example.com"]
    assert case.number in message["Subject"]
    body = message.get_content()
    with force_locale("en"):
        assert str(notification_text("explanation_requested")) in body  # the reader's language (en)
    assert case.summary in body and f"/cases/{case.number}" in body


def test_mail_is_not_sent_for_rolled_back_changes(smtp, people, new_case):
    case = inquire(new_case(), people)
    db.session.commit()

    ops.request_explanation(case, actor=people.sup, version=case.version)
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == []

    case = db.session.get(Case, case.id)
    with db.session.begin_nested() as savepoint:  # a savepoint rolled back takes its mail with it
        ops.request_explanation(case, actor=people.sup, version=case.version)
        savepoint.rollback()
    db.session.commit()
    assert smtp.messages == []


def test_mail_in_a_request_goes_out_after_the_response(smtp, other_app, people, new_case):
    committed, refused = inquire(new_case(), people), inquire(new_case(), people)
    db.session.commit()
    sup_id, refused_id = people.sup.id, refused.id
    extra = other_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)

    @extra.post("/_test/explain/<int:case_id>")
    def _explain(case_id):
        case = db.session.get(Case, case_id)
        ops.request_explanation(case, actor=db.session.get(User, sup_id), version=case.version)
        if case_id == refused_id:
            raise InvalidTransition()  # the error handler rolls back
        db.session.commit()
        return "ok"

    client = extra.test_client()
    response = client.post(f"/_test/explain/{committed.id}")
    assert response.status_code == 200
    assert smtp.messages == []  # the response is still being sent
    response.close()  # what the WSGI server does once the client has it
    with force_locale("en"):  # the reader's language
        expected = f"[{committed.number}] " + str(notification_text("explanation_requested"))
    assert [m["Subject"] for _, m in smtp.messages] == [expected]

    response = client.post(f"/_test/explain/{refused_id}")
    assert response.status_code == 409
    response.close()
    assert len(smtp.messages) == 1


def test_a_broken_mail_server_does_not_break_the_change(app, people, new_case, caplog):
    case = inquire(new_case(), people)
    db.session.commit()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nobody listens there
    try:
        ops.request_explanation(case, actor=people.sup, version=case.version)
        db.session.commit()
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
    assert db.session.get(Case, case.id).explanation_requested_at is not None
    assert "Could not send 1 of 1 e-mails" in caplog.text


# --- tick: escalation and elapsed appeal windows ---------------------------------------------


# Which other clocks are "due soon" when the appeal window ends depends on the weekday and the
# holidays ahead: the test runs on a fixed Saturday (it failed on Tuesdays on the machine's date).
@time_machine.travel(datetime(2025, 11, 22, 2, 0, tzinfo=timezone.utc))
def test_tick_escalates_overdue_clocks_once_and_ends_appeal_windows(
    runner, smtp, org, people, new_case, violation_type
):
    late = inquire(new_case(), people, explanation_days=3)
    appealable = determine(new_case(), people, org, violation_type)
    db.session.commit()
    explanation = late.deadline(DeadlineKind.explanation)
    window = appealable.deadline(DeadlineKind.appeal_window)
    assert explanation.due_at < window.due_at
    smtp.messages.clear()

    with time_machine.travel(window.due_at + timedelta(minutes=1), tick=False):
        result = runner.invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        assert "申诉期届满：1 件。超期时限已升级提醒：1 个。" in result.output  # cron's language: the default
        db.session.expire_all()

        explanation = late.deadline(DeadlineKind.explanation)
        assert explanation.escalated_at is not None
        assert appealable.state == CaseState.rectifying
        escalated_to = set(db.session.scalars(
            select(Notification.user_id).where(Notification.case_id == late.id,
                                               Notification.kind == "deadline_overdue")
        ))
        assert escalated_to == {people.station_head.id, people.sup.id}
        event = db.session.scalar(select(HistoryEvent).where(
            HistoryEvent.case_id == late.id, HistoryEvent.action == "deadline_escalated"))
        assert event.actor_id is None and event.data["kind"] == "explanation"
        # E-mail went out right after the command's commit.
        assert sorted(r for rcpts, _ in smtp.messages for r in rcpts) == [
            "station@example.com", "sup_a@example.com"]

        # The whole scope sees the late clock with who must act; other units do not.
        clocks, total = clocks_due_in_scope(people.station_head, utcnow())
        assert [(c.deadline.id, c.overdue, c.owner.value) for c in clocks] == [
            (explanation.id, True, "unit_head")]
        assert clocks_due_in_scope(people.other_head, utcnow()) == ([], 0)
        items = inbox_items(people.head, utcnow())
        assert any(i.case == late and i.overdue for i in items)

        again = runner.invoke(args=["tick"])
        assert "申诉期届满：0 件。超期时限已升级提醒：0 个。" in again.output
    assert db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "deadline_overdue")
    ) == 2
    assert len(smtp.messages) == 2


def test_escalation_skips_paused_and_met_clocks(org, people, new_case):
    paused = inquire(new_case(), people, explanation_days=1)
    ops.pause_deadline(paused, actor=people.sup, version=paused.version, kind="explanation", reason="等待材料")
    answered = inquire(new_case(), people, explanation_days=1)
    ops.submit_explanation(answered, actor=people.head, version=answered.version, text="情况说明。")
    db.session.flush()
    later = paused.deadline(DeadlineKind.explanation).due_at + timedelta(days=1)
    assert escalate_overdue(later) == 0


def test_tick_moves_on_past_a_case_the_calendar_cannot_serve_yet(runner, org, people, new_case, violation_type,
                                                                 undeclared_years):
    """On Mon 2026-12-28 a ten-working-day rectification clock runs into 2027, which the holiday
    package does not cover: that case stays determined and the run says so (exit code 1, for
    cron's mail), while a case with a one-day clock moves on. Once 2027 is declared, the next
    run moves the first case too."""
    from tracker.cases.deadlines import forget_calendar
    from tracker.cases.models import CalendarYear, DeadlineSetting

    with time_machine.travel(datetime(2026, 12, 10, 2, 0, tzinfo=timezone.utc), tick=False):
        quick, slow = determine(new_case(), people, org, violation_type), determine(new_case(), people, org, violation_type)
        quick.severity = Severity.grave
        db.session.add(DeadlineSetting(kind=DeadlineKind.rectification, severity=Severity.grave, working_days=1))
        db.session.commit()

    with time_machine.travel(datetime(2026, 12, 28, 2, 0, tzinfo=timezone.utc), tick=False):
        result = runner.invoke(args=["tick"])
        assert result.exit_code == 1
        assert "申诉期届满：1 件。" in result.output
        assert f"{slow.number} 仍为“已认定”状态" in result.output and "2027" in result.output
        db.session.expire_all()
        assert (quick.state, slow.state) == (CaseState.rectifying, CaseState.determined)
        assert slow.deadline(DeadlineKind.rectification) is None

        db.session.add(CalendarYear(year=2027, note="国务院办公厅通知", declared_by_id=people.sup.id))
        db.session.commit()
        forget_calendar()  # as tracker.settings.operations.declare_calendar_year does
        again = runner.invoke(args=["tick"])
        assert again.exit_code == 0, again.output
        assert "申诉期届满：1 件。" in again.output
        db.session.expire_all()
        assert slow.state == CaseState.rectifying
