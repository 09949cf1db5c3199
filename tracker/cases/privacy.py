"""Personal data of complainants (DESIGN.md §6, PIPL): full to supervisors, masked otherwise."""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.accounts.states import Role
from tracker.core.permissions import is_admin, is_supervisor, is_unit_head
from tracker.extensions import db


def normalise_phone(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "**"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * len(phone)


def mask_address(address: str | None) -> str | None:
    if not address:
        return address
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "****"


def has_access_grant(user, case) -> bool:
    from tracker.cases.models import ComplainantAccessGrant

    return (
        db.session.scalar(
            select(ComplainantAccessGrant.id).where(
                ComplainantAccessGrant.case_id == case.id, ComplainantAccessGrant.user_id == user.id
            )
        )
        is not None
    )


def granted_case_ids(user, case_ids) -> set[int]:
    """Which of these cases' complainants the unit head was granted, in one query (for lists)."""
    from tracker.cases.models import ComplainantAccessGrant

    if not is_unit_head(user) or not case_ids:
        return set()
    return set(db.session.scalars(
        select(ComplainantAccessGrant.case_id).where(
            ComplainantAccessGrant.user_id == user.id, ComplainantAccessGrant.case_id.in_(case_ids)
        )
    ))


def can_see_complainant(user, case, *, granted=None) -> bool:
    """``granted``: whether a grant exists, if the caller already knows (``granted_case_ids``)."""
    if is_supervisor(user):
        return True
    return is_unit_head(user) and (has_access_grant(user, case) if granted is None else granted)


def complainant_for(user, case, *, granted=None) -> dict | None:
    """The complainant as this user may see them: in full, or masked."""
    if not (case.complainant_name or case.complainant_phone or case.complainant_address):
        return None
    full = {"name": case.complainant_name, "phone": case.complainant_phone, "address": case.complainant_address}
    if can_see_complainant(user, case, granted=granted):
        return full | {"masked": False}
    return {
        "name": mask_name(case.complainant_name),
        "phone": mask_phone(case.complainant_phone),
        "address": mask_address(case.complainant_address),
        "masked": True,
    }


def event_actor_for(viewer, case, event) -> str:
    """Who did a history step, as this viewer may see it.

    On cases found by an audit, unit heads see "Supervision office" instead of which supervisor
    acted: with four-eyes approval the approver's name would narrow down who the anonymous
    mystery shopper was (DESIGN.md §5)."""
    from tracker.cases.states import Channel

    if (
        case.channel == Channel.audit
        and not (is_supervisor(viewer) or is_admin(viewer))
        and event.actor is not None
        and event.actor.role == Role.supervisor
    ):
        return str(_l("Supervision office"))
    return event.actor_name
