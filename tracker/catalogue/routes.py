"""Administrators' pages for the violation catalogue. Thin views."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from tracker.accounts.forms import ConfirmForm
from tracker.cases.models import ViolationType
from tracker.cases.states import ViolationCategory
from tracker.catalogue import display_name
from tracker.catalogue import operations as ops
from tracker.catalogue.forms import ViolationTypeForm
from tracker.core.errors import DomainError
from tracker.core.forms import populate_errors
from tracker.core.permissions import can_manage_catalogue
from tracker.extensions import db

bp = Blueprint("catalogue", __name__, url_prefix="/admin/violation-types")
bp.add_app_template_filter(display_name, "violation_name")

STATUSES = ("active", "inactive")


@bp.before_request
@login_required
def _require_admin():
    if not can_manage_catalogue(current_user):
        abort(403)


def _violation_type_or_404(code):
    vt = db.session.scalar(select(ViolationType).where(ViolationType.code == code))
    if vt is None:
        abort(404)
    return vt


def _form_values(form):
    return {
        "category": form.category.data,
        "name": form.name.data,
        "name_en": form.name_en.data,
        "clause": form.clause.data,
        "severity": form.severity.data,
        "points": form.points.data,
    }


@bp.route("/")
def index():
    q = (request.args.get("q") or "").strip()
    category = request.args.get("category") or ""
    status = request.args.get("status") or ""
    stmt = select(ViolationType).order_by(ViolationType.code)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(ViolationType.code).like(like),
                ViolationType.name.like(f"%{q}%"),
                func.lower(ViolationType.name_en).like(like),
            )
        )
    if category in ViolationCategory._value2member_map_:
        stmt = stmt.where(ViolationType.category == ViolationCategory(category))
    if status in STATUSES:
        stmt = stmt.where(ViolationType.active.is_(status == "active"))
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template(
        "catalogue/index.html", page=page, q=q, category=category, status=status, categories=ViolationCategory
    )


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = ViolationTypeForm()
    if form.validate_on_submit():
        try:
            vt = ops.create_violation_type(actor=current_user, code=form.code.data, **_form_values(form))
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("Violation type %(code)s has been created.", code=vt.code), "success")
            return redirect(url_for("catalogue.index"))
    return render_template("catalogue/form.html", form=form, vt=None)


@bp.route("/<code>", methods=["GET", "POST"])
def edit(code):
    vt = _violation_type_or_404(code)
    form = ViolationTypeForm(obj=vt)
    del form.code
    if form.validate_on_submit():
        try:
            ops.update_violation_type(vt, actor=current_user, **_form_values(form))
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("Violation type %(code)s has been saved.", code=vt.code), "success")
            return redirect(url_for("catalogue.index"))
    return render_template("catalogue/form.html", form=form, vt=vt)


@bp.route("/<code>/<any(activate, deactivate):action>", methods=["POST"])
def state(code, action):
    vt = _violation_type_or_404(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.set_violation_type_active(vt, actor=current_user, active=action == "activate")
    db.session.commit()
    if vt.active:
        message = _("Violation type %(code)s has been reactivated.", code=vt.code)
    else:
        message = _("Violation type %(code)s has been deactivated; cases that cite it keep it.", code=vt.code)
    flash(message, "success")
    return redirect(url_for("catalogue.edit", code=vt.code))
