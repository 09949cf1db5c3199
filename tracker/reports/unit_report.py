"""The unit violation report (DESIGN.md §7) as a PDF: a pure function of its arguments.

figures (tracker.reports.figures) → ``pdf/unit_report.html`` in the reader's language →
WeasyPrint in a child process (tracker.core.pdf.render_pdf_isolated) → bytes. The view only
checks access and sends the bytes (STYLE.md §10).

The template is rendered from the Jinja environment directly, without Flask's context
processors: they build request-bound objects (the language form), and the report is also
rendered by background jobs that have an app context but no request.
"""
from datetime import date

from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

from tracker.core.pdf import FONT_STACK, render_pdf_isolated
from tracker.reports.figures import LOCAL_TZ, Period, Selection, unit_figures
from tracker.reports.visuals import figure_charts

DEFAULT_MAX_CASES = 5000
TEMPLATE = "pdf/unit_report.html"


def _page_label_parts():
    """"Page X of Y" split around the two numbers, for the CSS page counters."""
    text = _("Page %(page)s of %(pages)s", page="\x00", pages="\x01")
    before, _sep, rest = text.partition("\x00")
    middle, _sep, after = rest.partition("\x01")
    # string-set trims the parts; report.css puts a space on each side of the numbers.
    return before.strip(), middle.strip(), after.strip()


def unit_report_html(unit, date_from: date, date_to: date, *, locale, viewer) -> str:
    """The report's HTML in ``locale`` (queries and template, no PDF yet)."""
    max_cases = current_app.config.get("REPORT_MAX_CASES", DEFAULT_MAX_CASES)
    with force_locale(locale):
        selection = Selection(viewer, unit, Period(date_from, date_to))
        figures = unit_figures(selection, with_cases=True, max_cases=max_cases)
        template = current_app.jinja_env.get_template(TEMPLATE)
        return template.render(
            unit=unit,
            period=selection.period,
            figures=figures,
            charts=figure_charts(figures, font_family=FONT_STACK),
            page_parts=_page_label_parts(),
            generated=format_datetime(figures.generated_at.astimezone(LOCAL_TZ), "yyyy-MM-dd HH:mm"),
            lang=str(locale).replace("_", "-"),
            english=str(locale).startswith("en"),
        )


def render_unit_report(unit, date_from: date, date_to: date, *, locale, viewer) -> bytes:
    """The PDF bytes. Raises ``ReportTooLarge`` beyond ``REPORT_MAX_CASES`` cases and
    ``PdfTimeout`` after ``REPORT_TIMEOUT_SECONDS``; both carry translated messages."""
    html = unit_report_html(unit, date_from, date_to, locale=locale, viewer=viewer)
    return render_pdf_isolated(html)


def report_filename(unit, date_from: date, date_to: date) -> str:
    return f"report-{unit.code}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.pdf"
