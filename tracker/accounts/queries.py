"""Reads about accounts."""
from flask import current_app
from sqlalchemy import select

from tracker.accounts.models import User
from tracker.extensions import db


def demo_accounts():
    """The demo accounts that exist and are active, in the order seed-demo lists them, for the
    login page of a demo installation (empty in production or when none were seeded)."""
    if not current_app.config.get("SHOW_DEMO_ACCOUNTS"):
        return []
    from tracker.seed.data_org import DEMO_USERS

    names = [spec["username"] for spec in DEMO_USERS]
    found = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names), User.active.is_(True)))}
    return [found[name] for name in names if name in found]
