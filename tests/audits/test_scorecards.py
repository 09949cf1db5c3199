"""Scorecards: section scores from weights (n.a. excluded), the organisation average, scope."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale

from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection, ChecklistTemplate
from tracker.audits.scorecard_routes import audit_url
from tracker.audits.scorecards import buckets_for, last_twelve_months, unit_scorecard
from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.core.database import utcnow
from tracker.extensions import db

UTC = timezone.utc
PERIOD = {"date_from": date(2025, 1, 1), "date_to": date(2025, 6, 30)}


@pytest.fixture
def checklist(app_ctx):
    """Two sections: 窗口环境 with weights 3/2/5, 服务行为 with 4 (critical) and 1."""
    template = ChecklistTemplate(code="T-HALL", name="营业厅暗访", name_en="Hall mystery shop",
                                 kind=AuditKind.mystery_shop)
    environment = ChecklistSection(name="窗口环境", name_en="Environment", position=1)
    conduct = ChecklistSection(name="服务行为", name_en="Conduct", position=2)
    template.sections = [environment, conduct]
    db.session.add(template)
    db.session.flush()
    items = {}
    for section, code, weight, critical in [
        (environment, "E1", 3, False), (environment, "E2", 2, False), (environment, "E3", 5, False),
        (conduct, "C1", 4, True), (conduct, "C2", 1, False),
    ]:
        items[code] = ChecklistItem(section=section, template_id=template.id, code=code, text=f"检查项 {code}",
                                    weight=weight, critical=critical)
    db.session.add_all(items.values())
    db.session.flush()
    return type("Checklist", (), {"template": template, "items": items})


@pytest.fixture
def author(make_user):
    return make_user("supervisor", display_name="王暗访")


@pytest.fixture
def make_audit(checklist, author):
    def _make(unit, results, *, visited_at, state=AuditState.approved, kind=AuditKind.mystery_shop,
              score=None, critical_failed=False):
        audit = Audit(kind=kind, template_id=checklist.template.id, unit_id=unit.id, visited_at=visited_at,
                      state=state, author_id=author.id, critical_failed=critical_failed,
                      score=Decimal(str(score)) if score is not None else None,
                      approved_at=visited_at if state == AuditState.approved else None)
        audit.results = [AuditResult(item_id=checklist.items[code].id, result=ItemResult(result))
                         for code, result in results.items()]
        db.session.add(audit)
        db.session.flush()
        return audit

    return _make


def at(y, m, d, hour=2):
    return datetime(y, m, d, hour, tzinfo=UTC)


@pytest.fixture
def audits(org, make_audit):
    """March 2025: the hall and the team (both under the station) and the other county's station."""
    return type("Audits", (), dict(
        # 窗口环境 3 of 5 (E3 n.a.) = 60; 服务行为 4 of 5 = 80; overall 7 of 10
        hall=make_audit(org.hall, {"E1": "pass", "E2": "fail", "E3": "na", "C1": "pass", "C2": "fail"},
                        visited_at=at(2025, 3, 10), score=70),
        # 窗口环境 7 of 10 = 70; 服务行为 1 of 5 = 20 (critical item failed); overall 8 of 15
        team=make_audit(org.team, {"E1": "fail", "E2": "pass", "E3": "pass", "C1": "fail", "C2": "pass"},
                        visited_at=at(2025, 3, 20), score=53.33, critical_failed=True),
        # elsewhere, all passed
        south=make_audit(org.other_station, {c: "pass" for c in ("E1", "E2", "E3", "C1", "C2")},
                         visited_at=at(2025, 3, 15), score=100),
        # not approved: never counted
        draft=make_audit(org.hall, {c: "fail" for c in ("E1", "E2", "E3", "C1", "C2")},
                         visited_at=at(2025, 3, 12), state=AuditState.submitted, score=0, critical_failed=True),
    ))


def sections(card):
    (template,) = card.templates
    return {s.name: s for s in template.sections}


def test_section_scores_pool_weights_and_skip_not_applicable(org, audits, make_user):
    supervisor = make_user("supervisor")
    card = unit_scorecard(supervisor, org.station, **PERIOD)
    assert [b.label for b in card.buckets] == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    by_name = sections(card)
    march = 2
    # (3 + 7) / (5 + 10) and (4 + 1) / (5 + 5); the submitted audit is not counted.
    assert by_name["窗口环境"].unit[march] == pytest.approx(66.667, abs=0.001)
    assert by_name["服务行为"].unit[march] == pytest.approx(50.0)
    assert by_name["窗口环境"].unit[0] is None
    assert by_name["窗口环境"].unit_period == pytest.approx(66.667, abs=0.001)
    # The organisation adds the other county's perfect visit: (10 + 10) / 25 and (5 + 5) / 15.
    assert by_name["窗口环境"].organisation[march] == pytest.approx(80.0)
    assert by_name["服务行为"].organisation_period == pytest.approx(66.667, abs=0.001)
    assert [s.name for s in card.templates[0].sections] == ["窗口环境", "服务行为"]

    assert card.unit_summary.visits == 2
    assert card.unit_summary.average_score == pytest.approx((70 + 53.33) / 2)
    assert card.unit_summary.critical_failures == 1
    assert card.organisation_summary.visits == 3
    assert card.organisation_summary.average_score == pytest.approx((70 + 53.33 + 100) / 3)
    assert card.unit_scores[march] == pytest.approx(61.665)


def test_a_single_hall_and_months_in_beijing_time(org, audits, make_audit, make_user):
    # 2025-03-31 17:00 UTC is 1 April 01:00 in Beijing: an April visit.
    make_audit(org.hall, {"E1": "pass", "E2": "pass", "E3": "fail", "C1": "pass", "C2": "pass"},
               visited_at=datetime(2025, 3, 31, 17, tzinfo=UTC), score=66.67)
    card = unit_scorecard(make_user("admin"), org.hall, **PERIOD)
    by_name = sections(card)
    assert by_name["窗口环境"].unit[2] == pytest.approx(60.0)  # March: 3 of 5
    assert by_name["窗口环境"].unit[3] == pytest.approx(50.0)  # April: 5 of 10
    assert by_name["窗口环境"].unit_period == pytest.approx(8 * 100 / 15)
    assert by_name["服务行为"].unit_period == pytest.approx(9 * 100 / 10)


def test_quarters_and_kind_filter(org, audits, make_audit, make_user):
    make_audit(org.hall, {"E1": "fail", "E2": "fail", "E3": "fail"}, visited_at=at(2025, 5, 2),
               kind=AuditKind.inspection, score=0)
    supervisor = make_user("supervisor")
    card = unit_scorecard(supervisor, org.station, granularity="quarter", **PERIOD)
    assert len(card.buckets) == 2
    assert sections(card)["窗口环境"].unit == [pytest.approx(10 * 100 / 15), pytest.approx(0.0)]
    card = unit_scorecard(supervisor, org.station, kind=AuditKind.mystery_shop, granularity="quarter", **PERIOD)
    assert sections(card)["窗口环境"].unit == [pytest.approx(10 * 100 / 15), None]
    assert card.unit_summary.visits == 2


def test_default_period_is_twelve_months():
    date_from, date_to = last_twelve_months(date(2026, 2, 14))
    assert (date_from, date_to) == (date(2025, 3, 1), date(2026, 2, 14))
    assert len(buckets_for(date_from, date_to)) == 12
    with force_locale("en"):
        labels = [str(b.label) for b in buckets_for(date(2025, 11, 5), date(2026, 2, 1), "quarter")]
    assert labels == ["2025 Q4", "2026 Q1"]


# --- pages ------------------------------------------------------------------------------------


def page(client, **params):
    response = client.get("/scorecards/", query_string={**{k: v.isoformat() for k, v in PERIOD.items()}, **params},
                          headers={"Accept-Language": "en"})
    return response, response.get_data(as_text=True)


def test_supervisor_page_with_charts_and_audit_list(app, client, login_as, org, audits):
    login_as("supervisor")
    response, html = page(client, unit="C-N-1")
    assert response.status_code == 200
    assert "城关供电所" in html
    assert "66.7" in html and "50.0" in html and "80.0" in html  # unit and organisation
    assert html.count('role="img"') == 3 and "<svg" in html
    assert "<script>" not in html and 'style="' not in html  # nothing inline (CSP)
    with app.test_request_context():
        assert audit_url(audits.hall.id) in html and audit_url(audits.team.id) in html
        assert audit_url(audits.south.id) not in html and audit_url(audits.draft.id) not in html
    assert "王暗访" not in html  # scorecards name no people
    response, html = page(client, unit="C-N-1", kind="inspection")
    with app.test_request_context():
        assert audit_url(audits.hall.id) not in html


def test_default_page_covers_the_last_twelve_months(app, client, login_as, org, make_audit):
    recent = make_audit(org.hall, {"E1": "pass", "E2": "fail"}, visited_at=utcnow() - timedelta(days=1), score=60)
    old = make_audit(org.hall, {"E1": "pass"}, visited_at=utcnow() - timedelta(days=400), score=100)
    login_as("admin")
    html = client.get("/scorecards/").get_data(as_text=True)
    with app.test_request_context():
        assert audit_url(recent.id) in html and audit_url(old.id) not in html


def test_invalid_period_shows_an_error_and_the_default(client, login_as, org, audits):
    login_as("supervisor")
    response = client.get("/scorecards/", query_string={"date_from": "2025-06-01", "date_to": "2025-01-01"},
                          headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "lies before its start" in response.get_data(as_text=True)


def test_unit_head_sees_own_subtree_only(client, login_as, org, audits):
    login_as("unit_head", org.station)
    response = client.get("/scorecards/", query_string={"date_from": "2025-01-01", "date_to": "2025-06-30"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "城关供电所" in html and "66.7" in html
    assert "王暗访" not in html
    assert page(client, unit="C-N-1-H")[0].status_code == 200  # a unit below
    assert page(client, unit="C-S-1")[0].status_code == 404  # another county
    assert page(client, unit="C-N")[0].status_code == 404  # the unit above
    assert page(client, unit="NO-SUCH")[0].status_code == 404


def test_scoped_supervisor_cannot_ask_for_another_subtree(client, login_as, org, audits):
    login_as("supervisor", org.south)
    assert page(client, unit="C-N-1")[0].status_code == 404
    response, html = page(client)
    assert response.status_code == 200 and "南县供电公司" in html


def test_external_supervisors_get_403(client, login_as):
    login_as("external")
    assert client.get("/scorecards/").status_code == 403


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/scorecards/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
