"""Reads of the organisation tree, scoped to the user."""
from sqlalchemy import select

from tracker.core.permissions import is_external, is_staff, scope_path
from tracker.extensions import db
from tracker.units.models import Unit


def in_subtree(path_column, prefix):
    """SQL condition: the row's unit path lies in the subtree with this path prefix."""
    return path_column.like(f"{prefix}%")


def units_visible_to(user, *, include_inactive=True):
    """Statement for the units a user may see: their scope's subtree, or every unit."""
    stmt = select(Unit).order_by(Unit.path)
    if is_external(user):
        # Unit names are public (bulletins rank them); nothing below the unit is.
        return stmt.where(Unit.active.is_(True))
    if not is_staff(user):
        return stmt.where(False)
    prefix = scope_path(user)
    if prefix is not None:
        stmt = stmt.where(in_subtree(Unit.path, prefix))
    if not include_inactive:
        stmt = stmt.where(Unit.active.is_(True))
    return stmt


def unit_choices(user, *, include_inactive=False):
    """(code, indented name) pairs for select fields, in tree order.

    Reads three columns, not Unit objects: the case list shows every unit of the organisation
    (2,000 in a large one) on each page view."""
    stmt = units_visible_to(user, include_inactive=include_inactive).with_only_columns(Unit.code, Unit.name, Unit.path)
    units = [(code, name, path.count("/") - 2) for code, name, path in db.session.execute(stmt)]
    base_depth = min((depth for _code, _name, depth in units), default=0)
    return [(code, f"{'　' * (depth - base_depth)}{name} ({code})") for code, name, depth in units]


def get_unit_by_code(code):
    return db.session.scalar(select(Unit).where(Unit.code == code))


def subtree_ids(unit):
    return select(Unit.id).where(in_subtree(Unit.path, unit.path))
