"""The audit pages: list, new audit, the tablet recording page (JSON saves and the no-JS form),
the review page with its four-eyes buttons, scope."""
import io
import re
from datetime import timedelta

from sqlalchemy import select

from tests.audits.audit_fixtures import (  # noqa: F401
    answer, checklist, crew, make_audit, png_bytes, submitted, uploads, vtypes,
)
from tracker.audits.models import Audit
from tracker.audits.states import AuditState, ItemResult
from tracker.cases.forms import LOCAL_TZ
from tracker.cases.models import Attachment
from tracker.core.database import utcnow
from tracker.extensions import db

EN = {"Accept-Language": "en"}


def _audit(audit_id):
    db.session.expire_all()
    return db.session.get(Audit, audit_id)


def _results(audit):
    return {r.item.code: r for r in _audit(audit.id).results}


def test_new_audit_form_creates_a_draft_and_opens_the_recording_page(client, auth, checklist, crew, org):
    db.session.commit()
    auth.login(crew.author.username)
    page = client.get("/audits/new").get_data(as_text=True)
    assert "T-AUD" in page and "刘暗访" in page
    visited = (utcnow() - timedelta(days=1)).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/audits/new", data={
        "kind": "mystery_shop", "template_code": "T-AUD", "unit_code": org.hall.code,
        "visited_at": visited,
        "auditors": [str(crew.auditor.id)], "note": "上午暗访",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    audit = db.session.scalar(select(Audit))
    assert response.headers["Location"].endswith(f"/audits/{audit.id}/record")
    assert audit.author_id == crew.author.id and audit.auditors == [crew.auditor] and len(audit.results) == 4
    # A unit head may not file one.
    auth.logout()
    auth.login(crew.head.username)
    assert client.get("/audits/new").status_code == 403


def test_recording_page_is_built_for_a_tablet_and_has_no_inline_script(client, auth, make_audit, crew):
    audit = make_audit()
    db.session.commit()
    auth.login(crew.author.username)
    html = client.get(f"/audits/{audit.id}/record", headers=EN).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'src="/static/js/audit-record.js"' in html
    assert html.count('class="btn-check result-input"') == 12  # pass / fail / n.a. for four items
    assert "btn-lg" in html and 'data-results-url="/audits/%d/results"' % audit.id in html
    assert "<script>" not in html and "style=" not in html
    assert "窗口环境" in html and "section-score" in html and 'name="csrf_token"' in html
    script = client.get("/static/js/audit-record.js")
    assert script.status_code == 200
    script.close()


def test_json_partial_save_and_stale_version(client, auth, make_audit, crew):
    audit = make_audit()
    db.session.commit()
    auth.login(crew.author.username)
    url = f"/audits/{audit.id}/results"
    response = client.post(url, json={"version": 1, "results": [{"item_code": "I1", "result": "pass", "note": "整洁"}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["audit"]["version"] == 2
    assert _results(audit)["I1"].result == ItemResult.passed
    stale = client.post(url, json={"version": 1, "results": [{"item_code": "I2", "result": "fail"}]})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "version_conflict"
    assert _results(audit)["I2"].result is None
    unknown = client.post(url, json={"version": 2, "results": [{"item_code": "ZZ", "result": "pass"}]})
    assert unknown.status_code == 422 and "results" in unknown.get_json()["error"]["fields"]
    malformed = client.post(url, json={"results": "nope"})
    assert malformed.status_code == 422 and {"version", "results"} <= set(malformed.get_json()["error"]["fields"])
    # Someone who may not record gets the envelope too.
    auth.logout()
    auth.login(crew.reviewer.username)
    assert client.post(url, json={"version": 2, "results": []}).status_code == 403


def test_the_page_works_without_javascript(client, auth, make_audit, crew, uploads):
    audit = make_audit()
    db.session.commit()
    auth.login(crew.auditor.username)
    data = {"version": "1"}
    for index, (code, result) in enumerate([("I1", "pass"), ("I2", "na"), ("I3", "fail"), ("I4", "")]):
        data[f"results-{index}-item_code"] = code
        data[f"results-{index}-note"] = "说话生硬" if code == "I3" else ""
        if result:
            data[f"results-{index}-result"] = result
    data["results-2-file"] = (io.BytesIO(png_bytes()), "现场.png")
    response = client.post(f"/audits/{audit.id}/record", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    results = _results(audit)
    assert results["I1"].result == ItemResult.passed and results["I2"].result == ItemResult.not_applicable
    assert results["I3"].result == ItemResult.failed and results["I3"].note == "说话生硬"
    assert results["I4"].result is None and _audit(audit.id).version == 2
    files = db.session.scalars(select(Attachment).where(Attachment.audit_result_id == results["I3"].id)).all()
    assert [f.original_name for f in files] == ["现场.png"]
    # Posting the same (now stale) form again is refused with the reason on the page.
    data.pop("results-2-file")
    data["results-0-result"] = "fail"
    response = client.post(f"/audits/{audit.id}/record", data=data, headers=EN)
    assert response.status_code == 409 and "changed this record" in response.get_data(as_text=True)
    assert _results(audit)["I1"].result == ItemResult.passed


def test_evidence_upload_endpoint_for_the_script(client, auth, make_audit, crew, uploads):
    audit = make_audit()
    db.session.commit()
    auth.login(crew.author.username)
    response = client.post(f"/audits/{audit.id}/items/I2/evidence", headers={"Accept": "application/json"},
                           data={"file": (io.BytesIO(png_bytes()), "录像截图.png")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()["attachment"]
    assert body["name"] == "录像截图.png"
    download = client.get(body["url"])
    assert download.status_code == 200 and download.data == png_bytes()
    download.close()
    refused = client.post(f"/audits/{audit.id}/items/I2/evidence", headers={"Accept": "application/json"},
                          data={"file": (io.BytesIO(b"just text"), "a.txt")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "file" in refused.get_json()["error"]["fields"]
    assert client.post(f"/audits/{audit.id}/items/NOPE/evidence", headers={"Accept": "application/json"},
                       data={}).status_code == 404


def test_review_page_buttons_follow_four_eyes(client, auth, make_audit, crew):
    audit = submitted(make_audit(), crew, I4=("fail", "未一次性告知"))
    db.session.commit()
    auth.login(crew.author.username)
    html = client.get(f"/audits/{audit.id}", headers=EN).get_data(as_text=True)
    assert 'action="/audits/%d/actions/approve"' % audit.id not in html
    assert client.post(f"/audits/{audit.id}/actions/approve", data={"approve-version": audit.version}).status_code == 403
    auth.logout()
    auth.login(crew.reviewer.username)
    html = client.get(f"/audits/{audit.id}", headers=EN).get_data(as_text=True)
    assert 'action="/audits/%d/actions/approve"' % audit.id in html and "/actions/return" in html
    assert "/actions/submit" not in html
    response = client.post(f"/audits/{audit.id}/actions/approve", data={"approve-version": audit.version})
    assert response.status_code == 302
    approved = _audit(audit.id)
    assert approved.state == AuditState.approved
    number = _results(audit)["I4"].case.number
    html = client.get(f"/audits/{audit.id}", headers=EN).get_data(as_text=True)
    assert f'href="/cases/{number}"' in html and "/actions/" not in html


def test_return_needs_a_reason_and_the_author_submits_again(client, auth, make_audit, crew):
    audit = submitted(make_audit(), crew)
    db.session.commit()
    auth.login(crew.reviewer.username)
    response = client.post(f"/audits/{audit.id}/actions/return", data={"return-version": audit.version}, headers=EN)
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    response = client.post(f"/audits/{audit.id}/actions/return",
                           data={"return-version": audit.version, "return-reason": "请补充照片"})
    assert response.status_code == 302 and _audit(audit.id).state == AuditState.returned
    auth.logout()
    auth.login(crew.author.username)
    html = client.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "请补充照片" in html and "/actions/submit" in html and f"/audits/{audit.id}/record" in html
    response = client.post(f"/audits/{audit.id}/actions/submit", data={"submit-version": _audit(audit.id).version})
    assert response.status_code == 302 and _audit(audit.id).state == AuditState.submitted


def test_scope_unit_heads_see_approved_audits_of_their_subtree_only(client, auth, make_audit, crew, org):
    draft = make_audit()
    done = submitted(make_audit(), crew)
    from tracker.audits import operations as ops

    ops.approve_audit(done, actor=crew.reviewer, version=done.version)
    db.session.commit()
    auth.login(crew.station_head.username)  # the hall is below the station
    assert client.get(f"/audits/{done.id}").status_code == 200
    assert client.get(f"/audits/{draft.id}").status_code == 404
    listing = client.get("/audits").get_data(as_text=True)
    assert f'href="/audits/{done.id}"' in listing and f'href="/audits/{draft.id}"' not in listing
    assert client.get(f"/audits/{draft.id}/record").status_code == 404
    auth.logout()
    auth.login(crew.other_head.username)
    assert client.get(f"/audits/{done.id}").status_code == 404
    assert f'href="/audits/{done.id}"' not in client.get("/audits").get_data(as_text=True)
    auth.logout()
    auth.login(crew.external.username)
    assert client.get("/audits").status_code == 403


def test_list_filters_and_paging(client, auth, make_audit, crew, org):
    audits = [make_audit() for _ in range(3)]
    other = make_audit(unit=org.team)
    db.session.commit()
    auth.login(crew.reviewer.username)
    html = client.get("/audits", query_string={"unit": org.hall.code}).get_data(as_text=True)
    assert all(f'href="/audits/{a.id}"' in html for a in audits) and f'href="/audits/{other.id}"' not in html
    assert f'href="/audits/{other.id}"' not in client.get("/audits", query_string={"state": "approved"}).get_data(as_text=True)
    from tracker.audits.queries import AuditFilters, list_audits

    page, cursor = list_audits(crew.reviewer, AuditFilters(), limit=2)
    rest, end = list_audits(crew.reviewer, AuditFilters(), limit=2, cursor=cursor)
    assert len(page) == 2 and len(rest) == 2 and end is None
    assert {a.id for a in page + rest} == {a.id for a in audits + [other]}
    # Navigation entries.
    nav = client.get("/audits").get_data(as_text=True)
    assert re.search(r'href="/audits"', nav)
