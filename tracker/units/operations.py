"""Changes to the organisation tree. Flush, never commit."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from tracker.core.errors import PermissionDenied, ValidationError
from tracker.core.permissions import can_manage_units
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import in_subtree
from tracker.units.states import UnitLevel, may_be_child_of

def _check_actor(actor):
    if actor is not None and not can_manage_units(actor):
        raise PermissionDenied()


def _check_code(code):
    code = (code or "").strip().upper()
    if not code:
        raise ValidationError(_l("A code is required."), field="code")
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise ValidationError(_l("The code %(code)s is taken.", code=code), field="code")
    return code


def _check_parent(level: UnitLevel, parent: Unit | None):
    if parent is not None and not parent.active:
        raise ValidationError(_l("The parent unit is deactivated."), field="parent_code")
    if not may_be_child_of(level, parent.level if parent else None):
        raise ValidationError(
            _l("A %(level)s cannot be placed there.", level=level.label), field="parent_code"
        )


def create_unit(*, actor, code, name, level: UnitLevel, parent: Unit | None) -> Unit:
    _check_actor(actor)
    code = _check_code(code)
    if not (name or "").strip():
        raise ValidationError(_l("A name is required."), field="name")
    _check_parent(level, parent)
    unit = Unit(code=code, name=name.strip(), level=level, parent=parent, path="")
    db.session.add(unit)
    db.session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    db.session.flush()
    return unit


def rename_unit(unit: Unit, *, actor, name: str) -> Unit:
    _check_actor(actor)
    if not (name or "").strip():
        raise ValidationError(_l("A name is required."), field="name")
    unit.name = name.strip()
    db.session.flush()
    return unit


def move_unit(unit: Unit, *, actor, new_parent: Unit | None) -> Unit:
    """Re-hang a unit and its whole subtree. Refuses cycles and levels out of order."""
    _check_actor(actor)
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValidationError(_l("A unit cannot be moved below itself."), field="parent_code")
    _check_parent(unit.level, new_parent)
    old_prefix = unit.path
    new_prefix = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    if new_prefix != old_prefix:
        db.session.execute(
            update(Unit)
            .where(in_subtree(Unit.path, old_prefix))
            .values(path=new_prefix + func.substr(Unit.path, len(old_prefix) + 1))
            .execution_options(synchronize_session=False)
        )
        unit.parent = new_parent
        db.session.flush()
        db.session.expire_all()
        from tracker.reports import stats  # the case roll-up counts the subtree under its ancestors

        stats.move_subtree(db.session.connection(), unit.id, old_prefix, new_prefix)
    return unit


def set_unit_active(unit: Unit, *, actor, active: bool) -> Unit:
    _check_actor(actor)
    if active and unit.parent is not None and not unit.parent.active:
        raise ValidationError(_l("Reactivate the parent unit first."))
    if not active:
        has_active_children = db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id, Unit.active.is_(True))
        )
        if has_active_children:
            raise ValidationError(_l("Deactivate or move the units below it first."))
    unit.active = active
    db.session.flush()
    return unit


def unit_has_records(unit: Unit) -> bool:
    """True if any row of any table points at the unit (found from the foreign keys, so a new
    module's references count without being registered)."""
    units_id = Unit.__table__.c.id
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column is units_id:
                hit = db.session.scalar(select(fk.parent).where(fk.parent == unit.id).limit(1))
                if hit is not None:
                    return True
    return False


def delete_unit(unit: Unit, *, actor) -> None:
    """Only a unit nothing refers to may be deleted (a mistake just made); others are deactivated."""
    _check_actor(actor)
    if unit_has_records(unit):
        raise ValidationError(_l("This unit has records; deactivate it instead of deleting it."))
    db.session.delete(unit)
    db.session.flush()
