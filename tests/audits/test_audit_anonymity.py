"""Mystery shoppers are anonymous to the unit (DESIGN.md §5): pseudonyms only, in every view."""
import json

import pytest

from tests.audits.audit_fixtures import (  # noqa: F401
    SECRET_NAMES, checklist, crew, make_audit, submitted, upload, uploads, vtypes,
)
from tracker.audits import operations as ops
from tracker.audits.permissions import auditor_display
from tracker.audits.states import AuditKind
from tracker.cases.evidence import store_audit_attachment
from tracker.extensions import db

EN = {"Accept-Language": "en"}


def _leaks(text):
    return [name for name in SECRET_NAMES if name in text]


@pytest.fixture
def approved(make_audit, crew, uploads):
    """An approved mystery shop of the hall with evidence on its failed item, and its case."""
    audit = make_audit()
    result = next(r for r in audit.results if r.item.code == "I1")
    store_audit_attachment(result, actor=crew.auditor, file_storage=upload("柜台照片.png"))
    submitted(audit, crew, I1=("fail", "柜台上有水杯"))
    cases = ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    db.session.commit()
    return type("Approved", (), dict(audit=audit, case=cases[0], id=audit.id, number=cases[0].number))


def test_auditor_display_by_role(approved, crew):
    for viewer in (crew.head, crew.station_head):
        labels = auditor_display(viewer, approved.audit)
        assert [label.pseudonym for label in labels] == ["A-01", "A-02"]
        assert all(label.username is None and label.name is None for label in labels)
        assert not _leaks(json.dumps([label.as_dict() for label in labels], ensure_ascii=False))
    for viewer in (crew.reviewer, crew.admin):
        labels = auditor_display(viewer, approved.audit)
        assert [(label.username, label.author) for label in labels] == [("shopper_a", True), ("shopper_b", False)]


def test_unit_head_pages_show_pseudonyms_only(client, auth, approved, crew):
    auth.login(crew.head.username)
    for url in (f"/audits/{approved.id}", "/audits", f"/cases/{approved.number}"):
        response = client.get(url, headers=EN)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert not _leaks(html), (url, _leaks(html))
        assert "Mystery shopper A-01" in html, url
    case_page = client.get(f"/cases/{approved.number}", headers=EN).get_data(as_text=True)
    assert f'href="/audits/{approved.id}"' in case_page  # the link back
    assert f"Found by audit #{approved.id}, item I1" in case_page
    assert "柜台照片.png" in case_page  # the evidence came along, its uploader by pseudonym


def test_supervisors_see_the_names(client, auth, approved, crew):
    auth.login(crew.reviewer.username)
    html = client.get(f"/audits/{approved.id}").get_data(as_text=True)
    assert "王暗访" in html and "刘暗访" in html
    assert "王暗访" in client.get(f"/cases/{approved.number}").get_data(as_text=True)


def test_unit_head_json_shows_pseudonyms_only(client, api_token, approved, crew):
    headers = api_token(crew.head.username) | EN
    for url in (f"/api/v1/audits/{approved.id}", "/api/v1/audits", f"/api/v1/cases/{approved.number}",
                f"/api/v1/cases/{approved.number}/events", f"/api/v1/cases/{approved.number}/attachments"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert not _leaks(response.get_data(as_text=True)), (url, _leaks(response.get_data(as_text=True)))
    audit = client.get(f"/api/v1/audits/{approved.id}", headers=headers).get_json()["audit"]
    assert audit["auditors"] == [{"pseudonym": "A-01", "display": "Mystery shopper A-01"},
                                 {"pseudonym": "A-02", "display": "Mystery shopper A-02"}]
    files = client.get(f"/api/v1/cases/{approved.number}/attachments", headers=headers).get_json()["items"]
    assert files[0]["uploaded_by"] == "Mystery shopper A-02"
    supervisor = client.get(f"/api/v1/audits/{approved.id}", headers=api_token(crew.reviewer.username)).get_json()
    assert supervisor["audit"]["auditors"][0] | {} == {
        "pseudonym": "A-01", "display": "王暗访", "username": "shopper_a", "name": "王暗访", "author": True}


def test_audit_history_data_names_no_auditor(approved):
    from sqlalchemy import select

    from tracker.core.history import HistoryEvent

    events = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.subject.in_([f"audit:{approved.id}", f"case:{approved.number}"]))).all()
    assert events
    assert not _leaks(json.dumps([e.data for e in events], ensure_ascii=False))
    # The case's own history shows the reviewer who opened it, never the shoppers.
    assert {e.actor_name for e in events if e.case_id == approved.case.id} == {"reviewer_c"}


def test_inspections_are_not_anonymous(make_audit, crew, vtypes):
    ops.seed_checklists([{"code": "T-INS", "name": "现场检查", "kind": "inspection", "sections": [
        {"name": "安全", "items": [{"code": "S1", "text": "设置围栏", "weight": 1, "critical": False,
                                   "violation_type_code": "SV-A1", "clause": ""}]}]}])
    from tracker.audits.queries import active_template

    audit = make_audit(kind=AuditKind.inspection, template=active_template("T-INS"))
    ops.record_results(audit, actor=crew.author, version=audit.version, results=[{"item_code": "S1", "result": "pass"}])
    ops.submit_audit(audit, actor=crew.author, version=audit.version)
    ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    assert [label.name for label in auditor_display(crew.head, audit)] == ["王暗访", "刘暗访"]
    assert all(label.username is None for label in auditor_display(crew.head, audit))


def test_approval_reaches_the_dashboards_roll_up(approved, crew):
    """The approved audit and the case its failed item opened are in the statistics roll-up."""
    from sqlalchemy import func, select

    from tracker.reports import stats
    from tracker.reports.models import AuditDayStat

    assert db.session.scalar(select(func.sum(AuditDayStat.audits)).where(
        AuditDayStat.unit_id == approved.audit.unit_id)) == 1
    assert stats.check(db.session.connection()) == []
