from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.accounts.forms import LanguageForm
from tracker.accounts.states import Role
from tracker.core.permissions import can_manage_settings, is_admin, is_external, is_staff
from tracker.main.navigation import nav_items_for
from tracker.settings.queries import years_to_declare

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _layout_context():
    # The language switch is a small POST form in the navigation bar of every page.
    return {
        "language_form": LanguageForm(),
        "Role": Role,
        "nav_items": lambda: nav_items_for(current_user),
    }


@bp.route("/")
@login_required
def index():
    # Staff start where their work is; administrators keep the admin overview.
    if is_staff(current_user) and not is_admin(current_user):
        return redirect(url_for("inbox.index"))
    if is_external(current_user):
        return redirect(url_for("portal.index"))
    # Only the administrator can make the working-day calendar know a year.
    calendar_gaps = years_to_declare() if can_manage_settings(current_user) else []
    return render_template("main/index.html", calendar_gaps=calendar_gaps)



@bp.route("/help")
@bp.route("/help/<role>")
def help_page(role=None):
    """Short help for each role; open without logging in, so the login page can link to it."""
    if role is None:
        role = current_user.role.value if current_user.is_authenticated else Role.supervisor.value
    if role not in Role._value2member_map_:
        abort(404)
    return render_template("main/help.html", role=Role(role), roles=list(Role))
