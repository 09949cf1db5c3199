"""The case ledger on the web: the case list's filters, as an Excel download. Thin view."""
import io

from flask import Blueprint, abort, request, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.cases.forms import CaseFilterForm, filters_from_form
from tracker.core.permissions import is_staff
from tracker.reports.ledger import CONTENT_TYPE, build_ledger, ledger_filename
from tracker.units.queries import unit_choices

bp = Blueprint("ledger", __name__)


def send_ledger(data: bytes, download_name: str):
    """The workbook as a download; it holds personal data, so no shared cache keeps it."""
    response = send_file(io.BytesIO(data), mimetype=CONTENT_TYPE, as_attachment=True, download_name=download_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/cases/ledger.xlsx")
@login_required
def download():
    """The ledger of exactly the cases the case list shows for the same query string."""
    if not is_staff(current_user):
        abort(403)
    form = CaseFilterForm(request.args, unit_choices=unit_choices(current_user, include_inactive=True))
    filters = filters_from_form(form)
    data = build_ledger(current_user, filters, locale=str(get_locale()), sort=form.sort.data or "received_desc")
    return send_ledger(data, ledger_filename(_("Case ledger")))
