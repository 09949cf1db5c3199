"""Changes to the violation catalogue. Flush, never commit; every admin change writes history.

``actor=None`` is the system (seeding, the CLI); any other actor must be an administrator.
"""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.cases.models import ViolationType
from tracker.cases.states import Severity, ViolationCategory
from tracker.core.errors import PermissionDenied, ValidationError
from tracker.core.history import record_event
from tracker.core.permissions import can_manage_catalogue
from tracker.extensions import db
from tracker.seed.data_violations import VIOLATION_TYPES

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
MAX_POINTS = 100

# Column widths of ViolationType, checked here so an overlong value is a field error, not a 500.
_MAX_LENGTHS = {"code": 16, "name": 120, "name_en": 160, "clause": 255}

# The fields an update may change, in the order history shows them (``code`` is immutable).
_EDITABLE = ("category", "name", "name_en", "clause", "severity", "points")


def _check_actor(actor):
    if actor is not None and not can_manage_catalogue(actor):
        raise PermissionDenied()


def _code_taken(code):
    return db.session.scalar(select(ViolationType.id).where(ViolationType.code == code)) is not None


def _check_code(code):
    code = (code or "").strip().upper()
    if not code:
        raise ValidationError(_l("A code is required."), field="code")
    if len(code) > _MAX_LENGTHS["code"] or not CODE_PATTERN.match(code):
        raise ValidationError(
            _l("Up to %(n)s letters, digits, - and _.", n=_MAX_LENGTHS["code"]), field="code"
        )
    if _code_taken(code):
        raise ValidationError(_l("The code %(code)s is taken.", code=code), field="code")
    return code


def _enum(enum_cls, value, field):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationError(_l("Choose one of the listed values."), field=field) from None


def _text(value, field, *, required):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_l("This field is required."), field=field)
    if len(value) > _MAX_LENGTHS[field]:
        raise ValidationError(_l("At most %(n)s characters.", n=_MAX_LENGTHS[field]), field=field)
    return value


def _points(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_l("Points must be a whole number."), field="points")
    if not 0 <= value <= MAX_POINTS:
        raise ValidationError(_l("Points must be between 0 and %(max)s.", max=MAX_POINTS), field="points")
    return value


def _clean(*, category, name, name_en, clause, severity, points) -> dict:
    """Check every editable field; raise one ValidationError naming all the bad ones."""
    checks = {
        "category": lambda: _enum(ViolationCategory, category, "category"),
        "name": lambda: _text(name, "name", required=True),
        "name_en": lambda: _text(name_en, "name_en", required=False),
        "clause": lambda: _text(clause, "clause", required=False),
        "severity": lambda: _enum(Severity, severity, "severity"),
        "points": lambda: _points(points),
    }
    values, errors = {}, {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationError as error:
            for name_, messages in error.fields.items():
                errors.setdefault(name_, []).extend(messages)
    if errors:
        raise ValidationError(fields=errors)
    return values


def _snapshot(vt) -> dict:
    return {
        "category": vt.category.value,
        "name": vt.name,
        "name_en": vt.name_en,
        "clause": vt.clause,
        "severity": vt.severity.value,
        "points": vt.points,
        "active": vt.active,
    }


def _subject(vt):
    return f"violation_type:{vt.code}"


def _insert(*, code, values) -> ViolationType:
    vt = ViolationType(code=code, active=True, **values)
    try:
        # A savepoint, so a concurrent insert of the same code (PostgreSQL) is a field error
        # and leaves the caller's transaction usable.
        with db.session.begin_nested():
            db.session.add(vt)
    except IntegrityError:
        raise ValidationError(_l("The code %(code)s is taken.", code=code), field="code") from None
    return vt


def create_violation_type(
    *, actor, code, category, name, name_en, clause, severity, points
) -> ViolationType:
    _check_actor(actor)
    errors = {}
    try:
        code = _check_code(code)
    except ValidationError as error:
        errors.update(error.fields)
    try:
        values = _clean(
            category=category, name=name, name_en=name_en, clause=clause, severity=severity, points=points
        )
    except ValidationError as error:
        errors.update(error.fields)
    if errors:
        raise ValidationError(fields=errors)
    vt = _insert(code=code, values=values)
    record_event(
        actor=actor, action="violation_type_created", subject=_subject(vt), data={"after": _snapshot(vt)}
    )
    return vt


def update_violation_type(
    vt: ViolationType, *, actor, category, name, name_en, clause, severity, points
) -> ViolationType:
    """Change everything but the code, which cases and checklists cite."""
    _check_actor(actor)
    values = _clean(
        category=category, name=name, name_en=name_en, clause=clause, severity=severity, points=points
    )
    before = _snapshot(vt)
    for field in _EDITABLE:
        setattr(vt, field, values[field])
    after = _snapshot(vt)
    changed = [field for field in _EDITABLE if before[field] != after[field]]
    if changed:
        db.session.flush()
        record_event(
            actor=actor,
            action="violation_type_updated",
            subject=_subject(vt),
            data={"before": {f: before[f] for f in changed}, "after": {f: after[f] for f in changed}},
        )
    return vt


def set_violation_type_active(vt: ViolationType, *, actor, active: bool) -> ViolationType:
    """Deactivated entries stay on the cases that cite them but are no longer offered."""
    _check_actor(actor)
    if vt.active == bool(active):
        return vt
    vt.active = bool(active)
    db.session.flush()
    record_event(
        actor=actor,
        action="violation_type_reactivated" if vt.active else "violation_type_deactivated",
        subject=_subject(vt),
        data={"before": {"active": not vt.active}, "after": {"active": vt.active}},
    )
    return vt


def seed_violation_types(entries=None) -> int:
    """Add the catalogue entries that are missing (by code); existing ones are left as they are.

    Returns the number created. One history event lists the codes added, if any.
    """
    existing = set(db.session.scalars(select(ViolationType.code)))
    created = []
    for entry in VIOLATION_TYPES if entries is None else entries:
        code = entry["code"].strip().upper()
        if code in existing:
            continue
        values = _clean(**{field: entry.get(field, "") for field in _EDITABLE})
        _insert(code=code, values=values)
        existing.add(code)
        created.append(code)
    if created:
        record_event(
            actor=None, action="violation_types_seeded", subject="violation_types", data={"created": created}
        )
    return len(created)
