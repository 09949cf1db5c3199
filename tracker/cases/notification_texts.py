"""What a notification says, in the reader's language.

Rows store only the kind; the text is looked up when shown (page or e-mail), so each reader
sees it in their own language and a later translation fix applies to old notices too.
"""
from flask_babel import lazy_gettext as _l

_TEXTS = {
    "case_assigned": _l("A case has been assigned to you."),
    "explanation_requested": _l("An explanation (说清楚) has been requested from your unit."),
    "explanation_submitted": _l("The unit has submitted its explanation."),
    "determination_made": _l("Responsibility has been determined; accept it or appeal within the window."),
    "appeal_decided": _l("The appeal has been decided."),
    "interview_scheduled": _l("A warning interview has been scheduled."),
    "interview_held": _l("A warning interview has been held; please acknowledge it."),
    "rectification_submitted": _l("A rectification has been submitted for verification."),
    "rectification_returned": _l("The rectification was returned; please revise and resubmit it."),
    "deadline_overdue": _l("A deadline of this case is overdue and has been escalated to you."),
}

_GENERIC = _l("There is news on a case.")


def notification_text(kind: str):
    """The translated (lazy) text of a notification kind; a generic text for unknown kinds."""
    return _TEXTS.get(kind, _GENERIC)


def case_path(number: str) -> str:
    """The case page's path, for e-mails written outside a request (no url_for host there)."""
    return f"/cases/{number}"


def notification_mail(kind: str, case) -> tuple:
    """Lazy subject and body of the e-mail for a notification; rendered in the reader's locale."""
    text = notification_text(kind)
    number = case.number if case is not None else ""
    subject = _l("[%(number)s] %(text)s", number=number, text=text)
    body = _l(
        "%(text)s\n\nCase: %(number)s\nSummary: %(summary)s\nOpen the case: %(link)s\n",
        text=text,
        number=number,
        summary=case.summary if case is not None else "",
        link=case_path(number) if number else "/notifications",
    )
    return subject, body
