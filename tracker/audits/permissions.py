"""Who may see an audit and act on it, and whom a viewer sees as its auditors. Side-effect free.

``check_audit_action`` raises the domain error that explains a refusal, in the same order as
the case workflow: scope (404), role (403), version (409), state (409), then the action's own
rule (who recorded it, four eyes, every item answered). ``can_perform`` asks the same as a bool.

Anonymity (DESIGN.md §5): mystery shops are anonymous to the audited unit. Anyone who is not
supervision staff or an administrator sees the people of such an audit (author and auditors)
only by pseudonym ("暗访员 A-07"), never their names or usernames: ``auditor_display`` is the
one place that decides, used by the pages, the API, the case page and the evidence lists.
"""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.audits.states import ACTION_STATES, ANONYMOUS_KINDS, AuditAction, AuditState
from tracker.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationError, VersionConflict
from tracker.core.permissions import can_see_unit, is_admin, is_staff, is_supervisor
from tracker.extensions import db


def can_view_audit(user, audit) -> bool:
    """Staff in scope of the audited unit; unit heads only once the audit is approved."""
    if not is_staff(user) or not can_see_unit(user, audit.unit):
        return False
    return is_supervisor(user) or is_admin(user) or audit.state == AuditState.approved


def can_create_audit(user) -> bool:
    return is_supervisor(user)


def is_participant(user, audit) -> bool:
    """The author or a listed auditor: they record and submit, and may not approve."""
    return user.id == audit.author_id or any(a.id == user.id for a in audit.auditors)


def unanswered_items(audit) -> list:
    return [r for r in audit.results if r.result is None]


def _guard_participant(user, audit):
    if not is_participant(user, audit):
        raise PermissionDenied(_l("Only the author or a listed auditor may record this audit."))


def _guard_submit(user, audit):
    _guard_participant(user, audit)
    missing = unanswered_items(audit)
    if missing:
        raise ValidationError(
            _l("%(n)s items are not answered yet.", n=len(missing)), field="results"
        )


def _guard_four_eyes(user, audit):
    if is_participant(user, audit):
        raise PermissionDenied(
            _l("An audit is reviewed by a supervisor other than its author and its auditors.")
        )


_GUARDS = {
    AuditAction.record: _guard_participant,
    AuditAction.submit: _guard_submit,
    AuditAction.approve: _guard_four_eyes,
    AuditAction.return_: _guard_four_eyes,
}


def _version(value) -> int:
    """The version the client saw, as a number (forms send text): 422 when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(field="version") from None


def check_audit_action(user, audit, action: AuditAction, *, version=None) -> None:
    """Raise why ``user`` may not take ``action`` on ``audit`` now; return if they may."""
    if not can_view_audit(user, audit):
        raise NotFound()
    if not is_supervisor(user):
        raise PermissionDenied(_l("Your role cannot take this action."))
    if version is not None and _version(version) != audit.version:
        raise VersionConflict()
    if audit.state not in ACTION_STATES[action]:
        raise InvalidTransition(
            _l("This action is not allowed while the audit is “%(state)s”.", state=audit.state.label)
        )
    _GUARDS[action](user, audit)


def can_perform(user, audit, action: AuditAction) -> bool:
    try:
        check_audit_action(user, audit, action)
    except DomainError:
        return False
    return True


def can_record(user, audit) -> bool:
    return can_perform(user, audit, AuditAction.record)


def can_submit(user, audit) -> bool:
    return can_perform(user, audit, AuditAction.submit)


def can_approve(user, audit) -> bool:
    return can_perform(user, audit, AuditAction.approve)


def can_return(user, audit) -> bool:
    return can_perform(user, audit, AuditAction.return_)


def available_actions(user, audit) -> list[AuditAction]:
    return [a for a in AuditAction if a != AuditAction.record and can_perform(user, audit, a)]


# --- anonymity --------------------------------------------------------------------------------


def sees_auditor_names(viewer, audit) -> bool:
    """Only supervision staff and administrators see who made a mystery shop."""
    return audit.kind not in ANONYMOUS_KINDS or is_supervisor(viewer) or is_admin(viewer)


def pseudonym_label(code: str | None) -> str:
    """“暗访员 A-07” in the reader's language."""
    if not code:
        return _("Mystery shopper")
    return _("Mystery shopper %(code)s", code=code)


@dataclass(frozen=True)
class AuditorLabel:
    """One person of an audit as a viewer may see them: ``name`` (and ``username``) are None when
    the viewer may only see the pseudonym; ``username`` is for supervision staff only."""

    display: str
    pseudonym: str | None
    username: str | None = None
    name: str | None = None
    author: bool | None = None

    def as_dict(self) -> dict:
        if self.name is None:
            return {"pseudonym": self.pseudonym, "display": self.display}
        return {"pseudonym": self.pseudonym, "display": self.display, "username": self.username,
                "name": self.name, "author": self.author}


def _pseudonym_codes(user_ids) -> dict[int, str]:
    from tracker.audits.models import AuditorPseudonym

    ids = [i for i in user_ids if i is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(AuditorPseudonym.user_id, AuditorPseudonym.code).where(AuditorPseudonym.user_id.in_(ids))
    )
    return dict(rows.all())


def _label(viewer, audit, user, code, *, author) -> AuditorLabel:
    if user is None or not sees_auditor_names(viewer, audit):
        return AuditorLabel(display=pseudonym_label(code), pseudonym=code)
    # Inspections (明察) are open: the unit sees the inspectors' names, staff also the accounts.
    staff = is_supervisor(viewer) or is_admin(viewer)
    return AuditorLabel(display=user.display_name, pseudonym=code, username=user.username if staff else None,
                        name=user.display_name, author=author)


def audit_people(audit) -> list:
    """The author first, then the listed auditors (each once)."""
    people = [audit.author] if audit.author is not None else []
    people += [a for a in audit.auditors if a.id != audit.author_id]
    return people


def auditor_display(viewer, audit) -> list[AuditorLabel]:
    """The people of the audit as ``viewer`` may see them: names, or pseudonyms only."""
    people = audit_people(audit)
    codes = _pseudonym_codes([p.id for p in people])
    return [_label(viewer, audit, p, codes.get(p.id), author=p.id == audit.author_id) for p in people]


def uploader_display(viewer, attachment) -> AuditorLabel | None:
    """Who uploaded a piece of evidence, as ``viewer`` may see them. Evidence recorded during a
    mystery shop stays pseudonymous after its case receives it."""
    user = attachment.uploaded_by
    if attachment.audit_result_id is None:
        if user is None:
            return None
        return AuditorLabel(display=user.display_name, pseudonym=None, username=user.username, name=user.display_name)
    from tracker.audits.models import AuditResult

    result = db.session.get(AuditResult, attachment.audit_result_id)
    code = _pseudonym_codes([user.id]).get(user.id) if user is not None else None
    return _label(viewer, result.audit, user, code, author=user is not None and user.id == result.audit.author_id)
