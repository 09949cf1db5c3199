"""Bulletins (通报): figures frozen at publication, immutable versions, corrections, anonymisation.

Runs on SQLite and PostgreSQL (TEST_DATABASE_URL).
"""
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.cases.conftest import determination, make_case, people, run_to, violation_type  # noqa: F401
from tests.conftest import PASSWORD
from tracker.cases import operations as ops
from tracker.cases.models import ViolationType
from tracker.cases.states import CaseState, Channel, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent
from tracker.extensions import db
from tracker.reports import bulletins as bl
from tracker.reports.figures import local_date
from tracker.reports.models import Bulletin
from tracker.reports.states import BulletinState
from tracker.units import operations as unit_ops

TODAY = local_date(utcnow())  # Beijing's date: from 16:00 UTC it is already tomorrow there
PERIOD = {"period_from": (TODAY - timedelta(days=30)).isoformat(), "period_to": (TODAY + timedelta(days=1)).isoformat()}

# Personal data planted in a case: none of it may reach a bulletin.
COMPLAINANT = ops.Complainant(name="欧阳明珠", phone="139 0000 4321", address="清河县城关镇幸福路17号")
STAFF_PERSON = "司马建国"
INTERVIEWER = "诸葛监督"
SENSITIVE = ["欧阳明珠", "13900004321", "139 0000 4321", "139-0000-4321", "清河县城关镇幸福路17号", STAFF_PERSON,
             INTERVIEWER, "李娜"]


def _login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _substantiate(case, people, org, violation_type, **overrides):
    return run_to(case, CaseState.rectifying, people, org, violation_type)


def _planted_case(make_case, people, org, violation_type):
    """A case whose summary and facts quote the complainant and name the staff involved."""
    case = make_case(
        summary=f"客户欧阳明珠（电话139-0000-4321）投诉营业员{STAFF_PERSON}态度生硬",
        details="住址清河县城关镇幸福路17号",
    )
    case.complainant_name, case.complainant_phone = COMPLAINANT.name, "13900004321"
    case.complainant_address = COMPLAINANT.address
    ops.start_inquiry(case, actor=people.sup, version=case.version)
    ops.record_inquiry(
        case, actor=people.sup, version=case.version,
        facts=f"经调取录像，营业员{STAFF_PERSON}对客户欧阳明珠（13900004321，清河县城关镇幸福路17号）态度生硬，"
              f"拒绝解释电费构成。{INTERVIEWER}已约谈，{people.head.display_name}在场，"
              f"{people.sup.display_name}核实。",
        persons=f"城关营业厅营业员{STAFF_PERSON}", accountability="营业员负直接责任，供电所负管理责任。",
    )
    body = determination(org, violation_type, severity="grave")
    body["responsibilities"][0]["person_name"] = STAFF_PERSON
    ops.determine_case(case, actor=people.sup, version=case.version, **body)
    ops.accept_determination(case, actor=people.head, version=case.version)
    measure = next(m for m in case.measures if m.kind.value == "warning_interview")
    ops.schedule_interview(case, actor=people.sup, version=case.version, measure_id=measure.id,
                           scheduled_at=utcnow() + timedelta(days=1), location="供电所会议室", interviewer=INTERVIEWER)
    db.session.flush()
    return case


def _create(client, headers, expect=201, **body):
    response = client.post("/api/v1/bulletins", json={"title": "2026年服务监督问责通报", **PERIOD, **body},
                           headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json().get("bulletin")


def _publish(client, headers, bulletin, expect=200):
    response = client.post(f"/api/v1/bulletins/{bulletin['id']}/actions/publish", headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json().get("bulletin")


# --- figures ------------------------------------------------------------------------------------


def test_figures_rank_units_and_pick_typical_cases(org, people, make_case, violation_type):
    vt2 = ViolationType(code="SV-T2", category=ViolationCategory.ten_prohibitions, name="工作时间打牌", name_en="Cards at work",
                        severity=Severity.serious, points=5)
    db.session.add(vt2)
    hall_cases = [_substantiate(make_case(), people, org, violation_type) for _ in range(2)]
    team_case = make_case(unit=org.team, channel=Channel.regulator_12398)
    run_to(team_case, CaseState.inquiring, people, org, violation_type)  # still under inquiry
    other = make_case(unit=org.other_station, channel=Channel.media)
    ops.start_inquiry(other, actor=people.sup, version=other.version)
    ops.record_inquiry(other, actor=people.sup, version=other.version, facts="属实", persons="员工",
                       accountability="直接责任")
    ops.determine_case(other, actor=people.sup, version=other.version, **determination(
        org, vt2, severity="grave",
        responsibilities=[{"unit_code": org.other_station.code, "person_name": "赵六", "kind": "direct"}],
        measures=[{"kind": "performance_points", "responsibility_index": 0, "points": 9}]))
    # Determined but still appealable: not final, so not counted as substantiated yet.
    assert other.state == CaseState.determined
    old = make_case(received_at=utcnow() - timedelta(days=90))  # outside the period
    bulletin = bl.create_bulletin(actor=people.sup, title="通报", period_from=TODAY - timedelta(days=30),
                                  period_to=TODAY)

    content = bl.compute_content(bulletin)
    assert content["totals"]["received"] == 4 and content["totals"]["substantiated"] == 2
    assert content["totals"]["pending"] == 2 and content["totals"]["points"] == 4
    assert [r["code"] for r in content["ranking"]][0] == org.hall.code
    hall_row = content["ranking"][0]
    assert (hall_row["rank"], hall_row["received"], hall_row["substantiated"], hall_row["points"]) == (1, 2, 2, 4)
    assert hall_row["parent_name"] == org.station.name
    assert {r["code"] for r in content["ranking"]} == {org.hall.code, org.team.code, org.other_station.code}
    assert content["categories"] == [{"category": "service", "count": 2}]
    assert {c["channel"]: c["received"] for c in content["channels"]} == {
        "hotline_95598": 2, "regulator_12398": 1, "media": 1}
    assert [t["number"] for t in content["typical_cases"]] == sorted(c.number for c in hall_cases)
    assert old.number not in json.dumps(content)

    # Once the appeal window passes (accepted here), the grave case leads the typical cases.
    ops.accept_determination(other, actor=people.other_head, version=other.version)
    content = bl.compute_content(bulletin)
    assert content["typical_cases"][0]["number"] == other.number
    assert content["ranking"][0]["code"] == org.hall.code  # 2 substantiated beat 1 with more points

    # A county bulletin covers only its subtree.
    north = bl.create_bulletin(actor=people.sup, title="北县通报", period_from=TODAY - timedelta(days=30),
                               period_to=TODAY, unit=org.north)
    assert {r["code"] for r in bl.compute_content(north)["ranking"]} == {org.hall.code, org.team.code}


def test_operations_enforce_role_scope_and_dates(org, people, make_user):
    with pytest.raises(PermissionDenied):
        bl.create_bulletin(actor=people.head, title="x", period_from=TODAY, period_to=TODAY)
    with pytest.raises(PermissionDenied):
        bl.create_bulletin(actor=people.external, title="x", period_from=TODAY, period_to=TODAY)
    with pytest.raises(ValidationError) as error:
        bl.create_bulletin(actor=people.sup, title=" ", period_from=TODAY, period_to=TODAY - timedelta(days=1))
    assert set(error.value.fields) == {"title"}
    with pytest.raises(ValidationError) as error:
        bl.create_bulletin(actor=people.sup, title="x", period_from=TODAY, period_to=TODAY - timedelta(days=1))
    assert set(error.value.fields) == {"period_to"}
    north_sup = make_user("supervisor", org.north)
    with pytest.raises(ValidationError):
        bl.create_bulletin(actor=north_sup, title="x", period_from=TODAY, period_to=TODAY, unit=org.south)
    # A subtree office's bulletin covers its own subtree when no unit is named.
    own = bl.create_bulletin(actor=north_sup, title="x", period_from=TODAY, period_to=TODAY)
    assert own.unit == org.north
    whole = bl.create_bulletin(actor=people.sup, title="全公司", period_from=TODAY, period_to=TODAY)
    # Drafts: staff in scope; external supervisors never.
    assert bl.get_bulletin_for(north_sup, own.id) is own
    with pytest.raises(NotFound):
        bl.get_bulletin_for(north_sup, whole.id)
    with pytest.raises(NotFound):
        bl.get_bulletin_for(people.external, whole.id)
    assert db.session.scalars(bl.bulletins_visible_to(people.external)).all() == []
    with pytest.raises(NotFound):
        bl.update_bulletin(whole, actor=north_sup, title="改")


# --- freezing and immutability --------------------------------------------------------------------


def test_content_is_frozen_at_publication(client, org, people, make_case, violation_type, api_token):
    case = _substantiate(make_case(), people, org, violation_type)
    db.session.commit()
    sup, ext = api_token("sup_a"), api_token("ext_a")
    bulletin = _create(client, sup)
    assert bulletin["state"] == "draft" and bulletin["content"] is None
    assert bulletin["preview"]["totals"]["substantiated"] == 1
    published = _publish(client, sup, bulletin)
    assert published["state"] == "published" and published["published_at"]
    frozen = published["content"]
    assert frozen["totals"] == client.get(f"/api/v1/bulletins/{bulletin['id']}", headers=ext).get_json()["bulletin"]["content"]["totals"]

    # Afterwards the cases change (a new substantiated case, a rectification submitted) and the
    # hall is renamed.
    _substantiate(make_case(), people, org, violation_type)
    ops.submit_rectification(case, actor=people.head, version=case.version, text="已整改")
    unit_ops.rename_unit(org.hall, actor=None, name="城关中心营业厅")
    db.session.commit()
    stored = db.session.get(Bulletin, bulletin["id"])
    assert bl.compute_content(stored)["totals"]["substantiated"] == 2  # live figures moved on …
    again = client.get(f"/api/v1/bulletins/{bulletin['id']}", headers=ext).get_json()["bulletin"]
    assert again["content"] == frozen  # … the published bulletin did not
    assert frozen["ranking"][0]["name"] == "城关营业厅"

    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.subject == f"bulletin:{bulletin['id']}", HistoryEvent.action == "publish_bulletin"))
    assert event is not None and len(event.data["content_sha256"]) == 64


def test_published_bulletin_is_immutable(client, org, people, make_case, violation_type, api_token):
    _substantiate(make_case(), people, org, violation_type)
    db.session.commit()
    sup = api_token("sup_a")
    bulletin = _publish(client, sup, _create(client, sup))
    bid = bulletin["id"]

    patched = client.patch(f"/api/v1/bulletins/{bid}", json={"title": "改过的标题"}, headers=sup)
    assert patched.status_code == 409 and patched.get_json()["error"]["code"] == "invalid_transition"
    again = client.post(f"/api/v1/bulletins/{bid}/actions/publish", headers=sup)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
    with pytest.raises(InvalidTransition):
        bl.update_bulletin(db.session.get(Bulletin, bid), actor=people.sup, title="改")
    with pytest.raises(InvalidTransition):
        bl.publish_bulletin(db.session.get(Bulletin, bid), actor=people.sup)

    _login(client, "sup_a")
    assert client.get(f"/bulletins/{bid}/edit").status_code == 409
    assert client.post(f"/bulletins/{bid}/edit", data={"title": "改", "period_from": PERIOD["period_from"],
                                                        "period_to": PERIOD["period_to"]}).status_code == 409
    assert client.post(f"/bulletins/{bid}/publish").status_code == 409
    db.session.expire_all()
    stored = db.session.get(Bulletin, bid)
    assert stored.title == "2026年服务监督问责通报"
    assert stored.content["generated_at"] == bulletin["content"]["generated_at"]
    assert stored.content["ranking"] == bulletin["content"]["ranking"]

    # Roles: unit heads and external supervisors do not draft or publish.
    for username in ("head_hall", "ext_a"):
        headers = api_token(username)
        assert client.post("/api/v1/bulletins", json={"title": "x", **PERIOD}, headers=headers).status_code == 403
        assert client.post(f"/api/v1/bulletins/{bid}/actions/correct", json={}, headers=headers).status_code == 403


def test_draft_can_be_edited_and_invalid_input_is_422(client, org, people, api_token):
    db.session.commit()
    sup = api_token("sup_a")
    draft = _create(client, sup, unit_code=org.north.code)
    assert draft["unit_code"] == org.north.code
    response = client.patch(f"/api/v1/bulletins/{draft['id']}", json={"title": "北县一月通报", "introduction": "说明"},
                            headers=sup)
    assert response.status_code == 200 and response.get_json()["bulletin"]["title"] == "北县一月通报"
    bad = client.patch(f"/api/v1/bulletins/{draft['id']}", json={"period_to": "2000-01-01"}, headers=sup)
    assert bad.status_code == 422 and "period_to" in bad.get_json()["error"]["fields"]
    assert _create(client, sup, expect=422, unit_code="NOPE") is None
    assert client.post("/api/v1/bulletins", json={"title": "x"}, headers=sup).status_code == 422
    assert client.get("/api/v1/bulletins?cursor=WyJ4Il0", headers=sup).status_code == 422


def test_correction_supersedes_the_published_version(client, org, people, make_case, violation_type, api_token):
    _substantiate(make_case(), people, org, violation_type)
    db.session.commit()
    sup, ext = api_token("sup_a"), api_token("ext_a")
    v1 = _publish(client, sup, _create(client, sup))
    response = client.post(f"/api/v1/bulletins/{v1['id']}/actions/correct", json={"title": "通报（更正）"}, headers=sup)
    assert response.status_code == 201
    v2 = response.get_json()["bulletin"]
    assert (v2["state"], v2["version_no"], v2["supersedes_id"], v2["title"]) == ("draft", 2, v1["id"], "通报（更正）")
    # One correction at a time; the draft is invisible to external supervisors.
    assert client.post(f"/api/v1/bulletins/{v1['id']}/actions/correct", json={}, headers=sup).status_code == 409
    assert client.get(f"/api/v1/bulletins/{v2['id']}", headers=ext).status_code == 404
    assert client.get(f"/api/v1/bulletins/{v1['id']}", headers=ext).get_json()["bulletin"]["superseded_by_id"] is None

    v2 = _publish(client, sup, v2)
    old = client.get(f"/api/v1/bulletins/{v1['id']}", headers=ext).get_json()["bulletin"]
    assert old["state"] == "published" and old["superseded_by_id"] == v2["id"] and old["content"] == v1["content"]
    # Only the latest version can be corrected.
    assert client.post(f"/api/v1/bulletins/{v1['id']}/actions/correct", json={}, headers=sup).status_code == 409

    _login(client, "ext_a")
    page = client.get(f"/bulletins/{v1['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "superseded by version 2" in page and f'href="/bulletins/{v2["id"]}"' in page
    newer = client.get(f"/bulletins/{v2['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "corrects version 1" in newer

    # The web flow: a supervisor prepares a correction of v2 and is taken to its edit form.
    _login(client, "sup_a")
    response = client.post(f"/bulletins/{v2['id']}/correct")
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    v3 = db.session.scalar(select(Bulletin).where(Bulletin.supersedes_id == v2["id"]))
    assert v3.version_no == 3 and v3.state == BulletinState.draft
    form = client.get(f"/bulletins/{v3.id}/edit").get_data(as_text=True)
    assert 'name="unit_code"' not in form  # a correction keeps its unit


# --- anonymisation ----------------------------------------------------------------------------------


def _pdf_text(pdf_bytes, tmp_path):
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(pdf_bytes)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def test_published_bulletin_contains_no_personal_data(client, org, people, make_case, violation_type, api_token,
                                                      tmp_path):
    case = _planted_case(make_case, people, org, violation_type)
    db.session.commit()
    sup, ext = api_token("sup_a"), api_token("ext_a")
    bulletin = _publish(client, sup, _create(client, sup))
    typical = next(t for t in bulletin["content"]["typical_cases"] if t["number"] == case.number)
    assert "×××" in typical["summary"] and "×××" in typical["facts"]
    assert "态度生硬" in typical["facts"]  # the facts themselves stay readable
    direct = typical["responsibilities"][0]
    assert (direct["unit_name"], direct["kind"], direct["person"]) == (org.hall.name, "direct", True)
    assert "person_name" not in direct

    as_json = client.get(f"/api/v1/bulletins/{bulletin['id']}", headers=ext).get_data(as_text=True)
    as_json = json.loads(as_json)  # compare the decoded text, not \\u escapes
    _login(client, "ext_a")
    html = client.get(f"/bulletins/{bulletin['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert case.number in html and f"counter clerk of {org.hall.name}" in html
    staff_names = [people.sup.display_name, people.sup2.display_name, people.head.display_name]
    for text in (json.dumps(as_json, ensure_ascii=False), html):
        for value in SENSITIVE + staff_names:
            assert value not in text, value

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF text was not checked")
    response = client.get(f"/bulletins/{bulletin['id']}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    assert case.number in text and org.hall.name in text
    for value in SENSITIVE + staff_names:
        assert value not in text, value


def test_scrub_handles_phone_formats_and_longest_names_first(org, people, make_case, violation_type):
    case = make_case(phone="13812345678")
    case.complainant_name = "张伟"
    text = "张伟强不是张伟；电话 138 1234 5678、+86-138-1234-5678、13812345678。"
    scrubbed = bl.scrub(text, case)
    assert "1234" not in scrubbed and "张伟；" not in scrubbed and scrubbed.count("×××") == 5


# --- reading: web and PDF ------------------------------------------------------------------------


def test_external_supervisor_reads_published_bulletins_only(client, org, people, make_case, violation_type,
                                                             api_token):
    _substantiate(make_case(), people, org, violation_type)
    db.session.commit()
    sup, ext = api_token("sup_a"), api_token("ext_a")
    published = _publish(client, sup, _create(client, sup, title="已发布的通报"))
    draft = _create(client, sup, title="尚未发布的草稿")

    listed = client.get("/api/v1/bulletins", headers=ext).get_json()
    assert [b["id"] for b in listed["items"]] == [published["id"]] and listed["next_cursor"] is None
    staff_list = client.get("/api/v1/bulletins?limit=1", headers=sup).get_json()
    assert [b["id"] for b in staff_list["items"]] == [draft["id"]] and staff_list["next_cursor"]
    more = client.get(f"/api/v1/bulletins?limit=1&cursor={staff_list['next_cursor']}", headers=sup).get_json()
    assert [b["id"] for b in more["items"]] == [published["id"]]
    assert client.get(f"/api/v1/bulletins/{draft['id']}", headers=ext).status_code == 404
    assert client.get(f"/api/v1/bulletins/{draft['id']}.pdf", headers=ext).status_code == 404
    pdf = client.get(f"/api/v1/bulletins/{published['id']}.pdf", headers=ext)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    _login(client, "ext_a")
    index = client.get("/bulletins").get_data(as_text=True)
    assert "已发布的通报" in index and "尚未发布的草稿" not in index
    page = client.get(f"/bulletins/{published['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "已发布的通报" in html
    assert "/edit" not in html and "/publish" not in html and "/correct" not in html
    assert client.get(f"/bulletins/{draft['id']}").status_code == 404
    assert client.get(f"/bulletins/{draft['id']}.pdf").status_code == 404
    assert client.get("/bulletins/new").status_code == 403
    assert client.get(f"/bulletins/{draft['id']}/edit").status_code == 404
    download = client.get(f"/bulletins/{published['id']}.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]


def test_supervisor_drafts_previews_and_publishes_on_the_web(client, org, people, make_case, violation_type):
    _substantiate(make_case(), people, org, violation_type)
    db.session.commit()
    _login(client, "sup_a")
    form = client.get("/bulletins/new")
    assert form.status_code == 200 and 'name="period_from"' in form.get_data(as_text=True)
    response = client.post("/bulletins/new", data={
        "title": "城关供电所月度通报", "period_from": PERIOD["period_from"], "period_to": PERIOD["period_to"],
        "unit_code": org.station.code, "introduction": "本期通报如下。",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    bulletin = db.session.scalar(select(Bulletin).where(Bulletin.title == "城关供电所月度通报"))
    assert bulletin.unit == org.station and bulletin.state == BulletinState.draft
    preview = client.get(f"/bulletins/{bulletin.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Draft, not published" in preview and org.hall.name in preview
    bad = client.post(f"/bulletins/{bulletin.id}/edit", data={
        "title": "城关供电所月度通报", "period_from": PERIOD["period_to"], "period_to": PERIOD["period_from"],
        "unit_code": org.station.code})
    assert bad.status_code == 200 and "invalid-feedback" in bad.get_data(as_text=True)
    assert client.post(f"/bulletins/{bulletin.id}/publish").status_code == 302
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.state == BulletinState.published and bulletin.content["totals"]["substantiated"] == 1
    assert bulletin.published_by_id == people.sup.id
    page = client.get(f"/bulletins/{bulletin.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Prepare a correction" in page and "Draft, not published" not in page

    # A unit head reads published bulletins but drafts nothing.
    _login(client, "head_hall")
    assert client.get(f"/bulletins/{bulletin.id}").status_code == 200
    assert client.get("/bulletins/new").status_code == 403
    assert client.post(f"/bulletins/{bulletin.id}/correct").status_code == 403


def test_the_new_bulletin_form_proposes_last_month_in_beijing(client, people):
    """At 01:00 on December 1st in Beijing it is still November 30th in UTC: the form proposes
    November, the month that has just ended where the users are."""
    with time_machine.travel(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)):
        _login(client, "sup_a")
        page = client.get("/bulletins/new").get_data(as_text=True)
    assert 'value="2026-11-01"' in page and 'value="2026-11-30"' in page
