"""The inbox and the notifications pages. Thin views."""
from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from tracker.accounts.forms import ConfirmForm
from tracker.cases.notification_texts import notification_text
from tracker.cases.permissions import can_view_case
from tracker.core.database import utcnow
from tracker.core.permissions import is_staff
from tracker.extensions import db
from tracker.inbox import operations as ops
from tracker.inbox.queries import (
    INBOX_LIMIT,
    clocks_due_in_scope,
    get_notification_for,
    inbox_items,
    notifications_of,
    unread_count,
)

bp = Blueprint("inbox", __name__)

NOTIFICATIONS_PER_PAGE = 30


@bp.app_context_processor
def _unread_context():
    def unread_notifications():
        # Counted once per request, however often the layout asks.
        if "_unread_notifications" not in g:
            g._unread_notifications = unread_count(current_user)
        return g._unread_notifications

    return {"unread_notifications": unread_notifications}


@bp.route("/inbox")
@login_required
def index():
    if not is_staff(current_user):
        abort(403)
    now = utcnow()
    items = inbox_items(current_user, now)
    clocks, clocks_total = clocks_due_in_scope(current_user, now)
    return render_template(
        "inbox/index.html",
        items=items[:INBOX_LIMIT],
        more=max(len(items) - INBOX_LIMIT, 0),
        clocks=clocks,
        more_clocks=max(clocks_total - len(clocks), 0),
    )


@bp.route("/notifications")
@login_required
def notifications():
    page = db.paginate(notifications_of(current_user), per_page=NOTIFICATIONS_PER_PAGE, error_out=False)
    return render_template(
        "inbox/notifications.html",
        page=page,
        text_of=notification_text,
        # A case the reader can no longer see (scope changed) is not named.
        can_view=lambda case: can_view_case(current_user, case),
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.mark_all_read(actor=current_user)
    db.session.commit()
    return redirect(url_for("inbox.notifications"))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id):
    notification = get_notification_for(current_user, notification_id)
    if notification is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.mark_read(notification, actor=current_user)
    db.session.commit()
    case = notification.case
    if case is None or not can_view_case(current_user, case):
        return redirect(url_for("inbox.notifications"))
    return redirect(url_for("cases.detail", number=case.number))
