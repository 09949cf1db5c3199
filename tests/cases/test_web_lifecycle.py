"""A supervisor and a unit head carry a complaint from intake to follow-up through the web forms."""
import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import PASSWORD
from tracker.cases.models import Case
from tracker.cases.states import CaseState
from tracker.core.database import utcnow
from tracker.extensions import db


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def _case(number):
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.number == number))


def _post(client, number, action, expect=302, **fields):
    case = _case(number)
    data = {f"{action}-version": case.version, **{f"{action}-{k}": v for k, v in fields.items()}}
    response = client.post(f"/cases/{number}/actions/{action}", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == expect, re.findall(r'(?:invalid-feedback|alert-danger)[^>]*>([^<]+)', response.get_data(as_text=True))
    return response


def test_full_lifecycle_through_the_web(client, org, people, violation_type):
    db.session.commit()
    _login(client, "sup_a")
    page = client.get("/cases/new").get_data(as_text=True)
    assert "95598" in page
    received = (utcnow() + timedelta(hours=8) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/cases/new", data={
        "channel": "hotline_95598", "unit_code": org.hall.code, "received_at": received,
        "external_ref": "95598-WEB-1", "summary": "抄表员估抄电量，电费异常偏高", "details": "客户称连续两月电费翻倍。",
        "complainant_name": "陈芳", "complainant_phone": "13900001111", "complainant_address": "城关镇解放路1号",
    })
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert _case(number).state == CaseState.registered

    _post(client, number, "start_inquiry")
    _post(client, number, "record_inquiry", facts="抄表数据与现场示数不符。", persons="台区经理", accountability="")
    _post(client, number, "request_explanation", due_days="3")

    _login(client, "head_hall")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "陈**" in page and "139****1111" in page and "13900001111" not in page
    _post(client, number, "submit_explanation", text="台区经理未到现场抄表，已责令改正。")

    _login(client, "sup_a")
    # Missing accountability: the determination is refused with a message on the form.
    response = _post(client, number, "determine", expect=422, outcome="substantiated",
                     violation_type_code=violation_type.code, severity="serious")
    assert "three questions" in response.get_data(as_text=True)
    _post(client, number, "record_inquiry", facts="抄表数据与现场示数不符。", persons="台区经理",
          accountability="台区经理负直接责任，供电所负管理责任。")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "管理" in page or "Management" in page  # the proposed four-level responsibilities
    _post(client, number, "determine", outcome="substantiated", violation_type_code=violation_type.code,
          severity="serious", **{
              "responsibilities-0-unit_code": org.hall.code, "responsibilities-0-person_name": "赵台区",
              "responsibilities-0-kind": "direct",
              "responsibilities-1-unit_code": org.station.code, "responsibilities-1-kind": "management",
              "responsibilities-2-unit_code": "", "responsibilities-3-unit_code": "",
              "measures-0-kind": "warning_interview", "measures-0-responsibility": "0",
              "measures-1-kind": "", "measures-2-kind": "", "measures-3-kind": "", "measures-4-kind": "",
              "measures-5-kind": "",
          })
    case = _case(number)
    assert case.state == CaseState.determined and len(case.responsibilities) == 2

    _login(client, "head_hall")
    _post(client, number, "accept_determination")
    assert _case(number).state == CaseState.rectifying

    _login(client, "sup_a")
    measure = _case(number).measures[0]
    when = (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    _post(client, number, "schedule_interview", measure_id=str(measure.id), scheduled_at=when,
          location="城关供电所会议室", interviewer="王监督")
    interview = _case(number).interviews[0]
    held = (utcnow() + timedelta(hours=8) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    _post(client, number, "record_interview", interview_id=str(interview.id), held_at=held, minutes="谈话记录：本人认识到错误。")

    _login(client, "head_hall")
    _post(client, number, "acknowledge_interview", interview_id=str(interview.id))
    _post(client, number, "submit_rectification", text="重新抄表并退补电费，开展抄表规范培训。")

    _login(client, "sup_b")
    _post(client, number, "accept_rectification", note="现场核实整改到位。")
    _post(client, number, "close")
    _post(client, number, "record_follow_up", result="satisfied", note="客户满意。")
    case = _case(number)
    assert case.state == CaseState.closed and case.follow_up_result.value == "satisfied"
    history = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "Record the follow-up call" in history or "回访" in history


def test_stale_version_on_the_web_is_a_409_with_reload_message(client, org, people, make_case):
    case = make_case()
    db.session.commit()
    _login(client, "sup_a")
    stale = case.version
    _post(client, case.number, "start_inquiry")
    response = client.post(f"/cases/{case.number}/actions/record_inquiry",
                           data={"record_inquiry-version": stale, "record_inquiry-facts": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "Reload the page" in response.get_data(as_text=True)
    assert _case(case.number).inquiry_facts == ""
