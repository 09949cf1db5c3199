"""In-app notifications of new tasks.

Operations call ``notify`` inside their transaction; the rows commit with the change, and
e-mail (when configured) goes out only after that commit.
"""
from sqlalchemy import select

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.cases.models import Notification
from tracker.cases.notification_texts import notification_mail
from tracker.core.mail import queue_mail
from tracker.extensions import db
from tracker.units.models import Unit


def unit_heads_for(unit: Unit) -> list[User]:
    """The heads of the unit, or of the nearest unit above it that has any."""
    ids = [unit.id, *reversed(unit.ancestor_ids)]  # the unit first, then upwards
    heads = db.session.scalars(
        select(User).where(User.role == Role.unit_head, User.active.is_(True), User.unit_id.in_(ids))
    ).all()
    for unit_id in ids:
        found = [h for h in heads if h.unit_id == unit_id]
        if found:
            return found
    return []


def parent_unit_heads(unit: Unit) -> list[User]:
    return unit_heads_for(unit.parent) if unit.parent is not None else []


def notify(users, kind: str, case) -> None:
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, case=case, kind=kind))
        subject, body = notification_mail(kind, case)
        # Sent only if this transaction commits (tracker.core.mail).
        queue_mail(db.session, to=user.email, locale=user.locale, subject=subject, body=body)
