"""The unit violation report (API.md "Reports and bulletins") as a PDF."""
from flask import current_app
from flask_babel import get_locale
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema
from tracker.core.errors import NotFound, PermissionDenied
from tracker.core.pdf import pdf_response
from tracker.reports.forms import default_period
from tracker.reports.permissions import can_report_on, can_view_reports
from tracker.reports.unit_report import render_unit_report, report_filename
from tracker.units.queries import get_unit_by_code

blp = Blueprint("api_reports", __name__, url_prefix="/api/v1", description="Reports: the unit violation report")


class ReportArgsSchema(Schema):
    from_ = fields.Date(load_default=None, data_key="from",
                        metadata={"description": "First day (Beijing date); default: the start of the month five months ago"})
    to = fields.Date(load_default=None, metadata={"description": "Last day (Beijing date), included; default: today"})


@blp.route("/reports/units/<code>.pdf")
@blp.doc(
    security=SECURITY,
    responses={"200": {
        "description": "The unit violation report of the unit's subtree for the period (DESIGN.md §7)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }},
)
@blp.alt_response(403, schema=ErrorSchema, description="Only staff may read reports (not external supervisors)")
@blp.alt_response(404, schema=ErrorSchema, description="No such unit in the caller's scope")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid period, or too many cases (report_too_large)")
@blp.alt_response(503, schema=ErrorSchema, description="The PDF took longer than REPORT_TIMEOUT_SECONDS (pdf_timeout)")
@token_required
@blp.arguments(ReportArgsSchema, location="query")
def unit_report_pdf(args, code):
    user = api_user()
    if not can_view_reports(user):
        raise PermissionDenied()
    unit = get_unit_by_code(code)
    if unit is None or not can_report_on(user, unit):
        raise NotFound()
    default_from, default_to = default_period()
    date_from, date_to = args["from_"] or default_from, args["to"] or default_to
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else str(get_locale())
    pdf = render_unit_report(unit, date_from, date_to, locale=locale, viewer=user)
    return pdf_response(pdf, report_filename(unit, date_from, date_to))
