"""Evidence files: type by content, size caps, scope, names, history, web and API, no orphans."""
import hashlib
import io
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from flask import render_template
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token_from
from tracker.cases import evidence
from tracker.cases.evidence import FileTooLarge, UnsupportedFileType, clean_file_name, store_attachment
from tracker.cases.evidence_routes import evidence_context
from tracker.cases.models import Attachment
from tracker.cases.operations import register_case
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent
from tracker.extensions import db

# --- sample files -----------------------------------------------------------------------------


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes():
    """A valid 1×1 red PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + _png_chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(brand, *handlers):
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    tracks = b"".join(
        _box(b"trak", _box(b"mdia", _box(b"hdlr", b"\x00" * 8 + handler + b"\x00" * 13)))
        for handler in handlers
    )
    return ftyp + _box(b"moov", tracks) + _box(b"mdat", b"\x00" * 64)


def ooxml_bytes(main_part, main_type, extra=()):
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<document/>")
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx_bytes():
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "整改台账"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")  # looks like Word to a name-only check
    return buffer.getvalue()


OOXML = "application/vnd.openxmlformats-officedocument"
DOCX_MAIN = f"{OOXML}.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"

ACCEPTED = [
    ("照片.png", png_bytes(), "image/png"),
    ("scan.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "image/jpeg"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    ("photo.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp"),
    ("iphone.heic", mp4_bytes(b"heic"), "image/heic"),
    ("录音.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "audio/mpeg"),
    ("call.m4a", mp4_bytes(b"M4A ", b"soun"), "audio/mp4"),
    ("call.mp4", mp4_bytes(b"isom", b"soun"), "audio/mp4"),
    ("call.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32, "audio/wav"),
    ("call.amr", b"#!AMR\n" + b"\x00" * 32, "audio/amr"),
    ("call.ogg", b"OggS\x00\x02" + b"\x00" * 32, "audio/ogg"),
    ("报告.pdf", PDF, "application/pdf"),
    ("说明.docx", ooxml_bytes("word/document.xml", DOCX_MAIN), f"{OOXML}.wordprocessingml.document"),
    ("台账.xlsx", xlsx_bytes(), f"{OOXML}.spreadsheetml.sheet"),
    ("slides.pptx", ooxml_bytes("ppt/presentation.xml", f"{OOXML}.presentationml.presentation.main+xml"),
     f"{OOXML}.presentationml.presentation"),
]

REFUSED = [
    ("page.png", HTML),  # HTML renamed to .png
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("notes.txt", "只是文字".encode()),
    ("archive.zip", plain_zip()),
    ("macro.docm", ooxml_bytes("word/document.xml", DOCM_MAIN)),
    ("missing-part.docx", ooxml_bytes("word/document.xml", DOCX_MAIN)[:40] + b"\x00" * 40),  # broken zip
    ("clip.mp4", mp4_bytes(b"isom", b"vide", b"soun")),  # video is not on the list
    ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
]

# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Every file a test writes lands in its own temporary folder; the config is restored after."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


def stored_files(folder: Path):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def ev(org, make_user):
    """A registered case at the hall, and the people who look at it."""
    sup = make_user("supervisor", username="ev_sup", display_name="王监督")
    people = dict(
        sup=sup,
        head=make_user("unit_head", org.hall, username="ev_head", display_name="任班长"),
        station_head=make_user("unit_head", org.station, username="ev_station"),
        other_head=make_user("unit_head", org.other_station, username="ev_other"),
        external=make_user("external", username="ev_ext"),
        admin=make_user("admin", username="ev_admin"),
    )
    case, _ = register_case(actor=sup, channel=Channel.hotline_95598, unit=org.hall,
                            received_at=utcnow() - timedelta(hours=1), summary="营业厅拒收零钱，态度生硬")
    db.session.commit()
    return type("Evidence", (), dict(case=case, number=case.number, **people))


def upload(name, data):
    return FileStorage(stream=io.BytesIO(data), filename=name)


def api_upload(client, headers, number, name, data, note=""):
    return client.post(
        f"/api/v1/cases/{number}/attachments",
        data={"file": (io.BytesIO(data), name), "note": note},
        content_type="multipart/form-data",
        headers=headers,
    )


def download(client, url, **kwargs):
    """GET a file and close the response (the file handle behind it) before returning."""
    with client.get(url, **kwargs) as response:
        return response.status_code, response.headers, response.get_data()


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "content_type"), ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_allowed_types_are_detected_by_content(ev, uploads, name, data, content_type):
    attachment = store_attachment(ev.case, actor=ev.head, file_storage=upload(name, data))
    assert attachment.content_type == content_type
    assert attachment.size == len(data) and attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert (uploads / attachment.stored_name).read_bytes() == data


@pytest.mark.parametrize(("name", "data"), REFUSED, ids=[row[0] for row in REFUSED])
def test_other_content_is_refused_whatever_the_name(ev, uploads, name, data):
    with pytest.raises(UnsupportedFileType) as refused:
        store_attachment(ev.case, actor=ev.head, file_storage=upload(name, data))
    assert refused.value.status == 422 and refused.value.code == "validation_error"
    assert "file" in refused.value.fields
    assert stored_files(uploads) == []  # the temporary copy is gone too


def test_empty_missing_and_oversize_files_are_refused(ev, uploads, app, monkeypatch):
    with pytest.raises(ValidationError) as empty:
        store_attachment(ev.case, actor=ev.head, file_storage=upload("empty.png", b""))
    assert "file" in empty.value.fields
    with pytest.raises(ValidationError):
        store_attachment(ev.case, actor=ev.head, file_storage=None)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 100)
    with pytest.raises(FileTooLarge) as large:
        store_attachment(ev.case, actor=ev.head, file_storage=upload("big.pdf", PDF + b" " * 100))
    assert large.value.status == 413 and large.value.code == "too_large"
    store_attachment(ev.case, actor=ev.head, file_storage=upload("exact.pdf", PDF.ljust(100)))  # at the cap
    assert len(stored_files(uploads)) == 1


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("现场照片（营业厅）.jpg", "现场照片（营业厅）.jpg"),
    ("../../etc/passwd.png", "passwd.png"),
    ("C:\\Users\\王\\Desktop\\录音.m4a", "录音.m4a"),
    ("bad\x00na\x1bme\n.pdf", "badname.pdf"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),  # no right-to-left override spoofing the extension
    ("..", "attachment"),
    ("", "attachment"),
    ("长" * 300 + ".pdf", "长" * 251 + ".pdf"),
])
def test_original_names_are_kept_for_display_only(raw, shown):
    assert clean_file_name(raw) == shown


def test_path_traversal_name_cannot_choose_the_location(ev, uploads):
    hostile = upload("../../etc/passwd.png", png_bytes())
    attachment = store_attachment(ev.case, actor=ev.head, file_storage=hostile)
    assert attachment.original_name == "passwd.png"
    year, month, token = attachment.stored_name.split("/")
    assert len(year) == 4 and len(month) == 2 and len(token) == 32 and int(token, 16) >= 0
    assert stored_files(uploads) == [uploads / attachment.stored_name]


# --- history and transactions -----------------------------------------------------------------


def test_history_event_and_case_timestamp(ev):
    before_updated = ev.case.updated_at
    attachment = store_attachment(ev.case, actor=ev.head, file_storage=upload("报告.pdf", PDF), note="现场记录")
    event = db.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.case_id == ev.case.id, HistoryEvent.action == "attach_evidence")
    ).one()
    assert event.actor_id == ev.head.id and event.subject == f"case:{ev.number}"
    assert event.data == {"attachment_id": attachment.id, "name": "报告.pdf", "size": len(PDF),
                          "sha256": hashlib.sha256(PDF).hexdigest(), "content_type": "application/pdf"}
    assert ev.case.updated_at > before_updated
    assert attachment.note == "现场记录" and attachment.uploaded_by_id == ev.head.id


def test_rolled_back_upload_leaves_no_file_and_committed_one_stays(ev, uploads):
    store_attachment(ev.case, actor=ev.head, file_storage=upload("a.pdf", PDF))
    assert len(stored_files(uploads)) == 1
    db.session.rollback()
    assert stored_files(uploads) == []
    kept = store_attachment(ev.case, actor=ev.head, file_storage=upload("b.pdf", PDF))
    db.session.commit()
    db.session.rollback()  # a later, unrelated rollback does not touch committed files
    assert stored_files(uploads) == [uploads / kept.stored_name]


def test_who_may_upload(ev, org):
    for user in (ev.sup, ev.head, ev.station_head):
        store_attachment(ev.case, actor=user, file_storage=upload("p.png", png_bytes()))
    for user in (ev.other_head, ev.external):
        with pytest.raises(NotFound):
            store_attachment(ev.case, actor=user, file_storage=upload("p.png", png_bytes()))
    with pytest.raises(PermissionDenied):
        store_attachment(ev.case, actor=ev.admin, file_storage=upload("p.png", png_bytes()))


# --- API --------------------------------------------------------------------------------------


def test_api_upload_list_and_download(client, ev, api_token, uploads):
    headers = api_token(ev.head.username)
    response = api_upload(client, headers, ev.number, "营业厅现场照片.png", png_bytes(), note="客户提供")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["attachment"]
    expected = {"id", "name", "size", "content_type", "sha256", "note", "uploaded_at", "uploaded_by"}
    assert expected <= body.keys()
    assert body["name"] == "营业厅现场照片.png" and body["content_type"] == "image/png"
    assert body["size"] == len(png_bytes()) and body["sha256"] == hashlib.sha256(png_bytes()).hexdigest()
    assert body["note"] == "客户提供" and body["uploaded_by"] == ev.head.username
    assert body["uploaded_at"].endswith("+00:00")

    pdf = api_upload(client, headers, ev.number, "报告.pdf", PDF).get_json()["attachment"]
    listed = client.get(f"/api/v1/cases/{ev.number}/attachments", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"], pdf["id"]]
    assert listed["next_cursor"] is None

    status, response_headers, data = download(client, f"/api/v1/attachments/{pdf['id']}", headers=headers)
    assert status == 200 and data == PDF
    assert response_headers["Content-Type"] == "application/pdf"
    disposition = response_headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('报告.pdf')}" in disposition
    assert response_headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response_headers["Cache-Control"]


@pytest.mark.parametrize(("name", "data"), [("page.png", HTML), ("empty.png", b""), ("notes.txt", b"text")])
def test_api_refuses_wrong_type_and_empty_file_with_422(client, ev, api_token, uploads, name, data):
    response = api_upload(client, api_token(ev.head.username), ev.number, name, data)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["fields"]["file"]
    assert stored_files(uploads) == []


def test_api_missing_file_is_422(client, ev, api_token):
    headers = api_token(ev.head.username)
    response = client.post(f"/api/v1/cases/{ev.number}/attachments", data={"note": "没有文件"},
                           content_type="multipart/form-data", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"]["fields"]["file"]
    response = client.post(f"/api/v1/cases/{ev.number}/attachments", data={"file": "not a file part"},
                           content_type="multipart/form-data", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"]["fields"]["file"]


def test_api_oversize_is_413_for_file_and_request(client, ev, api_token, app, monkeypatch, uploads):
    headers = api_token(ev.head.username)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    response = api_upload(client, headers, ev.number, "big.pdf", PDF + b" " * 2000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    # Over Flask's MAX_CONTENT_LENGTH Werkzeug refuses the request before the view: same envelope.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1500)
    response = api_upload(client, headers, ev.number, "bigger.pdf", PDF + b" " * 4000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert stored_files(uploads) == []


def test_api_scope_roles_and_tokens(client, ev, api_token):
    own = api_upload(client, api_token(ev.head.username), ev.number, "p.png", png_bytes())
    url = f"/api/v1/attachments/{own.get_json()['attachment']['id']}"
    assert api_upload(client, {}, ev.number, "p.png", png_bytes()).status_code == 401
    assert download(client, url)[0] == 401
    for username in (ev.other_head.username, ev.external.username):
        headers = api_token(username)
        refused = api_upload(client, headers, ev.number, "p.png", png_bytes())
        assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
        # Outside the scope the file answers exactly like an id that does not exist.
        outside = download(client, url, headers=headers)
        missing = download(client, "/api/v1/attachments/999999", headers=headers)
        assert outside[0] == missing[0] == 404 and outside[2] == missing[2]
    admin = api_token(ev.admin.username)
    assert api_upload(client, admin, ev.number, "p.png", png_bytes()).status_code == 403
    assert download(client, url, headers=admin)[0] == 200
    assert download(client, url, headers=api_token(ev.station_head.username))[0] == 200


# --- web --------------------------------------------------------------------------------------


def web_upload(client, number, name, data, note=""):
    return client.post(f"/cases/{number}/attachments", data={"file": (io.BytesIO(data), name), "note": note},
                       content_type="multipart/form-data")


def test_web_upload_and_download_with_chinese_name(client, auth, ev, uploads):
    auth.login(ev.head.username)
    response = web_upload(client, ev.number, "整改通知书.pdf", PDF, note="盖章版")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{ev.number}")
    attachment = db.session.scalars(select(Attachment).where(Attachment.case_id == ev.case.id)).one()
    assert attachment.original_name == "整改通知书.pdf" and attachment.note == "盖章版"
    with client.session_transaction() as session:
        assert [category for category, _ in session["_flashes"]] == ["success"]

    status, headers, data = download(client, f"/attachments/{attachment.id}")
    assert status == 200 and data == PDF and headers["Content-Type"] == "application/pdf"
    assert f"filename*=UTF-8''{quote('整改通知书.pdf')}" in headers["Content-Disposition"]


def test_web_refusals_are_flashed_and_nothing_is_stored(client, auth, ev, uploads):
    auth.login(ev.head.username)
    for name, data in [("page.png", HTML), ("empty.png", b"")]:
        response = web_upload(client, ev.number, name, data)
        assert response.status_code == 302
    response = client.post(f"/cases/{ev.number}/attachments", data={"note": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert [category for category, _ in session["_flashes"]] == ["danger"] * 3
    assert db.session.scalars(select(Attachment)).all() == [] and stored_files(uploads) == []


def test_web_scope(client, auth, ev):
    attachment = store_attachment(ev.case, actor=ev.head, file_storage=upload("p.png", png_bytes()))
    db.session.commit()
    for user in (ev.other_head, ev.external):
        auth.login(user.username)
        assert web_upload(client, ev.number, "p.png", png_bytes()).status_code == 404
        assert download(client, f"/attachments/{attachment.id}")[0] == 404
        assert download(client, "/attachments/999999")[0] == 404
        auth.logout()
    auth.login(ev.admin.username)
    assert web_upload(client, ev.number, "p.png", png_bytes()).status_code == 403
    auth.logout()
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]  # anonymous
    assert len(db.session.scalars(select(Attachment)).all()) == 1


def test_web_upload_requires_csrf_token(client, auth, ev, app, monkeypatch):
    auth.login(ev.head.username)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert web_upload(client, ev.number, "p.png", png_bytes()).status_code == 400
    token = csrf_token_from(client.get("/", follow_redirects=True).get_data(as_text=True))
    response = client.post(f"/cases/{ev.number}/attachments", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(png_bytes()), "p.png")})
    assert response.status_code == 302
    assert len(db.session.scalars(select(Attachment)).all()) == 1


def test_partial_lists_files_and_offers_the_form_only_to_uploaders(app, ev):
    store_attachment(ev.case, actor=ev.head, file_storage=upload("录音.m4a", mp4_bytes(b"M4A ", b"soun")),
                     note="通话录音")
    with app.test_request_context():
        html = render_template("cases/_evidence.html", case=ev.case, **evidence_context(ev.head, ev.case))
        assert "录音.m4a" in html and "通话录音" in html and "任班长" in html
        assert 'enctype="multipart/form-data"' in html and 'accept="' in html and ".pdf" in html
        assert "style=" not in html and "<script" not in html
        admin_view = evidence_context(ev.admin, ev.case)
        assert admin_view["evidence_form"] is None and len(admin_view["attachments"]) == 1
        with pytest.raises(NotFound):
            evidence_context(ev.other_head, ev.case)


def test_upload_folder_defaults_to_the_instance_folder(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", None)
    with app.app_context():
        assert evidence.upload_root() == (Path(app.instance_path) / "uploads").resolve()
        assert "static" not in evidence.upload_root().parts


def test_case_page_shows_the_evidence(client, auth, ev):
    store_attachment(ev.case, actor=ev.head, file_storage=upload("现场照片.png", png_bytes()))
    db.session.commit()
    auth.login(ev.head.username)
    html = client.get(f"/cases/{ev.number}").get_data(as_text=True)
    assert "现场照片.png" in html and f'action="/cases/{ev.number}/attachments"' in html
