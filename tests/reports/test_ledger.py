"""The case ledger (台账): formula-safe cells, privacy, scope, the list's filters, web and API."""
import io
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from tests.cases.conftest import make_case, people, run_to, violation_type  # noqa: F401  (fixtures)
from tracker.cases.queries import CaseFilters
from tracker.cases.states import CaseState, Channel
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports.ledger import COLUMNS, CONTENT_TYPE, FORMULA_PREFIXES, build_ledger

BEIJING = ZoneInfo("Asia/Shanghai")
KEYS = [key for key, _title, _width in COLUMNS]


def _sheet(data: bytes):
    workbook = load_workbook(io.BytesIO(data))
    return workbook, workbook.worksheets[0]


def _rows(data: bytes) -> list[dict]:
    """The ledger's rows as {column key: cell}."""
    workbook, sheet = _sheet(data)
    rows = [dict(zip(KEYS, row)) for row in sheet.iter_rows(min_row=2)]
    workbook.close()
    return rows


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


# --- formula safety ---------------------------------------------------------------------------

DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
    "=cmd|' /C calc'!A0",
]


def test_every_prefix_of_the_list_is_covered():
    assert {text[0] for text in DANGEROUS} >= set(FORMULA_PREFIXES) - {"\n"}


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_looks_like_a_formula_stays_text(app_ctx, people, make_case, text):
    case = make_case()
    # Written straight to the row: intake strips leading whitespace, other paths may not.
    case.summary = text
    case.external_ref = text
    case.complainant_name = text
    db.session.flush()

    data = build_ledger(people.sup, CaseFilters(), locale="en")

    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml  # no formula element anywhere in the sheet
    (row,) = _rows(data)
    expected = text.replace("\r", "\n")  # XML carries line breaks as LF (Excel's own line break)
    for key in ("summary", "external_ref", "complainant_name"):
        cell = row[key]
        assert cell.data_type == "s", key
        assert cell.value == expected, key
        assert cell.quotePrefix, key  # Excel keeps it text even when someone edits the cell


def test_characters_xml_cannot_hold_are_dropped(app_ctx, people, make_case):
    case = make_case()
    case.summary = "铃声\x07与退格\x08"
    db.session.flush()
    (row,) = _rows(build_ledger(people.sup, CaseFilters(), locale="en"))
    assert row["summary"].value == "铃声与退格"


# --- contents ---------------------------------------------------------------------------------


def test_columns_and_values_of_a_known_case(app_ctx, org, people, make_case, violation_type):
    received = datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)
    case = make_case(received_at=received, summary="营业员服务态度生硬", external_ref="95598-LEDGER-1")
    run_to(case, CaseState.rectifying, people, org, violation_type)

    data = build_ledger(people.sup, CaseFilters(), locale="en")
    workbook, sheet = _sheet(data)
    header = [cell.value for cell in sheet[1]]
    with force_locale("en"):
        assert header == [str(title) for _key, title, _width in COLUMNS]
    assert header[:3] == ["Number", "Received at (Beijing time)", "Unit code"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:W2"
    assert sheet.column_dimensions["G"].width == 44  # summary
    workbook.close()

    (row,) = _rows(data)
    values = {key: cell.value for key, cell in row.items()}
    assert values["number"] == case.number
    assert values["received_at"] == datetime(2026, 3, 2, 9, 30)  # a real date cell, Beijing time
    assert row["received_at"].is_date
    assert values["unit_code"] == "C-N-1-H" and values["unit"] == "城关营业厅"
    assert values["channel"] == "95598 work order"
    assert values["external_ref"] == "95598-LEDGER-1"
    assert values["summary"] == "营业员服务态度生硬"
    # A supervisor sees the complainant in full.
    assert (values["complainant_name"], values["complainant_phone"], values["complainant_address"]) == (
        "张伟", "13812345678", "清河县城关镇人民路88号")
    assert values["violation_type_code"] == "SV-T1"
    assert values["violation_type"] == "Poor service attitude"
    assert values["category"] == "Service"
    assert values["severity"] == "Serious"
    assert values["state"] == "Rectifying"
    assert values["outcome"] == "Substantiated"
    assert values["overdue"] == "No"
    assert values["responsibilities"] == (
        "城关营业厅 · Direct responsibility · 李娜; 城关供电所 · Management responsibility"
    )
    assert values["measures"].split("; ") == [
        "Warning interview · 李娜",
        "Performance points deduction · 李娜 · 2 points",
        "Financial penalty · 城关供电所 · 200.00 yuan",
    ]
    assert values["points"] == 2
    assert Decimal(str(values["fines"])) == Decimal("200")
    assert values["closed_at"] is None and values["follow_up"] is None


def test_chinese_ledger(app_ctx, people, make_case):
    make_case()
    workbook, sheet = _sheet(build_ledger(people.sup, CaseFilters(), locale="zh_Hans_CN"))
    header = [cell.value for cell in sheet[1]]
    assert "受理时间（北京时间）" in header and "来源渠道" in header
    assert sheet["E2"].value == str(Channel.hotline_95598.label) and sheet["Q2"].value in ("否", "No")
    workbook.close()


def test_overdue_column_follows_the_lists_filter(app_ctx, people, make_case):
    late = make_case(received_at=utcnow() - timedelta(days=30))
    make_case()
    rows = _rows(build_ledger(people.sup, CaseFilters(), locale="en"))
    overdue = {row["number"].value: row["overdue"].value for row in rows}
    assert overdue[late.number] == "Yes"
    assert sorted(overdue.values()) == ["No", "Yes"]
    only = _rows(build_ledger(people.sup, CaseFilters(overdue=True), locale="en"))
    assert [row["number"].value for row in only] == [late.number]


def test_unit_head_sees_masked_complainant_and_only_their_subtree(app_ctx, org, people, make_case, violation_type):
    own = make_case(unit=org.hall)
    run_to(own, CaseState.determined, people, org, violation_type)
    make_case(unit=org.other_station)

    rows = _rows(build_ledger(people.head, CaseFilters(), locale="en"))
    assert [row["number"].value for row in rows] == [own.number]
    (row,) = rows
    assert row["complainant_name"].value == "张**"
    assert row["complainant_phone"].value == "138****5678"
    assert row["complainant_address"].value == "清河县城****"
    assert "13812345678" not in _sheet_xml(build_ledger(people.head, CaseFilters(), locale="en"))
    # Responsibilities name the unit's own staff, as the case page does.
    assert "李娜" in row["responsibilities"].value

    # The supervisor's ledger has both, in full.
    rows = _rows(build_ledger(people.sup, CaseFilters(), locale="en"))
    assert len(rows) == 2 and {row["complainant_name"].value for row in rows} == {"张伟"}


def test_an_access_grant_unmasks_as_on_the_case_page(app_ctx, org, people, make_case):
    from tracker.cases.models import ComplainantAccessGrant

    case = make_case(unit=org.hall)
    db.session.add(ComplainantAccessGrant(case_id=case.id, user_id=people.head.id, granted_by_id=people.sup.id,
                                          reason="回访核实"))
    db.session.flush()
    (row,) = _rows(build_ledger(people.head, CaseFilters(), locale="en"))
    assert row["complainant_phone"].value == "13812345678"


# --- web --------------------------------------------------------------------------------------


def test_web_ledger_is_the_filtered_list(client, auth, org, people, make_case):
    hotline = make_case(unit=org.hall)
    petition = make_case(unit=org.hall, channel=Channel.petition)
    db.session.commit()
    auth.login("sup_a")

    page = client.get("/cases?channel=petition").get_data(as_text=True)
    assert 'href="/cases/ledger.xlsx?channel=petition"' in page

    response = client.get("/cases/ledger.xlsx?channel=petition")
    assert response.status_code == 200
    assert response.mimetype == CONTENT_TYPE
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert [row["number"].value for row in _rows(response.data)] == [petition.number]

    everything = client.get("/cases/ledger.xlsx")
    assert {row["number"].value for row in _rows(everything.data)} == {hotline.number, petition.number}


def test_web_ledger_of_a_unit_head(client, auth, org, people, make_case):
    own = make_case(unit=org.hall)
    make_case(unit=org.other_station)
    db.session.commit()
    auth.login("head_hall")
    response = client.get("/cases/ledger.xlsx")
    assert response.status_code == 200
    (row,) = _rows(response.data)
    assert row["number"].value == own.number and row["complainant_name"].value == "张**"


@pytest.mark.parametrize("username, status", [("ext_a", 403), (None, 302)])
def test_web_ledger_is_for_staff_only(client, auth, people, username, status):
    db.session.commit()
    if username:
        auth.login(username)
    assert client.get("/cases/ledger.xlsx").status_code == status


# --- API --------------------------------------------------------------------------------------


def test_api_unit_ledger_covers_the_subtree_and_period(client, org, people, make_case, api_token):
    now = utcnow()
    in_hall = make_case(unit=org.hall, received_at=now - timedelta(days=2))
    in_team = make_case(unit=org.team, received_at=now - timedelta(days=3))
    make_case(unit=org.hall, received_at=now - timedelta(days=40))  # before the period
    make_case(unit=org.other_station)  # another subtree
    db.session.commit()
    headers = api_token("sup_a")
    start = (now - timedelta(days=10)).astimezone(BEIJING).date().isoformat()
    end = now.astimezone(BEIJING).date().isoformat()

    response = client.get(f"/api/v1/reports/units/{org.station.code}.xlsx?from={start}&to={end}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == CONTENT_TYPE
    numbers = [row["number"].value for row in _rows(response.data)]
    assert numbers == [in_team.number, in_hall.number]  # oldest first

    bad = client.get(f"/api/v1/reports/units/{org.station.code}.xlsx?from={end}&to={start}", headers=headers)
    assert bad.status_code == 422 and "from" in bad.get_json()["error"]["fields"]


def test_api_unit_ledger_permissions(client, org, people, make_case, api_token):
    make_case(unit=org.hall)
    db.session.commit()
    url = f"/api/v1/reports/units/{org.hall.code}.xlsx"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token("ext_a")).status_code == 403
    other = client.get(url, headers=api_token("head_other"))
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/reports/units/NOPE.xlsx", headers=api_token("sup_a")).status_code == 404
    own = client.get(url, headers=api_token("head_hall"))
    assert own.status_code == 200
    (row,) = _rows(own.data)
    assert row["complainant_phone"].value == "138****5678"


def test_api_ledger_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/reports/units/{code}.xlsx"]["get"]
    assert CONTENT_TYPE in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to"}
