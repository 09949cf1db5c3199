"""Who may act on accounts."""
from tracker.core.permissions import can_manage_users, is_admin


def can_edit_user(actor, user):
    return can_manage_users(actor)


def can_disable_user(actor, user):
    # An administrator cannot lock themselves out of the system by accident.
    return is_admin(actor) and actor.id != user.id
