"""The workflow's rules: the state × action × role table, four eyes, versions, scope, privacy."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.cases.conftest import determination, run_to
from tracker.cases import operations as ops
from tracker.cases.states import CaseState
from tracker.core.database import utcnow
from tracker.extensions import db


def _body(action, case, org, violation_type):
    """A valid body for each action, so only the state and the role decide the answer."""
    interview = case.interviews[0].id if case.interviews else 0
    measure = case.measures[0].id if case.measures else 0
    soon = (utcnow() + timedelta(days=1)).isoformat()
    return {
        "start_inquiry": {},
        "record_inquiry": {"facts": "事实"},
        "request_explanation": {},
        "submit_explanation": {"text": "说明"},
        "mark_unfounded": {"reason": "不属实"},
        "determine": determination(org, violation_type),
        "accept_determination": {},
        "appeal": {"grounds": "理由"},
        "decide_appeal": {"decision": "upheld", "reason": "维持"},
        "schedule_interview": {"measure_id": measure, "scheduled_at": soon, "location": "会议室", "interviewer": "王"},
        "record_interview": {"interview_id": interview, "held_at": utcnow().isoformat(), "minutes": "记录"},
        "acknowledge_interview": {"interview_id": interview},
        "submit_rectification": {"text": "整改"},
        "return_rectification": {"reason": "不到位"},
        "accept_rectification": {"note": "同意"},
        "close": {},
        "record_follow_up": {"result": "satisfied"},
        "reopen": {"reason": "复查"},
        "extend_deadline": {"kind": "handling", "days": 2, "reason": "节假日"},
        "merge_into": {"target_number": "JD-0000-000000", "reason": "重复"},
    }[action]


# (state the case is in, action, role) → expected status. "head" is the unit's own head.
TABLE = [
    ("registered", "start_inquiry", "sup", 200),
    ("registered", "start_inquiry", "head", 403),
    ("registered", "determine", "sup", 409),
    ("registered", "submit_explanation", "head", 409),
    ("registered", "close", "sup", 409),
    ("registered", "extend_deadline", "sup", 200),
    ("inquiring", "start_inquiry", "sup", 409),
    ("inquiring", "record_inquiry", "sup", 200),
    ("inquiring", "record_inquiry", "head", 403),
    ("inquiring", "request_explanation", "sup", 200),
    ("inquiring", "submit_explanation", "head", 409),  # nothing requested yet
    ("inquiring", "mark_unfounded", "sup", 200),
    ("inquiring", "mark_unfounded", "admin", 403),
    ("inquiring", "accept_determination", "head", 409),
    ("inquiring", "appeal", "head", 409),
    ("determined", "accept_determination", "head", 200),
    ("determined", "accept_determination", "sup", 403),
    ("determined", "appeal", "head", 200),
    ("determined", "determine", "sup", 409),
    ("determined", "submit_rectification", "head", 409),
    ("determined", "decide_appeal", "sup2", 409),
    ("rectifying", "submit_rectification", "head", 200),
    ("rectifying", "submit_rectification", "sup", 403),
    ("rectifying", "accept_rectification", "sup", 409),
    ("rectifying", "appeal", "head", 409),
    ("rectifying", "close", "sup", 409),
    ("rectifying", "schedule_interview", "sup", 200),
    ("rectifying", "merge_into", "sup", 409),
    ("rectifying", "reopen", "sup", 409),
    ("rectifying", "record_follow_up", "sup", 409),
]


@pytest.mark.parametrize("state, action, who, expected", TABLE)
def test_state_action_role_table(client, org, people, violation_type, make_case, api_token, state, action, who, expected):
    case = run_to(make_case(), CaseState(state), people, org, violation_type)
    db.session.commit()
    usernames = {"sup": "sup_a", "sup2": "sup_b", "head": "head_hall", "admin": "admin_a"}
    version_before, state_before = case.version, case.state
    response = client.post(
        f"/api/v1/cases/{case.number}/actions/{action}",
        json={"version": case.version, **_body(action, case, org, violation_type)},
        headers=api_token(usernames[who]),
    )
    assert response.status_code == expected, response.get_json()
    db.session.expire_all()
    if expected != 200:
        assert (case.version, case.state) == (version_before, state_before)  # nothing changed
        if expected == 409:
            error = response.get_json()["error"]
            assert error["code"] == "invalid_transition"
    else:
        assert case.version == version_before + 1


def test_stale_version_is_refused_and_nothing_changes(client, org, people, make_case, api_token):
    case = make_case()
    db.session.commit()
    headers = api_token("sup_a")
    first = client.post(f"/api/v1/cases/{case.number}/actions/start_inquiry", json={"version": 1}, headers=headers)
    assert first.status_code == 200
    stale = client.post(
        f"/api/v1/cases/{case.number}/actions/record_inquiry", json={"version": 1, "facts": "覆盖"}, headers=headers
    )
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "version_conflict"
    db.session.expire_all()
    assert case.inquiry_facts == "" and case.version == 2


def test_a_change_made_meanwhile_wins_over_a_stale_object(org, people, make_case):
    """Another writer bumped the version after this case was loaded: the action is refused."""
    from tracker.core.errors import VersionConflict

    case = make_case()
    db.session.flush()
    db.session.execute(text("UPDATE cases SET version = version + 1 WHERE id = :id"), {"id": case.id})
    with pytest.raises(VersionConflict):
        ops.start_inquiry(case, actor=people.sup, version=case.version)


def test_four_eyes_on_rectification(client, org, people, violation_type, make_case, api_token):
    case = run_to(make_case(), CaseState.rectifying, people, org, violation_type)
    ops.submit_rectification(case, actor=people.head, version=case.version, text="整改完毕")
    db.session.commit()
    response = client.post(f"/api/v1/cases/{case.number}/actions/accept_rectification",
                           json={"version": case.version}, headers=api_token("head_hall"))
    assert response.status_code == 403


def test_appeal_after_the_window_is_refused(org, people, violation_type, make_case, app):
    import time_machine

    from tracker.core.errors import InvalidTransition

    case = run_to(make_case(), CaseState.determined, people, org, violation_type)
    window = case.deadline(__import__("tracker.cases.states", fromlist=["DeadlineKind"]).DeadlineKind.appeal_window)
    with time_machine.travel(window.due_at + timedelta(minutes=1)):
        with pytest.raises(InvalidTransition):
            ops.appeal_case(case, actor=people.head, version=case.version, grounds="晚了")
        moved = ops.advance_elapsed_appeal_windows()
    assert case in moved.advanced and case.state == CaseState.rectifying


@pytest.mark.parametrize("who, status", [("head_other", 404), ("ext_a", 404), ("head_station", 200), ("head_hall", 200)])
def test_scope_of_case_history_and_list(client, org, people, make_case, api_token, who, status):
    case = make_case()
    db.session.commit()
    headers = api_token(who)
    assert client.get(f"/api/v1/cases/{case.number}", headers=headers).status_code == status
    assert client.get(f"/api/v1/cases/{case.number}/events", headers=headers).status_code == status
    response = client.get("/api/v1/cases", headers=headers)
    if who.startswith("ext"):
        assert response.status_code == 403  # external supervisors see no cases at all
        return
    listed = [c["number"] for c in response.get_json()["items"]]
    assert (case.number in listed) is (status == 200)


def test_unit_head_of_another_unit_gets_404_on_the_web(client, org, people, make_case, auth):
    case = make_case()
    db.session.commit()
    auth.login("head_other")
    assert client.get(f"/cases/{case.number}").status_code == 404
    assert client.post(f"/cases/{case.number}/actions/accept_determination", data={}).status_code == 404


def test_external_supervisors_reach_no_case_page(client, org, people, make_case, auth):
    case = make_case()
    db.session.commit()
    auth.login("ext_a")
    assert client.get("/cases").status_code == 403
    assert client.get(f"/cases/{case.number}").status_code == 403


def test_masking_in_json_and_html_and_the_logged_grant(client, org, people, make_case, api_token, auth):
    case = make_case(phone="13812345678")
    db.session.commit()
    seen = client.get(f"/api/v1/cases/{case.number}", headers=api_token("head_hall")).get_json()["case"]
    assert seen["complainant"]["name"] == "张**" and seen["complainant"]["phone"] == "138****5678"
    assert "13812345678" not in client.get(f"/api/v1/cases/{case.number}", headers=api_token("head_hall")).get_data(as_text=True)
    full = client.get(f"/api/v1/cases/{case.number}", headers=api_token("sup_a")).get_json()["case"]
    assert full["complainant"]["phone"] == "13812345678"
    auth.login("head_hall")
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "张伟" not in html and "13812345678" not in html and "138****5678" in html
    # A supervisor grants access; it is logged in the history and the head then sees the data.
    response = client.post(
        f"/api/v1/cases/{case.number}/actions/grant_complainant_access",
        json={"version": case.version, "username": "head_hall", "reason": "需回访客户核实"},
        headers=api_token("sup_a"),
    )
    assert response.status_code == 200
    seen = client.get(f"/api/v1/cases/{case.number}", headers=api_token("head_hall")).get_json()["case"]
    assert seen["complainant"]["phone"] == "13812345678"
    events = client.get(f"/api/v1/cases/{case.number}/events", headers=api_token("sup_a")).get_json()["items"]
    assert events[-1]["action"] == "grant_complainant_access" and events[-1]["data"]["user"] == "head_hall"


def test_phone_is_searchable_without_being_shown(client, org, people, make_case, api_token):
    target = make_case(phone="13600001234")
    make_case(phone="13700005678")
    db.session.commit()
    found = client.get("/api/v1/cases?phone=136-0000-1234", headers=api_token("head_hall")).get_json()["items"]
    assert [c["number"] for c in found] == [target.number]
    assert found[0]["complainant"]["phone"] == "136****1234"


def test_chinese_text_search_and_filters(client, org, people, make_case, api_token):
    a = make_case(summary="抢修人员到达现场超时")
    make_case(summary="营业厅未公示收费标准", unit=org.station)
    db.session.commit()
    headers = api_token("sup_a")
    found = client.get("/api/v1/cases?q=抢修", headers=headers).get_json()["items"]
    assert [c["number"] for c in found] == [a.number]
    by_unit = client.get(f"/api/v1/cases?unit={org.hall.code}", headers=headers).get_json()["items"]
    assert {c["number"] for c in by_unit} == {a.number}
    subtree = client.get(f"/api/v1/cases?unit={org.north.code}", headers=headers).get_json()["items"]
    assert len(subtree) == 2
    assert client.get("/api/v1/cases?state=nonsense", headers=headers).status_code == 422


def test_cursor_paging_of_cases(client, org, people, make_case, api_token):
    numbers = {make_case(received_at=utcnow() - timedelta(hours=i + 1)).number for i in range(5)}
    db.session.commit()
    headers = api_token("sup_a")
    seen, cursor = [], None
    while True:
        url = "/api/v1/cases?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        seen += [c["number"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and set(seen) == numbers


def test_duplicates_and_merge(client, org, people, make_case, api_token):
    first = make_case(phone="13512345678", summary="停电未提前通知")
    db.session.commit()
    dup = ops.suspected_duplicates if hasattr(ops, "suspected_duplicates") else None
    from tracker.cases.queries import suspected_duplicates

    found = suspected_duplicates(people.sup, unit=org.hall, phone="135 1234 5678", summary="别的事")
    assert found == [first]
    similar = suspected_duplicates(people.sup, unit=org.hall, phone=None, summary="停电未提前通知客户")
    assert similar == [first]
    second = make_case(phone="13512345678", summary="停电没有提前通知", channel=__import__(
        "tracker.cases.states", fromlist=["Channel"]).Channel.regulator_12398)
    db.session.commit()
    body = client.post(f"/api/v1/cases/{second.number}/actions/merge_into",
                       json={"version": second.version, "target_number": first.number, "reason": "同一客户同一事项"},
                       headers=api_token("sup_a")).get_json()["case"]
    assert body["state"] == "closed" and body["merged_into"] == first.number


def test_tamper_detection_names_the_entry(client, org, people, make_case, api_token):
    case = make_case()
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    db.session.commit()
    headers = api_token("sup_a")
    assert client.get("/api/v1/history/verify", headers=headers).get_json()["ok"] is True
    events = client.get(f"/api/v1/cases/{case.number}/events", headers=headers).get_json()["items"]
    victim = events[0]["seq"]
    db.session.execute(
        text("UPDATE history_events SET actor_name = 'someone_else' WHERE seq = :seq"), {"seq": victim}
    )
    db.session.commit()
    result = client.get("/api/v1/history/verify", headers=headers).get_json()
    assert result == {"ok": False, "checked": result["checked"], "first_bad_seq": victim}
    assert client.get("/api/v1/history/verify", headers=api_token("head_hall")).status_code == 403


def test_verify_page_names_the_broken_entry(client, org, people, make_case, auth):
    case = make_case()
    db.session.commit()
    db.session.execute(text("UPDATE history_events SET data = '{}' WHERE case_id = :id"), {"id": case.id})
    db.session.commit()
    auth.login("sup_a")
    page = client.get("/history/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "tampered" in page and case.number in page


def test_unit_heads_see_the_supervision_office_on_audit_cases(client, org, people, make_case, api_token, auth):
    from tracker.cases.states import Channel

    case = make_case(channel=Channel.audit, phone=None)
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    db.session.commit()
    events = client.get(f"/api/v1/cases/{case.number}/events", headers=api_token("head_hall")).get_json()["items"]
    assert {e["actor"] for e in events} == {"监督办公室"} or {e["actor"] for e in events} == {"Supervision office"}
    assert "sup_a" in {e["actor"] for e in client.get(
        f"/api/v1/cases/{case.number}/events", headers=api_token("sup_b")).get_json()["items"]}
    auth.login("head_hall")
    assert "sup_a" not in client.get(f"/cases/{case.number}").get_data(as_text=True)
