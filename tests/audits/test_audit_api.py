"""The audits API (API.md "Audits"): shapes, the workflow, errors in the envelope, scope."""
from datetime import timedelta

from tests.audits.audit_fixtures import checklist, crew, make_audit, submitted, vtypes  # noqa: F401
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports.figures import local_date

ALL_PASS = [{"item_code": c, "result": "pass", "note": ""} for c in ("I1", "I2", "I3", "I4")]


def _new(client, headers, org, **overrides):
    body = {"kind": "mystery_shop", "template_code": "T-AUD", "unit_code": org.hall.code,
            "visited_at": (utcnow() - timedelta(hours=5)).isoformat(), "results": [], "auditors": ["shopper_b"]}
    return client.post("/api/v1/audits", json=body | overrides, headers=headers)


def test_checklists(client, api_token, checklist, crew):
    db.session.commit()
    response = client.get("/api/v1/checklists", headers=api_token(crew.reviewer.username))
    assert response.status_code == 200
    (template,) = response.get_json()["items"]
    assert {k: template[k] for k in ("code", "name", "kind", "version")} == {
        "code": "T-AUD", "name": "测试暗访表", "kind": "mystery_shop", "version": 1}
    assert [s["name"] for s in template["sections"]] == ["窗口环境", "服务行为"]
    assert template["sections"][0]["items"][1] == {"code": "I2", "text": "不得推诿客户", "weight": 2, "critical": True,
                                                  "violation_type_code": "SV-A2", "clause": "十个不准第二条"}
    assert client.get("/api/v1/checklists", headers=api_token(crew.external.username)).status_code == 403


def test_file_record_submit_approve_through_the_api(client, api_token, checklist, crew, org):
    db.session.commit()
    author = api_token(crew.author.username)
    response = _new(client, author, org, results=ALL_PASS[:2])
    assert response.status_code == 201, response.get_json()
    audit = response.get_json()["audit"]
    assert audit["state"] == "draft" and audit["version"] == 2 and audit["template_version"] == 1
    assert audit["unit_code"] == org.hall.code and audit["score"] is None and audit["critical_failed"] is False
    assert [r["item_code"] for r in audit["results"]] == ["I1", "I2", "I3", "I4"]
    assert audit["results"][0] == {"item_code": "I1", "result": "pass", "note": "", "weight": 3, "critical": False,
                                   "case_number": None}
    assert [a["username"] for a in audit["auditors"]] == ["shopper_a", "shopper_b"]
    audit_id = audit["id"]

    save = client.post(f"/api/v1/audits/{audit_id}/results", headers=author, json={
        "version": 2, "results": [{"item_code": "I3", "result": "fail", "note": "语气生硬"}, {"item_code": "I4", "result": "na"}]})
    assert save.status_code == 200 and save.get_json()["audit"]["version"] == 3
    stale = client.post(f"/api/v1/audits/{audit_id}/results", headers=author, json={"version": 2, "results": []})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "version_conflict"

    submit = client.post(f"/api/v1/audits/{audit_id}/actions/submit", headers=author, json={"version": 3})
    assert submit.status_code == 200
    assert submit.get_json() == {"audit": submit.get_json()["audit"], "cases": []}
    assert submit.get_json()["audit"]["score"] == 50.0 and submit.get_json()["audit"]["state"] == "submitted"

    denied = client.post(f"/api/v1/audits/{audit_id}/actions/approve", headers=author, json={"version": 4})
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    auditor = api_token(crew.auditor.username)
    assert client.post(f"/api/v1/audits/{audit_id}/actions/approve", headers=auditor, json={"version": 4}).status_code == 403

    reviewer = api_token(crew.reviewer.username)
    assert client.post(f"/api/v1/audits/{audit_id}/actions/approve", headers=reviewer, json={}).status_code == 422
    approve = client.post(f"/api/v1/audits/{audit_id}/actions/approve", headers=reviewer, json={"version": 4})
    assert approve.status_code == 200, approve.get_json()
    body = approve.get_json()
    assert body["audit"]["state"] == "approved" and len(body["cases"]) == 1 and body["cases"][0].startswith("JD-")
    assert body["audit"]["results"][2]["case_number"] == body["cases"][0]
    case = client.get(f"/api/v1/cases/{body['cases'][0]}", headers=reviewer).get_json()["case"]
    assert case["channel"] == "audit" and case["violation_type_code"] == "SV-A1"
    again = client.post(f"/api/v1/audits/{audit_id}/actions/approve", headers=reviewer, json={"version": 5})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"


def test_return_needs_a_reason(client, api_token, make_audit, crew):
    audit = submitted(make_audit(), crew)
    db.session.commit()
    reviewer = api_token(crew.reviewer.username)
    url = f"/api/v1/audits/{audit.id}/actions/return"
    refused = client.post(url, headers=reviewer, json={"version": audit.version})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    response = client.post(url, headers=reviewer, json={"version": audit.version, "reason": "补充录音"})
    assert response.status_code == 200 and response.get_json()["audit"]["state"] == "returned"
    assert response.get_json()["audit"]["returned_reason"] == "补充录音"
    assert client.post(f"/api/v1/audits/{audit.id}/actions/dance", headers=reviewer, json={"version": 1}).status_code == 404


def test_validation_errors_are_422_with_fields(client, api_token, checklist, crew, org):
    db.session.commit()
    author = api_token(crew.author.username)
    response = _new(client, author, org, template_code="NOPE")
    assert response.status_code == 422 and "template_code" in response.get_json()["error"]["fields"]
    response = _new(client, author, org, results=[{"item_code": "ZZ", "result": "pass"}])
    assert response.status_code == 422 and "results" in response.get_json()["error"]["fields"]
    response = _new(client, author, org, auditors=["nobody"])
    assert response.status_code == 422 and "auditors" in response.get_json()["error"]["fields"]
    response = client.post("/api/v1/audits", json={"kind": "picnic"}, headers=author)
    assert response.status_code == 422 and {"kind", "unit_code"} <= set(response.get_json()["error"]["fields"])
    head = api_token(crew.head.username)
    assert _new(client, head, org).status_code == 403


def test_list_filters_paging_and_scope(client, api_token, make_audit, crew, org):
    hall = [submitted(make_audit(), crew) for _ in range(3)]
    draft = make_audit(unit=org.team)
    from tracker.audits import operations as ops

    for audit in hall:
        ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    db.session.commit()
    reviewer = api_token(crew.reviewer.username)
    everything = client.get("/api/v1/audits", headers=reviewer).get_json()
    assert {a["id"] for a in everything["items"]} == {a.id for a in hall} | {draft.id}
    first = client.get("/api/v1/audits", query_string={"limit": 2}, headers=reviewer).get_json()
    second = client.get("/api/v1/audits", query_string={"limit": 2, "cursor": first["next_cursor"]},
                        headers=reviewer).get_json()
    assert len(first["items"]) == 2 and len(second["items"]) == 2 and second["next_cursor"] is None
    today = local_date(utcnow()).isoformat()  # Beijing's date, as the API reads from/to
    team_only = client.get("/api/v1/audits", query_string={"unit": org.team.code, "state": "draft", "kind": "mystery_shop",
                                                           "from": "2020-01-01", "to": today}, headers=reviewer).get_json()
    assert [a["id"] for a in team_only["items"]] == [draft.id]
    assert client.get("/api/v1/audits", query_string={"unit": "NOPE"}, headers=reviewer).status_code == 422
    # Unit heads: approved audits of their subtree only; elsewhere 404.
    head = api_token(crew.station_head.username)
    assert {a["id"] for a in client.get("/api/v1/audits", headers=head).get_json()["items"]} == {a.id for a in hall}
    assert client.get(f"/api/v1/audits/{draft.id}", headers=head).status_code == 404
    other = api_token(crew.other_head.username)
    response = client.get(f"/api/v1/audits/{hall[0].id}", headers=other)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/audits", headers=other).get_json()["items"] == []
    assert client.post(f"/api/v1/audits/{hall[0].id}/results", headers=other,
                       json={"version": 1, "results": []}).status_code == 404


def test_openapi_documents_the_audits(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/checklists", "/api/v1/audits", "/api/v1/audits/{audit_id}",
            "/api/v1/audits/{audit_id}/results", "/api/v1/audits/{audit_id}/actions/{action}"} <= set(paths)
