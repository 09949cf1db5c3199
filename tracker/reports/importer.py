"""Import of 95598 work orders from an .xlsx workbook or a CSV file (DESIGN.md §7).

Two steps, shared by the web pages and the CLI:

- ``preview_import(actor, path)`` reads the file and checks every row without saving anything:
  each row is *new*, *existing* (a case with the same work-order number on the 95598 channel
  exists: it is skipped, so importing a file twice is harmless) or an *error* with messages that
  name the row and the column as the file spells it.
- ``import_work_orders(actor, path)`` checks again and, only if no row has an error, registers
  every new row in one ``tracker.cases.operations.register_cases`` (the same checks, cases, clocks
  and history events as ``register_case`` row by row). All or nothing: it flushes and never commits;
  the caller commits once at the end and rolls back on any exception. A row that registration
  refuses although the preview passed it (changed since, or a receipt date the working-day calendar
  does not cover) is named like the preview's errors, and nothing is written.

Hostile files. The upload is copied to disk with a byte limit (``IMPORT_MAX_BYTES``). A workbook is
a zip: before openpyxl opens it, the zip's directory is inspected and the file refused if it has too
many entries, unpacks to more than ``IMPORT_MAX_UNPACKED_BYTES`` or an entry of 1 MiB or more is
compressed more than ``IMPORT_MAX_COMPRESSION_RATIO`` : 1 (a zip bomb). The declared sizes can be
trusted: Python's zipfile stops at an entry's declared size and fails its CRC check if there was more.
openpyxl parses the XML with defusedxml when it is installed (``openpyxl.DEFUSEDXML``, checked below;
no process-wide ``defusedxml.defuse_stdlib()``), so entity declarations (billion laughs, external
entities) are refused. At most ``IMPORT_MAX_ROWS`` rows are read.

Speed: the workbook is read in openpyxl's read-only mode (``iter_rows(values_only=True)``), the units
and violation types are loaded once, and the existing work-order numbers are looked up in batches of
500 instead of once per row. ``register_cases`` checks every row first, then writes the cases and
their clocks as ORM objects 5,000 at a time with their ids reserved beforehand (numbers go in with the
rows; one executemany per table, no RETURNING), and appends the history events in one batch (chain
head locked once). 100,000 rows of ``bench/importing.py``'s CSV on the demo organisation (2 cores,
other work running), the statistics roll-up's flush hook (``tracker.reports.stats``) included:
SQLite 46 s (2,200 rows/s), PostgreSQL 80 s (1,260 rows/s); without the hook 40 s and 60 s. The
row-by-row path took 14.7 and 22.8 ms a row (3.1 and 8.1 without the hook), 25 and 38 minutes.
On PostgreSQL the cases' INSERTs are bound by the server (15 indexes, four of them trigram GIN:
about 13 s for 100,000 rows even from bare psycopg), and the hook adds about 20 s.
"""
import codecs
import contextlib
import csv
import io
import re
import secrets
import time as clock
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from defusedxml import DefusedXmlException
from flask import current_app
from flask_babel import lazy_gettext as _l
from openpyxl.utils.datetime import from_excel
from sqlalchemy import select

from tracker.cases import operations as ops
from tracker.cases.models import Case, ViolationType
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.core.enums import LabelledEnum
from tracker.core.errors import DomainError, ValidationError
from tracker.core.permissions import can_see_unit, scope_path
from tracker.extensions import db
from tracker.reports import stats
from tracker.units.models import Unit

# openpyxl reads every XML part through defusedxml when it is importable; the importer relies on it
# (no global monkeypatching: defusedxml.defuse_stdlib() would change every XML parser in the process).
if not openpyxl.DEFUSEDXML:  # pragma: no cover - requirements.txt pins defusedxml
    raise RuntimeError("defusedxml must be installed (and OPENPYXL_DEFUSEDXML not False) to import workbooks")

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CHANNEL = Channel.hotline_95598
MIB = 1024 * 1024

DEFAULT_MAX_BYTES = 5 * MIB
DEFAULT_MAX_ROWS = 20_000
DEFAULT_MAX_UNPACKED_BYTES = 50 * MIB
DEFAULT_MAX_COMPRESSION_RATIO = 100
MAX_ZIP_ENTRIES = 1000
RATIO_CHECK_FROM = 1 * MIB  # tiny parts (styles, properties) may compress well without harm
HEADER_SEARCH_ROWS = 10  # exports often start with a title row or two
CHUNK_SIZE = 64 * 1024
LOOKUP_BATCH = 500  # work-order numbers per existence query (well below SQLite's parameter limit)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls


FORBIDDEN_XML = _l("The workbook contains forbidden XML (entity declarations) and was refused.")
NOT_A_WORKBOOK = _l("The file is not a valid Excel workbook (.xlsx).")


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported (type, size, structure, hostile content)."""

    code = "import_file_refused"
    default_message = _l("The file cannot be imported.")


class ImportTooLarge(DomainError):
    code = "too_large"
    status = 413
    default_message = _l("The file is too large.")


class ImportRefused(ValidationError):
    """Confirmation refused: some rows have errors; nothing was imported."""

    code = "import_refused"
    default_message = _l("Nothing was imported: correct the rows with errors and upload the file again.")

    def __init__(self, preview, message=None):
        self.preview = preview
        super().__init__(message)


class RowStatus(LabelledEnum):
    new = "new"
    existing = "existing"
    error = "error"

    @classmethod
    def _labels(cls):
        return {
            "new": _l("New"),
            "existing": _l("Already imported (skipped)"),
            "error": _l("Error"),
        }


# --- columns ----------------------------------------------------------------------------------

# Field → accepted headers, preferred first (Chinese as the 95598 system exports them, English aliases).
HEADER_ALIASES = {
    "external_ref": ("工单编号", "工单号", "work order number", "work order no", "external ref"),
    "received_at": ("受理时间", "received at", "received"),
    "unit_code": ("供电单位编码", "单位编码", "unit code", "unit"),
    "summary": ("工单摘要", "诉求摘要", "summary"),
    "details": ("诉求内容", "details"),
    "name": ("客户姓名", "customer name", "complainant name", "name"),
    "phone": ("联系电话", "phone", "telephone"),
    "address": ("用电地址", "address"),
    "violation_type_code": ("违规类型编码", "业务类型", "violation type code", "violation type"),
}
REQUIRED_FIELDS = ("external_ref", "received_at", "unit_code", "summary")
MAX_LENGTHS = {
    "external_ref": 64, "summary": 200, "details": 20000, "name": 64, "phone": 32, "address": 255,
    "violation_type_code": 16,
}
_ALIAS_RANK = {
    re.sub(r"[\s_\-]+", " ", alias).lower(): (name, rank)
    for name, aliases in HEADER_ALIASES.items()
    for rank, alias in enumerate(aliases)
}

TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日",
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _normalise_header(value) -> str:
    return re.sub(r"[\s_\-]+", " ", str(value or "")).strip().lower()


def map_headers(values) -> dict[str, tuple[int, str]]:
    """Field → (column index, the header as the file spells it) for the headers we know."""
    found: dict[str, tuple[int, int, str]] = {}
    for index, value in enumerate(values):
        match = _ALIAS_RANK.get(_normalise_header(value))
        if match is None:
            continue
        name, rank = match
        if name not in found or rank < found[name][1]:
            found[name] = (index, rank, str(value).strip())
    return {name: (index, header) for name, (index, _rank, header) in found.items()}


# --- reading files ----------------------------------------------------------------------------


def detect_kind(path: Path) -> str:
    """"xlsx" or "csv", decided from the content, never from the name."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        raise ImportFileError(_l("Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV."))
    return "csv"


def check_zip(path: Path, *, max_unpacked: int, max_ratio: int) -> None:
    """Refuse zip bombs from the zip's directory alone, before anything is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(NOT_A_WORKBOOK) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ImportFileError(_l("The workbook has too many parts to be a work-order export."))
    if sum(entry.file_size for entry in entries) > max_unpacked:
        raise ImportFileError(
            _l("The workbook unpacks to more than %(size)s MiB; split it into smaller files.",
               size=max_unpacked // MIB)
        )
    for entry in entries:
        if entry.file_size >= RATIO_CHECK_FROM and entry.file_size > max_ratio * max(entry.compress_size, 1):
            raise ImportFileError(_l("The workbook is compressed suspiciously well (a zip bomb?) and was refused."))


def inspect_file(path: Path, limits: "ImportLimits") -> str:
    """The file's kind after the checks that need no parsing; ImportFileError if refused."""
    kind = detect_kind(path)
    if kind == "xlsx":
        check_zip(path, max_unpacked=limits.max_unpacked_bytes, max_ratio=limits.max_compression_ratio)
    return kind


@contextlib.contextmanager
def _xlsx_rows(path: Path):
    # A file object, not the path: openpyxl would refuse our stored name for lacking ".xlsx".
    with open(path, "rb") as source:
        try:
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds (KeyError, ParseError, ValueError...)
            raise _unreadable(error) from None
        with contextlib.closing(workbook):
            yield _sheet_rows(workbook)


def _sheet_rows(workbook):
    if not workbook.worksheets:
        raise ImportFileError(_l("The workbook has no worksheet."))
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # the stored dimensions may be missing or wrong; read every row
    try:
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, values
    except Exception as error:
        raise _unreadable(error) from None


def _unreadable(error: BaseException) -> ImportFileError:
    """What to tell about a workbook openpyxl could not read; defusedxml's refusal may be wrapped."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return ImportFileError(FORBIDDEN_XML)
        error = error.__cause__ or error.__context__
    return ImportFileError(NOT_A_WORKBOOK)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Excel's "CSV")."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_l("The CSV file is neither UTF-8 nor GB18030 text."))


@contextlib.contextmanager
def _csv_rows(path: Path):
    text = decode_csv(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows():
        # Numbered by record, as Excel numbers the rows when it opens the file.
        line = 0
        try:
            for line, values in enumerate(reader, start=1):
                yield line, values
        except csv.Error:
            raise ImportFileError(_l("The CSV file is malformed near row %(row)s.", row=line + 1)) from None

    yield rows()


def open_rows(path: Path, kind: str):
    return _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)


# --- values -----------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # numbers typed into Excel: 13812345678.0 → "13812345678"
    return _CONTROL_RE.sub("", str(value)).strip()


def parse_time(value) -> datetime | None:
    """A time of receipt, as Beijing time; None if it cannot be read."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 20_000 <= value <= 80_000:  # an Excel serial date between 1954 and 2119
            return None
        moment = from_excel(value)
    else:
        text = re.sub(r"\s+", " ", _text(value))
        if not text:
            return None
        moment = None
        for fmt in TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


# --- preview ----------------------------------------------------------------------------------


@dataclass
class ImportLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
    max_compression_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO

    @classmethod
    def from_config(cls, config=None):
        config = config if config is not None else current_app.config
        return cls(
            max_bytes=config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES),
            max_rows=config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
            max_unpacked_bytes=config.get("IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES),
            max_compression_ratio=config.get("IMPORT_MAX_COMPRESSION_RATIO", DEFAULT_MAX_COMPRESSION_RATIO),
        )


@dataclass(slots=True)
class RowError:
    column: str  # the header as the file spells it
    message: object  # a lazy translation: rendered in the reader's language


@dataclass(slots=True)
class ImportRow:
    line: int  # the row's number in the file (header = its own row number)
    external_ref: str = ""
    received_at: datetime | None = None
    received_text: str = ""
    unit_code: str = ""
    unit: Unit | None = None
    summary: str = ""
    details: str = ""
    name: str = ""
    phone: str = ""
    address: str = ""
    violation_type_code: str = ""
    errors: list = field(default_factory=list)
    status: RowStatus = RowStatus.new
    existing_number: str | None = None  # the case already imported, if the user may see it

    def error(self, column: str, message) -> None:
        self.errors.append(RowError(column, message))
        self.status = RowStatus.error


@dataclass
class ImportPreview:
    rows: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)  # field → header as in the file
    kind: str = ""

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict:
        return {status.value: self.count(status) for status in RowStatus}

    @property
    def new_rows(self):
        return [row for row in self.rows if row.status == RowStatus.new]

    @property
    def can_import(self) -> bool:
        """All or nothing: only a file without any error may be imported."""
        return not self.file_errors and bool(self.rows) and self.count(RowStatus.error) == 0

    def rows_to_show(self, limit: int = 500) -> list:
        """Rows with errors first (they need work), then the others, at most ``limit`` in all."""
        errors = [row for row in self.rows if row.status == RowStatus.error]
        others = [row for row in self.rows if row.status != RowStatus.error]
        return (errors + others)[:limit]

    def error_lines(self):
        """(row number, column, message) for every error, in file order."""
        for row in self.rows:
            for error in row.errors:
                yield row.line, error.column, error.message


def _find_header(rows, preview: ImportPreview):
    """Consume rows up to the header; return field → (index, header), or None (file error set)."""
    best: dict = {}
    for line, values in rows:
        mapping = map_headers(values or ())
        if all(name in mapping for name in REQUIRED_FIELDS):
            return mapping
        if len(mapping) > len(best):
            best = mapping
        if line >= HEADER_SEARCH_ROWS:
            break
    missing = [HEADER_ALIASES[name][0] for name in REQUIRED_FIELDS if name not in best]
    preview.file_errors.append(
        _l("Required columns are missing: %(columns)s.", columns="、".join(missing))
    )
    return None


def _read_rows(path: Path, limits: ImportLimits, preview: ImportPreview) -> None:
    preview.kind = inspect_file(path, limits)
    with open_rows(path, preview.kind) as rows:
        mapping = _find_header(rows, preview)
        if mapping is None:
            return
        preview.columns = {name: header for name, (_index, header) in mapping.items()}
        indexes = {name: index for name, (index, _header) in mapping.items()}
        for line, values in rows:
            if not values or all(_text(v) == "" for v in values):
                continue
            if len(preview.rows) >= limits.max_rows:
                preview.file_errors.append(
                    _l("The file has more than %(max)s work orders; split it into smaller files.",
                       max=limits.max_rows)
                )
                preview.rows.clear()  # nothing will be imported; do not keep the rows around
                return
            preview.rows.append(_parse_row(line, values, indexes))


def _parse_row(line: int, values, indexes: dict) -> ImportRow:
    def raw(name):
        index = indexes.get(name)
        return values[index] if index is not None and index < len(values) else None

    row = ImportRow(line=line)
    received = raw("received_at")
    row.received_at = parse_time(received)
    row.received_text = received.strftime("%Y-%m-%d %H:%M") if isinstance(received, datetime) else _text(received)
    for name in ("external_ref", "unit_code", "summary", "details", "name", "phone", "address",
                 "violation_type_code"):
        setattr(row, name, _text(raw(name)))
    return row


def _existing_refs(refs: list[str]) -> dict[str, tuple[str, str]]:
    """Work-order number → (case number, unit path) of the 95598 cases already registered."""
    found = {}
    for start in range(0, len(refs), LOOKUP_BATCH):
        batch = refs[start:start + LOOKUP_BATCH]
        stmt = (
            select(Case.external_ref, Case.number, Unit.path)
            .join(Unit, Case.unit_id == Unit.id)
            .where(Case.channel == CHANNEL, Case.external_ref.in_(batch))
        )
        found.update({ref: (number, path) for ref, number, path in db.session.execute(stmt)})
    return found


def _validate(actor, preview: ImportPreview) -> None:
    """Row by row: what register_case would refuse, plus duplicates within the file."""
    columns = {name: preview.columns.get(name, HEADER_ALIASES[name][0]) for name in HEADER_ALIASES}
    units = {unit.code: unit for unit in db.session.scalars(select(Unit))}
    violation_types = {vt.code: vt for vt in db.session.scalars(select(ViolationType))}
    existing = _existing_refs(sorted({row.external_ref for row in preview.rows if row.external_ref}))
    prefix = scope_path(actor)
    now = utcnow()
    first_line: dict[str, int] = {}
    for row in preview.rows:
        ref_column = columns["external_ref"]
        if not row.external_ref:
            row.error(ref_column, _l("This field is required."))
        elif len(row.external_ref) > MAX_LENGTHS["external_ref"]:
            row.error(ref_column, _l("At most %(max)s characters.", max=MAX_LENGTHS["external_ref"]))
        elif row.external_ref in first_line:
            row.error(ref_column, _l("The same work-order number is already in row %(row)s.",
                                     row=first_line[row.external_ref]))
        else:
            first_line[row.external_ref] = row.line
            if row.external_ref in existing:
                number, path = existing[row.external_ref]
                row.status = RowStatus.existing
                row.existing_number = number if prefix is None or path.startswith(prefix) else None
                continue  # idempotent: the work order is skipped whatever the rest of the row says

        if row.received_at is None:
            if row.received_text:
                row.error(columns["received_at"], _l("The time cannot be read. Write it as 2026-11-03 14:20."))
            else:
                row.error(columns["received_at"], _l("This field is required."))
        elif row.received_at > now:
            row.error(columns["received_at"], _l("The time of receipt cannot be in the future."))

        if not row.unit_code:
            row.error(columns["unit_code"], _l("This field is required."))
        else:
            unit = units.get(row.unit_code)
            if unit is None:
                row.error(columns["unit_code"], _l("Unknown unit."))
            elif not can_see_unit(actor, unit):
                row.error(columns["unit_code"], _l("The unit is outside your scope."))
            elif not unit.active:
                row.error(columns["unit_code"], _l("The unit is deactivated."))
            else:
                row.unit = unit

        if not row.summary:
            row.error(columns["summary"], _l("This field is required."))
        for name in ("summary", "details", "name", "phone", "address"):
            if len(getattr(row, name)) > MAX_LENGTHS[name]:
                row.error(columns[name], _l("At most %(max)s characters.", max=MAX_LENGTHS[name]))

        if row.violation_type_code:
            vt = violation_types.get(row.violation_type_code)
            if vt is None or not vt.active:
                row.error(columns["violation_type_code"], _l("Unknown violation type."))


def preview_import(actor, path: Path, limits: ImportLimits | None = None) -> ImportPreview:
    """Read and check the file; nothing is saved."""
    limits = limits or ImportLimits.from_config()
    preview = ImportPreview()
    try:
        _read_rows(Path(path), limits, preview)
    except ImportFileError as error:
        preview.file_errors.append(error.message)
        preview.rows.clear()
    if not preview.file_errors and not preview.rows:
        preview.file_errors.append(_l("The file contains no work orders."))
    if not preview.file_errors:
        _validate(actor, preview)
    return preview


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0
    first_number: str | None = None
    last_number: str | None = None


def import_work_orders(actor, path: Path, limits: ImportLimits | None = None) -> ImportResult:
    """Register every new work order of the file, or none: ImportRefused if any row has an error.

    Flushes, never commits (the caller commits once, or rolls back everything on an exception).
    """
    preview = preview_import(actor, path, limits)
    if not preview.can_import:
        raise ImportRefused(preview)
    result = ImportResult(skipped=preview.count(RowStatus.existing))
    rows = preview.new_rows
    items = [
        ops.NewCase(
            channel=CHANNEL,
            unit=row.unit,
            received_at=row.received_at,
            summary=row.summary,
            details=row.details,
            complainant=ops.Complainant(row.name or None, row.phone or None, row.address or None),
            external_ref=row.external_ref,
            violation_type_code=row.violation_type_code or None,
        )
        for row in rows
    ]
    try:
        with stats.deferred(db.session):  # the dashboards' roll-up: one update for the whole file
            registered = ops.register_cases(items, actor=actor)
    except DomainError as error:
        # Changed since the preview (a unit deactivated, a catalogue entry withdrawn...), or a
        # receipt date the working-day calendar does not cover. Nothing was written.
        index = getattr(error, "item_index", None)
        if index is None:
            raise
        rows[index].error(preview.columns.get("external_ref", ""), error.message)
        raise ImportRefused(preview) from None
    for case, created in registered:
        if not created:  # imported by someone else since the preview
            result.skipped += 1
            continue
        result.created += 1
        result.first_number = result.first_number or case.number
        result.last_number = case.number
    return result


# --- the uploaded file between preview and confirmation ---------------------------------------


def import_folder() -> Path:
    configured = current_app.config.get("IMPORT_FOLDER")
    folder = Path(current_app.instance_path) / (configured or "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_path(token: str) -> Path | None:
    """Where the upload with this token is kept; None for anything that is not one of our tokens."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    return import_folder() / token


def purge_expired(max_age_seconds: float) -> None:
    """Delete uploads nobody confirmed or cancelled in time."""
    cutoff = clock.time() - max_age_seconds
    for path in import_folder().iterdir():
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()


def store_upload(stream, limits: ImportLimits) -> str:
    """Copy the upload to the import folder under a random token, refusing it once it is too large
    or fails the checks that need no parsing. Returns the token."""
    token = secrets.token_urlsafe(24)
    path = import_folder() / token
    partial = path.with_suffix(".part")
    size = 0
    try:
        with open(partial, "wb") as out:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise ImportTooLarge(
                        _l("The file is larger than %(size)s MiB.", size=f"{limits.max_bytes / MIB:g}")
                    )
                out.write(chunk)
        if size == 0:
            raise ImportFileError(_l("The file is empty."))
        inspect_file(partial, limits)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return token


def discard_upload(token: str) -> None:
    path = stored_path(token)
    if path is not None:
        path.unlink(missing_ok=True)
