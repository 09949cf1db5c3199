import pytest

from tracker.core import permissions as perms


@pytest.mark.parametrize(
    "role, scoped, manage, staff, whole_org",
    [
        ("admin", False, True, True, True),
        ("supervisor", False, False, True, True),
        ("supervisor", True, False, True, False),
        ("unit_head", True, False, True, False),
        ("external", False, False, False, False),
    ],
)
def test_role_predicates(org, make_user, role, scoped, manage, staff, whole_org):
    user = make_user(role, org.north if scoped else None)
    assert perms.can_manage_units(user) is manage
    assert perms.can_manage_users(user) is manage
    assert perms.is_staff(user) is staff
    if staff:
        assert (perms.scope_path(user) is None) is whole_org


def test_scope_follows_the_subtree(org, make_user):
    head = make_user("unit_head", org.station)
    assert perms.can_see_unit(head, org.hall)
    assert perms.can_see_unit(head, org.station)
    assert not perms.can_see_unit(head, org.north)
    assert not perms.can_see_unit(head, org.other_station)
    county_supervisor = make_user("supervisor", org.north)
    assert perms.can_see_unit(county_supervisor, org.hall)
    assert not perms.can_see_unit(county_supervisor, org.south)


def test_disabled_users_have_no_rights(org, make_user):
    admin = make_user("admin")
    admin.active = False
    assert not perms.can_manage_units(admin)
    assert not perms.can_see_unit(admin, org.hall)


def test_external_supervisors_see_no_internal_unit_scope(org, make_user):
    external = make_user("external")
    assert not perms.can_see_unit(external, org.hall)
