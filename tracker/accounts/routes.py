"""Login, logout, own password and language; administrators' user pages. Thin views."""
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select

from tracker.accounts import operations as ops
from tracker.accounts.auth import start_session
from tracker.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    LanguageForm,
    LoginForm,
    ResetPasswordForm,
    UserForm,
)
from tracker.accounts.models import User
from tracker.accounts.queries import demo_accounts
from tracker.accounts.permissions import can_disable_user, can_edit_user
from tracker.accounts.states import Role
from tracker.core.errors import DomainError
from tracker.core.forms import populate_errors, safe_next_url
from tracker.core.permissions import can_manage_users
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import unit_choices

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.username.data, form.password.data, address=request.remote_addr)
        except (ops.InvalidCredentials, ops.LoginLocked) as error:
            db.session.commit()  # the failure count must survive the refusal
            form.form_errors.append(str(error.message))
            status = error.status
        else:
            chosen_locale = session.get("locale")
            if user.locale is None and chosen_locale:
                user.locale = chosen_locale
            start_session(user)
            db.session.commit()
            return redirect(safe_next_url())
    elif request.method == "POST":
        status = 400
    form.next.data = request.values.get("next", "")
    return render_template("accounts/login.html", form=form, demo_accounts=demo_accounts()), status


@bp.route("/logout", methods=["POST"])
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        ops.set_locale(current_user, form.locale.data)
        db.session.commit()
    elif form.locale.data in ("zh_Hans_CN", "en"):
        session["locale"] = form.locale.data
    return redirect(safe_next_url())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(
                current_user, current_password=form.current_password.data, new_password=form.new_password.data
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on, new version
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/change_password.html", form=form)


# --- Administration -------------------------------------------------------------------------


def _require_admin():
    if not can_manage_users(current_user):
        abort(403)


def _get_user_or_404(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _unit_by_code(code):
    return db.session.scalar(select(Unit).where(Unit.code == code)) if code else None


@bp.route("/admin/users")
@login_required
def users():
    _require_admin()
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like)))
    if role in Role._value2member_map_:
        stmt = stmt.where(User.role == Role(role))
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("accounts/users.html", page=page, q=q, role=role, roles=Role, action_form=ConfirmForm())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def create_user():
    _require_admin()
    form = UserForm(unit_choices=unit_choices(current_user))
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                actor=current_user,
                username=form.username.data,
                display_name=form.display_name.data,
                password=form.password.data,
                role=Role(form.role.data),
                unit=_unit_by_code(form.unit_code.data),
                email=form.email.data,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("User %(name)s has been created.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id):
    _require_admin()
    user = _get_user_or_404(user_id)
    if not can_edit_user(current_user, user):
        abort(403)
    form = UserForm(obj=user, unit_choices=unit_choices(current_user))
    del form.password
    form.username.render_kw = {"readonly": True}
    if request.method == "GET":
        form.role.data = user.role.value
        form.unit_code.data = user.unit.code if user.unit else ""
    if form.validate_on_submit():
        try:
            ops.update_user(
                user,
                actor=current_user,
                display_name=form.display_name.data,
                role=Role(form.role.data),
                unit=_unit_by_code(form.unit_code.data),
                email=form.email.data,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("User %(name)s has been saved.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
    return render_template(
        "accounts/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(), action_form=ConfirmForm()
    )


@bp.route("/admin/users/<int:user_id>/<any(disable, enable, end_sessions):action>", methods=["POST"])
@login_required
def user_action(user_id, action):
    _require_admin()
    user = _get_user_or_404(user_id)
    if action == "disable" and not can_disable_user(current_user, user):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operation = {"disable": ops.disable_user, "enable": ops.enable_user, "end_sessions": ops.end_sessions}[action]
    operation(user, actor=current_user)
    db.session.commit()
    messages = {
        "disable": _("User %(name)s has been disabled; their sessions and API tokens have ended."),
        "enable": _("User %(name)s has been enabled."),
        "end_sessions": _("All sessions and API tokens of %(name)s have ended."),
    }
    flash(messages[action] % {"name": user.username}, "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id):
    _require_admin()
    user = _get_user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            ops.reset_password(user, actor=current_user, new_password=form.new_password.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The password of %(name)s has been reset.", name=user.username), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    edit_form = UserForm(obj=user, unit_choices=unit_choices(current_user))
    del edit_form.password
    edit_form.role.data = user.role.value
    edit_form.unit_code.data = user.unit.code if user.unit else ""
    return (
        render_template(
            "accounts/user_form.html", form=edit_form, user=user, reset_form=form, action_form=ConfirmForm()
        ),
        422,
    )
