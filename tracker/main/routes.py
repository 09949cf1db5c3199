from flask import Blueprint, render_template
from flask_login import current_user, login_required

from tracker.accounts.forms import LanguageForm
from tracker.accounts.states import Role
from tracker.main.navigation import nav_items_for

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
    return render_template("main/index.html")

