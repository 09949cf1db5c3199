"""Marking notifications read. Flush, never commit (STYLE.md §5)."""
from sqlalchemy import update

from tracker.cases.models import Notification
from tracker.core.database import utcnow
from tracker.extensions import db


def mark_all_read(*, actor) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def mark_read(notification, *, actor) -> None:
    if notification.user_id != actor.id:
        raise ValueError("a notification is marked read only by its reader")
    if notification.read_at is None:
        notification.read_at = utcnow()
