"""Evidence (API.md): upload a file to a case, list a case's files, download one.

Uploads are ``multipart/form-data`` with a ``file`` part and an optional ``note`` field. webargs
reads one location per schema and flask-smorest documents one request body, so a ``multipart``
location (files and form fields together) is added to this blueprint's parser.
"""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowValidationError
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema, list_schema
from tracker.cases.evidence import (
    ALLOWED_CONTENT_TYPES,
    NOTE_MAX_LENGTH,
    attachments_of,
    open_attachment,
    store_attachment,
)
from tracker.cases.evidence_routes import send_attachment
from tracker.cases.queries import get_case_for
from tracker.core.web import UNSTORABLE, UNSTORABLE_MESSAGE
from tracker.extensions import db


class MultipartParser(FlaskParser):
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class EvidenceBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


blp = EvidenceBlueprint("api_evidence", __name__, url_prefix="/api/v1", description="Evidence files")


class FilePart(Upload):
    """A file part of the multipart body (a plain form field of the same name is refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage) or not value.filename:
            raise MarshmallowValidationError(_("Send the file as a file part with a file name."))
        return value


def _storable(value):
    """A multipart body is read after authentication, so tracker.core.web does not screen it."""
    if UNSTORABLE.search(value):
        raise MarshmallowValidationError(UNSTORABLE_MESSAGE)


class AttachmentUploadSchema(Schema):
    file = FilePart(required=True, error_messages={"required": _l("Choose a file to upload.")})
    note = fields.String(load_default="", validate=[validate.Length(max=NOTE_MAX_LENGTH), _storable])


class AttachmentSchema(Schema):
    id = fields.Integer()
    case_number = fields.Function(lambda a: a.case.number)
    name = fields.String(attribute="original_name")
    size = fields.Integer()
    content_type = fields.String()
    sha256 = fields.String()
    note = fields.String()
    uploaded_at = fields.DateTime()
    # A mystery shopper's evidence names them by pseudonym to those who may not know them.
    uploaded_by = fields.Function(lambda a: _uploader(a))
    url = fields.Function(lambda a: url_for("api_evidence.download_attachment", attachment_id=a.id))


def _uploader(attachment):
    from tracker.audits.permissions import uploader_display

    label = uploader_display(api_user(), attachment)
    return None if label is None else (label.username or label.display)


class AttachmentEnvelopeSchema(Schema):
    attachment = fields.Nested(AttachmentSchema)


@blp.route("/cases/<number>/attachments", methods=["POST"])
@blp.doc(
    security=SECURITY,
    description="Attach a file (at most `ATTACHMENT_MAX_BYTES`, 20 MiB by default) to the case. The type is "
    "detected from the content: JPEG, PNG, GIF, WebP, HEIC, MP3, M4A/MP4 audio, WAV, AMR, OGG, PDF, DOCX, "
    "XLSX, PPTX. 413 too_large when the file or the request is too large; 422 validation_error for a "
    "missing, empty or refused file.",
)
@blp.response(201, AttachmentEnvelopeSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such case in the caller's scope")
@blp.alt_response(413, schema=ErrorSchema, description="Too large")
# Authenticate before the body is parsed: no anonymous request gets its upload spooled.
@token_required
@blp.arguments(AttachmentUploadSchema, location="multipart")
def upload_attachment(body, number):
    user = api_user()
    case = get_case_for(user, number)
    attachment = store_attachment(case, actor=user, file_storage=body["file"], note=body["note"])
    db.session.commit()
    return {"attachment": attachment}


@blp.route("/cases/<number>/attachments")
@blp.doc(security=SECURITY)
@blp.response(200, list_schema(AttachmentSchema, "AttachmentList"))
@blp.alt_response(404, schema=ErrorSchema)
@token_required
def list_attachments(number):
    """The case's evidence files, oldest first (all of them: ``next_cursor`` is always null)."""
    user = api_user()
    return {"items": attachments_of(user, get_case_for(user, number)), "next_cursor": None}


@blp.route("/attachments/<int:attachment_id>")
@blp.doc(
    security=SECURITY,
    responses={"200": {
        "description": "The file, as an attachment under its original name, with the content type detected "
        "when it was uploaded",
        "content": {content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in sorted(ALLOWED_CONTENT_TYPES)},
    }},
)
@blp.alt_response(404, schema=ErrorSchema, description="No such file in the caller's scope")
@token_required
def download_attachment(attachment_id):
    attachment, path = open_attachment(api_user(), attachment_id)
    return send_attachment(attachment, path)
