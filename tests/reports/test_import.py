"""Import of 95598 work orders: preview with per-row errors, all or nothing, idempotent, hostile files."""
import csv
import io
import os
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.cases.conftest import people  # noqa: F401  (fixture)
from tests.test_query_counts import count_queries
from tracker.cases import operations as ops
from tracker.cases.models import Case
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.core.history import verify_chain
from tracker.extensions import db
from tracker.reports import importer
from tracker.reports.importer import ImportLimits, ImportRefused, RowStatus, import_work_orders, preview_import

BEIJING = ZoneInfo("Asia/Shanghai")
HEADERS = ["工单编号", "受理时间", "供电单位编码", "工单摘要", "诉求内容", "客户姓名", "联系电话", "用电地址"]


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path, monkeypatch):
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(folder))
    return folder


def _when(days_ago=1, fmt="%Y-%m-%d %H:%M"):
    moment = (utcnow() - timedelta(days=days_ago)).astimezone(BEIJING)
    return moment.strftime(fmt).replace("/0", "/")  # "2026/3/5 14:20", as Chinese Excel writes it


def _row(ref, unit="C-N-1-H", when=None, summary=None, **extra):
    return [ref, when if when is not None else _when(), unit, summary or f"客户反映营业厅服务态度差（{ref}）",
            extra.get("details", "营业员拒绝解释电费构成。"), extra.get("name", "王芳"),
            extra.get("phone", "13900001111"), extra.get("address", "城关镇解放路1号")]


def _good_rows(n=3, prefix="WO"):
    return [_row(f"{prefix}-{i:04d}") for i in range(1, n + 1)]


def _xlsx(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    return buffer.getvalue()


def _csv(rows, encoding="utf-8-sig", headers=HEADERS) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _count(channel=Channel.hotline_95598):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.channel == channel))


def _upload(client, data: bytes, name="工单.xlsx", **kwargs):
    return client.post("/imports/95598", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", **kwargs)


def _token(client):
    with client.session_transaction() as session:
        return session["import_95598"]["token"]


def _confirm(client, **kwargs):
    return client.post("/imports/95598/confirm", data={"token": _token(client)}, **kwargs)


@pytest.fixture
def supervisor(client, auth, org, people):
    db.session.commit()
    auth.login("sup_a")
    return people.sup


# --- the preview ------------------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True
    from openpyxl.xml import functions

    assert functions.iterparse.__module__.startswith("defusedxml")
    assert functions.fromstring.__module__.startswith("defusedxml")


def test_preview_shows_chinese_errors_by_row_and_column(client, supervisor):
    rows = [
        _row("WO-0001"),                                      # row 2: fine
        _row("WO-0002", when=_when(-2)),                      # row 3: in the future
        _row("WO-0003", unit="NOPE"),                         # row 4: unknown unit
        _row("", summary="没有工单编号"),                       # row 5: no number
        _row("WO-0001"),                                      # row 6: duplicate of row 2
        _row("WO-0006", summary="长" * 201),                  # row 7: summary too long
        _row("WO-0007", when="昨天下午"),                       # row 8: unreadable time
    ]
    response = _upload(client, _xlsx(rows))
    assert response.status_code == 302 and response.headers["Location"].endswith("/imports/95598/preview")
    before = _count()

    page = client.get("/imports/95598/preview").get_data(as_text=True)  # no Accept-Language: Chinese
    assert re.search(r'id="count-new">1<', page) and re.search(r'id="count-error">6<', page)

    def messages(line):
        block = page.split(f'id="row-{line}"', 1)[1].split("</tr>", 1)[0]
        return block

    assert "受理时间" in messages(3) and "受理时间不能晚于当前时间。" in messages(3)
    assert "供电单位编码" in messages(4) and "未知单位。" in messages(4)
    assert "工单编号" in messages(5) and "此项为必填项。" in messages(5)
    assert "工单编号" in messages(6) and "2" in messages(6)
    assert "工单摘要" in messages(7) and "最多 200 个字符。" in messages(7)
    assert "受理时间" in messages(8)
    assert 'class="table-danger"' not in messages(2)
    # The import button is disabled and nothing was saved.
    assert re.search(r'<button type="submit" class="btn btn-primary"\s+disabled', page)
    assert _count() == before


def test_row_errors_in_english(app_ctx, org, people, make_user):
    scoped = make_user("supervisor", org.north, username="sup_north")
    path = Path(importer.import_folder()) / ("x" * 32)
    path.write_bytes(_csv([_row("WO-1", unit="C-S-1"), _row("WO-2", when="2026-13-45 99:99")]))
    preview = preview_import(scoped, path)
    with force_locale("en"):
        lines = [(row, column, str(message)) for row, column, message in preview.error_lines()]
    assert lines == [
        (2, "供电单位编码", "The unit is outside your scope."),
        (3, "受理时间", "The time cannot be read. Write it as 2026-11-03 14:20."),
    ]


def test_english_headers_and_time_formats(app_ctx, org, people):
    from datetime import datetime

    excel_time = (utcnow() - timedelta(days=3)).astimezone(BEIJING).replace(tzinfo=None, second=0, microsecond=0)
    rows = [
        ["EN-1", _when(2, "%Y/%m/%d %H:%M"), "C-N-1-H", "Meter reader estimated the reading"],
        ["EN-2", excel_time, "C-N-1-T", "Repair crew arrived late"],
        ["EN-3", _when(1, "%Y-%m-%d %H:%M:%S"), "C-N-1", "Outage without notice"],
    ]
    path = Path(importer.import_folder()) / ("e" * 32)
    path.write_bytes(_xlsx(rows, headers=["Work order number", "Received at", "Unit code", "Summary"]))
    preview = preview_import(people.sup, path)
    assert preview.file_errors == [] and [row.status for row in preview.rows] == [RowStatus.new] * 3
    assert preview.rows[1].received_at == excel_time.replace(tzinfo=BEIJING)
    assert isinstance(preview.rows[0].received_at, datetime) and preview.rows[0].received_at.tzinfo is not None


def test_missing_columns_are_named(app_ctx, people):
    path = Path(importer.import_folder()) / ("m" * 32)
    path.write_bytes(_csv([["WO-1", "x"]], headers=["工单编号", "备注"]))
    with force_locale("zh_Hans_CN"):
        preview = preview_import(people.sup, path)
        assert not preview.can_import
        assert "受理时间、供电单位编码、工单摘要" in str(preview.file_errors[0])


# --- confirm: all or nothing, idempotent ------------------------------------------------------


def test_import_registers_every_row_in_one_go(client, supervisor, org):
    before = _count()
    _upload(client, _xlsx(_good_rows(3)))
    page = client.get("/imports/95598/preview").get_data(as_text=True)
    assert re.search(r'id="count-new">3<', page)
    response = _confirm(client)
    assert response.status_code == 302 and "channel=hotline_95598" in response.headers["Location"]
    assert _count() == before + 3
    case = db.session.scalar(select(Case).where(Case.external_ref == "WO-0002"))
    assert case.unit_id == org.hall.id and case.complainant_phone == "13900001111"
    assert case.summary == "客户反映营业厅服务态度差（WO-0002）" and case.created_by_id == supervisor.id
    # The file is gone once imported; the session forgot it.
    assert list(importer.import_folder().iterdir()) == []
    with client.session_transaction() as session:
        assert "import_95598" not in session


def test_the_pages_work_with_csrf_protection_on(client, org, people, app, monkeypatch):
    from tests.conftest import PASSWORD, csrf_token_from

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    db.session.commit()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "sup_a", "password": PASSWORD, "csrf_token": token}).status_code == 302
    token = csrf_token_from(client.get("/imports/95598").get_data(as_text=True))
    response = client.post("/imports/95598", data={"file": (io.BytesIO(_xlsx(_good_rows(2))), "a.xlsx"),
                                                   "csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/imports/95598/preview").get_data(as_text=True)
    assert len(re.findall(r'id="csrf_token"', page)) <= 1  # no duplicate ids across the two forms
    response = client.post("/imports/95598/confirm", data={"token": _token(client), "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and _count() == 2
    # Without the CSRF token the confirmation is refused.
    assert client.post("/imports/95598/confirm", data={"token": "A" * 32}).status_code == 400


def test_one_bad_row_imports_nothing(client, supervisor):
    before = _count()
    rows = _good_rows(4)
    rows[2][2] = "NOPE"
    _upload(client, _xlsx(rows))
    response = _confirm(client)
    assert response.status_code == 422  # the POST refuses, whatever the button said
    assert _count() == before
    assert "未知单位。" in response.get_data(as_text=True)


def test_a_failure_midway_rolls_back_every_row(client, supervisor, monkeypatch):
    """The database fails after the cases were written (in three flushes of two): none is kept."""
    before = _count()
    written = []

    def failing(events):
        written.append(db.session.scalar(
            select(func.count()).select_from(Case).where(Case.channel == Channel.hotline_95598)
        ))
        raise RuntimeError("database went away")

    monkeypatch.setattr(ops, "REGISTER_CHUNK", 2)
    monkeypatch.setattr(ops, "record_events", failing)
    _upload(client, _xlsx(_good_rows(5)))
    with pytest.raises(RuntimeError):
        _confirm(client)
    assert written == [before + 5]
    assert _count() == before  # the five registered before the failure were rolled back


def test_second_import_of_the_same_file_skips_everything(client, supervisor):
    data = _xlsx(_good_rows(3))
    _upload(client, data)
    _confirm(client)
    after_first = _count()

    _upload(client, data)
    page = client.get("/imports/95598/preview").get_data(as_text=True)
    assert re.search(r'id="count-new">0<', page) and re.search(r'id="count-existing">3<', page)
    response = _confirm(client, headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "0 work orders imported; 3 already imported were skipped." in response.get_data(as_text=True)
    assert _count() == after_first


def test_confirm_needs_the_token_of_the_previewed_upload(client, supervisor):
    before = _count()
    _upload(client, _xlsx(_good_rows(2)))
    response = client.post("/imports/95598/confirm", data={"token": "A" * 32})
    assert response.status_code == 302 and response.headers["Location"].endswith("/imports/95598")
    assert _count() == before
    # Cancelling discards the file.
    client.post("/imports/95598/cancel", data={"token": _token(client)})
    assert list(importer.import_folder().iterdir()) == []


def test_import_work_orders_refuses_while_any_row_is_wrong(app_ctx, org, people):
    path = Path(importer.import_folder()) / ("r" * 32)
    path.write_bytes(_csv([_row("WO-1"), _row("WO-2", unit="")]))
    before = _count()
    with pytest.raises(ImportRefused) as refused:
        import_work_orders(people.sup, path)
    assert refused.value.preview.count(RowStatus.error) == 1
    assert _count() == before


def _import_csv(actor, rows, name="i" * 32):
    path = Path(importer.import_folder()) / name
    path.write_bytes(_csv(rows))
    return import_work_orders(actor, path)


def test_the_result_names_the_first_and_last_case(app_ctx, org, people):
    ops.register_case(actor=people.sup, channel=Channel.hotline_95598, unit=org.hall,
                      received_at=utcnow() - timedelta(days=2), summary="已导入", external_ref="WO-0002")
    result = _import_csv(people.sup, _good_rows(4))
    assert (result.created, result.skipped) == (3, 1)
    numbers = {ref: number for ref, number in db.session.execute(select(Case.external_ref, Case.number))}
    assert (result.first_number, result.last_number) == (numbers["WO-0001"], numbers["WO-0004"])
    assert verify_chain().ok


def test_rows_registered_by_someone_else_since_the_preview_are_skipped(app_ctx, org, people, monkeypatch):
    ops.register_case(actor=people.sup, channel=Channel.hotline_95598, unit=org.hall,
                      received_at=utcnow() - timedelta(days=2), summary="别人先导入了", external_ref="WO-0003")
    monkeypatch.setattr(importer, "_existing_refs", lambda refs: {})  # the preview ran before that
    before = _count()
    result = _import_csv(people.sup, _good_rows(4))
    assert (result.created, result.skipped) == (3, 1)
    assert _count() == before + 3


def test_a_row_refused_at_registration_names_its_row(app_ctx, org, people):
    """The preview cannot know every rule: a receipt date the working-day calendar does not cover
    (the package starts in 2004) is refused when the clocks are started. Nothing is imported."""
    rows = _good_rows(4)
    rows[2][1] = "2003-06-02 10:00"  # row 4 of the file
    before = _count()
    with pytest.raises(ImportRefused) as refused:
        _import_csv(people.sup, rows)
    preview = refused.value.preview
    with force_locale("en"):
        lines = [(row, column, str(message)) for row, column, message in preview.error_lines()]
    assert lines == [
        (4, "工单编号", "The working-day calendar does not cover 2003; ask the administrator to enter the "
                       "official holidays of 2003 and declare the year on the calendar settings page."),
    ]
    assert _count() == before


def test_the_number_of_statements_does_not_grow_with_the_rows(app_ctx, org, people):
    _import_csv(people.sup, _good_rows(3, prefix="WARM"), name="w" * 32)
    with count_queries() as small:
        assert _import_csv(people.sup, _good_rows(10, prefix="S"), name="s" * 32).created == 10
    with count_queries() as large:
        assert _import_csv(people.sup, _good_rows(200, prefix="L"), name="l" * 32).created == 200
    assert len(large) <= len(small) + 2, "\n".join(large)


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_and_gb18030(app_ctx, org, people, encoding):
    rows = [_row("CSV-1", summary="抄表员估抄电量，电费异常偏高"), _row("CSV-2", when=_when(2, "%Y/%m/%d %H:%M"))]
    path = Path(importer.import_folder()) / ("c" * 32)
    path.write_bytes(_csv(rows, encoding=encoding))
    preview = preview_import(people.sup, path)
    assert preview.kind == "csv" and preview.file_errors == []
    assert [row.status for row in preview.rows] == [RowStatus.new, RowStatus.new]
    result = import_work_orders(people.sup, path)
    assert result.created == 2
    case = db.session.scalar(select(Case).where(Case.external_ref == "CSV-1"))
    assert case.summary == "抄表员估抄电量，电费异常偏高" and case.complainant_name == "王芳"
    assert case.received_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") == rows[0][1]


# --- hostile and oversized files --------------------------------------------------------------


def test_oversized_upload_is_refused(client, supervisor, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 2048)
    response = _upload(client, _csv(_good_rows(40)), name="big.csv", headers={"Accept-Language": "en"})
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert [p for p in importer.import_folder().iterdir()] == []


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _must_not_open(*args, **kwargs):
    raise AssertionError("openpyxl must not see this file")


@pytest.mark.parametrize("kind", ["ratio", "total"])
def test_zip_bomb_is_refused_before_anything_is_unpacked(client, supervisor, app, monkeypatch, kind):
    monkeypatch.setattr(importer.openpyxl, "load_workbook", _must_not_open)
    if kind == "ratio":
        # 20 MiB of zeros deflate to ~20 KiB: a ratio of ~1000.
        data = _zip([("[Content_Types].xml", "<Types/>"), ("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))])
    else:
        # Stored, not compressed (ratio 1), but larger unpacked than allowed. Kept under 500 KiB: larger
        # test uploads make Werkzeug's test client spool to a temporary file it never closes.
        monkeypatch.setitem(app.config, "IMPORT_MAX_UNPACKED_BYTES", 100 * 1024)
        data = _zip([("xl/worksheets/sheet1.xml", os.urandom(200 * 1024))], compression=zipfile.ZIP_STORED)
    response = _upload(client, data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "refused" in response.get_data(as_text=True) or "unpacks to more than" in response.get_data(as_text=True)
    assert list(importer.import_folder().iterdir()) == []
    assert _count() == 0


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY lol9 SYSTEM "file:///etc/passwd"> ]>\n'
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _with_entities(data: bytes, part: str, declaration: str) -> bytes:
    """The workbook with an entity declared (and used) in one of its XML parts."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename).decode()
            if info.filename == part:
                if content.startswith("<?xml"):
                    content = content.split("?>", 1)[1]
                content = declaration + content.replace("WO-0001", "&lol9;", 1)
            elif info.filename == "[Content_Types].xml" and part == "xl/sharedStrings.xml":
                content = content.replace(
                    "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/></Types>'
                )
            target.writestr(info, content)
        if part == "xl/sharedStrings.xml":  # openpyxl writes inline strings; add a shared-strings part
            target.writestr(part, declaration + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                                                'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    return buffer.getvalue()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"])
@pytest.mark.parametrize("declaration", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_xml_entities_are_refused(client, supervisor, part, declaration):
    bomb = _with_entities(_xlsx(_good_rows(2)), part, declaration)
    assert b"<!ENTITY lol9" in zipfile.ZipFile(io.BytesIO(bomb)).read(part)
    response = _upload(client, bomb)
    assert response.status_code == 302  # the zip itself is harmless; its XML is refused when read
    page = client.get("/imports/95598/preview", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "forbidden XML" in page
    assert "lollollol" not in page and "root:" not in page
    assert re.search(r'<button type="submit" class="btn btn-primary"\s+disabled', page)
    assert _confirm(client).status_code == 422
    assert _count() == 0


def test_old_xls_and_garbage_are_refused(client, supervisor):
    response = _upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="old.xls",
                       headers={"Accept-Language": "en"})
    assert response.status_code == 422 and ".xls" in response.get_data(as_text=True)
    _upload(client, b"PK\x03\x04 not really a zip")
    assert _count() == 0


def test_row_limit(app_ctx, people):
    path = Path(importer.import_folder()) / ("l" * 32)
    path.write_bytes(_csv(_good_rows(6)))
    preview = preview_import(people.sup, path, ImportLimits(max_rows=5))
    assert not preview.can_import and preview.rows == []
    with force_locale("en"):
        assert "more than 5 work orders" in str(preview.file_errors[0])


# --- who may import ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["head_hall", "admin_a", "ext_a"])
def test_only_supervisors_import(client, auth, people, username):
    db.session.commit()
    auth.login(username)
    assert client.get("/imports/95598").status_code == 403
    assert _upload(client, _csv(_good_rows(1)), name="x.csv").status_code == 403
    assert client.get("/imports/95598/preview").status_code == 403
    assert client.post("/imports/95598/confirm", data={"token": "A" * 32}).status_code == 403
    assert list(Path(client.application.config["IMPORT_FOLDER"]).glob("*")) == []


def test_navigation_shows_the_import_to_supervisors(client, supervisor):
    assert 'href="/imports/95598"' in client.get("/cases").get_data(as_text=True)


# --- CLI --------------------------------------------------------------------------------------


def test_cli_imports_all_or_nothing(runner, org, people, tmp_path):
    db.session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row("CLI-1"), _row("CLI-2", when=_when(-3))], encoding="gb18030"))
    result = runner.invoke(args=["import-95598", str(bad), "--as", "sup_a"])
    assert result.exit_code != 0
    assert "3" in result.output and "受理时间" in result.output and "受理时间不能晚于当前时间。" in result.output
    assert _count() == 0

    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx(_good_rows(3, prefix="CLI")))
    result = runner.invoke(args=["import-95598", str(good), "--as", "sup_a"])
    assert result.exit_code == 0, result.output
    assert _count() == 3
    again = runner.invoke(args=["import-95598", str(good), "--as", "sup_a"])
    assert again.exit_code == 0 and _count() == 3

    refused = runner.invoke(args=["import-95598", str(good), "--as", "head_hall"])
    assert refused.exit_code != 0 and "not an active supervisor" in refused.output
