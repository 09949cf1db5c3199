"""Flask-Login wiring. The session stores "id:session_version", so bumping the version ends it.

Sessions also end after a period without requests (idle timeout) and a fixed time after
login (absolute timeout), both configurable.
"""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from tracker.core.database import utcnow

from tracker.accounts.models import User
from tracker.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id: str):
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


_STARTED, _SEEN = "_started", "_seen"
# Refreshing the "last seen" time on every request would rewrite the cookie every time.
_SEEN_RESOLUTION_SECONDS = 60


def start_session(user) -> None:
    """A fresh session for a user who just proved who they are (nothing from before carries over)."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[_STARTED] = session[_SEEN] = utcnow().timestamp()


def _session_expired(now: float) -> bool:
    config = current_app.config
    started, seen = session.get(_STARTED), session.get(_SEEN)
    if started is None or now - started > config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds():
        return True
    return seen is not None and now - seen > config["SESSION_IDLE_TIMEOUT"].total_seconds()


def _enforce_session_timeouts():
    if "_user_id" not in session or request.path.startswith(("/static/", "/bootstrap/")):
        return None
    now = utcnow().timestamp()
    if _session_expired(now):
        logout_user()
        session.clear()
        flash(_l("Your session has expired. Please log in again."), "warning")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if now - session.get(_SEEN, 0) > _SEEN_RESOLUTION_SECONDS:
        session[_SEEN] = now
    return None


def init_app(app):
    app.before_request(_enforce_session_timeouts)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.unauthorized_handler
    def _unauthorized():
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
