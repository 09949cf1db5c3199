"""Enums of the audit domain. Pure Python."""
from flask_babel import lazy_gettext as _l

from tracker.core.enums import LabelledEnum


class AuditKind(LabelledEnum):
    mystery_shop = "mystery_shop"
    phone = "phone"
    online = "online"
    inspection = "inspection"

    @classmethod
    def _labels(cls):
        return {
            "mystery_shop": _l("Mystery shop (in person)"),
            "phone": _l("Phone mystery shop"),
            "online": _l("Online mystery shop"),
            "inspection": _l("Inspection"),
        }


class AuditState(LabelledEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    returned = "returned"

    @classmethod
    def _labels(cls):
        return {
            "draft": _l("Draft"),
            "submitted": _l("Submitted for review"),
            "approved": _l("Approved"),
            "returned": _l("Returned"),
        }


class ItemResult(LabelledEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "na"

    @classmethod
    def _labels(cls):
        return {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("Not applicable")}


# Mystery shops are anonymous to the audited unit: its heads see a pseudonym (DESIGN.md §5).
ANONYMOUS_KINDS = frozenset({AuditKind.mystery_shop, AuditKind.phone, AuditKind.online})
