"""Administrators' pages for the organisation tree. Thin views."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from tracker.accounts.forms import ConfirmForm
from tracker.core.errors import DomainError
from tracker.core.forms import populate_errors
from tracker.core.permissions import can_manage_units
from tracker.extensions import db
from tracker.units import operations as ops
from tracker.units.forms import UnitCreateForm, UnitMoveForm, UnitRenameForm
from tracker.units.models import Unit
from tracker.units.queries import get_unit_by_code, unit_choices, units_visible_to
from tracker.units.states import UnitLevel

bp = Blueprint("units", __name__, url_prefix="/admin/units")


@bp.before_request
@login_required
def _require_admin():
    if not can_manage_units(current_user):
        abort(403)


def _unit_or_404(code):
    unit = get_unit_by_code(code)
    if unit is None:
        abort(404)
    return unit


@bp.route("/")
def index():
    q = (request.args.get("q") or "").strip()
    stmt = units_visible_to(current_user)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Unit.code).like(like), Unit.name.like(f"%{q}%")))
    page = db.paginate(stmt, per_page=100, error_out=False)
    return render_template("units/index.html", page=page, q=q)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = UnitCreateForm(parent_choices=unit_choices(current_user))
    if request.method == "GET" and request.args.get("parent"):
        form.parent_code.data = request.args["parent"]
    if form.validate_on_submit():
        try:
            unit = ops.create_unit(
                actor=current_user,
                code=form.code.data,
                name=form.name.data,
                level=UnitLevel(form.level.data),
                parent=get_unit_by_code(form.parent_code.data) if form.parent_code.data else None,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("Unit %(code)s has been created.", code=unit.code), "success")
            return redirect(url_for("units.detail", code=unit.code))
    return render_template("units/create.html", form=form)


def _detail_forms(unit, rename_form=None, move_form=None):
    choices = [c for c in unit_choices(current_user) if c[0] != unit.code]
    move_form = move_form or UnitMoveForm(parent_choices=choices)
    if move_form.parent_code.data is None:
        move_form.parent_code.data = unit.parent.code if unit.parent else ""
    return {
        "unit": unit,
        "rename_form": rename_form or UnitRenameForm(obj=unit),
        "move_form": move_form,
        "action_form": ConfirmForm(),
        "has_records": ops.unit_has_records(unit),
        "children": db.session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code)).all(),
    }


@bp.route("/<code>")
def detail(code):
    unit = _unit_or_404(code)
    return render_template("units/detail.html", **_detail_forms(unit))


@bp.route("/<code>/rename", methods=["POST"])
def rename(code):
    unit = _unit_or_404(code)
    form = UnitRenameForm()
    if form.validate_on_submit():
        try:
            ops.rename_unit(unit, actor=current_user, name=form.name.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The unit has been renamed."), "success")
            return redirect(url_for("units.detail", code=unit.code))
    return render_template("units/detail.html", **_detail_forms(unit, rename_form=form)), 422


@bp.route("/<code>/move", methods=["POST"])
def move(code):
    unit = _unit_or_404(code)
    choices = [c for c in unit_choices(current_user) if c[0] != unit.code]
    form = UnitMoveForm(parent_choices=choices)
    if form.validate_on_submit():
        try:
            new_parent = get_unit_by_code(form.parent_code.data) if form.parent_code.data else None
            ops.move_unit(unit, actor=current_user, new_parent=new_parent)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The unit has been moved."), "success")
            return redirect(url_for("units.detail", code=unit.code))
    return render_template("units/detail.html", **_detail_forms(unit, move_form=form)), 422


@bp.route("/<code>/<any(activate, deactivate, delete):action>", methods=["POST"])
def state(code, action):
    unit = _unit_or_404(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if action == "delete":
            ops.delete_unit(unit, actor=current_user)
        else:
            ops.set_unit_active(unit, actor=current_user, active=action == "activate")
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("units.detail", code=code))
    db.session.commit()
    if action == "delete":
        flash(_("Unit %(code)s has been deleted.", code=code), "success")
        return redirect(url_for("units.index"))
    flash(_("The unit has been updated."), "success")
    return redirect(url_for("units.detail", code=code))
