"""Import of 95598 work orders on the web: upload → preview (nothing saved) → confirm (all or nothing).

The uploaded file waits under ``instance/imports/<random token>``; the token lives in the user's
session together with the user's id, so only the person who uploaded it can confirm it, and the
confirmation imports exactly the file that was previewed, never a new upload. Supervisors only.
"""
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired

from tracker.core.errors import DomainError
from tracker.core.permissions import is_supervisor
from tracker.extensions import db
from tracker.reports.importer import (
    MIB,
    ImportLimits,
    ImportRefused,
    RowStatus,
    discard_upload,
    import_work_orders,
    preview_import,
    purge_expired,
    stored_path,
    store_upload,
)

bp = Blueprint("imports", __name__)

SESSION_KEY = "import_95598"
ROWS_SHOWN = 500


class UploadForm(FlaskForm):
    file = FileField(
        _l("Work-order file (.xlsx or .csv)"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        render_kw={"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"},
    )
    submit = SubmitField(_l("Upload and check"))


class PendingForm(FlaskForm):
    """Confirm or cancel the upload waiting in the session; the token must be that one."""

    token = HiddenField(validators=[DataRequired()])


@bp.before_request
@login_required
def _supervisors_only():
    if not is_supervisor(current_user):
        abort(403)


def _ttl_seconds() -> float:
    return current_app.config["IMPORT_FILE_TTL"].total_seconds()


def _pending():
    """The current user's waiting upload as (token, name), or None (missing, someone else's, expired)."""
    entry = session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("user_id") != current_user.id:
        return None
    path = stored_path(entry.get("token"))
    if path is None or not path.is_file() or time.time() - entry.get("at", 0) > _ttl_seconds():
        _forget()
        return None
    return entry["token"], entry.get("name", "")


def _forget():
    entry = session.pop(SESSION_KEY, None)
    if isinstance(entry, dict) and entry.get("token"):
        discard_upload(entry["token"])


@bp.route("/imports/95598", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    limits = ImportLimits.from_config()
    status = 200
    if form.validate_on_submit():
        _forget()  # a new upload replaces the one waiting
        purge_expired(_ttl_seconds())
        try:
            token = store_upload(form.file.data.stream, limits)
        except DomainError as error:
            form.file.errors = [*form.file.errors, error.message]
            status = error.status
        else:
            session[SESSION_KEY] = {
                "token": token, "user_id": current_user.id, "at": time.time(),
                "name": (form.file.data.filename or "")[-120:],
            }
            return redirect(url_for(".preview"))
    elif form.is_submitted():
        status = 422
    return render_template("imports/upload.html", form=form, pending=_pending(), limits=limits, mib=MIB), status


def _render_preview(token, name, preview, status=200):
    return render_template(
        "imports/preview.html", preview=preview, name=name, form=PendingForm(token=token),
        rows=preview.rows_to_show(ROWS_SHOWN), rows_shown=ROWS_SHOWN, RowStatus=RowStatus,
    ), status


@bp.route("/imports/95598/preview")
def preview():
    pending = _pending()
    if pending is None:
        flash(_("No file is waiting to be imported. Upload one."), "info")
        return redirect(url_for(".upload"))
    token, name = pending
    return _render_preview(token, name, preview_import(current_user, stored_path(token)))


def _pending_from_form():
    form = PendingForm()
    pending = _pending()
    if not form.validate_on_submit() or pending is None or form.token.data != pending[0]:
        flash(_("This upload is no longer waiting to be imported. Upload the file again."), "warning")
        return None
    return pending


@bp.route("/imports/95598/confirm", methods=["POST"])
def confirm():
    pending = _pending_from_form()
    if pending is None:
        return redirect(url_for(".upload"))
    token, name = pending
    try:
        result = import_work_orders(current_user, stored_path(token))
    except ImportRefused as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return _render_preview(token, name, error.preview, status=422)
    except BaseException:
        db.session.rollback()  # all or nothing, whatever went wrong
        raise
    db.session.commit()
    _forget()
    flash(_("%(created)s work orders imported; %(skipped)s already imported were skipped.",
            created=result.created, skipped=result.skipped), "success")
    return redirect(url_for("cases.index", channel="hotline_95598"))


@bp.route("/imports/95598/cancel", methods=["POST"])
def cancel():
    if _pending_from_form() is not None:
        _forget()
        flash(_("The upload was discarded; nothing was imported."), "info")
    return redirect(url_for(".upload"))
