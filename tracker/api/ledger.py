"""The case ledger of a unit's subtree (API.md "Reports and bulletins"), as an .xlsx file."""
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema
from tracker.cases.queries import CaseFilters
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.permissions import can_see_unit, is_staff
from tracker.reports.ledger import CONTENT_TYPE, build_ledger, ledger_filename
from tracker.reports.ledger_routes import send_ledger
from tracker.units.queries import get_unit_by_code

blp = Blueprint("api_ledger", __name__, url_prefix="/api/v1", description="Reports: the case ledger")


class LedgerArgsSchema(Schema):
    from_ = fields.Date(load_default=None, data_key="from", metadata={"description": "Received on or after (Beijing date)"})
    to = fields.Date(load_default=None, metadata={"description": "Received on or before (Beijing date)"})


@blp.route("/reports/units/<code>.xlsx")
@blp.doc(
    security=SECURITY,
    responses={"200": {
        "description": "The case ledger (台账) of the unit's subtree: one row per case the caller may see",
        "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }},
)
@blp.alt_response(403, schema=ErrorSchema, description="External supervisors have no ledger")
@blp.alt_response(404, schema=ErrorSchema, description="No such unit in the caller's scope")
@token_required
@blp.arguments(LedgerArgsSchema, location="query")
def unit_ledger(args, code):
    user = api_user()
    if not is_staff(user):
        raise PermissionDenied()
    unit = get_unit_by_code(code)
    if unit is None or not can_see_unit(user, unit):
        raise NotFound()
    if args["from_"] and args["to"] and args["from_"] > args["to"]:
        raise ValidationError(_l("The start of the period is after its end."), field="from")
    filters = CaseFilters(unit=unit, date_from=args["from_"], date_to=args["to"])
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else str(get_locale())
    data = build_ledger(user, filters, locale=locale, sort="received_asc")
    with force_locale(locale):
        name = ledger_filename(f"{_('Case ledger')}-{unit.code}")
    return send_ledger(data, name)
