"""The administrator's settings pages: deadline clocks and the working-day calendar. Thin views."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.accounts.forms import ConfirmForm
from tracker.cases.deadlines import current_calendar
from tracker.cases.states import DeadlineKind, Severity
from tracker.core.calendar import CalendarNotCovered, WorkingCalendar
from tracker.core.errors import DomainError, NotFound
from tracker.core.forms import populate_errors
from tracker.core.permissions import can_manage_settings
from tracker.extensions import db
from tracker.settings import operations as ops
from tracker.settings.forms import CalendarOverrideForm, CheckDateForm, DeadlineDaysForm, DeclareYearForm
from tracker.settings.queries import (
    check_date,
    deadline_rows,
    declared_year_rows,
    override_rows,
    years_to_declare,
)

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")

# Unknown kinds and severities never reach a view: the URL does not match (404).
_KIND = "<any({}):kind>".format(", ".join(k.value for k in DeadlineKind))
_SEVERITY = "<any({}):severity>".format(", ".join(s.value for s in Severity))
_CHECK_PREFIX = "check"
_DECLARE_PREFIX = "declare"


@bp.before_request
@login_required
def _require_admin():
    if not can_manage_settings(current_user):
        abort(403)


@bp.route("/")
def index():
    return redirect(url_for("settings.deadlines"))


# --- Deadlines ----------------------------------------------------------------------------


def _row_key(kind, severity):
    return f"{kind}-{severity}" if severity else kind


def _deadlines_page(posted_key=None, posted_form=None):
    rows = []
    for row in deadline_rows():
        if row.key == posted_key:
            form = posted_form
        else:
            form = DeadlineDaysForm(formdata=None, prefix=row.key, working_days=row.current)
        # Every row's input is labelled "Working days"; say which clock it sets.
        form.working_days.label.text = (
            f"{row.kind.label} · {row.severity.label}" if row.severity else str(row.kind.label)
        )
        rows.append((row, form))
    # A form that belongs to no row (a severity for a clock that has none) shows at the top.
    stray_form = posted_form if posted_key not in {row.key for row, _form in rows} else None
    return {"rows": rows, "stray_form": stray_form}


@bp.route("/deadlines")
def deadlines():
    return render_template("settings/deadlines.html", **_deadlines_page())


@bp.route(f"/deadlines/{_KIND}", methods=["POST"], defaults={"severity": None})
@bp.route(f"/deadlines/{_KIND}/{_SEVERITY}", methods=["POST"])
def set_deadline(kind, severity):
    key = _row_key(kind, severity)
    form = DeadlineDaysForm(prefix=key)
    if form.validate_on_submit():
        try:
            ops.set_deadline_days(
                actor=current_user, kind=kind, severity=severity, working_days=form.working_days.data
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The deadline has been saved. It applies to clocks started from now on."), "success")
            return redirect(url_for("settings.deadlines"))
    return render_template("settings/deadlines.html", **_deadlines_page(key, form)), 422


@bp.route(f"/deadlines/{_KIND}/reset", methods=["POST"], defaults={"severity": None})
@bp.route(f"/deadlines/{_KIND}/{_SEVERITY}/reset", methods=["POST"])
def reset_deadline(kind, severity):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.reset_deadline_days(actor=current_user, kind=kind, severity=severity)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("settings.deadlines"))
    db.session.commit()
    flash(_("The deadline has been reset to its default."), "success")
    return redirect(url_for("settings.deadlines"))


# --- Calendar -----------------------------------------------------------------------------


def _calendar_page(add_form=None, check_form=None, check_result=None, declare_form=None):
    calendar = current_calendar()
    return {
        "covered": WorkingCalendar.covered_years(),
        "uncovered": years_to_declare(),
        "declared_years": declared_year_rows(),
        "overrides": override_rows(calendar.declared_years),
        "add_form": add_form or CalendarOverrideForm(formdata=None),
        "declare_form": declare_form or DeclareYearForm(formdata=None, prefix=_DECLARE_PREFIX),
        "check_form": check_form or CheckDateForm(formdata=None, prefix=_CHECK_PREFIX),
        "check_result": check_result,
    }


@bp.route("/calendar")
def calendar():
    asked = f"{_CHECK_PREFIX}-day" in request.args
    form = CheckDateForm(request.args if asked else None, prefix=_CHECK_PREFIX)
    result = None
    if asked and form.validate():
        try:
            result = check_date(current_calendar(), form.day.data, form.days.data)
        except CalendarNotCovered as error:
            populate_errors(form, error)
    return render_template("settings/calendar.html", **_calendar_page(check_form=form, check_result=result))


@bp.route("/calendar/overrides", methods=["POST"])
def add_override():
    form = CalendarOverrideForm()
    if form.validate_on_submit():
        try:
            added = ops.add_calendar_overrides(
                actor=current_user, day=form.day.data, last_day=form.last_day.data,
                is_working_day=form.is_working_day, note=form.note.data,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            if len(added) == 1:
                flash(_("The override for %(day)s has been added.", day=added[0].day.isoformat()), "success")
            else:
                flash(_("%(n)s overrides from %(first)s to %(last)s have been added.", n=len(added),
                        first=added[0].day.isoformat(), last=added[-1].day.isoformat()), "success")
            return redirect(url_for("settings.calendar"))
    return render_template("settings/calendar.html", **_calendar_page(add_form=form)), 422


@bp.route("/calendar/overrides/<day>/delete", methods=["POST"])
def delete_override(day):
    try:
        day = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.remove_calendar_override(actor=current_user, day=day)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The override for %(day)s has been deleted.", day=day.isoformat()), "success")
    return redirect(url_for("settings.calendar"))


@bp.route("/calendar/years", methods=["POST"])
def declare_year():
    form = DeclareYearForm(prefix=_DECLARE_PREFIX)
    if form.validate_on_submit():
        try:
            ops.declare_calendar_year(actor=current_user, year=form.year.data, note=form.note.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(year)s has been declared: the days without an override follow the weekday rule.",
                    year=form.year.data), "success")
            return redirect(url_for("settings.calendar"))
    return render_template("settings/calendar.html", **_calendar_page(declare_form=form)), 422


@bp.route("/calendar/years/<int:year>/withdraw", methods=["POST"])
def withdraw_year(year):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.withdraw_calendar_year(actor=current_user, year=year)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The declaration of %(year)s has been withdrawn.", year=year), "success")
    return redirect(url_for("settings.calendar"))
