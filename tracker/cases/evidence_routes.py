"""Evidence on the web: the upload form posted from the case page, and downloads. Thin views.

The case page includes ``cases/_evidence.html`` with ``evidence_context(user, case)``.
"""
from flask import Blueprint, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from tracker.cases.evidence import (
    ACCEPT_ATTRIBUTE,
    NOTE_MAX_LENGTH,
    attachments_of,
    human_size,
    open_attachment,
    store_attachment,
)
from tracker.cases.permissions import can_upload_evidence
from tracker.cases.queries import get_case_for
from tracker.core.errors import DomainError, PermissionDenied
from tracker.extensions import db

bp = Blueprint("evidence", __name__)


class EvidenceForm(FlaskForm):
    """The shape of an upload; size and type are decided by ``store_attachment`` from the bytes."""

    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        render_kw={"accept": ACCEPT_ATTRIBUTE},
    )
    note = StringField(_l("Note"), validators=[Length(max=NOTE_MAX_LENGTH)])
    submit = SubmitField(_l("Upload evidence"))


def evidence_context(user, case) -> dict:
    """What ``cases/_evidence.html`` needs: the case's files and, if the user may add one, the form."""
    from tracker.audits.permissions import uploader_display

    return {
        "attachments": attachments_of(user, case),
        "evidence_form": EvidenceForm() if can_upload_evidence(user, case) else None,
        # Evidence from a mystery shop names its uploader only by pseudonym to the unit.
        "uploader_of": lambda attachment: uploader_display(user, attachment),
    }


@bp.app_template_filter("filesize")
def filesize_filter(size):
    return human_size(int(size or 0))


def send_attachment(attachment, path):
    """The file as a download under its original name (RFC 5987 ``filename*`` for Chinese)."""
    response = send_file(
        path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.original_name
    )
    # Personal data: not kept in shared caches; never rendered as a page even if a browser tried.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/cases/<number>/attachments", methods=["POST"])
@login_required
def upload(number):
    case = get_case_for(current_user, number)
    if not can_upload_evidence(current_user, case):
        raise PermissionDenied(_l("You cannot add evidence to this case."))
    form = EvidenceForm()
    if form.validate_on_submit():
        try:
            attachment = store_attachment(
                case, actor=current_user, file_storage=form.file.data, note=form.note.data
            )
        except DomainError as error:
            db.session.rollback()
            _flash_errors(form, error.fields or {"file": [error.message]})
        else:
            db.session.commit()
            flash(_("“%(name)s” has been added to the evidence.", name=attachment.original_name), "success")
    else:
        _flash_errors(form, form.errors)
    return redirect(url_for("cases.detail", number=case.number))


def _flash_errors(form, errors):
    """The case page shows a fresh form after the redirect, so refusals travel as messages."""
    for name, messages in errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None and name != "csrf_token" else None
        for message in messages:
            flash(f"{label}: {message}" if label else str(message), "danger")


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id):
    attachment, path = open_attachment(current_user, attachment_id)
    return send_attachment(attachment, path)
