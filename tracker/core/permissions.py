"""Role and scope predicates shared by every module (STYLE.md §7).

Views (to refuse), templates (to show a button), operations (to enforce) and queries (to
filter) all ask these; object-specific predicates live in each module's permissions.py and
build on them. Side-effect free.
"""
from tracker.accounts.states import Role


def _has_role(user, *roles):
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def is_admin(user):
    return _has_role(user, Role.admin)


def is_supervisor(user):
    return _has_role(user, Role.supervisor)


def is_unit_head(user):
    return _has_role(user, Role.unit_head)


def is_external(user):
    return _has_role(user, Role.external)


def is_staff(user):
    """Internal users who see cases at all (within their scope)."""
    return _has_role(user, Role.admin, Role.supervisor, Role.unit_head)


def can_manage_units(user):
    return is_admin(user)


def can_manage_users(user):
    return is_admin(user)


def can_manage_catalogue(user):
    """The violation catalogue; everyone signed in may read it."""
    return is_admin(user)


def can_manage_settings(user):
    """Deadline clocks and the working-day calendar (DESIGN.md §4)."""
    return is_admin(user)


def can_manage_checklists(user):
    """Checklist templates of audits (DESIGN.md §1: the administrator keeps them)."""
    return is_admin(user)


def scope_path(user):
    """The materialised path the user's view is limited to; None means the whole organisation.

    Only meaningful for staff: external supervisors see no internal records at all.
    """
    if is_admin(user):
        return None
    if is_supervisor(user) and user.unit_id is None:
        return None
    if user.unit is None:
        # A unit head without a unit answers for nothing; an impossible prefix matches no row.
        return "/-/"
    return user.unit.path


def can_see_unit(user, unit):
    if not is_staff(user) or unit is None:
        return False
    prefix = scope_path(user)
    return prefix is None or unit.path.startswith(prefix)
