"""Evidence (证据) files attached to a case: store, check, find. Shared by the web and the API.

Files live under ``UPLOAD_FOLDER`` (default ``instance/uploads``), outside static/, as
``<yyyy>/<mm>/<uuid4 hex>``: the stored name is generated, never derived from the upload, so a
hostile file name cannot choose where the bytes go. The original name is kept for display and
download only. They are served only through views that ask ``open_attachment`` (DESIGN.md §6).

The type is decided by the bytes, never by the name or the browser's Content-Type: magic numbers
through ``filetype``, and for the zip-based Office formats the package's own
``[Content_Types].xml`` (filetype only looks at the first zip entries' names).

Files and the transaction: the bytes are streamed to a temporary file in the target folder, checked,
then renamed to their final name before the row is flushed. The new path is remembered on the
database session; if that session's transaction ends without a commit (rollback, error, close),
the file is deleted again, so a refused or failed request leaves no orphan. What remains possible
is a crash of the process between the rename and the commit; such a file has no row and is never
served.
"""
import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

import filetype
from defusedxml import ElementTree as SafeElementTree
from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from tracker.cases.models import Attachment
from tracker.cases.permissions import can_upload_evidence, can_view_case
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from tracker.core.history import record_event
from tracker.extensions import db

CHUNK_SIZE = 64 * 1024
NOTE_MAX_LENGTH = 255
NAME_MAX_LENGTH = 255
FALLBACK_NAME = "attachment"


class FileTooLarge(DomainError):
    code = "too_large"
    status = 413
    default_message = _l("The file is too large.")


class UnsupportedFileType(ValidationError):
    default_message = _l(
        "This type of file cannot be attached. Allowed: photos (JPEG, PNG, GIF, WebP, HEIC), "
        "recordings (MP3, M4A, WAV, AMR, OGG), PDF and Word, Excel or PowerPoint documents."
    )


# --- types ------------------------------------------------------------------------------------

# What filetype detects → the content type we store and serve. Anything else is refused.
_DETECTED_TYPES = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/apng": "image/png",  # an animated PNG is still a PNG
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "image/heic": "image/heic",
    "audio/mpeg": "audio/mpeg",
    "audio/mp4": "audio/mp4",  # M4A brand
    "audio/x-wav": "audio/wav",
    "audio/amr": "audio/amr",
    "audio/ogg": "audio/ogg",
    "application/pdf": "application/pdf",
}

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# The content type of an OOXML package's main part → the document's type. The macro-enabled
# variants (.docm, .xlsm, .pptm) have other main types and are therefore refused.
_OOXML_MAIN_PARTS = {
    f"{DOCX}.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_CONTENT_TYPES_XML_MAX = 1024 * 1024
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"

ALLOWED_CONTENT_TYPES = frozenset(_DETECTED_TYPES.values()) | {DOCX, XLSX, PPTX}

# A hint for the browser's file picker only; the server decides by content.
ACCEPT_ATTRIBUTE = ",".join(
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".mp3", ".m4a", ".mp4", ".wav", ".amr", ".ogg",
     ".pdf", ".docx", ".xlsx", ".pptx"]
    + sorted(ALLOWED_CONTENT_TYPES)
)


def detect_content_type(path: Path) -> str | None:
    """The allowed content type of the file's bytes, or None if it is not one we accept."""
    with open(path, "rb") as stream:
        head = stream.read(8192)
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_type(path)
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime == "video/mp4":
        # Phones often record audio as MP4 with an "isom"/"mp42" brand; accept it when its only
        # tracks are sound tracks.
        return "audio/mp4" if _mp4_handlers(path) == {b"soun"} else None
    return _DETECTED_TYPES.get(kind.mime)


def _mp4_handlers(path: Path) -> set[bytes]:
    """Handler types of the tracks ('soun', 'vide', ...): the 4 bytes 12 after each 'hdlr' box tag."""
    data = path.read_bytes()  # at most ATTACHMENT_MAX_BYTES
    handlers, start = set(), 0
    while (index := data.find(b"hdlr", start)) != -1:
        handler = data[index + 12:index + 16]
        if len(handler) == 4 and handler.isalpha():
            handlers.add(handler)
        start = index + 4
    return handlers


def _ooxml_type(path: Path) -> str | None:
    """DOCX, XLSX or PPTX if the zip is an Office Open XML package whose main part is present."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_XML_MAX:
                return None
            with archive.open(info) as stream:
                root = SafeElementTree.fromstring(stream.read(_CONTENT_TYPES_XML_MAX + 1))
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError,
            ParseError, ValueError):
        # Not a zip, no content types, encrypted, unknown compression, bad or hostile XML.
        return None
    for override in root.iter(f"{_CONTENT_TYPES_NS}Override"):
        document_type = _OOXML_MAIN_PARTS.get(override.get("ContentType", ""))
        if document_type and override.get("PartName", "").lstrip("/") in names:
            return document_type
    return None


# --- names ------------------------------------------------------------------------------------

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, bidi overrides, surrogates, breaks


def clean_file_name(raw: str | None) -> str:
    """The uploaded name for display and download: no folders, no control or direction characters,
    at most 255 characters with the extension kept. Chinese and other scripts stay as they are."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = name.strip().lstrip(".").strip()
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = f"{stem[:NAME_MAX_LENGTH - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:NAME_MAX_LENGTH]
    return name or FALLBACK_NAME


# --- storage ----------------------------------------------------------------------------------


def upload_root() -> Path:
    configured = current_app.config.get("UPLOAD_FOLDER")
    root = Path(current_app.instance_path) / (configured or "uploads")  # an absolute path wins
    return root.resolve()


def _receive(stream, folder: Path, max_bytes: int):
    """Copy the upload into a temporary file in ``folder``, at most ``max_bytes``.

    Returns (temporary path, size, sha256 hex). Raises FileTooLarge; removes the file on any error.
    """
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=".part", delete=False)
    temp_path = Path(handle.name)
    try:
        with handle:
            if getattr(stream, "seekable", lambda: False)():
                stream.seek(0)
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(
                        _l("The file is larger than the limit of %(limit)s.", limit=human_size(max_bytes)),
                        field="file",
                    )
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return temp_path, size, digest.hexdigest()


def human_size(size: int) -> str:
    """1.5 MB, 320 KB, 12 B: for lists and messages, in the reader's number format."""
    if size < 1024:
        return _("%(n)s B", n=size)
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(size / 1024, 1)))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


_PENDING_FILES = "tracker.evidence.pending_files"


def _remember_new_file(path: Path) -> None:
    db.session.info.setdefault(_PENDING_FILES, []).append(str(path))


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session):
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted_files(session, transaction):
    """The outermost transaction ended without a commit: its new files have no row, delete them."""
    if transaction.parent is None:
        for name in session.info.pop(_PENDING_FILES, ()):
            Path(name).unlink(missing_ok=True)


# --- operations -------------------------------------------------------------------------------


def store_attachment(case, *, actor, file_storage, note="") -> Attachment:
    """Attach an uploaded file to the case as evidence; flush, never commit.

    Raises NotFound outside the actor's scope, PermissionDenied for roles that may not upload,
    ValidationError for a missing or empty file or a long note, FileTooLarge over
    ``ATTACHMENT_MAX_BYTES``, UnsupportedFileType when the bytes are not an allowed type.
    """
    if not can_view_case(actor, case):
        raise NotFound()
    if not can_upload_evidence(actor, case):
        raise PermissionDenied(_l("You cannot add evidence to this case."))
    attachment = _save_upload(actor=actor, file_storage=file_storage, note=note, case=case)
    case.updated_at = attachment.uploaded_at
    record_event(
        actor=actor,
        action="attach_evidence",
        subject=f"case:{case.number}",
        case=case,
        data=_event_data(attachment),
    )
    return attachment


def store_audit_attachment(result, *, actor, file_storage, note="") -> Attachment:
    """Attach evidence (photos, recordings) to one item result of an audit being recorded.

    Only the audit's author or a listed auditor, while it is a draft or returned; the audit's
    approval gives the evidence of a failed item to the case it opens or joins. Same checks
    and errors as ``store_attachment``.
    """
    from tracker.audits.permissions import can_view_audit, check_audit_action
    from tracker.audits.states import AuditAction

    audit = result.audit
    if not can_view_audit(actor, audit):
        raise NotFound()
    check_audit_action(actor, audit, AuditAction.record)
    attachment = _save_upload(actor=actor, file_storage=file_storage, note=note, audit_result_id=result.id)
    audit.updated_at = attachment.uploaded_at  # additive: the audit's version stays, no save is undone
    record_event(
        actor=actor,
        action="attach_evidence",
        subject=f"audit:{audit.id}",
        data={"item_code": result.item.code, **_event_data(attachment)},
    )
    return attachment


def _event_data(attachment) -> dict:
    return {"attachment_id": attachment.id, "name": attachment.original_name, "size": attachment.size,
            "sha256": attachment.sha256, "content_type": attachment.content_type}


def _save_upload(*, actor, file_storage, note, **owner) -> Attachment:
    """Check, store and record the upload for its owner (``case=`` or ``audit_result_id=``)."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(_l("At most %(n)s characters.", n=NOTE_MAX_LENGTH), field="note")
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise ValidationError(_l("Choose a file to upload."), field="file")

    now = utcnow()
    relative = f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
    final_path = upload_root() / relative
    temp_path, size, sha256 = _receive(
        file_storage.stream, final_path.parent, current_app.config["ATTACHMENT_MAX_BYTES"]
    )
    try:
        if size == 0:
            raise ValidationError(_l("The file is empty."), field="file")
        content_type = detect_content_type(temp_path)
        if content_type is None:
            raise UnsupportedFileType(field="file")
        os.replace(temp_path, final_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _remember_new_file(final_path)

    attachment = Attachment(
        **owner,
        stored_name=relative,
        original_name=clean_file_name(file_storage.filename),
        content_type=content_type,
        size=size,
        sha256=sha256,
        note=note,
        uploaded_by_id=actor.id,
        uploaded_at=now,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


# --- reads ------------------------------------------------------------------------------------


def attachments_of(user, case) -> list[Attachment]:
    """The case's evidence, oldest first; NotFound if the user may not see the case."""
    if not can_view_case(user, case):
        raise NotFound()
    return db.session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case.id)
        .options(selectinload(Attachment.uploaded_by))
        .order_by(Attachment.uploaded_at, Attachment.id)
    ).all()


def _may_see(user, attachment) -> bool:
    """Through its case; evidence of an audit item no case has received yet, through the audit."""
    if attachment.case_id is not None:
        return can_view_case(user, attachment.case)
    from tracker.audits.models import AuditResult
    from tracker.audits.permissions import can_view_audit

    result = db.session.get(AuditResult, attachment.audit_result_id)
    return result is not None and can_view_audit(user, result.audit)


def open_attachment(user, attachment_id) -> tuple[Attachment, Path]:
    """The attachment and its file if the user may see its case (or, for evidence of an audit
    item, its audit); otherwise NotFound, exactly as for an id that does not exist."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not _may_see(user, attachment):
        raise NotFound()
    root = upload_root()
    path = (root / attachment.stored_name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        current_app.logger.error("Evidence file of attachment %s is missing: %s", attachment.id, path)
        raise NotFound()
    return attachment, path
