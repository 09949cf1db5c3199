"""The external supervisors' portal and feedback, and proof that external users reach nothing else.

The URL-map sweeps log in as an external supervisor (行风监督员) and request every GET route
of the application — the ones other modules add later too — with real or dummy arguments:
only the portal, bulletins, feedback, account, help and login pages may answer 200, and those
must not show personal data or staff names.
"""
import json
from datetime import timedelta

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.cases.conftest import make_case, people, run_to, violation_type  # noqa: F401
from tests.conftest import PASSWORD
from tracker.cases.states import CaseState
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition, PermissionDenied
from tracker.core.history import HistoryEvent
from tracker.extensions import db
from tracker.reports import bulletins as bl
from tracker.reports.figures import local_date
from tracker.reports.models import Feedback

TODAY = local_date(utcnow())  # Beijing's date: from 16:00 UTC it is already tomorrow there


def _login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def published(org, people, make_case, violation_type):
    """A published whole-organisation bulletin over one substantiated case, and a draft."""
    case = make_case()
    run_to(case, CaseState.rectifying, people, org, violation_type)
    bulletin = bl.create_bulletin(actor=people.sup, title="一季度服务监督问责通报",
                                  period_from=TODAY - timedelta(days=30), period_to=TODAY + timedelta(days=1))
    bl.publish_bulletin(bulletin, actor=people.sup)
    draft = bl.create_bulletin(actor=people.sup, title="二季度草稿", period_from=TODAY, period_to=TODAY)
    db.session.commit()
    return type("Published", (), dict(bulletin=bulletin, draft=draft, case=case))


# --- the portal --------------------------------------------------------------------------------


def test_external_home_is_the_portal(client, people, published):
    _login(client, "ext_a")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/portal")
    page = client.get("/portal", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "一季度服务监督问责通报" in html and "二季度草稿" not in html
    # The ranking comes from the frozen content: the hall with its one substantiated case.
    assert "城关营业厅" in html and "Unit rankings from the latest bulletins" in html
    assert 'href="/portal"' in html and 'href="/bulletins"' in html  # navigation
    assert 'href="/cases"' not in html and 'href="/inbox"' not in html
    assert published.case.number not in html  # typical cases are on the bulletin page, not here

    # Staff keep their own start page and have no portal.
    _login(client, "sup_a")
    assert client.get("/").headers["Location"].endswith("/inbox")
    assert client.get("/portal").status_code == 403
    assert client.post("/portal/feedback", data={"subject": "x", "body": "y"}).status_code == 403


def test_portal_rankings_show_the_latest_valid_version(client, org, people, published):
    correction = bl.correct_bulletin(published.bulletin, actor=people.sup, title="一季度通报（更正）")
    bl.publish_bulletin(correction, actor=people.sup)
    db.session.commit()
    summaries = bl.latest_unit_summaries(people.external)
    assert [b.id for b in summaries] == [correction.id]
    _login(client, "ext_a")
    html = client.get("/portal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "一季度通报（更正）" in html and "Superseded" in html


def test_feedback_is_answered_and_seen_by_its_author_only(client, org, people, published, make_user, api_token):
    other_external = make_user("external", username="ext_b", display_name="人大代表")
    db.session.commit()
    _login(client, "ext_a")
    response = client.post("/portal/feedback", data={
        "bulletin_id": str(published.bulletin.id), "subject": "关于营业厅服务", "body": "建议增加周末营业时间。"})
    assert response.status_code == 302
    feedback = db.session.scalar(db.select(Feedback))
    assert feedback.bulletin_id == published.bulletin.id and feedback.author_id == people.external.id
    # A form error stays on the form.
    bad = client.post("/portal/feedback", data={"subject": "", "body": "x"})
    assert bad.status_code == 422 and "invalid-feedback" in bad.get_data(as_text=True)
    # Feedback about a draft is refused.
    assert client.post("/portal/feedback", data={
        "bulletin_id": str(published.draft.id), "subject": "x", "body": "y"}).status_code == 422

    # The supervisor's inbox shows it, with its author; unit heads have no feedback inbox.
    _login(client, "head_hall")
    assert client.get("/feedback").status_code == 403
    _login(client, "sup_b")
    inbox = client.get("/feedback").get_data(as_text=True)
    assert "关于营业厅服务" in inbox and people.external.display_name in inbox
    response = client.post(f"/feedback/{feedback.id}/answer",
                           data={f"answer-{feedback.id}-answer": "已安排周六上午营业，感谢监督。"})
    assert response.status_code == 302
    db.session.expire_all()
    answered = db.session.get(Feedback, feedback.id)
    assert answered.answer == "已安排周六上午营业，感谢监督。" and answered.answered_by_id == people.sup2.id
    assert "已安排周六上午营业" in client.get("/feedback?status=answered").get_data(as_text=True)

    # The author sees the answer — from the office, not from a named person.
    _login(client, "ext_a")
    portal = client.get("/portal").get_data(as_text=True)
    assert "已安排周六上午营业，感谢监督。" in portal and people.sup2.display_name not in portal
    mine = client.get("/portal/feedback").get_data(as_text=True)
    assert "已安排周六上午营业，感谢监督。" in mine
    items = client.get("/api/v1/feedback", headers=api_token("ext_a")).get_json()["items"]
    assert [(f["id"], f["answer"]) for f in items] == [(feedback.id, "已安排周六上午营业，感谢监督。")]
    assert "author" not in items[0]

    # Nobody else's.
    _login(client, "ext_b")
    assert "已安排周六上午营业" not in client.get("/portal").get_data(as_text=True)
    assert "关于营业厅服务" not in client.get("/portal/feedback").get_data(as_text=True)
    assert client.get("/api/v1/feedback", headers=api_token("ext_b")).get_json()["items"] == []
    assert other_external.id != people.external.id

    # Answering twice is a conflict; the history has both steps.
    with pytest.raises(InvalidTransition):
        bl.answer_feedback(answered, actor=people.sup, answer="再答")
    actions = db.session.scalars(
        db.select(HistoryEvent.action).where(HistoryEvent.subject == f"feedback:{feedback.id}").order_by(HistoryEvent.seq)
    ).all()
    assert actions == ["send_feedback", "answer_feedback"]


def test_feedback_through_the_api(client, org, people, published, make_user, api_token):
    north_sup = make_user("supervisor", org.north, username="sup_north")
    db.session.commit()
    ext, sup = api_token("ext_a"), api_token("sup_a")
    response = client.post("/api/v1/feedback", json={"subject": "建议", "body": "公开整改结果。"}, headers=ext)
    assert response.status_code == 201
    general = response.get_json()["feedback"]
    assert general["bulletin_id"] is None and general["answer"] is None
    about = client.post("/api/v1/feedback", json={"subject": "关于通报", "body": "数据清楚。",
                                                  "bulletin_id": published.bulletin.id}, headers=ext)
    assert about.status_code == 201
    draft = client.post("/api/v1/feedback", json={"subject": "x", "body": "y", "bulletin_id": published.draft.id},
                        headers=ext)
    assert draft.status_code == 422 and "bulletin_id" in draft.get_json()["error"]["fields"]
    assert client.post("/api/v1/feedback", json={"subject": "", "body": "y"}, headers=ext).status_code == 422
    # Only external supervisors send feedback; unit heads read none.
    assert client.post("/api/v1/feedback", json={"subject": "x", "body": "y"}, headers=sup).status_code == 403
    assert client.get("/api/v1/feedback", headers=api_token("head_hall")).status_code == 403

    listed = client.get("/api/v1/feedback", headers=sup).get_json()["items"]
    assert {f["subject"] for f in listed} == {"建议", "关于通报"} and listed[0]["author"] == "行风监督员"
    # A county office sees feedback about bulletins of its subtree only (none here: the
    # bulletin covers the whole organisation) and cannot answer the rest.
    assert client.get("/api/v1/feedback", headers=api_token("sup_north")).get_json()["items"] == []
    assert client.post(f"/api/v1/feedback/{general['id']}/actions/answer", json={"answer": "收到"},
                       headers=api_token("sup_north")).status_code == 404
    assert north_sup.unit == org.north

    answered = client.post(f"/api/v1/feedback/{general['id']}/actions/answer", json={"answer": "已采纳。"}, headers=sup)
    assert answered.status_code == 200 and answered.get_json()["feedback"]["answer"] == "已采纳。"
    again = client.post(f"/api/v1/feedback/{general['id']}/actions/answer", json={"answer": "再答"}, headers=sup)
    assert again.status_code == 409
    assert client.post(f"/api/v1/feedback/{general['id']}/actions/answer", json={"answer": "x"},
                       headers=ext).status_code == 403
    with pytest.raises(PermissionDenied):
        bl.send_feedback(actor=people.sup, subject="x", body="y")


# --- external users reach nothing else ---------------------------------------------------------

# What an external supervisor may open (200). Everything else must answer 403, 404 or 405.
ALLOWED_WEB = {
    "accounts.login", "accounts.change_password",
    "main.index",  # redirects external supervisors to the portal
    "main.help_page",  # role help, open without logging in
    "inbox.notifications",  # the reader's own notifications (external supervisors get none)
}
ALLOWED_WEB_BLUEPRINTS = {"portal"}
ALLOWED_BULLETIN_PAGES = {"bulletins.index", "bulletins.detail", "bulletins.pdf"}
ALLOWED_API = {
    "api-docs.openapi_json",  # the API's description
    "api_units.list_units",  # unit names are public: bulletins rank units
    "api_violation_types.list_violation_types",  # the violation catalogue, readable by everybody signed in
    "api_bulletins.list_bulletins", "api_bulletins.get_bulletin", "api_bulletins.bulletin_pdf",
    "api_bulletins.list_feedback",
}


def _dummy_values(rule, known):
    values = {}
    for name, converter in rule._converters.items():
        if name in known:
            values[name] = known[name]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "x"
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return values


def _get_rules(app, *, api):
    """GET rules of the web (or of the API), static files aside."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") != api or rule.endpoint.endswith("static"):
            continue
        yield rule


def _known_arguments(org, people, published):
    return {
        "number": published.case.number, "code": org.hall.code, "unit_code": org.hall.code,
        "user_id": people.sup.id, "bulletin_id": published.bulletin.id, "day": TODAY.isoformat(),
    }


def _sensitive(people, case):
    return [case.complainant_name, case.complainant_phone, case.complainant_address, "李娜",
            people.sup.display_name, people.sup2.display_name, people.head.display_name,
            people.station_head.display_name]


def _allowed_on_the_web(endpoint):
    return (endpoint in ALLOWED_WEB or endpoint in ALLOWED_BULLETIN_PAGES
            or endpoint.split(".")[0] in ALLOWED_WEB_BLUEPRINTS)


def test_external_user_reaches_no_internal_web_page(app, client, org, people, published):
    _login(client, "ext_a")
    known = _known_arguments(org, people, published)
    checked, refused = [], []
    for rule in _get_rules(app, api=False):
        url = rule.build(_dummy_values(rule, known), append_unknown=False)[1]
        response = client.get(url)
        if _allowed_on_the_web(rule.endpoint):
            checked.append(rule.endpoint)
            if response.status_code == 200 and response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                for value in _sensitive(people, published.case):
                    assert value not in html, (rule.rule, value)
            continue
        refused.append(rule.endpoint)
        assert response.status_code in (403, 404, 405), (rule.rule, url, response.status_code)
    # The sweep did cover the internal pages that exist.
    for endpoint in ("cases.index", "cases.detail", "cases.verify_history", "inbox.index", "units.index",
                     "units.detail", "accounts.users", "catalogue.index", "settings.deadlines",
                     "bulletins.create", "bulletins.edit", "bulletins.feedback_inbox"):
        assert endpoint in refused
    assert "portal.index" in checked and "bulletins.detail" in checked


def test_external_user_reaches_no_internal_api_endpoint(app, client, org, people, published, api_token):
    headers = api_token("ext_a")
    known = _known_arguments(org, people, published)
    refused = []
    for rule in _get_rules(app, api=True):
        url = rule.build(_dummy_values(rule, known), append_unknown=False)[1]
        response = client.get(url, headers=headers)
        if rule.endpoint in ALLOWED_API:
            if response.status_code == 200 and response.mimetype == "application/json":
                text = response.get_data(as_text=True)
                decoded = json.dumps(response.get_json(), ensure_ascii=False)
                for value in _sensitive(people, published.case):
                    assert value not in text and value not in decoded, (rule.rule, value)
            continue
        refused.append(rule.endpoint)
        assert response.status_code in (403, 404, 405), (rule.rule, url, response.status_code)
    for endpoint in ("api_cases.get_case", "api_cases.list_events", "api_cases.verify_history",
                     "api_cases.list_cases_endpoint", "api_audits.list_audits_endpoint"):
        assert endpoint in refused
    # The allowed ones show published bulletins only.
    assert client.get(f"/api/v1/bulletins/{published.draft.id}", headers=headers).status_code == 404
