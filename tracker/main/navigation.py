"""The navigation bar: each entry shows when its permission predicate allows it."""
from flask_babel import lazy_gettext as _l

from tracker.core import permissions as perms

NAV_ITEMS = [
    ("main.index", _l("Home"), lambda user: True),
    ("units.index", _l("Units"), perms.can_manage_units),
    ("accounts.users", _l("Users"), perms.can_manage_users),
]


def nav_items_for(user):
    return [(endpoint, label) for endpoint, label, allowed in NAV_ITEMS if allowed(user)]
