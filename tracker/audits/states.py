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


class AuditAction(LabelledEnum):
    record = "record"
    submit = "submit"
    approve = "approve"
    return_ = "return"

    @classmethod
    def _labels(cls):
        return {
            "record": _l("Record results"),
            "submit": _l("Submit for review"),
            "approve": _l("Approve"),
            "return": _l("Return for correction"),
        }


# From which states each action may be taken (every action is a supervisor's). Recording and
# submitting are for the audit's author and listed auditors; approving and returning for
# another supervisor (four eyes).
RECORDING_STATES = frozenset({AuditState.draft, AuditState.returned})
ACTION_STATES = {
    AuditAction.record: RECORDING_STATES,
    AuditAction.submit: RECORDING_STATES,
    AuditAction.approve: frozenset({AuditState.submitted}),
    AuditAction.return_: frozenset({AuditState.submitted}),
}

# Which checklist kinds an audit of a kind may use: an online mystery shop (网上国网, web
# chat) is a remote service contact like the 95598 call, so it may use the phone checklist.
TEMPLATE_KINDS = {
    AuditKind.mystery_shop: frozenset({AuditKind.mystery_shop}),
    AuditKind.phone: frozenset({AuditKind.phone}),
    AuditKind.online: frozenset({AuditKind.online, AuditKind.phone}),
    AuditKind.inspection: frozenset({AuditKind.inspection}),
}
