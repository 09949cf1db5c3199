"""Personal data of complainants (DESIGN.md §6, PIPL): full to supervisors, masked otherwise."""
import re

from sqlalchemy import select

from tracker.core.permissions import is_supervisor, is_unit_head
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


def can_see_complainant(user, case) -> bool:
    if is_supervisor(user):
        return True
    return is_unit_head(user) and has_access_grant(user, case)


def complainant_for(user, case) -> dict | None:
    """The complainant as this user may see them: in full, or masked."""
    if not (case.complainant_name or case.complainant_phone or case.complainant_address):
        return None
    full = {"name": case.complainant_name, "phone": case.complainant_phone, "address": case.complainant_address}
    if can_see_complainant(user, case):
        return full | {"masked": False}
    return {
        "name": mask_name(case.complainant_name),
        "phone": mask_phone(case.complainant_phone),
        "address": mask_address(case.complainant_address),
        "masked": True,
    }
