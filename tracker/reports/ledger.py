"""The case ledger (台账, DESIGN.md §7): any filtered case list as an Excel workbook.

``build_ledger`` reads exactly the cases ``tracker.cases.queries.filtered_cases`` gives the user
(the case list's query, so the ledger never holds a case the list would not show) and streams
them into a write-only workbook: rows go to disk as they are produced and the cases are read in
batches (``yield_per``), so memory stays flat however long the ledger is.

Formula safety: every text cell is written as an explicit string cell (``t="inlineStr"``), never
as a formula, whatever it starts with; text starting with ``= + - @``, tab, line breaks or their
full-width forms is also marked ``quotePrefix`` so Excel keeps treating it as text when someone
edits the cell. Characters XML cannot carry are dropped, and CR line breaks become LF (what Excel
itself uses in a cell; an XML reader would turn a raw CR into LF anyway).

Personal data: the complainant columns follow ``tracker.cases.privacy.complainant_for``, so a
unit head sees them masked exactly as on the case page. Responsibilities name people: the ledger
is internal (staff only) and unit heads see their own staff's names on the case page too.
"""
import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import selectinload

from tracker.cases.models import Case, Measure, Responsibility
from tracker.cases.privacy import complainant_for
from tracker.cases.queries import SORTS, CaseFilters, filtered_cases
from tracker.catalogue import display_name
from tracker.core.database import utcnow
from tracker.extensions import db

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH_SIZE = 500
EXCEL_MAX_DATA_ROWS = 1_048_576 - 1  # the sheet's row limit, less the header

# Text starting with one of these could be taken for a formula (OWASP "CSV injection"), also in
# the full-width forms Chinese input methods produce.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"

# (key, column title, width in characters)
COLUMNS = (
    ("number", _l("Number"), 17),
    ("received_at", _l("Received at (Beijing time)"), 17),
    ("unit_code", _l("Unit code"), 12),
    ("unit", _l("Unit"), 22),
    ("channel", _l("Channel"), 15),
    ("external_ref", _l("Reference (95598 work order, 12398 transfer no.)"), 20),
    ("summary", _l("Summary"), 44),
    ("complainant_name", _l("Complainant's name"), 11),
    ("complainant_phone", _l("Complainant's phone"), 14),
    ("complainant_address", _l("Complainant's address"), 28),
    ("violation_type_code", _l("Violation type code"), 12),
    ("violation_type", _l("Violation type"), 30),
    ("category", _l("Category"), 14),
    ("severity", _l("Severity"), 9),
    ("state", _l("State"), 13),
    ("outcome", _l("Outcome"), 12),
    ("overdue", _l("Overdue"), 8),
    ("responsibilities", _l("Responsibilities"), 40),
    ("measures", _l("Accountability measures"), 40),
    ("points", _l("Points"), 8),
    ("fines", _l("Fines (yuan)"), 11),
    ("closed_at", _l("Closed at (Beijing time)"), 17),
    ("follow_up", _l("Follow-up result"), 12),
)


def clean_text(value) -> str:
    """Text as a cell can hold it: no characters XML forbids, LF line breaks."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_cell(ws, value) -> Cell:
    """A string cell that can never become a formula (see the module's docstring)."""
    text = clean_text(value)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # openpyxl would otherwise make "=..." a formula
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def _datetime_cell(ws, value: datetime | None):
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=value.astimezone(LOCAL_TZ).replace(tzinfo=None))  # Excel has no zones
    cell.number_format = DATETIME_FORMAT
    return cell


def _is_overdue(case: Case, now: datetime) -> bool:
    """As the list's "Overdue only" filter (queries.overdue_condition): a running clock past due."""
    return any(
        d.met_at is None and d.cancelled_at is None and d.paused_at is None and d.due_at < now
        for d in case.deadlines
    )


def _responsibility_text(responsibility: Responsibility) -> str:
    parts = [responsibility.unit.name, str(responsibility.kind.label)]
    if responsibility.person_name:
        parts.append(responsibility.person_name)
    return " · ".join(parts)


def _measure_text(measure: Measure) -> str:
    parts = [str(measure.kind.label)]
    target = measure.responsibility.person_name or measure.responsibility.unit.name
    parts.append(target)
    if measure.points:
        parts.append(_("%(points)s points", points=measure.points))
    if measure.amount:
        parts.append(_("%(amount)s yuan", amount=f"{measure.amount:,.2f}"))
    if measure.done:
        parts.append(_("done"))
    return " · ".join(parts)


def _row(ws, user, case: Case, now: datetime) -> list:
    complainant = complainant_for(user, case) or {}
    vt = case.violation_type
    fines = sum((m.amount for m in case.measures if m.amount), Decimal("0"))
    values = {
        "number": case.number,
        "received_at": _datetime_cell(ws, case.received_at),
        "unit_code": case.unit.code,
        "unit": case.unit.name,
        "channel": case.channel.label,
        "external_ref": case.external_ref,
        "summary": case.summary,
        "complainant_name": complainant.get("name"),
        "complainant_phone": complainant.get("phone"),
        "complainant_address": complainant.get("address"),
        "violation_type_code": vt.code if vt else None,
        "violation_type": display_name(vt) if vt else None,
        "category": vt.category.label if vt else None,
        "severity": case.severity.label if case.severity else None,
        "state": case.state.label,
        "outcome": case.outcome.label if case.outcome else None,
        "overdue": _("Yes") if _is_overdue(case, now) else _("No"),
        "responsibilities": "; ".join(_responsibility_text(r) for r in case.responsibilities),
        "measures": "; ".join(_measure_text(m) for m in case.measures),
        "points": sum(m.points or 0 for m in case.measures),
        "fines": fines,
        "closed_at": _datetime_cell(ws, case.closed_at),
        "follow_up": case.follow_up_result.label if case.follow_up_result else None,
    }
    row = []
    for key, _title, _width in COLUMNS:
        value = values[key]
        if value is None or isinstance(value, Cell):
            row.append(value)
        elif value == "":
            row.append(None)
        elif isinstance(value, (int, Decimal)):
            cell = WriteOnlyCell(ws, value=value)
            if key == "fines":
                cell.number_format = MONEY_FORMAT
            row.append(cell)
        else:
            row.append(text_cell(ws, value))  # every text, lazy translations included
    return row


def ledger_cases(user, filters: CaseFilters, *, sort="received_desc"):
    """The statement of the ledger's cases: the filtered list, with what each row needs."""
    column_name, descending = SORTS.get(sort, SORTS["received_desc"])[0]
    column = getattr(Case, column_name)
    order = (column.desc(), Case.id.desc()) if descending else (column.asc(), Case.id.asc())
    return (
        filtered_cases(user, filters)
        .options(
            selectinload(Case.unit),
            selectinload(Case.violation_type),
            selectinload(Case.deadlines),
            selectinload(Case.responsibilities).selectinload(Responsibility.unit),
            selectinload(Case.measures),
        )
        .order_by(*order)
        .execution_options(yield_per=BATCH_SIZE)
    )


def build_ledger(user, filters: CaseFilters, *, locale, sort="received_desc") -> bytes:
    """The .xlsx ledger of the cases the user sees under these filters, in the given language."""
    with force_locale(locale):
        workbook = Workbook(write_only=True)
        ws = workbook.create_sheet(title=_sheet_title(_("Case ledger")))
        ws.freeze_panes = "A2"
        for index, (_key, _title, width) in enumerate(COLUMNS, 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.append(_header(ws))

        now = utcnow()
        written = 0
        result = db.session.scalars(ledger_cases(user, filters, sort=sort))
        try:
            for case in result:
                if written >= EXCEL_MAX_DATA_ROWS:
                    break
                ws.append(_row(ws, user, case, now))
                written += 1
        finally:
            result.close()  # a server-side cursor stays open if the loop stops early

        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{written + 1}"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _header(ws):
    font = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    alignment = Alignment(vertical="center", wrap_text=True)
    cells = []
    for _key, title, _width in COLUMNS:
        cell = text_cell(ws, title)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        cells.append(cell)
    return cells


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    return re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31]


def ledger_filename(stem: str) -> str:
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return f"{stem}-{stamp}.xlsx"
