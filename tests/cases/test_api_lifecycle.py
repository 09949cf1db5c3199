"""A complaint from intake to follow-up through the JSON API, on both databases."""
from datetime import timedelta

from tracker.core.database import utcnow
from tracker.extensions import db


def _act(client, headers, case, action, expect=200, **body):
    response = client.post(
        f"/api/v1/cases/{case['number']}/actions/{action}", json={"version": case["version"], **body}, headers=headers
    )
    assert response.status_code == expect, response.get_json()
    return response.get_json().get("case", case)


def test_full_lifecycle_through_the_api(client, org, people, violation_type, api_token):
    db.session.commit()
    sup, sup2, head = api_token("sup_a"), api_token("sup_b"), api_token("head_hall")
    received = (utcnow() - timedelta(hours=3)).isoformat()
    body = {
        "channel": "hotline_95598", "unit_code": org.hall.code, "received_at": received,
        "summary": "营业员服务态度差", "details": "客户称营业员不耐烦。",
        "complainant": {"name": "张伟", "phone": "138-1234-5678", "address": "城关镇人民路88号"},
        "external_ref": "95598-2026-0001",
    }
    response = client.post("/api/v1/complaints", json=body, headers=sup)
    assert response.status_code == 201
    case = response.get_json()["case"]
    assert case["number"].startswith("JD-") and case["state"] == "registered"
    assert {d["kind"] for d in case["deadlines"]} == {"contact", "handling"}
    # Idempotent intake: same channel and work-order number → the same case, 200.
    again = client.post("/api/v1/complaints", json=body, headers=sup)
    assert again.status_code == 200 and again.get_json()["case"]["number"] == case["number"]

    case = _act(client, sup, case, "start_inquiry")
    case = _act(client, sup, case, "record_inquiry", facts="经调取录像，情况属实。", persons="营业员李娜")
    case = _act(client, sup, case, "request_explanation", due_days=3)
    case = _act(client, head, case, "submit_explanation", text="营业厅当日客流大，营业员情绪急躁，已批评教育。")
    # Determination needs all three questions.
    refused = client.post(f"/api/v1/cases/{case['number']}/actions/determine",
                          json={"version": case["version"], **_determination(org, violation_type)}, headers=sup)
    assert refused.status_code == 422 and "inquiry" in refused.get_json()["error"]["fields"]
    case = _act(client, sup, case, "record_inquiry", accountability="营业员负直接责任，供电所负管理责任。")
    case = _act(client, sup, case, "determine", **_determination(org, violation_type))
    assert case["state"] == "determined" and len(case["responsibilities"]) == 2
    case = _act(client, head, case, "appeal", grounds="营业员当日身体不适，请求从轻。")
    # Four eyes: the supervisor who determined cannot decide the appeal.
    _act(client, sup, case, "decide_appeal", expect=403, decision="upheld", reason="维持")
    case = _act(client, sup2, case, "decide_appeal", decision="upheld", reason="证据充分，维持原认定。")
    assert case["state"] == "rectifying"
    interview_measure = next(m for m in case["measures"] if m["kind"] == "warning_interview")
    case = _act(client, sup, case, "schedule_interview", measure_id=interview_measure["id"],
                scheduled_at=(utcnow() + timedelta(days=1)).isoformat(), location="供电所会议室", interviewer="王监督")
    interview = case["interviews"][0]
    case = _act(client, sup, case, "record_interview", interview_id=interview["id"],
                held_at=(utcnow() - timedelta(minutes=5)).isoformat(), minutes="指出问题，本人表示接受。")
    case = _act(client, head, case, "acknowledge_interview", interview_id=interview["id"])
    case = _act(client, head, case, "submit_rectification", text="开展服务礼仪培训，完善首问负责制。")
    case = _act(client, sup, case, "return_rectification", reason="缺少培训签到记录。")
    case = _act(client, head, case, "submit_rectification", text="补充培训签到表与考试记录。")
    case = _act(client, sup2, case, "accept_rectification", note="整改到位，同意销号。")
    # Close needs every measure carried out.
    _act(client, sup, case, "close", expect=409)
    for measure in case["measures"]:
        if not measure["done"]:
            case = _act(client, sup, case, "complete_measure", measure_id=measure["id"])
    case = _act(client, sup, case, "close")
    assert case["state"] == "closed" and case["outcome"] == "substantiated"
    case = _act(client, sup, case, "record_follow_up", result="satisfied", note="客户表示满意。")
    assert case["follow_up"]["result"] == "satisfied"

    events = client.get(f"/api/v1/cases/{case['number']}/events", headers=head).get_json()["items"]
    actions = [e["action"] for e in events]
    assert actions[0] == "register" and actions[-1] == "record_follow_up"
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(events, events[1:]) if e["seq"] == p["seq"] + 1)
    verify = client.get("/api/v1/history/verify", headers=sup).get_json()
    assert verify["ok"] is True and verify["first_bad_seq"] is None


def _determination(org, violation_type):
    return {
        "outcome": "substantiated", "violation_type_code": violation_type.code, "severity": "serious",
        "responsibilities": [
            {"unit_code": org.hall.code, "person_name": "李娜", "kind": "direct"},
            {"unit_code": org.station.code, "kind": "management"},
        ],
        "measures": [
            {"kind": "warning_interview", "responsibility_index": 0},
            {"kind": "performance_points", "responsibility_index": 0, "points": 2},
        ],
    }


def test_unsatisfied_follow_up_reopens(client, org, people, violation_type, api_token, make_case):
    from tests.cases.conftest import run_to
    from tracker.cases import operations as ops
    from tracker.cases.states import CaseState

    case = make_case()
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    ops.mark_unfounded(case, actor=people.sup, version=case.version, reason="经核实，营业员操作符合规范。")
    db.session.commit()
    sup = api_token("sup_a")
    body = client.get(f"/api/v1/cases/{case.number}", headers=sup).get_json()["case"]
    assert body["state"] == "closed" and body["outcome"] == "unfounded"
    body = _act(client, sup, body, "record_follow_up", result="unsatisfied", note="客户仍不认可。")
    assert body["state"] == "inquiring"
