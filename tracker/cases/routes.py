"""Case pages: list, intake, the case page with its action forms, history verification."""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.cases import operations as ops
from tracker.cases.forms import (
    ACTION_FORMS,
    LOCAL_TZ,
    CaseFilterForm,
    ComplaintForm,
    filters_from_form,
    local_to_aware,
)
from tracker.cases.models import ViolationType
from tracker.cases.notifications import unit_heads_for
from tracker.cases.permissions import available_actions, can_view_case
from tracker.cases.privacy import complainant_for
from tracker.cases.queries import (
    case_events,
    get_case_for,
    list_cases,
    repeat_violation_count,
    suspected_duplicates,
)
from tracker.cases.states import Action, Channel, MeasureKind
from tracker.core.database import utcnow
from tracker.core.errors import DomainError
from tracker.core.forms import populate_errors, select_choices
from tracker.core.history import verify_chain
from tracker.core.permissions import is_admin, is_staff, is_supervisor
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import get_unit_by_code, unit_choices

bp = Blueprint("cases", __name__)


@bp.before_request
@login_required
def _staff_only():
    if not is_staff(current_user):
        abort(403)


def violation_choices():
    english = str(get_locale()) == "en"
    types = db.session.scalars(
        select(ViolationType).where(ViolationType.active.is_(True)).order_by(ViolationType.code)
    )
    return [(t.code, f"{t.code} {t.name_en if english and t.name_en else t.name}") for t in types]


# --- list -------------------------------------------------------------------------------------


@bp.route("/cases")
def index():
    form = CaseFilterForm(request.args, unit_choices=unit_choices(current_user, include_inactive=True))
    filters = filters_from_form(form)
    cursor = request.args.get("cursor") or None
    try:
        cases, next_cursor = list_cases(current_user, filters, sort=form.sort.data or "received_desc", cursor=cursor)
    except DomainError:
        cases, next_cursor = list_cases(current_user, filters, sort=form.sort.data or "received_desc")
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return render_template("cases/index.html", form=form, cases=cases, next_cursor=next_cursor, args=args,
                           first_page=cursor is None, now=utcnow())


# --- intake -----------------------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
def create():
    if not is_supervisor(current_user):
        abort(403)
    form = ComplaintForm(unit_choices=unit_choices(current_user), violation_choices=violation_choices())
    duplicates = []
    if request.method == "GET":
        form.received_at.data = utcnow().astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        unit = get_unit_by_code(form.unit_code.data)
        received_at = local_to_aware(form.received_at.data)
        if not form.confirm_not_duplicate.data and unit is not None:
            duplicates = suspected_duplicates(
                current_user, unit=unit, phone=form.complainant_phone.data, summary=form.summary.data,
                received_at=received_at,
            )
        if not duplicates:
            try:
                case, created = ops.register_case(
                    actor=current_user,
                    channel=Channel(form.channel.data),
                    unit=unit,
                    received_at=received_at,
                    summary=form.summary.data,
                    details=form.details.data or "",
                    complainant=ops.Complainant(
                        form.complainant_name.data, form.complainant_phone.data, form.complainant_address.data
                    ),
                    external_ref=form.external_ref.data,
                    violation_type_code=form.violation_type_code.data or None,
                )
            except DomainError as error:
                populate_errors(form, error)
            else:
                db.session.commit()
                if created:
                    flash(_("Case %(number)s has been registered.", number=case.number), "success")
                else:
                    flash(_("This reference is already registered as case %(number)s.", number=case.number), "info")
                return redirect(url_for("cases.detail", number=case.number))
    return render_template("cases/new.html", form=form, duplicates=duplicates)


# --- the case page ----------------------------------------------------------------------------


def _responsibility_units(case):
    """The case's line: its unit, the units above (management, leadership) and below."""
    stmt = select(Unit).where(
        (Unit.id.in_(case.unit.ancestor_ids)) | (Unit.path.like(f"{case.unit.path}%"))
    ).order_by(Unit.path)
    return [(u.code, f"{u.name} ({u.level.label})") for u in db.session.scalars(stmt)]


def _propose_responsibilities(form, case):
    """四级控制: suggest direct responsibility at the unit, management responsibility for its head,
    leadership responsibility for the head of the unit above."""
    rows = form.responsibilities
    rows[0].unit_code.data, rows[0].kind.data = case.unit.code, "direct"
    heads = unit_heads_for(case.unit)
    rows[1].unit_code.data, rows[1].kind.data = case.unit.code, "management"
    rows[1].person_name.data = heads[0].display_name if heads and heads[0].unit_id == case.unit_id else ""
    if case.unit.parent is not None:
        parent_heads = unit_heads_for(case.unit.parent)
        rows[2].unit_code.data, rows[2].kind.data = case.unit.parent.code, "leadership"
        rows[2].person_name.data = parent_heads[0].display_name if parent_heads else ""


def build_action_form(action: Action, case, formdata=None):
    form_class = ACTION_FORMS[action]
    kwargs = {}
    if action in (Action.determine, Action.decide_appeal):
        kwargs = {"unit_choices": _responsibility_units(case), "violation_choices": violation_choices()}
    if action in (Action.extend_deadline, Action.pause_deadline, Action.resume_deadline):
        running = [d for d in case.open_deadlines if (d.paused_at is not None) == (action == Action.resume_deadline)]
        kwargs = {"kinds": [d.kind for d in running]}
    form = form_class(formdata=formdata, prefix=action.value, **kwargs)
    if action == Action.schedule_interview:
        scheduled = {i.measure_id for i in case.interviews if i.held_at is None}
        form.measure_id.choices = select_choices(
            (str(m.id), f"#{m.id} {m.responsibility.person_name or m.responsibility.unit.name}")
            for m in case.measures if m.kind == MeasureKind.warning_interview and m.id not in scheduled
        )
    elif action == Action.record_interview:
        form.interview_id.choices = select_choices(
            (str(i.id), f"#{i.id} {i.location}") for i in case.interviews if i.held_at is None
        )
    elif action == Action.acknowledge_interview:
        form.interview_id.choices = select_choices(
            (str(i.id), f"#{i.id} {i.location}") for i in case.interviews if i.held_at and not i.acknowledged_at
        )
    elif action == Action.complete_measure:
        form.measure_id.choices = select_choices(
            (str(m.id), f"#{m.id} {m.kind.label}") for m in case.measures
            if not m.done and m.kind != MeasureKind.warning_interview
        )
    elif action == Action.grant_complainant_access:
        # Heads of the case's unit and of the units above it: the only ones who can see the case.
        heads = db.session.scalars(
            select(User)
            .where(User.role == Role.unit_head, User.active.is_(True),
                   User.unit_id.in_([*case.unit.ancestor_ids, case.unit_id]))
            .options(joinedload(User.unit))
        ).all()
        form.username.choices = select_choices(
            (u.username, f"{u.display_name} ({u.unit.name})") for u in heads if can_view_case(u, case)
        )
    if formdata is None:
        form.version.data = case.version
        if action == Action.record_inquiry:
            form.facts.data, form.persons.data = case.inquiry_facts, case.inquiry_persons
            form.accountability.data = case.inquiry_accountability
        elif action in (Action.determine, Action.decide_appeal):
            _propose_responsibilities(form, case)
            if case.violation_type:
                form.violation_type_code.data = case.violation_type.code
                form.severity.data = (case.severity or case.violation_type.severity).value
    return form


def _render_case(case, forms=None, status=200):
    actions = available_actions(current_user, case)
    forms = forms or {}
    for action in actions:
        forms.setdefault(action, build_action_form(action, case))
    repeat = repeat_violation_count(case) if Action.determine in actions else 0
    duplicates = (
        suspected_duplicates(current_user, unit=case.unit, phone=case.complainant_phone, summary=case.summary,
                             received_at=case.received_at, exclude_id=case.id)
        if Action.merge_into in actions else []
    )
    context = {}
    try:
        from tracker.cases.evidence_routes import evidence_context

        context = evidence_context(current_user, case)
    except ImportError:  # the evidence blueprint is optional in this build
        context = {}
    return (
        render_template(
            "cases/detail.html", case=case, actions=actions, forms=forms, events=case_events(case),
            complainant=complainant_for(current_user, case), now=utcnow(), repeat_count=repeat,
            duplicates=duplicates, Action=Action, **context,
        ),
        status,
    )


@bp.route("/cases/<number>")
def detail(number):
    return _render_case(get_case_for(current_user, number))


@bp.route("/cases/<number>/actions/<action_name>", methods=["POST"])
def act(number, action_name):
    case = get_case_for(current_user, number)
    try:
        action = Action(action_name)
    except ValueError:
        abort(404)
    form = build_action_form(action, case, formdata=request.form)
    if not form.validate_on_submit():
        return _render_case(case, {action: form}, 422)
    try:
        ops.perform(case, action, actor=current_user, version=form.version.data, **form.params())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        case = get_case_for(current_user, number)
        populate_errors(form, error)
        return _render_case(case, {action: form}, error.status if error.status in (403, 409) else 422)
    flash(_("Done: %(action)s.", action=action.label), "success")
    return redirect(url_for("cases.detail", number=case.number) + f"#{action.value}")


# --- history ----------------------------------------------------------------------------------


@bp.route("/history/verify")
def verify_history():
    if not (is_supervisor(current_user) or is_admin(current_user)):
        abort(403)
    result = verify_chain()
    broken = None
    if not result.ok:
        from tracker.core.history import HistoryEvent

        broken = db.session.get(HistoryEvent, result.first_bad_seq)
    return render_template("cases/verify.html", result=result, broken=broken)
