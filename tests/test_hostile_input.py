"""Hostile input against the forms and the API (issue "Trust"): nothing a client sends gives a 500,
changes what it should not, or comes back as live markup.

- Oversize fields: 413 or a field error, never a 500.
- Wrong types (numbers as strings, lists or objects for strings, null): a field error.
- Control characters: NUL and unpaired surrogates, which no column can store (PostgreSQL refuses
  NUL in text), are refused with 422 before any view runs (``tracker.core.web``); ESC and the
  right-to-left override are stored as they are and shown escaped.
- HTML and script in every text field of a case stay text in the case page, the unit PDF report
  and the Excel ledger.
- SQL metacharacters in the search filters are plain text.
- CSRF: every form POST of the web UI without a token is refused with 400 and changes nothing.
- Security headers and no inline script or style on every page a supervisor can open.
- Production cookies: Secure, HttpOnly, SameSite=Lax.

Covered elsewhere, not repeated here: path traversal in upload file names
(``tests/cases/test_evidence.py::test_path_traversal_name_cannot_choose_the_location``,
``::test_original_names_are_kept_for_display_only``), a zip bomb as .xlsx
(``tests/reports/test_import.py::test_zip_bomb_is_refused_before_anything_is_unpacked``), formula
injection in the ledger (``tests/reports/test_ledger.py``).
"""

import io
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.audits.audit_fixtures import png_bytes
from tests.cases.conftest import make_case, people, violation_type  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, csrf_token_from
from tests.test_access_matrix import ADMIN, GET_ACCESS, HEAD, SUP, _url, world  # noqa: F401 (world is a fixture)
from tracker.accounts import operations as account_ops
from tracker.accounts.states import Role
from tracker.cases.models import Attachment, Case
from tracker.core.database import utcnow
from tracker.core.history import HistoryEvent
from tracker.extensions import db

EN = {"Accept-Language": "en"}


def _received(hours=3):
    return (utcnow() - timedelta(hours=hours)).isoformat()


def _complaint(org, **overrides):
    body = {
        "channel": "hotline_95598",
        "unit_code": org.hall.code,
        "received_at": _received(),
        "summary": "营业员服务态度差",
        "details": "客户称营业员不耐烦。",
        "complainant": {"name": "张伟", "phone": "13812345678", "address": "城关镇人民路88号"},
    }
    body.update(overrides)
    return body


def _case_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


def _envelope(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


# --- oversize ----------------------------------------------------------------------------------


def test_oversize_fields_are_refused_by_the_api(client, org, people, api_token):
    db.session.commit()
    sup = api_token("sup_a")
    before = _case_count()
    megabyte = "投" * (1024 * 1024 // 3)  # 1 MB of UTF-8
    for field, body in (
        ("summary", _complaint(org, summary=megabyte)),
        ("details", _complaint(org, details=megabyte)),
        ("complainant", _complaint(org, complainant={"name": megabyte})),
        ("external_ref", _complaint(org, external_ref=megabyte)),
    ):
        error = _envelope(client.post("/api/v1/complaints", json=body, headers=sup), 422)
        assert error["code"] == "validation_error" and field in error["fields"], error
    case = client.post("/api/v1/complaints", json=_complaint(org), headers=sup).get_json()["case"]
    response = client.post(
        f"/api/v1/cases/{case['number']}/actions/start_inquiry",
        json={"version": case["version"]},
        headers=sup,
    )
    case = response.get_json()["case"]
    error = _envelope(
        client.post(
            f"/api/v1/cases/{case['number']}/actions/record_inquiry",
            json={"version": case["version"], "facts": megabyte},
            headers=sup,
        ),
        422,
    )
    assert "facts" in error["fields"]
    assert _case_count() == before + 1


def test_a_body_over_the_request_limit_answers_413(client, org, people, api_token, monkeypatch, app):
    db.session.commit()
    sup = api_token("sup_a")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    body = _complaint(org, details="x" * (300 * 1024))
    error = _envelope(client.post("/api/v1/complaints", json=body, headers=sup), 413)
    assert error["code"] == "too_large"


def test_oversize_fields_in_web_forms_give_413_or_a_field_error(client, login_as, org, people, make_case):
    login_as("supervisor")
    before = _case_count()
    received = (utcnow() + timedelta(hours=8) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    base = {
        "channel": "hotline_95598",
        "unit_code": org.hall.code,
        "received_at": received,
        "summary": "概要",
    }
    for field in ("summary", "details", "complainant_name", "external_ref"):
        response = client.post("/cases/new", data={**base, field: "长" * (1024 * 1024 // 3)}, headers=EN)
        assert response.status_code == 413 or (
            response.status_code in (200, 422) and "invalid-feedback" in response.get_data(as_text=True)
        ), field
    case = make_case()
    db.session.commit()
    client.post(f"/cases/{case.number}/actions/start_inquiry", data={"start_inquiry-version": case.version})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    response = client.post(
        f"/cases/{case.number}/actions/record_inquiry",
        headers=EN,
        data={"record_inquiry-version": case.version, "record_inquiry-facts": "事" * (1024 * 1024 // 3)},
    )
    assert response.status_code in (413, 422)
    db.session.expire_all()
    assert db.session.get(Case, case.id).inquiry_facts == ""
    assert _case_count() == before + 1


def test_a_web_body_over_the_request_limit_answers_413_with_the_error_page(
    client, login_as, monkeypatch, app
):
    """The 413 page renders although the body it refused cannot be read (the layout's forms)."""
    login_as("supervisor")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    for content_type, data in (
        ("application/x-www-form-urlencoded", {"summary": "x" * (100 * 1024)}),
        ("multipart/form-data", {"file": (io.BytesIO(b"x" * (100 * 1024)), "a.png")}),
    ):
        response = client.post("/cases/new", data=data, content_type=content_type, headers=EN)
        assert response.status_code == 413 and "text/html" in response.content_type
        assert "<html" in response.get_data(as_text=True)


# --- wrong types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("summary", 12345),
        ("summary", ["a", "b"]),
        ("summary", {"text": "a"}),
        ("summary", None),
        ("summary", True),
        ("details", 1.5),
        ("channel", 7),
        ("channel", None),
        ("unit_code", ["C-N-1-H"]),
        ("received_at", 1700000000),
        ("received_at", "yesterday"),
        ("complainant", "张伟"),
        ("complainant", ["张伟"]),
        ("complainant", {"name": 5}),
        ("external_ref", {"a": 1}),
        ("violation_type_code", 3),
    ],
)
def test_wrong_types_in_a_complaint_are_field_errors(client, org, people, api_token, field, value):
    db.session.commit()
    sup = api_token("sup_a")
    before = _case_count()
    error = _envelope(
        client.post("/api/v1/complaints", json=_complaint(org, **{field: value}), headers=sup), 422
    )
    assert error["code"] == "validation_error" and field in error["fields"], error
    assert _case_count() == before


def test_wrong_types_in_actions_and_bodies_that_are_not_objects(client, org, people, api_token):
    db.session.commit()
    sup = api_token("sup_a")
    case = client.post("/api/v1/complaints", json=_complaint(org), headers=sup).get_json()["case"]
    url = f"/api/v1/cases/{case['number']}/actions"
    case = client.post(f"{url}/start_inquiry", json={"version": case["version"]}, headers=sup).get_json()[
        "case"
    ]
    version = case["version"]
    for body in (
        {"version": "abc"},
        {"version": None},
        {"version": [version]},
        {"version": {"n": 1}},
        {"version": version, "facts": ["a"]},
        {"version": version, "facts": 5},
        {"version": version, "persons": {"x": 1}},
        {"version": version, "facts": None},
        [version],
        "version",
        17,
        None,
    ):
        response = client.post(f"{url}/record_inquiry", json=body, headers=sup)
        assert response.status_code in (400, 422), (body, response.get_json())
        assert "error" in response.get_json()
    # A number given as a string is not a number here: a field error, nothing changed.
    error = _envelope(
        client.post(f"{url}/record_inquiry", json={"version": str(version), "facts": "核实"}, headers=sup),
        422,
    )
    assert "version" in error["fields"]
    assert client.get(f"/api/v1/cases/{case['number']}", headers=sup).get_json()["case"]["version"] == version
    # Not JSON at all, or JSON with the wrong content type.
    for data, content_type in (
        ("{not json", "application/json"),
        ("\x00", "application/json"),
        ("version=1", "application/x-www-form-urlencoded"),
    ):
        response = client.post(f"{url}/record_inquiry", data=data, content_type=content_type, headers=sup)
        assert response.status_code in (400, 415, 422), (data, response.status_code)
    for path, body in (
        ("/api/v1/bulletins", {"title": 5, "period_from": "x", "period_to": ["2026-01-01"]}),
        (
            "/api/v1/audits",
            {"kind": None, "template_code": 1, "unit_code": {}, "visited_at": 3, "results": "all"},
        ),
        ("/api/v1/tokens", {"username": ["a"], "password": None}),
    ):
        error = _envelope(client.post(path, json=body, headers=sup), 422)
        assert error["fields"], path
    # Query parameters of the wrong type.
    for query in (
        "limit=ten",
        "limit=-1",
        "limit=100000",
        "from=2026-13-45",
        "overdue=maybe",
        "state=nonsense",
        "cursor=%ff%fe",
        "limit=1e3",
    ):
        response = client.get(f"/api/v1/cases?{query}", headers=sup)
        assert response.status_code in (200, 422), (query, response.status_code)


@pytest.mark.parametrize("depth", [40, 990, 5000, 100_000])
def test_deeply_nested_json_is_malformed_not_a_crash(client, org, people, api_token, depth):
    """Deeper than the parser (or any body of the API) goes: 400, not a RecursionError."""
    db.session.commit()
    sup = api_token("sup_a")
    for data in (
        "[" * depth + "]" * depth,
        '{"summary": ' + "[" * depth + "]" * depth + "}",
        '{"a": ' * depth + "1" + "}" * depth,
    ):
        response = client.post("/api/v1/complaints", data=data, content_type="application/json", headers=sup)
        assert _envelope(response, 400)["code"] == "bad_request"


def test_wrong_types_in_web_forms_are_field_errors(client, login_as, org, people, make_case):
    login_as("supervisor")
    case = make_case()
    db.session.commit()
    before = case.version
    for action, data in (
        ("start_inquiry", {"start_inquiry-version": "abc"}),
        ("start_inquiry", {"start_inquiry-version": ""}),
        (
            "extend_deadline",
            {
                "extend_deadline-version": str(case.version),
                "extend_deadline-days": "ten",
                "extend_deadline-kind": "nonsense",
            },
        ),
        ("merge_into", {"merge_into-version": str(case.version), "merge_into-target_number": ["a", "b"]}),
    ):
        response = client.post(f"/cases/{case.number}/actions/{action}", data=data, headers=EN)
        assert response.status_code in (302, 400, 409, 422), (action, response.status_code)
    db.session.expire_all()
    assert db.session.get(Case, case.id).version == before
    received = (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    count = _case_count()
    for data in (
        {"channel": "hotline_95598", "unit_code": org.hall.code, "received_at": "yesterday", "summary": "x"},
        {"channel": "nonsense", "unit_code": org.hall.code, "received_at": received, "summary": "x"},
        {"channel": "hotline_95598", "unit_code": "NOPE", "received_at": received, "summary": "x"},
    ):
        response = client.post("/cases/new", data=data, headers=EN)
        assert response.status_code in (200, 422) and "invalid-feedback" in response.get_data(as_text=True)
    assert _case_count() == count


# --- control characters ------------------------------------------------------------------------

UNSTORABLE = ["a\x00b", "\x00", "a\ud800b", "\udfff"]


@pytest.mark.parametrize("text", UNSTORABLE)
def test_nul_and_unpaired_surrogates_are_refused_by_the_api(client, org, people, api_token, text):
    """PostgreSQL cannot store NUL in text and no UTF-8 holds a lone surrogate: 422, not 500."""
    db.session.commit()
    sup = api_token("sup_a")
    before = _case_count()
    for body, field in (
        (_complaint(org, summary=text), "summary"),
        (_complaint(org, details=text), "details"),
        (_complaint(org, complainant={"name": text}), "complainant"),
        (_complaint(org, unit_code=text), "unit_code"),
        (_complaint(org, external_ref=text), "external_ref"),
    ):
        error = _envelope(client.post("/api/v1/complaints", json=body, headers=sup), 422)
        assert error["code"] == "validation_error" and field in error["fields"], error
    # In a key, in a query, in an action's text, in a bulletin's title, in a path (a URL cannot
    # carry an unpaired surrogate: only NUL there).
    _envelope(client.post("/api/v1/complaints", json={**_complaint(org), f"x{text}": 1}, headers=sup), 422)
    if "\x00" in text:
        error = _envelope(client.get("/api/v1/cases", query_string={"q": text}, headers=sup), 422)
        assert "q" in error["fields"]
    case = client.post("/api/v1/complaints", json=_complaint(org), headers=sup).get_json()["case"]
    error = _envelope(
        client.post(
            f"/api/v1/cases/{case['number']}/actions/start_inquiry",
            json={"version": case["version"], "note": text},
            headers=sup,
        ),
        422,
    )
    assert "note" in error["fields"]
    _envelope(
        client.post(
            "/api/v1/bulletins",
            json={"title": text, "period_from": "2026-01-01", "period_to": "2026-01-31"},
            headers=sup,
        ),
        422,
    )
    if "\x00" in text:
        _envelope(client.get(f"/api/v1/cases/{case['number']}{text}", headers=sup), 404)
    # Evidence: the multipart note is checked by the API's schema (a form carries no surrogate).
    if "\x00" in text:
        response = client.post(
            f"/api/v1/cases/{case['number']}/attachments",
            headers=sup,
            data={"file": (io.BytesIO(png_bytes()), "a.png"), "note": text},
        )
        assert response.status_code == 422 and "note" in response.get_json()["error"]["fields"]
    assert _case_count() == before + 1
    events = db.session.scalars(select(HistoryEvent)).all()
    assert not any("\x00" in str(e.data) for e in events)


def test_nul_is_refused_by_the_web_forms(client, login_as, org, people, make_case):
    login_as("supervisor")
    case = make_case()
    db.session.commit()
    count = _case_count()
    received = (utcnow() + timedelta(hours=8) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/cases/new",
        headers=EN,
        data={
            "channel": "hotline_95598",
            "unit_code": org.hall.code,
            "received_at": received,
            "summary": "a\x00b",
        },
    )
    assert response.status_code == 422
    assert _case_count() == count
    response = client.post(
        f"/cases/{case.number}/actions/start_inquiry",
        headers=EN,
        data={"start_inquiry-version": str(case.version)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    response = client.post(
        f"/cases/{case.number}/actions/record_inquiry",
        headers=EN,
        data={"record_inquiry-version": str(case.version), "record_inquiry-facts": "事实\x00"},
    )
    assert response.status_code == 422
    response = client.post(
        f"/cases/{case.number}/attachments",
        headers=EN,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(png_bytes()), "a.png"), "note": "\x00"},
    )
    assert response.status_code == 422
    assert client.get("/cases", query_string={"q": "\x00"}).status_code == 422
    assert client.get(f"/cases/{case.number}%00").status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, case.id).inquiry_facts == ""
    assert not db.session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)
    )


def test_escape_and_direction_characters_are_stored_as_they_are_and_shown_escaped(
    client, org, people, api_token, auth
):
    db.session.commit()
    sup = api_token("sup_a")
    text = "抄表\x1b[31m红色\x1b[0m \u202eevil.exe\u202c \t结束"
    response = client.post(
        "/api/v1/complaints", json=_complaint(org, summary=text, details=text), headers=sup
    )
    assert response.status_code == 201
    case = response.get_json()["case"]
    assert case["summary"] == text and case["details"] == text
    assert client.get(f"/api/v1/cases/{case['number']}", headers=sup).get_json()["case"]["summary"] == text
    auth.login("sup_a")
    page = client.get(f"/cases/{case['number']}")
    assert page.status_code == 200 and str(escape(text)) in page.get_data(as_text=True)


# --- HTML and script in every text field of a case ----------------------------------------------


def evil(tag):
    return f'<script>x("{tag}")</script><img src=x onerror="{tag}">'


FIELDS = (
    "summary",
    "details",
    "c_name",
    "c_addr",
    "facts",
    "persons",
    "account",
    "explain",
    "person",
    "grounds",
    "appeal_rsn",
    "minutes",
    "rect1",
    "returned",
    "rect2",
    "accept",
    "follow",
    "evidence",
)


@pytest.fixture
def hostile_case(client, org, people, violation_type, api_token, app, tmp_path, monkeypatch):
    """A case carried through the whole workflow with markup in every text it holds."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    db.session.commit()
    sup, sup2, head = api_token("sup_a"), api_token("sup_b"), api_token("head_hall")

    def act(case, headers, action, **body):
        response = client.post(
            f"/api/v1/cases/{case['number']}/actions/{action}",
            json={"version": case["version"], **body},
            headers=headers,
        )
        assert response.status_code == 200, (action, response.get_json())
        return response.get_json()["case"]

    response = client.post(
        "/api/v1/complaints",
        headers=sup,
        json=_complaint(
            org,
            summary=evil("summary"),
            details=evil("details"),
            complainant={"name": evil("c_name"), "phone": "13812345678", "address": evil("c_addr")},
        ),
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()["case"]
    case = act(case, sup, "start_inquiry")
    case = act(
        case,
        sup,
        "record_inquiry",
        facts=evil("facts"),
        persons=evil("persons"),
        accountability=evil("account"),
    )
    case = act(case, sup, "request_explanation", due_days=3)
    case = act(case, head, "submit_explanation", text=evil("explain"))
    case = act(
        case,
        sup,
        "determine",
        outcome="substantiated",
        violation_type_code=violation_type.code,
        severity="serious",
        responsibilities=[{"unit_code": org.hall.code, "person_name": evil("person"), "kind": "direct"}],
        measures=[{"kind": "warning_interview", "responsibility_index": 0}],
    )
    case = act(case, head, "appeal", grounds=evil("grounds"))
    case = act(case, sup2, "decide_appeal", decision="upheld", reason=evil("appeal_rsn"))
    measure = case["measures"][0]
    case = act(
        case,
        sup,
        "schedule_interview",
        measure_id=measure["id"],
        location="会议室",
        interviewer="王监督",
        scheduled_at=(utcnow() + timedelta(days=1)).isoformat(),
    )
    case = act(
        case,
        sup,
        "record_interview",
        interview_id=case["interviews"][0]["id"],
        minutes=evil("minutes"),
        held_at=(utcnow() - timedelta(minutes=5)).isoformat(),
    )
    case = act(case, head, "acknowledge_interview", interview_id=case["interviews"][0]["id"])
    case = act(case, head, "submit_rectification", text=evil("rect1"))
    case = act(case, sup, "return_rectification", reason=evil("returned"))
    case = act(case, head, "submit_rectification", text=evil("rect2"))
    case = act(case, sup2, "accept_rectification", note=evil("accept"))
    case = act(case, sup, "close")
    case = act(case, sup, "record_follow_up", result="satisfied", note=evil("follow"))
    response = client.post(
        f"/api/v1/cases/{case['number']}/attachments",
        headers=sup,
        data={"file": (io.BytesIO(png_bytes()), "照片.png"), "note": evil("evidence")},
    )
    assert response.status_code == 201
    return case


def _assert_inert(html, tags):
    assert "<script>x(" not in html and "<img src=x" not in html
    for tag in tags:
        assert evil(tag) not in html
        assert str(escape(evil(tag))) in html, f"{tag} is not shown (escaped) on the page"


def test_markup_in_every_text_field_is_escaped_on_the_case_page(client, auth, hostile_case):
    auth.login("sup_a")
    response = client.get(f"/cases/{hostile_case['number']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # "rect1" was replaced by "rect2"; its text lives on in the history entry.
    _assert_inert(html, FIELDS)
    # The API gives the text back unchanged: escaping is the page's business, not the store's.
    assert hostile_case["summary"] == evil("summary")


def _pdf_text(data, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout
    return "".join(text.decode("utf-8").split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) missing")
def test_markup_stays_text_in_the_unit_pdf_report(client, auth, hostile_case, org, app, people, tmp_path):
    from tracker.reports.unit_report import unit_report_html

    today = (utcnow() + timedelta(hours=8)).date()
    period = f"from={(today - timedelta(days=7)).isoformat()}&to={today.isoformat()}"
    auth.login("sup_a")
    response = client.get(f"/reports/units/{org.hall.code}.pdf?{period}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = _pdf_text(response.data, tmp_path)
    # The typical cases show the summary and the facts found, as the literal text.
    for tag in ("summary", "facts"):
        assert "".join(evil(tag).split()) in text, tag
    with app.test_request_context():
        html = unit_report_html(org.hall, today - timedelta(days=7), today, locale="en", viewer=people.sup)
    _assert_inert(html, ("summary", "facts"))
    assert not re.search(r"<script", html)  # WeasyPrint runs no script; none is there to begin with


def test_markup_stays_text_in_the_excel_ledger(client, auth, hostile_case):
    auth.login("sup_a")
    response = client.get("/cases/ledger.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        values = [str(v) for row in workbook.active.iter_rows(values_only=True) for v in row if v is not None]
    finally:
        workbook.close()
    for tag in ("summary", "c_name", "c_addr", "person"):
        assert any(evil(tag) in value for value in values), tag
    assert not any(value.startswith("=") for value in values)


# --- SQL metacharacters in search filters ------------------------------------------------------


def test_sql_metacharacters_in_search_filters_are_plain_text(client, auth, people, make_case, api_token):
    cases = {
        "pct": make_case(summary="电费上涨100%的投诉"),
        "underscore": make_case(summary="户号A_B的投诉"),
        "backslash": make_case(summary="路径C:\\temp的投诉"),
        "quote": make_case(summary="客户写了' OR 1=1 --的投诉"),
        "plain": make_case(summary="普通投诉"),
    }
    db.session.commit()
    numbers = {key: case.number for key, case in cases.items()}
    sup = api_token("sup_a")
    auth.login("sup_a")
    expected = {
        "%": {"pct"},
        "_": {"underscore"},
        "\\": {"backslash"},
        "' OR 1=1 --": {"quote"},
        "A_B": {"underscore"},
        "A%B": set(),
        "A\\_B": set(),
        "' OR '1'='1": set(),
        "%%": set(),
        "__": set(),
        "100%": {"pct"},
        "'; DROP TABLE cases; --": set(),
        "[a-z]": set(),
        "*": set(),
    }
    for q, keys in expected.items():
        api = client.get("/api/v1/cases", query_string={"q": q, "limit": 200}, headers=sup)
        assert api.status_code == 200, q
        found = {
            key for key, number in numbers.items() if number in {c["number"] for c in api.get_json()["items"]}
        }
        assert found == keys, (q, found)
        page = client.get("/cases", query_string={"q": q})
        assert page.status_code == 200, q
        html = page.get_data(as_text=True)
        assert {key for key, number in numbers.items() if number in html} == keys, q
    for phone in ("%", "_", "' OR 1=1 --"):
        api = client.get("/api/v1/cases", query_string={"phone": phone}, headers=sup)
        assert api.status_code == 200 and not api.get_json()["items"], phone
    # Unit codes and case numbers in paths: no such object, never a match by pattern.
    for path in (
        "/api/v1/cases/%25",
        "/api/v1/cases/JD-%25",
        "/api/v1/cases/_",
        "/api/v1/reports/units/%25.xlsx",
    ):
        assert client.get(path, headers=sup).status_code == 404, path
    assert db.session.scalar(select(func.count()).select_from(Case)) >= len(cases)


# --- CSRF on every form POST ---------------------------------------------------------------------


def _state():
    """Row counts of every table and the history's head: what a refused POST must leave alone."""
    db.session.expire_all()
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    counts["history_max_seq"] = db.session.scalar(select(func.max(HistoryEvent.seq)))
    counts["case_versions"] = tuple(db.session.scalars(select(Case.version).order_by(Case.id)))
    return counts


def test_csrf_is_enforced_on_every_form_post(app, world, monkeypatch):
    """Every POST route of the web UI, with CSRF on as in production, refuses a POST without a
    valid token — signed in as an administrator, a supervisor and a unit head in turn (the
    login form needs its token too): 400, nothing changed. The app under test is the suite's own app with ``WTF_CSRF_ENABLED`` switched on for
    this test (Flask-WTF reads it per request), so the objects of the access-matrix world exist
    inside the test's transaction and every URL names a real object."""
    users, arguments, special = world
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")]
    assert len(rules) > 40
    for role in (ADMIN, SUP, HEAD):
        client = app.test_client()
        # The login form itself needs its token.
        assert (
            client.post(
                "/login", data={"username": users[role].username, "password": PASSWORD}, headers=EN
            ).status_code
            == 400
        )
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": users[role].username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        before = _state()
        refused = []
        for rule in rules:
            url = _url(app, rule, arguments, special)
            for data in ({}, {"csrf_token": "forged", "version": "1", "text": "x"}):
                response = client.post(url, data=data, headers=EN)
                body = response.get_data(as_text=True)
                if response.status_code != 400 or "form has expired" not in body:
                    refused.append((rule.endpoint, response.status_code))
                response.close()
        assert not refused, f"{role}: POSTs not refused for want of a CSRF token: {refused}"
        assert _state() == before
        # Still signed in (the logout without a token was refused too), and the token works.
        page = client.get("/account/password")
        assert page.status_code == 200
        token = csrf_token_from(page.get_data(as_text=True))
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302


# --- security headers and no inline script or style on every page -------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=\s*[\"']", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _csp(response):
    directives = {}
    for part in response.headers.get("Content-Security-Policy", "").split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def _check_headers(response, where):
    csp = _csp(response)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy"), where
    if response.mimetype != "text/html":
        assert csp.get("default-src") in (["'self'"], ["'none'"]), where
        return
    assert csp.get("default-src") == ["'self'"], where
    scripts = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"]), where
    assert csp.get("frame-ancestors") == ["'none'"], where


def _check_html(response, where):
    if response.mimetype != "text/html":
        return
    html = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.findall(html), f"{where}: inline script {INLINE_SCRIPT.findall(html)[:2]}"
    assert not STYLE_ATTRIBUTE.search(html), (
        f"{where}: style attribute near {html[STYLE_ATTRIBUTE.search(html).start() - 80 :][:160]!r}"
    )
    assert not STYLE_ELEMENT.search(html), f"{where}: <style> element"
    assert not EVENT_HANDLER.search(html), (
        f"{where}: inline event handler {EVENT_HANDLER.search(html).group(0)[:120]!r}"
    )


def test_security_headers_and_no_inline_code_on_every_page(app, world):
    """Every GET page a signed-in supervisor may open (the access matrix's world and URL map),
    in both languages, and the error pages."""
    users, arguments, special = world
    client = app.test_client()
    assert (
        client.post("/login", data={"username": users[SUP].username, "password": PASSWORD}).status_code == 302
    )
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or SUP not in GET_ACCESS[rule.endpoint]:
            continue
        url = _url(app, rule, arguments, special)
        for language in ("zh-CN", "en"):
            response = client.get(url, headers={"Accept-Language": language})
            assert response.status_code < 400, (rule.endpoint, response.status_code)
            _check_headers(response, rule.endpoint)
            _check_html(response, rule.endpoint)
            checked += 1
            if response.status_code in (301, 302, 303) and response.headers["Location"].startswith("/"):
                target = client.get(response.headers["Location"], headers={"Accept-Language": language})
                _check_headers(target, f"{rule.endpoint} → {response.headers['Location']}")
                _check_html(target, f"{rule.endpoint} → {response.headers['Location']}")
                target.close()
            response.close()
    assert checked > 60
    for url, status in (
        ("/no-such-page", 404),
        ("/admin/units/", 403),
        (f"/cases/{arguments['number']}x", 404),
    ):
        response = client.get(url)
        assert response.status_code == status
        _check_headers(response, url)
        _check_html(response, url)
    anonymous = app.test_client()
    for url in ("/login", "/help"):
        response = anonymous.get(url)
        _check_headers(response, url)
        _check_html(response, url)


# --- production cookies --------------------------------------------------------------------------


@pytest.mark.no_db_transaction
def test_production_session_cookie_flags(other_app, fresh_database_url, tmp_path):
    app = other_app(
        DATABASE_URL=fresh_database_url,
        ENV="production",
        SECRET_KEY="a-production-secret-0123456789",
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        upgrade()
        account_ops.create_user(
            actor=None, username="prod_sup", display_name="督查员", password=PASSWORD, role=Role.supervisor
        )
        db.session.commit()
        db.session.remove()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    page = client.get("/login", base_url="https://tracker.example")
    assert "prod_sup" not in page.get_data(as_text=True)  # no demo accounts on the login page
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/login",
        base_url="https://tracker.example",
        headers={"Referer": "https://tracker.example/login"},  # Flask-WTF's HTTPS check
        data={"username": "prod_sup", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers.getlist("Set-Cookie")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")[1:]}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    for cookie in response.headers.getlist("Set-Cookie"):
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
