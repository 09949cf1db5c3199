"""Audit plan pages: plans, their entries, and coverage (who was not visited, who too often).

Supervision staff and administrators only: a plan tells when mystery shoppers will come, so
unit heads and external supervisors get 403. Only supervisors edit (within their scope).
The forms live here because they belong to these pages alone.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from tracker.accounts.forms import ConfirmForm
from tracker.accounts.models import User
from tracker.audits import planning
from tracker.audits.scorecards import local_today, quarter_of
from tracker.audits.states import AuditKind
from tracker.core.errors import DomainError, NotFound
from tracker.core.forms import populate_errors, select_choices
from tracker.core.permissions import can_see_unit
from tracker.extensions import db
from tracker.units.queries import get_unit_by_code, unit_choices

bp = Blueprint("planning", __name__, url_prefix="/audit-plans")


# --- forms ------------------------------------------------------------------------------------


class PlanForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    period_from = DateField(_l("Period from"), validators=[DataRequired()])
    period_to = DateField(_l("Period until"), validators=[DataRequired()])
    submit = SubmitField(_l("Create plan"))


class PlanEntryForm(FlaskForm):
    unit_code = SelectField(_l("Unit"), validators=[DataRequired()])
    kind = SelectField(_l("Kind of audit"), validators=[DataRequired()])
    planned_on = DateField(_l("Planned for"), validators=[DataRequired()])
    auditor_id = SelectField(_l("Auditor"), validators=[Optional()])
    submit = SubmitField(_l("Add to the plan"))

    def __init__(self, *args, unit_choices=(), auditors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_code.choices = select_choices([("", _l("— choose —")), *unit_choices])
        self.kind.choices = select_choices(AuditKind.choices())
        people = [(str(u.id), f"{u.display_name} ({u.username})") for u in auditors]
        self.auditor_id.choices = select_choices([("", _l("— to be assigned —")), *people])


class CoverageForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter form

    unit = SelectField(_l("Unit (with the units below)"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = select_choices([("", _l("— everything in my scope —")), *unit_choices])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise FieldError(_l("The end of the period lies before its start."))


# --- views ------------------------------------------------------------------------------------


@bp.before_request
@login_required
def _planners_only():
    if not planning.can_view_plans(current_user):
        abort(403)


def _require_editor():
    if not planning.can_edit_plans(current_user):
        abort(403)


def _plan_or_404(plan_id):
    try:
        return planning.get_plan_for(current_user, plan_id)
    except NotFound:
        abort(404)


@bp.route("/")
def index():
    page = db.paginate(planning.plans_visible_to(current_user), per_page=50, error_out=False)
    return render_template("planning/index.html", page=page, can_edit=planning.can_edit_plans(current_user))


@bp.route("/new", methods=["GET", "POST"])
def create():
    _require_editor()
    form = PlanForm()
    if request.method == "GET":
        form.period_from.data, form.period_to.data = quarter_of(local_today())
    if form.validate_on_submit():
        try:
            plan = planning.create_plan(actor=current_user, name=form.name.data,
                                        period_from=form.period_from.data, period_to=form.period_to.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The audit plan has been created."), "success")
            return redirect(url_for("planning.detail", plan_id=plan.id))
    return render_template("planning/new.html", form=form), 422 if request.method == "POST" else 200


def _entry_form():
    return PlanEntryForm(unit_choices=unit_choices(current_user), auditors=planning.auditor_candidates())


def _render_detail(plan, entry_form=None, status=200):
    return render_template(
        "planning/detail.html",
        plan=plan,
        statuses=planning.entry_statuses(current_user, plan),
        entry_form=entry_form or _entry_form(),
        remove_form=ConfirmForm(),
        can_edit=planning.can_edit_plans(current_user),
    ), status


@bp.route("/<int:plan_id>")
def detail(plan_id):
    return _render_detail(_plan_or_404(plan_id))


@bp.route("/<int:plan_id>/entries", methods=["POST"])
def add_entry(plan_id):
    plan = _plan_or_404(plan_id)
    _require_editor()
    form = _entry_form()
    if form.validate_on_submit():
        auditor = db.session.get(User, int(form.auditor_id.data)) if form.auditor_id.data else None
        try:
            planning.add_plan_entry(plan, actor=current_user, unit=get_unit_by_code(form.unit_code.data),
                                    auditor=auditor, kind=AuditKind(form.kind.data),
                                    planned_on=form.planned_on.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The visit has been added to the plan."), "success")
            return redirect(url_for("planning.detail", plan_id=plan.id))
    return _render_detail(plan, entry_form=form, status=422)


@bp.route("/<int:plan_id>/entries/<int:entry_id>/remove", methods=["POST"])
def remove_entry(plan_id, entry_id):
    plan = _plan_or_404(plan_id)
    _require_editor()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entry = planning.get_entry_for(current_user, plan, entry_id)  # NotFound: 404
    try:
        planning.remove_plan_entry(entry, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("The visit has been removed from the plan."), "success")
    return redirect(url_for("planning.detail", plan_id=plan.id))


def _coverage_page(form, plan=None, default_period=None):
    unit = None
    if form.unit.data:
        unit = get_unit_by_code(form.unit.data)
        if unit is None or not can_see_unit(current_user, unit):
            abort(404)
    date_from, date_to = default_period
    if plan is None and form.validate():
        date_from = form.date_from.data or date_from
        date_to = form.date_to.data or date_to
        if date_to < date_from:  # only one end was given
            date_from, date_to = default_period
        form.date_from.data, form.date_to.data = date_from, date_to  # show the period used
    report = planning.coverage(current_user, date_from=date_from, date_to=date_to, unit=unit, plan=plan)
    return render_template("planning/coverage.html", form=form, report=report, plan=plan)


@bp.route("/coverage")
def coverage():
    """Coverage of any period (this quarter unless chosen) in the user's scope."""
    form = CoverageForm(request.args, unit_choices=unit_choices(current_user, include_inactive=False))
    return _coverage_page(form, default_period=quarter_of(local_today()))


@bp.route("/<int:plan_id>/coverage")
def plan_coverage(plan_id):
    """Coverage of the plan's period, with the plan's visits done and overdue."""
    plan = _plan_or_404(plan_id)
    form = CoverageForm(request.args, unit_choices=unit_choices(current_user, include_inactive=False))
    return _coverage_page(form, plan=plan, default_period=(plan.period_from, plan.period_to))
