"""The violation catalogue: seeding, operations, admin pages and the read-only API."""
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tracker.cases.models import ViolationType
from tracker.cases.states import Severity, ViolationCategory
from tracker.catalogue import display_name
from tracker.catalogue import operations as ops
from tracker.core.errors import PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.seed.data_violations import VIOLATION_TYPES

TEN_PROHIBITIONS = [f"SP-{n:02d}" for n in range(1, 11)]
NON_ADMIN_ROLES = ["supervisor", "unit_head", "external"]
NEW_ENTRY = {
    "code": "SP-11",
    "category": "service",
    "name": "测试违规",
    "name_en": "Test violation",
    "clause": "测试条款第一条",
    "severity": "serious",
    "points": 7,
}


@pytest.fixture
def catalogue(app_ctx):
    ops.seed_violation_types()
    db.session.commit()


@pytest.fixture
def admin_en(login_as):
    """An administrator signed in with the English UI, so the page text is predictable."""
    admin = login_as("admin")
    admin.locale = "en"
    db.session.commit()
    return admin


def _vt(code):
    return db.session.scalar(select(ViolationType).where(ViolationType.code == code))


def _events(subject):
    stmt = select(HistoryEvent).where(HistoryEvent.subject == subject).order_by(HistoryEvent.seq)
    return db.session.scalars(stmt).all()


# --- Seeding --------------------------------------------------------------------------------


def test_seeding_is_idempotent_and_complete(app_ctx):
    assert ops.seed_violation_types() == len(VIOLATION_TYPES)
    assert ops.seed_violation_types() == 0
    rows = db.session.scalars(select(ViolationType)).all()
    assert len(rows) == len(VIOLATION_TYPES)
    by_code = {vt.code: vt for vt in rows}
    assert set(TEN_PROHIBITIONS) <= set(by_code)
    assert {by_code[code].category for code in TEN_PROHIBITIONS} == {ViolationCategory.ten_prohibitions}
    # The ten prohibitions plus the five 95598 complaint categories.
    assert {vt.category for vt in rows} == set(ViolationCategory)
    assert all(vt.active and vt.name and vt.name_en and vt.clause and 0 < vt.points <= 100 for vt in rows)
    assert [e.data["created"] for e in _events("violation_types")] == [[e["code"] for e in VIOLATION_TYPES]]


def test_seeding_keeps_local_changes(app_ctx):
    ops.seed_violation_types()
    ops.update_violation_type(_vt("SP-01"), actor=None, **{**_fields(_vt("SP-01")), "points": 9})
    ops.set_violation_type_active(_vt("SP-02"), actor=None, active=False)
    assert ops.seed_violation_types() == 0
    assert _vt("SP-01").points == 9 and not _vt("SP-02").active


def test_seed_catalogue_command(runner):
    first = runner.invoke(args=["seed-catalogue"])
    assert first.exit_code == 0, first.output
    assert f"Violation types: {len(VIOLATION_TYPES)} created." in first.output
    second = runner.invoke(args=["seed-catalogue"])
    assert "Violation types: 0 created." in second.output


# --- Operations -----------------------------------------------------------------------------


def _fields(vt):
    return {f: getattr(vt, f) for f in ("category", "name", "name_en", "clause", "severity", "points")}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": "sp-01"}, "code"),  # duplicate, whatever the case
        ({"code": "SP 11"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "X" * 17}, "code"),
        ({"points": -1}, "points"),
        ({"points": 101}, "points"),
        ({"points": None}, "points"),
        ({"severity": "fatal"}, "severity"),
        ({"category": "weather"}, "category"),
        ({"name": "  "}, "name"),
        ({"clause": "条" * 256}, "clause"),
    ],
)
def test_bad_values_are_field_errors(catalogue, changes, field):
    with pytest.raises(ValidationError) as info:
        ops.create_violation_type(actor=None, **{**NEW_ENTRY, **changes})
    assert field in info.value.fields
    assert _vt("SP-11") is None


def test_a_duplicate_that_slips_past_the_check_is_still_a_field_error(catalogue, monkeypatch):
    """Two admins creating the same code at once: the unique index decides, the loser gets a field error."""
    monkeypatch.setattr(ops, "_code_taken", lambda code: False)
    with pytest.raises(ValidationError) as info:
        ops.create_violation_type(actor=None, **{**NEW_ENTRY, "code": "SP-01"})
    assert "code" in info.value.fields
    assert ops.create_violation_type(actor=None, **NEW_ENTRY).id  # the transaction is still usable
    assert _vt("SP-01").name == "违规停电、无故拖延送电"


@pytest.mark.parametrize("points, ok", [(0, True), (100, True), (101, False), (-5, False)])
def test_points_range_on_update(catalogue, points, ok):
    vt = _vt("SV-01")
    fields = {**_fields(vt), "points": points}
    if ok:
        assert ops.update_violation_type(vt, actor=None, **fields).points == points
    else:
        with pytest.raises(ValidationError) as info:
            ops.update_violation_type(vt, actor=None, **fields)
        assert list(info.value.fields) == ["points"]
        assert _vt("SV-01").points == 4


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_admins_change_the_catalogue(catalogue, make_user, org, role):
    user = make_user(role, org.station if role == "unit_head" else None)
    vt = _vt("SP-01")
    with pytest.raises(PermissionDenied):
        ops.create_violation_type(actor=user, **NEW_ENTRY)
    with pytest.raises(PermissionDenied):
        ops.update_violation_type(vt, actor=user, **{**_fields(vt), "points": 1})
    with pytest.raises(PermissionDenied):
        ops.set_violation_type_active(vt, actor=user, active=False)
    assert _vt("SP-01").active and _vt("SP-01").points == 6


def test_every_admin_change_is_in_the_history(catalogue, make_user):
    admin = make_user("admin")
    vt = ops.create_violation_type(actor=admin, **NEW_ENTRY)
    ops.update_violation_type(vt, actor=admin, **{**_fields(vt), "points": 8, "severity": Severity.grave})
    ops.update_violation_type(vt, actor=admin, **_fields(vt))  # no change, no event
    ops.set_violation_type_active(vt, actor=admin, active=False)
    ops.set_violation_type_active(vt, actor=admin, active=False)  # already so, no event
    ops.set_violation_type_active(vt, actor=admin, active=True)
    events = _events("violation_type:SP-11")
    assert [e.action for e in events] == [
        "violation_type_created",
        "violation_type_updated",
        "violation_type_deactivated",
        "violation_type_reactivated",
    ]
    assert {e.actor_id for e in events} == {admin.id}
    assert events[0].data["after"]["points"] == 7 and events[0].data["after"]["category"] == "service"
    assert events[1].data == {
        "before": {"points": 7, "severity": "serious"},
        "after": {"points": 8, "severity": "grave"},
    }
    assert events[2].data == {"before": {"active": True}, "after": {"active": False}}
    assert verify_chain().ok


def test_display_name_follows_the_locale(catalogue):
    vt = _vt("SP-01")
    with force_locale("en"):
        assert display_name(vt) == vt.name_en
    with force_locale("zh_Hans_CN"):
        assert display_name(vt) == "违规停电、无故拖延送电"
    vt.name_en = ""
    with force_locale("en"):
        assert display_name(vt) == "违规停电、无故拖延送电"


# --- Admin pages ----------------------------------------------------------------------------


def test_list_filters_and_shows_the_name_in_the_users_language(client, admin_en, catalogue):
    ops.set_violation_type_active(_vt("SP-10"), actor=None, active=False)
    db.session.commit()
    page = client.get("/admin/violation-types/").get_data(as_text=True)
    assert "Cutting supply in breach of the rules" in page and "违规停电" not in page
    assert "deactivated" in page and "Violation catalogue" in page
    page = client.get("/admin/violation-types/?category=outage").get_data(as_text=True)
    assert "OT-01" in page and "SP-01" not in page
    page = client.get("/admin/violation-types/?q=voltage").get_data(as_text=True)
    assert "SQ-02" in page and "SQ-01" not in page
    page = client.get("/admin/violation-types/?q=电压").get_data(as_text=True)
    assert "SQ-02" in page and "SQ-01" not in page
    page = client.get("/admin/violation-types/?status=inactive").get_data(as_text=True)
    assert "SP-10" in page and "SP-01" not in page
    page = client.get("/admin/violation-types/?status=active&category=ten_prohibitions")
    page = page.get_data(as_text=True)
    assert "SP-09" in page and "SP-10" not in page


def test_list_pages(client, admin_en, catalogue):
    assert "Page 1 of 1" not in client.get("/admin/violation-types/").get_data(as_text=True)
    for n in range(len(VIOLATION_TYPES), 51):
        ops.create_violation_type(actor=None, **{**NEW_ENTRY, "code": f"ZZ-{n:02d}"})
    db.session.commit()
    first = client.get("/admin/violation-types/").get_data(as_text=True)
    second = client.get("/admin/violation-types/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "ZZ-50" not in first
    assert "Page 2 of 2" in second and "ZZ-50" in second


def test_admin_creates_with_field_errors_shown(client, admin_en, catalogue):
    assert client.get("/admin/violation-types/new").status_code == 200
    response = client.post("/admin/violation-types/new", data={**NEW_ENTRY, "code": "sp-01"})
    assert response.status_code == 200
    assert "The code SP-01 is taken." in response.get_data(as_text=True)
    response = client.post("/admin/violation-types/new", data={**NEW_ENTRY, "points": "101"})
    assert response.status_code == 200
    assert "Points must be between 0 and 100." in response.get_data(as_text=True)
    response = client.post("/admin/violation-types/new", data={**NEW_ENTRY, "points": "many"})
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)
    assert _vt("SP-11") is None
    response = client.post("/admin/violation-types/new", data={**NEW_ENTRY, "code": "sp-11"})
    assert response.status_code == 302
    vt = _vt("SP-11")
    assert (vt.category, vt.severity, vt.points) == (ViolationCategory.service, Severity.serious, 7)
    assert vt.name_en == "Test violation"
    [event] = _events("violation_type:SP-11")
    assert event.action == "violation_type_created" and event.actor_id == admin_en.id
    assert event.data["after"]["name"] == "测试违规"


def test_admin_edits_but_never_changes_the_code(client, admin_en, catalogue):
    page = client.get("/admin/violation-types/SV-01").get_data(as_text=True)
    assert "Poor service attitude" in page and 'value="4"' in page
    response = client.post("/admin/violation-types/SV-01", data={**_form_data("SV-01"), "points": "-1"})
    assert response.status_code == 200
    assert "Points must be between 0 and 100." in response.get_data(as_text=True)
    assert _vt("SV-01").points == 4
    data = {**_form_data("SV-01"), "points": "6", "severity": "grave", "code": "XX-99"}
    assert client.post("/admin/violation-types/SV-01", data=data).status_code == 302
    vt = _vt("SV-01")
    assert (vt.points, vt.severity) == (6, Severity.grave) and _vt("XX-99") is None
    [event] = _events("violation_type:SV-01")
    assert event.action == "violation_type_updated"
    assert event.data["after"] == {"severity": "grave", "points": 6}
    assert client.get("/admin/violation-types/NOPE").status_code == 404


def _form_data(code):
    vt = _vt(code)
    return {**{k: str(v) for k, v in _fields(vt).items()}}


def test_admin_deactivates_and_reactivates(client, admin_en, catalogue):
    response = client.post("/admin/violation-types/SP-03/deactivate")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/violation-types/SP-03")
    assert not _vt("SP-03").active
    page = client.get("/admin/violation-types/SP-03").get_data(as_text=True)
    assert "This violation type is deactivated" in page
    assert client.post("/admin/violation-types/SP-03/activate").status_code == 302
    assert _vt("SP-03").active
    assert [e.action for e in _events("violation_type:SP-03")] == [
        "violation_type_deactivated",
        "violation_type_reactivated",
    ]
    assert client.get("/admin/violation-types/SP-03/deactivate").status_code == 405


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/admin/violation-types/"),
        ("get", "/admin/violation-types/new"),
        ("post", "/admin/violation-types/new"),
        ("get", "/admin/violation-types/SP-01"),
        ("post", "/admin/violation-types/SP-01"),
        ("post", "/admin/violation-types/SP-01/deactivate"),
        ("post", "/admin/violation-types/SP-01/activate"),
    ],
)
def test_catalogue_pages_are_for_admins_only(client, login_as, org, catalogue, role, method, path):
    login_as(role, org.station if role == "unit_head" else None)
    data = {**NEW_ENTRY, "points": "1"} if method == "post" else None
    assert getattr(client, method)(path, data=data).status_code == 403
    assert _vt("SP-11") is None and _vt("SP-01").active and _vt("SP-01").points == 6


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/violation-types/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role, shown", [("admin", True), ("supervisor", False)])
def test_navigation_entry(client, login_as, role, shown):
    login_as(role)
    page = client.get("/account/password")  # any page with the navigation bar
    assert page.status_code == 200
    assert ('href="/admin/violation-types/"' in page.get_data(as_text=True)) is shown


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def headers(catalogue, make_user, api_token):
    user = make_user("supervisor")
    db.session.commit()
    return api_token(user.username)


def _codes(body):
    return [item["code"] for item in body["items"]]


def test_api_list_shape(client, headers):
    body = client.get("/api/v1/violation-types?limit=200", headers=headers).get_json()
    assert sorted(_codes(body)) == _codes(body) == sorted(e["code"] for e in VIOLATION_TYPES)
    assert body["next_cursor"] is None
    sp01 = next(item for item in body["items"] if item["code"] == "SP-01")
    assert sp01 == {
        "code": "SP-01",
        "category": "ten_prohibitions",
        "name": "违规停电、无故拖延送电",
        "name_en": "Cutting supply in breach of the rules or delaying reconnection without cause",
        "clause": "国家电网公司员工服务“十个不准”第一条",
        "severity": "serious",
        "points": 6,
        "active": True,
    }


@pytest.mark.parametrize("category", [c.value for c in ViolationCategory])
def test_api_filters_by_category(client, headers, category):
    body = client.get(f"/api/v1/violation-types?category={category}&limit=200", headers=headers).get_json()
    assert _codes(body) == sorted(e["code"] for e in VIOLATION_TYPES if e["category"] == category)
    assert {item["category"] for item in body["items"]} == {category}


def test_api_hides_inactive_by_default(client, headers):
    ops.set_violation_type_active(_vt("OT-02"), actor=None, active=False)
    db.session.commit()
    active = client.get("/api/v1/violation-types?limit=200", headers=headers).get_json()
    assert "OT-02" not in _codes(active) and "OT-01" in _codes(active)
    inactive = client.get("/api/v1/violation-types?active=false", headers=headers).get_json()
    assert inactive["items"] == [{**inactive["items"][0], "code": "OT-02", "active": False}]


def test_api_cursor_paging(client, headers):
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/violation-types?limit=10" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        assert len(body["items"]) <= 10
        seen += _codes(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(e["code"] for e in VIOLATION_TYPES)
    assert pages == -(-len(VIOLATION_TYPES) // 10)


@pytest.mark.parametrize(
    "query, field",
    [
        ("category=weather", "category"),
        ("limit=500", "limit"),
        ("cursor=!!!", "cursor"),
        ("active=maybe", "active"),
    ],
)
def test_api_bad_arguments_are_422(client, headers, query, field):
    response = client.get(f"/api/v1/violation-types?{query}", headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("role", ["admin", "supervisor", "unit_head", "external"])
def test_api_any_signed_in_user_reads_the_catalogue(client, catalogue, make_user, api_token, org, role):
    user = make_user(role, org.station if role == "unit_head" else None)
    db.session.commit()
    headers = api_token(user.username)
    response = client.get("/api/v1/violation-types?category=ten_prohibitions", headers=headers)
    assert response.status_code == 200
    assert _codes(response.get_json()) == TEN_PROHIBITIONS


@pytest.mark.parametrize("auth", [None, "Bearer nonsense", "Basic abc"])
def test_api_needs_a_token(client, catalogue, auth):
    response = client.get("/api/v1/violation-types", headers={"Authorization": auth} if auth else {})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_api_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/violation-types"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {p["name"] for p in operation["parameters"]} >= {"category", "active", "limit", "cursor"}
    assert "ViolationTypeList" in spec["components"]["schemas"]
