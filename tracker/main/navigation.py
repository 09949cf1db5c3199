"""The navigation bar: each entry shows when its permission predicate allows it."""
from flask_babel import lazy_gettext as _l

from tracker.core import permissions as perms

NAV_ITEMS = [
    ("main.index", _l("Home"), lambda user: True),
    ("inbox.index", _l("Inbox"), perms.is_staff),
    ("inbox.notifications", _l("Notifications"), lambda user: user.is_authenticated),
    ("cases.index", _l("Cases"), perms.is_staff),
    ("cases.create", _l("New complaint"), perms.is_supervisor),
    ("imports.upload", _l("Import 95598"), perms.is_supervisor),
    ("audits.index", _l("Audits"), perms.is_staff),
    ("reports.dashboard", _l("Dashboard"), perms.is_staff),
    ("reports.unit_report_form", _l("Reports"), perms.is_staff),
    ("cases.verify_history", _l("Verify history"), lambda user: perms.is_supervisor(user) or perms.is_admin(user)),
    ("units.index", _l("Units"), perms.can_manage_units),
    ("accounts.users", _l("Users"), perms.can_manage_users),
    ("catalogue.index", _l("Violation catalogue"), perms.can_manage_catalogue),
    ("settings.deadlines", _l("Deadlines"), perms.can_manage_settings),
    ("settings.calendar", _l("Calendar"), perms.can_manage_settings),
    ("audits.templates", _l("Checklists"), perms.can_manage_checklists),
    ("scorecards.index", _l("Scorecards"), perms.is_staff),
    ("planning.index", _l("Audit plans"), lambda user: perms.is_supervisor(user) or perms.is_admin(user)),
    ("portal.index", _l("Portal"), perms.is_external),
    ("bulletins.index", _l("Bulletins"), lambda user: user.is_authenticated),
    ("bulletins.feedback_inbox", _l("Feedback"), perms.is_supervisor),
    ("main.help_page", _l("Help"), lambda user: True),
]


def nav_items_for(user):
    return [(endpoint, label) for endpoint, label, allowed in NAV_ITEMS if allowed(user)]
