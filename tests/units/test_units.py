import pytest
from sqlalchemy import select

from tracker.core.errors import PermissionDenied, ValidationError
from tracker.extensions import db
from tracker.units import operations as ops
from tracker.units.models import Unit
from tracker.units.states import UnitLevel, may_be_child_of


@pytest.mark.parametrize(
    "child, parent, allowed",
    [
        ("company", None, True),
        ("county", None, False),
        ("county", "company", True),
        ("station", "county", True),
        ("station", "company", True),
        ("hall", "station", True),
        ("team", "station", True),
        ("hall", "county", True),
        ("county", "station", False),
        ("station", "hall", False),
        ("team", "team", False),
        ("company", "county", False),
        ("company", "company", True),
    ],
)
def test_level_rules(child, parent, allowed):
    assert may_be_child_of(UnitLevel(child), UnitLevel(parent) if parent else None) is allowed


def test_create_builds_materialised_path(org):
    assert org.hall.path == f"/{org.company.id}/{org.north.id}/{org.station.id}/{org.hall.id}/"
    assert org.hall.ancestor_ids == [org.company.id, org.north.id, org.station.id]


def test_duplicate_code_is_a_field_error(org):
    with pytest.raises(ValidationError) as info:
        ops.create_unit(actor=None, code="c-n", name="重复", level=UnitLevel.county, parent=org.company)
    assert "code" in info.value.fields


def test_level_out_of_order_is_refused(org):
    with pytest.raises(ValidationError) as info:
        ops.create_unit(actor=None, code="X1", name="错层", level=UnitLevel.county, parent=org.station)
    assert "parent_code" in info.value.fields


def test_move_carries_the_subtree(org):
    ops.move_unit(org.station, actor=None, new_parent=org.south)
    hall = db.session.get(Unit, org.hall.id)
    assert hall.path.startswith(org.south.path)
    assert hall.path == f"{org.south.path}{org.station.id}/{org.hall.id}/"


def test_move_below_itself_is_refused(org):
    with pytest.raises(ValidationError):
        ops.move_unit(org.north, actor=None, new_parent=org.station)
    assert db.session.get(Unit, org.north.id).parent_id == org.company.id


def test_deactivate_needs_children_deactivated_first(org):
    with pytest.raises(ValidationError):
        ops.set_unit_active(org.station, actor=None, active=False)
    for unit in (org.hall, org.team, org.station):
        ops.set_unit_active(unit, actor=None, active=False)
    assert not org.station.active


def test_unit_with_records_is_never_deleted(org, make_user):
    make_user("unit_head", org.hall)
    assert ops.unit_has_records(org.hall)
    with pytest.raises(ValidationError):
        ops.delete_unit(org.hall, actor=None)
    ops.delete_unit(org.team, actor=None)
    assert db.session.scalar(select(Unit).where(Unit.code == "C-N-1-T")) is None


def test_only_admins_manage_units(org, make_user):
    supervisor = make_user("supervisor")
    with pytest.raises(PermissionDenied):
        ops.rename_unit(org.hall, actor=supervisor, name="改名")


def test_admin_pages(client, login_as, org):
    login_as("admin")
    assert "城关营业厅" in client.get("/admin/units/").get_data(as_text=True)
    response = client.post(
        "/admin/units/new", data={"code": "C-N-2", "name": "柳林供电所", "level": "station", "parent_code": "C-N"}
    )
    assert response.status_code == 302
    response = client.post(
        "/admin/units/new", data={"code": "C-N-3", "name": "错层", "level": "county", "parent_code": "C-N-1"}
    )
    assert response.status_code == 200
    assert "cannot be placed there" in response.get_data(as_text=True) or "不能放在" in response.get_data(as_text=True)
    response = client.post("/admin/units/C-N-1/move", data={"parent_code": "C-N-1-H"})
    assert response.status_code == 422
    assert client.post("/admin/units/C-N-1/rename", data={"name": "城关中心供电所"}).status_code == 302
    assert db.session.scalar(select(Unit.name).where(Unit.code == "C-N-1")) == "城关中心供电所"


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external"])
def test_unit_pages_are_for_admins_only(client, login_as, org, role):
    login_as(role, org.station if role == "unit_head" else None)
    assert client.get("/admin/units/").status_code == 403
    assert client.post("/admin/units/C-N-1/rename", data={"name": "x"}).status_code == 403
