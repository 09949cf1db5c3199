"""The navigation bar: entries and groups, each entry shown when its permission predicate allows.

A group with no visible entry is left out; a group with one visible entry becomes that entry.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tracker.core import permissions as perms


def _supervisor_or_admin(user):
    return perms.is_supervisor(user) or perms.is_admin(user)


def _signed_in(user):
    return user.is_authenticated


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: object
    allowed: object


@dataclass(frozen=True)
class Group:
    label: object
    links: tuple


NAVIGATION = (
    Link("main.index", _l("Home"), _signed_in),
    Link("inbox.index", _l("Inbox"), perms.is_staff),
    Link("inbox.notifications", _l("Notifications"), _signed_in),
    Link("portal.index", _l("Portal"), perms.is_external),
    Group(_l("Cases"), (
        Link("cases.index", _l("Cases"), perms.is_staff),
        Link("cases.create", _l("New complaint"), perms.is_supervisor),
        Link("imports.upload", _l("Import 95598"), perms.is_supervisor),
        Link("cases.verify_history", _l("Verify history"), _supervisor_or_admin),
    )),
    Group(_l("Audits"), (
        Link("audits.index", _l("Audits"), perms.is_staff),
        Link("scorecards.index", _l("Scorecards"), perms.is_staff),
        Link("planning.index", _l("Audit plans"), _supervisor_or_admin),
    )),
    Group(_l("Reports"), (
        Link("reports.dashboard", _l("Dashboard"), perms.is_staff),
        Link("reports.unit_report_form", _l("Unit reports"), perms.is_staff),
        Link("bulletins.index", _l("Bulletins"), _signed_in),
        Link("bulletins.feedback_inbox", _l("Feedback"), perms.is_supervisor),
    )),
    Group(_l("Administration"), (
        Link("units.index", _l("Units"), perms.can_manage_units),
        Link("accounts.users", _l("Users"), perms.can_manage_users),
        Link("catalogue.index", _l("Violation catalogue"), perms.can_manage_catalogue),
        Link("audits.templates", _l("Checklists"), perms.can_manage_checklists),
        Link("settings.deadlines", _l("Deadlines"), perms.can_manage_settings),
        Link("settings.calendar", _l("Calendar"), perms.can_manage_settings),
    )),
    Link("main.help_page", _l("Help"), lambda user: True),
)


def nav_items_for(user):
    """[(label, [Link, ...]) or Link] visible to the user, in order."""
    items = []
    for entry in NAVIGATION:
        if isinstance(entry, Link):
            if entry.allowed(user):
                items.append(entry)
            continue
        links = [link for link in entry.links if link.allowed(user)]
        if len(links) == 1:
            items.append(links[0])
        elif links:
            items.append(Group(entry.label, tuple(links)))
    return items


def nav_endpoints_for(user):
    """Every endpoint the navigation offers the user, groups flattened."""
    endpoints = []
    for item in nav_items_for(user):
        endpoints.extend(link.endpoint for link in (item.links if isinstance(item, Group) else (item,)))
    return endpoints
