"""The access matrix: every route of the web UI and the API × every kind of user.

Generated from the app's URL map: a route missing from the tables below fails the suite, so
a new page or endpoint cannot ship without an access rule. For GET, the roles listed may
open the page (2xx, or a redirect that is not to the login page) and everybody else is
refused (401/403/404, or the login page for anonymous users). For other methods the roles
not listed must be refused whatever they send (an invalid body may give 400/422 to the
allowed roles, which is not checked here).
"""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.audits.audit_fixtures import SPEC, png_bytes
from tracker.audits import operations as audit_ops
from tracker.audits.planning import add_plan_entry, create_plan
from tracker.audits.queries import active_template
from tracker.audits.states import AuditKind
from tracker.cases import operations as case_ops
from tracker.cases.evidence import store_attachment
from tracker.cases.models import Notification, ViolationType
from tracker.cases.states import Channel, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports import bulletins as bulletin_ops
from tracker.reports.figures import local_date
from tracker.reports.models import ReportJob

ANON, ADMIN, SUP, SUP_OUT, HEAD, HEAD_OUT, EXT = "anon", "admin", "sup", "sup_out", "head", "head_out", "ext"
EVERYBODY = {ANON, ADMIN, SUP, SUP_OUT, HEAD, HEAD_OUT, EXT}
SIGNED_IN = EVERYBODY - {ANON}
STAFF = {ADMIN, SUP, SUP_OUT, HEAD, HEAD_OUT}
SUPERVISORS = {SUP, SUP_OUT}
IN_SCOPE = {ADMIN, SUP, HEAD}  # the objects below belong to the hall that HEAD heads
NOBODY = set()

# endpoint → roles that may GET it
GET_ACCESS = {
    "static": EVERYBODY, "bootstrap.static": EVERYBODY,
    "accounts.login": EVERYBODY, "main.help_page": EVERYBODY,
    "main.index": SIGNED_IN, "accounts.change_password": SIGNED_IN,
    "inbox.notifications": SIGNED_IN,
    "accounts.users": {ADMIN}, "accounts.create_user": {ADMIN}, "accounts.edit_user": {ADMIN},
    "units.index": {ADMIN}, "units.create": {ADMIN}, "units.detail": {ADMIN},
    "catalogue.index": {ADMIN}, "catalogue.create": {ADMIN}, "catalogue.edit": {ADMIN},
    "settings.index": {ADMIN}, "settings.deadlines": {ADMIN}, "settings.calendar": {ADMIN},
    "audits.templates": {ADMIN}, "audits.template_detail": {ADMIN}, "audits.template_edit": {ADMIN},
    "inbox.index": STAFF,
    "cases.index": STAFF, "cases.create": SUPERVISORS, "cases.detail": IN_SCOPE,
    "cases.verify_history": {ADMIN, SUP, SUP_OUT},
    "ledger.download": STAFF,
    "evidence.download": IN_SCOPE,
    "audits.index": STAFF, "audits.create": SUPERVISORS, "audits.detail": IN_SCOPE,
    "audits.record": {SUP},  # the author of the draft
    "scorecards.index": STAFF,
    "planning.index": {ADMIN, SUP, SUP_OUT}, "planning.create": SUPERVISORS,
    "planning.coverage": {ADMIN, SUP, SUP_OUT}, "planning.detail": {ADMIN, SUP},
    "planning.plan_coverage": {ADMIN, SUP},
    "reports.dashboard": STAFF, "reports.unit_dashboard": IN_SCOPE,
    "reports.unit_report_form": STAFF, "reports.unit_report": IN_SCOPE, "reports.unit_report_pdf": IN_SCOPE,
    "reports.bulk_new": STAFF,  # every report of one's own subtree
    "reports.job_status": {ADMIN, SUP}, "reports.job_download": NOBODY,  # the job has no result yet
    "imports.upload": SUPERVISORS, "imports.preview": SUPERVISORS,
    "bulletins.index": SIGNED_IN, "bulletins.detail": SIGNED_IN, "bulletins.pdf": SIGNED_IN,
    "bulletins.create": SUPERVISORS, "bulletins.edit": {SUP},  # the draft is the whole organisation's
    "bulletins.feedback_inbox": SUPERVISORS,
    "portal.index": {EXT}, "portal.feedback": {EXT},
    # API
    "api-docs.openapi_json": EVERYBODY,
    "api_units.list_units": SIGNED_IN, "api_violation_types.list_violation_types": SIGNED_IN,
    "api_cases.list_cases_endpoint": STAFF, "api_cases.get_case": IN_SCOPE, "api_cases.list_events": IN_SCOPE,
    "api_cases.verify_history": {ADMIN, SUP, SUP_OUT},
    "api_evidence.list_attachments": IN_SCOPE, "api_evidence.download_attachment": IN_SCOPE,
    "api_audits.list_checklists": STAFF, "api_audits.list_audits_endpoint": STAFF, "api_audits.get_audit": IN_SCOPE,
    "api_reports.unit_report_pdf": IN_SCOPE, "api_ledger.unit_ledger": IN_SCOPE,
    "api_bulletins.list_bulletins": SIGNED_IN, "api_bulletins.get_bulletin": SIGNED_IN,
    "api_bulletins.bulletin_pdf": SIGNED_IN, "api_bulletins.list_feedback": {SUP, SUP_OUT, EXT},
}

# endpoint → roles that may use its other methods (POST, PATCH)
WRITE_ACCESS = {
    "accounts.login": EVERYBODY, "accounts.logout": EVERYBODY, "accounts.set_language": EVERYBODY,
    "accounts.change_password": SIGNED_IN, "api_tokens.create_token": EVERYBODY,
    "accounts.create_user": {ADMIN}, "accounts.edit_user": {ADMIN}, "accounts.reset_password": {ADMIN},
    "accounts.user_action": {ADMIN},
    "units.create": {ADMIN}, "units.move": {ADMIN}, "units.rename": {ADMIN}, "units.state": {ADMIN},
    "catalogue.create": {ADMIN}, "catalogue.edit": {ADMIN}, "catalogue.state": {ADMIN},
    "settings.add_override": {ADMIN}, "settings.delete_override": {ADMIN},
    "settings.declare_year": {ADMIN}, "settings.withdraw_year": {ADMIN},
    "settings.set_deadline": {ADMIN}, "settings.reset_deadline": {ADMIN},
    "audits.template_edit": {ADMIN},
    "cases.create": SUPERVISORS, "cases.act": IN_SCOPE, "evidence.upload": {SUP, HEAD},
    "inbox.mark_all_read": SIGNED_IN, "inbox.open_notification": {HEAD},
    "audits.create": SUPERVISORS, "audits.record": {SUP}, "audits.save_results": {SUP},
    "audits.upload_evidence": {SUP}, "audits.act": {ADMIN, SUP, HEAD},
    "planning.create": SUPERVISORS, "planning.add_entry": {SUP}, "planning.remove_entry": {SUP},
    "reports.bulk_new": STAFF,
    "imports.upload": SUPERVISORS, "imports.confirm": SUPERVISORS, "imports.cancel": SUPERVISORS,
    "bulletins.create": SUPERVISORS, "bulletins.edit": {SUP}, "bulletins.publish": {SUP},
    "bulletins.correct": {SUP}, "bulletins.answer_feedback": {SUP},
    "portal.feedback": {EXT},
    "api_cases.create_complaint": SUPERVISORS, "api_cases.run_action": IN_SCOPE,
    "api_evidence.upload_attachment": {SUP, HEAD},
    "api_audits.create_audit": SUPERVISORS, "api_audits.save_results": {SUP}, "api_audits.run_action": {ADMIN, SUP, HEAD},
    "api_bulletins.create_bulletin": SUPERVISORS, "api_bulletins.update_bulletin": {SUP},
    "api_bulletins.publish_bulletin": {SUP}, "api_bulletins.correct_bulletin": {SUP},
    "api_bulletins.send_feedback": {EXT}, "api_bulletins.answer_feedback": {SUP},
}


@pytest.fixture
def world(org, make_user, app, tmp_path, monkeypatch):
    """One object of every kind, in the hall that HEAD heads."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    users = {
        ADMIN: make_user("admin", username="m_admin"),
        SUP: make_user("supervisor", username="m_sup"),
        SUP_OUT: make_user("supervisor", org.south, username="m_sup_out"),
        HEAD: make_user("unit_head", org.hall, username="m_head"),
        HEAD_OUT: make_user("unit_head", org.other_station, username="m_head_out"),
        EXT: make_user("external", username="m_ext"),
    }
    reviewer = make_user("supervisor", username="m_reviewer")
    for code, category in (("SV-A1", ViolationCategory.service), ("SV-A2", ViolationCategory.ten_prohibitions)):
        db.session.add(ViolationType(code=code, category=category, name="测试", severity=Severity.general, points=1))
    db.session.flush()
    case, _ = case_ops.register_case(
        actor=users[SUP], channel=Channel.hotline_95598, unit=org.hall, received_at=utcnow() - timedelta(hours=2),
        summary="矩阵测试案件", complainant=case_ops.Complainant("张伟", "13800001111", "某路1号"),
    )
    case_ops.start_inquiry(case, actor=users[SUP], version=case.version)
    case_ops.request_explanation(case, actor=users[SUP], version=case.version)  # notifies HEAD
    attachment = store_attachment(case, actor=users[SUP],
                                  file_storage=FileStorage(io.BytesIO(png_bytes()), "照片.png"))
    audit_ops.seed_checklists([SPEC])
    template = active_template(SPEC["code"])
    approved = audit_ops.create_audit(actor=users[SUP], kind=AuditKind.mystery_shop, template=template,
                                      unit=org.hall, visited_at=utcnow() - timedelta(days=1))
    audit_ops.record_results(approved, actor=users[SUP], version=approved.version, results=[
        {"item_code": item.code, "result": "pass"} for section in template.sections for item in section.items])
    audit_ops.submit_audit(approved, actor=users[SUP], version=approved.version)
    audit_ops.approve_audit(approved, actor=reviewer, version=approved.version)
    draft = audit_ops.create_audit(actor=users[SUP], kind=AuditKind.mystery_shop, template=template,
                                   unit=org.hall, visited_at=utcnow() - timedelta(hours=5))
    today = local_date(utcnow())
    plan = create_plan(actor=users[SUP], name="季度暗访计划", period_from=today, period_to=today + timedelta(days=60))
    add_plan_entry(plan, actor=users[SUP], unit=org.hall, auditor=users[SUP], kind=AuditKind.mystery_shop,
                   planned_on=today + timedelta(days=3))
    published = bulletin_ops.create_bulletin(actor=users[SUP], title="通报", period_from=today - timedelta(days=30),
                                             period_to=today)
    bulletin_ops.publish_bulletin(published, actor=users[SUP])
    draft_bulletin = bulletin_ops.create_bulletin(actor=users[SUP], title="草稿", period_from=today - timedelta(days=7),
                                                  period_to=today)
    feedback = bulletin_ops.send_feedback(actor=users[EXT], subject="意见", body="内容", bulletin=published)
    job = ReportJob(kind="unit_reports", params={"unit_code": org.hall.code}, created_by_id=users[SUP].id)
    db.session.add(job)
    db.session.flush()
    notification = db.session.scalar(select(Notification).where(Notification.user_id == users[HEAD].id))
    db.session.commit()
    arguments = {
        "number": case.number, "code": org.hall.code, "attachment_id": attachment.id, "user_id": users[HEAD].id,
        "audit_id": approved.id, "template_id": template.id, "plan_id": plan.id,
        "entry_id": plan.entries[0].id, "job_id": job.id, "bulletin_id": published.id,
        "feedback_id": feedback.id, "notification_id": notification.id, "role": "supervisor",
        "filename": "css/app.css", "item_code": "I1", "day": today.isoformat(), "year": today.year + 1,
    }
    special = {
        "audits.record": {"audit_id": draft.id}, "bulletins.edit": {"bulletin_id": draft_bulletin.id},
        "api_bulletins.update_bulletin": {"bulletin_id": draft_bulletin.id},
        "bulletins.publish": {"bulletin_id": draft_bulletin.id},
        "api_bulletins.publish_bulletin": {"bulletin_id": draft_bulletin.id},
        "catalogue.edit": {"code": "SV-A1"}, "catalogue.state": {"code": "SV-A1"},
        "bootstrap.static": {"filename": "css/bootstrap.min.css"},
        "audits.save_results": {"audit_id": draft.id}, "api_audits.save_results": {"audit_id": draft.id},
        "audits.upload_evidence": {"audit_id": draft.id},
    }
    return users, arguments, special


def _url(app, rule, arguments, special):
    values = dict(arguments) | special.get(rule.endpoint, {})
    for name, converter in rule._converters.items():
        if name not in values and hasattr(converter, "items"):
            values[name] = sorted(converter.items)[0]  # <any(...)> parts
        elif name not in values:
            values[name] = "x"
    return rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]


def _client_for(app, role, users):
    client = app.test_client()
    headers = {}
    if role != ANON:
        username = users[role].username
        response = client.post("/login", data={"username": username, "password": "correct-horse-9"})
        assert response.status_code == 302
        token = client.post("/api/v1/tokens", json={"username": username, "password": "correct-horse-9"})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    return client, headers


def _rules(app):
    return [rule for rule in app.url_map.iter_rules()]


def test_every_route_has_an_access_rule(app):
    missing_get = {r.endpoint for r in _rules(app) if "GET" in r.methods} - set(GET_ACCESS)
    missing_write = {r.endpoint for r in _rules(app) if r.methods - {"GET", "HEAD", "OPTIONS"}} - set(WRITE_ACCESS)
    assert not missing_get, f"GET routes without an access rule: {sorted(missing_get)}"
    assert not missing_write, f"POST/PATCH routes without an access rule: {sorted(missing_write)}"


def _refused(role, response, api):
    if response.status_code in (401, 403, 404):
        return True
    if role == ANON and not api and response.status_code == 302:
        return "/login" in response.headers["Location"]
    return False


@pytest.mark.parametrize("role", sorted(EVERYBODY))
def test_get_matrix(app, world, role):
    users, arguments, special = world
    client, headers = _client_for(app, role, users)
    wrong = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        api = rule.rule.startswith("/api/")
        response = client.get(_url(app, rule, arguments, special), headers=headers if api else {})
        allowed = role in GET_ACCESS[rule.endpoint]
        assert response.status_code != 500, rule.rule
        ok = response.status_code < 400 and not _refused(role, response, api)
        if allowed != ok:
            wrong.append((rule.endpoint, response.status_code))
        response.close()
    assert not wrong, f"{role}: unexpected answers {wrong}"


@pytest.mark.parametrize("role", sorted(EVERYBODY))
def test_write_matrix(app, world, role):
    users, arguments, special = world
    client, headers = _client_for(app, role, users)
    wrong = []
    for rule in _rules(app):
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            if role in WRITE_ACCESS[rule.endpoint]:
                continue
            api = rule.rule.startswith("/api/")
            response = client.open(_url(app, rule, arguments, special), method=method,
                                   headers=headers if api else {}, json={} if api else None)
            assert response.status_code != 500, rule.rule
            if not (_refused(role, response, api) or response.status_code in (400, 405, 422)):
                wrong.append((rule.endpoint, method, response.status_code))
            response.close()
    assert not wrong, f"{role}: writes not refused {wrong}"
