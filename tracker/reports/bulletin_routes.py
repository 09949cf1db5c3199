"""Bulletin pages, the supervisors' feedback inbox and the external supervisors' portal. Thin views.

``bulletins``: the list, drafting (create, edit, preview, publish, correct) for supervision
staff, the bulletin page and its PDF for everybody signed in (drafts only for staff in scope).
``portal``: the home of external supervisors (行风监督员) — published bulletins, the latest
published unit rankings (frozen content only) and their feedback with its answers.
"""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.accounts.forms import ConfirmForm
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, InvalidTransition, NotFound
from tracker.core.forms import populate_errors
from tracker.core.pdf import pdf_response
from tracker.core.permissions import is_external, scope_path
from tracker.extensions import db
from tracker.reports import bulletins as bl
from tracker.reports import bulletin_render as render
from tracker.reports.bulletin_forms import AnswerForm, BulletinForm, FeedbackForm
from tracker.reports.figures import local_date
from tracker.reports.models import Bulletin, Feedback
from tracker.reports.states import BulletinState
from tracker.units.queries import get_unit_by_code, unit_choices

bp = Blueprint("bulletins", __name__)
portal_bp = Blueprint("portal", __name__)

PER_PAGE = 20
FEEDBACK_PER_PAGE = 20
PORTAL_FEEDBACK = 10


@bp.before_request
@login_required
def _signed_in():
    """Every page needs a signed-in user; each view checks the rest."""


def _bulletin(bulletin_id):
    return bl.get_bulletin_for(current_user, bulletin_id)


def _require_manager(bulletin=None):
    if not bl.can_manage_bulletins(current_user) or (
        bulletin is not None and not bl.can_edit_bulletin(current_user, bulletin)
    ):
        abort(403)


def _confirmed():
    if not ConfirmForm().validate_on_submit():
        abort(400)


# --- list and drafting ------------------------------------------------------------------------


@bp.route("/bulletins")
def index():
    stmt = bl.bulletins_visible_to(current_user).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template("bulletins/index.html", page=page, superseded=bl.superseded_ids(page.items),
                           can_manage=bl.can_manage_bulletins(current_user))


def _bulletin_form(**kwargs):
    return BulletinForm(unit_choices=unit_choices(current_user),
                        whole_organisation=scope_path(current_user) is None, **kwargs)


def _form_values(form):
    values = {"title": form.title.data, "period_from": form.period_from.data, "period_to": form.period_to.data,
              "introduction": form.introduction.data or ""}
    if form.unit_code is not None:  # absent for a correction, which keeps its unit
        values["unit"] = get_unit_by_code(form.unit_code.data) if form.unit_code.data else None
        if form.unit_code.data and values["unit"] is None:
            raise NotFound()
    return values


@bp.route("/bulletins/new", methods=["GET", "POST"])
def create():
    _require_manager()
    form = _bulletin_form()
    if request.method == "GET":
        first_of_month = local_date(utcnow()).replace(day=1)  # Beijing's month, whatever the server's zone
        form.period_to.data = first_of_month - timedelta(days=1)
        form.period_from.data = form.period_to.data.replace(day=1)
    if form.validate_on_submit():
        try:
            bulletin = bl.create_bulletin(actor=current_user, **_form_values(form))
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The draft has been saved. Check the preview, then publish it."), "success")
            return redirect(url_for("bulletins.detail", bulletin_id=bulletin.id))
    return render_template("bulletins/form.html", form=form, bulletin=None)


@bp.route("/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
def edit(bulletin_id):
    bulletin = _bulletin(bulletin_id)
    _require_manager(bulletin)
    if bulletin.state != BulletinState.draft:
        raise InvalidTransition(_("A published bulletin cannot be changed; publish a correction instead."))
    form = _bulletin_form(obj=bulletin)
    if request.method == "GET":
        form.unit_code.data = bulletin.unit.code if bulletin.unit else ""
    if bulletin.supersedes_id is not None:
        del form.unit_code  # a correction keeps the unit of the version it corrects
    if form.validate_on_submit():
        try:
            bl.update_bulletin(bulletin, actor=current_user, **_form_values(form))
        except InvalidTransition:
            raise  # published meanwhile: the 409 page, not a field error
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("The draft has been saved."), "success")
            return redirect(url_for("bulletins.detail", bulletin_id=bulletin.id))
    return render_template("bulletins/form.html", form=form, bulletin=bulletin)


@bp.route("/bulletins/<int:bulletin_id>/publish", methods=["POST"])
def publish(bulletin_id):
    bulletin = _bulletin(bulletin_id)
    _require_manager(bulletin)
    _confirmed()
    bl.publish_bulletin(bulletin, actor=current_user)
    db.session.commit()
    flash(_("Version %(n)s has been published. Its figures are now frozen.", n=bulletin.version_no),
          "success")
    return redirect(url_for("bulletins.detail", bulletin_id=bulletin.id))


@bp.route("/bulletins/<int:bulletin_id>/correct", methods=["POST"])
def correct(bulletin_id):
    bulletin = _bulletin(bulletin_id)
    _require_manager(bulletin)
    _confirmed()
    draft = bl.correct_bulletin(bulletin, actor=current_user)
    db.session.commit()
    flash(_("Version %(n)s has been drafted. Publish it to supersede version %(old)s.",
            n=draft.version_no, old=bulletin.version_no), "success")
    return redirect(url_for("bulletins.edit", bulletin_id=draft.id))


# --- reading ----------------------------------------------------------------------------------


@bp.route("/bulletins/<int:bulletin_id>")
def detail(bulletin_id):
    bulletin = _bulletin(bulletin_id)
    context = render.page_context(bulletin)
    context["charts"] = render.bulletin_charts(context["content"])
    return render_template(
        "bulletins/detail.html",
        can_edit=bl.can_edit_bulletin(current_user, bulletin),
        correction=bl.pending_correction(bulletin) if bl.can_edit_bulletin(current_user, bulletin) else None,
        can_send_feedback=bl.can_send_feedback(current_user) and not context["is_draft"],
        **context,
    )


@bp.route("/bulletins/<int:bulletin_id>.pdf")
def pdf(bulletin_id):
    bulletin = _bulletin(bulletin_id)
    return pdf_response(render.bulletin_pdf(bulletin), render.pdf_filename(bulletin))


# --- feedback inbox (supervision staff) -------------------------------------------------------


FEEDBACK_FILTERS = ("open", "answered", "all")


@bp.route("/feedback")
def feedback_inbox():
    if not bl.can_manage_bulletins(current_user):
        abort(403)
    status = request.args.get("status") if request.args.get("status") in FEEDBACK_FILTERS else "open"
    stmt = bl.feedback_visible_to(current_user).order_by(Feedback.created_at.desc(), Feedback.id.desc())
    if status == "open":
        stmt = stmt.where(Feedback.answered_at.is_(None))
    elif status == "answered":
        stmt = stmt.where(Feedback.answered_at.is_not(None))
    page = db.paginate(stmt, per_page=FEEDBACK_PER_PAGE, error_out=False)
    forms = {f.id: AnswerForm(prefix=f"answer-{f.id}", formdata=None)
             for f in page.items if f.answered_at is None}
    return render_template("bulletins/feedback_inbox.html", page=page, forms=forms, status=status)


@bp.route("/feedback/<int:feedback_id>/answer", methods=["POST"])
def answer_feedback(feedback_id):
    if not bl.can_manage_bulletins(current_user):
        abort(403)
    feedback = bl.get_feedback_for(current_user, feedback_id)
    form = AnswerForm(prefix=f"answer-{feedback.id}")
    if not form.validate_on_submit():
        flash(_("Write an answer before sending it."), "error")
        return redirect(url_for("bulletins.feedback_inbox"))
    bl.answer_feedback(feedback, actor=current_user, answer=form.answer.data)
    db.session.commit()
    flash(_("The answer has been sent to its author."), "success")
    return redirect(url_for("bulletins.feedback_inbox"))


# --- the external supervisors' portal ---------------------------------------------------------


@portal_bp.before_request
@login_required
def _external_only():
    if not is_external(current_user):
        abort(403)


def _feedback_form():
    current = bl.published_bulletins(current_user).where(bl.current_condition()).limit(100)
    choices = [(str(b.id), f"{b.title} (v{b.version_no})") for b in db.session.scalars(current)]
    return FeedbackForm(bulletin_choices=choices)


def _portal(form, status=200):
    page = db.paginate(bl.published_bulletins(current_user), per_page=PER_PAGE // 2, error_out=False)
    feedback = db.session.scalars(_own_feedback().limit(PORTAL_FEEDBACK)).all()
    return render_template(
        "portal/index.html", page=page, superseded=bl.superseded_ids(page.items), form=form, feedback=feedback,
        summaries=bl.latest_unit_summaries(current_user), level_label=render.helpers()["level_label"],
    ), status


def _own_feedback():
    return bl.feedback_visible_to(current_user).order_by(Feedback.created_at.desc(), Feedback.id.desc())


@portal_bp.route("/portal")
def index():
    form = _feedback_form()
    if request.args.get("about", "").isdigit():
        form.bulletin_id.data = request.args["about"]
    return _portal(form)


@portal_bp.route("/portal/feedback", methods=["GET", "POST"])
def feedback():
    if request.method == "GET":
        page = db.paginate(_own_feedback(), per_page=FEEDBACK_PER_PAGE, error_out=False)
        return render_template("portal/feedback.html", page=page)
    form = _feedback_form()
    if form.validate_on_submit():
        bulletin = None
        if form.bulletin_id.data:
            bulletin = bl.get_bulletin_for(current_user, int(form.bulletin_id.data))
        try:
            bl.send_feedback(actor=current_user, subject=form.subject.data, body=form.body.data,
                             bulletin=bulletin)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("Thank you. Your feedback has been sent to the service supervision office."), "success")
            return redirect(url_for("portal.index"))
    return _portal(form, 422)
