"""Audit pages: the list, a new audit, the recording page (tablet), the review page, and the
administrators' checklist pages. Thin views: load → authorise → validate → operate → commit → respond.
"""
from dataclasses import dataclass

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker.accounts.models import User
from tracker.audits import operations as ops
from tracker.audits.forms import (
    AuditActionForm,
    AuditFilterForm,
    EvidenceUploadForm,
    NewAuditForm,
    ReturnAuditForm,
    record_form,
    template_form,
)
from tracker.audits.permissions import (
    auditor_display,
    available_actions,
    can_create_audit,
    can_record,
    check_audit_action,
    sees_auditor_names,
    unanswered_items,
)
from tracker.audits.queries import (
    AuditFilters,
    active_template,
    active_templates,
    attachments_by_result,
    audit_score,
    auditor_candidates,
    finding_cases,
    findings_of_case,
    get_audit_for,
    get_template,
    list_audits,
    results_by_section,
    template_versions,
)
from tracker.audits.schemas import ResultsBodySchema, load
from tracker.audits.serializers import audit_to_dict
from tracker.audits.states import AuditAction, AuditKind, AuditState, ItemResult
from tracker.cases.evidence import store_audit_attachment
from tracker.cases.forms import LOCAL_TZ, local_to_aware
from tracker.cases.models import ViolationType
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, NotFound
from tracker.core.forms import populate_errors
from tracker.core.permissions import can_manage_checklists, is_admin, is_staff, is_supervisor
from tracker.extensions import db
from tracker.units.queries import get_unit_by_code, unit_choices

bp = Blueprint("audits", __name__)


@bp.before_request
@login_required
def _staff_only():
    if not is_staff(current_user):
        abort(403)


def _json_error(error: DomainError):
    """The API's error envelope, for the recording page's JSON endpoints."""
    response = jsonify({"error": {
        "code": error.code, "message": str(error.message),
        "fields": {k: [str(m) for m in v] for k, v in error.fields.items()},
    }})
    response.status_code = error.status
    return response


def _wants_json():
    return request.accept_mimetypes.best == "application/json"


# --- the case page's link back (cases/_finding.html) --------------------------------------------


@dataclass
class Finding:
    audit: object
    item: object
    auditors: list


@bp.app_template_global()
def audit_findings(case) -> list[Finding]:
    """The audit items that opened or joined the case, with the auditors as the viewer may see them."""
    return [Finding(r.audit, r.item, auditor_display(current_user, r.audit)) for r in findings_of_case(current_user, case)]


# --- list and new -----------------------------------------------------------------------------


@bp.route("/audits")
def index():
    states = tuple(AuditState) if is_supervisor(current_user) or is_admin(current_user) else (AuditState.approved,)
    form = AuditFilterForm(request.args, unit_choices=unit_choices(current_user, include_inactive=True), states=states)
    filters = AuditFilters()
    if form.validate():
        filters = AuditFilters(
            unit=get_unit_by_code(form.unit.data) if form.unit.data else None,
            kind=AuditKind(form.kind.data) if form.kind.data else None,
            state=AuditState(form.state.data) if form.state.data else None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    cursor = request.args.get("cursor") or None
    try:
        audits, next_cursor = list_audits(current_user, filters, cursor=cursor)
    except DomainError:
        audits, next_cursor = list_audits(current_user, filters)
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    people = {a.id: auditor_display(current_user, a) for a in audits}
    return render_template("audits/index.html", form=form, audits=audits, people=people, next_cursor=next_cursor,
                           args=args, first_page=cursor is None, can_create=can_create_audit(current_user))


def _new_audit_form():
    templates = active_templates()
    return NewAuditForm(
        template_choices=[(t.code, f"{t.name} (v{t.version}, {t.kind.label})") for t in templates],
        unit_choices=unit_choices(current_user),
        auditor_choices=[(str(u.id), f"{u.display_name} ({u.username})") for u in auditor_candidates(current_user)],
    )


@bp.route("/audits/new", methods=["GET", "POST"])
def create():
    if not can_create_audit(current_user):
        abort(403)
    form = _new_audit_form()
    if request.method == "GET":
        form.visited_at.data = utcnow().astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        auditors = db.session.scalars(select(User).where(User.id.in_([int(i) for i in form.auditors.data]))).all()
        try:
            audit = ops.create_audit(
                actor=current_user, kind=form.kind.data, template=active_template(form.template_code.data),
                unit=get_unit_by_code(form.unit_code.data), visited_at=local_to_aware(form.visited_at.data),
                auditors=auditors, note=form.note.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(_("Audit #%(id)s has been created. Record the results.", id=audit.id), "success")
            return redirect(url_for("audits.record", audit_id=audit.id))
    return render_template("audits/new.html", form=form)


# --- the review page --------------------------------------------------------------------------

ACTION_FORMS = {AuditAction.submit: AuditActionForm, AuditAction.approve: AuditActionForm,
                AuditAction.return_: ReturnAuditForm}


def _action_form(action, audit, formdata=None):
    form = ACTION_FORMS[action](formdata=formdata, prefix=action.value)
    if formdata is None:
        form.version.data = audit.version
    return form


def _page_context(audit) -> dict:
    return {
        "audit": audit,
        "sections": results_by_section(audit),
        "total": audit_score(audit),
        "attachments": attachments_by_result(audit),
        "auditors": auditor_display(current_user, audit),
        "sees_names": sees_auditor_names(current_user, audit),
        "ItemResult": ItemResult,
    }


def _render_detail(audit, forms=None, status=200):
    actions = available_actions(current_user, audit)
    forms = forms or {}
    for action in actions:
        forms.setdefault(action, _action_form(action, audit))
    return render_template(
        "audits/detail.html", actions=actions, forms=forms, cases=finding_cases(audit),
        may_record=can_record(current_user, audit), unanswered=len(unanswered_items(audit)),
        **_page_context(audit),
    ), status


@bp.route("/audits/<int:audit_id>")
def detail(audit_id):
    return _render_detail(get_audit_for(current_user, audit_id))


@bp.route("/audits/<int:audit_id>/actions/<action_name>", methods=["POST"])
def act(audit_id, action_name):
    audit = get_audit_for(current_user, audit_id)
    try:
        action = AuditAction(action_name)
    except ValueError:
        abort(404)
    if action not in ACTION_FORMS:
        abort(404)
    form = _action_form(action, audit, formdata=request.form)
    if not form.validate_on_submit():
        return _render_detail(audit, {action: form}, 422)
    try:
        cases = ops.perform(audit, action, actor=current_user, version=form.version.data, **form.params())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        audit = get_audit_for(current_user, audit_id)
        populate_errors(form, error)
        return _render_detail(audit, {action: form}, error.status if error.status in (403, 409) else 422)
    flash(_("Done: %(action)s.", action=action.label), "success")
    if cases:
        flash(_("Cases opened or joined by the findings: %(numbers)s.", numbers=", ".join(c.number for c in cases)),
              "info")
    return redirect(url_for("audits.detail", audit_id=audit.id))


# --- the recording page -----------------------------------------------------------------------


def _render_record(audit, form, status=200):
    rows = {row.item_code.data: row for row in form.results}
    return render_template("audits/record.html", form=form, rows=rows, **_page_context(audit)), status


@bp.route("/audits/<int:audit_id>/record", methods=["GET", "POST"])
def record(audit_id):
    """The tablet page. With JavaScript each change is saved as it is made (``save_results``);
    without, this form saves every item (and any chosen files) at once."""
    audit = get_audit_for(current_user, audit_id)
    check_audit_action(current_user, audit, AuditAction.record)
    form = record_form(audit, submitted=request.method == "POST")
    if not form.validate_on_submit():
        return _render_record(audit, form, 422 if request.method == "POST" else 200)
    try:
        ops.record_results(audit, actor=current_user, version=form.version.data, results=form.params())
        by_code = {r.item.code: r for r in audit.results}
        for code, file_storage in form.files():
            if code in by_code:
                store_audit_attachment(by_code[code], actor=current_user, file_storage=file_storage)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        audit = get_audit_for(current_user, audit_id)
        populate_errors(form, error)
        return _render_record(audit, form, error.status if error.status in (403, 409, 413) else 422)
    flash(_("Saved."), "success")
    return redirect(url_for("audits.record", audit_id=audit.id))


@bp.route("/audits/<int:audit_id>/results", methods=["POST"])
def save_results(audit_id):
    """JSON partial save from the recording page: ``{"version", "results": [...]}`` → ``{"audit"}``."""
    try:
        audit = get_audit_for(current_user, audit_id)
        body = load(ResultsBodySchema, request.get_json(silent=True))
        ops.record_results(audit, actor=current_user, version=body["version"], results=body["results"])
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _json_error(error)
    return jsonify({"audit": audit_to_dict(audit, current_user)})


@bp.route("/audits/<int:audit_id>/items/<item_code>/evidence", methods=["POST"])
def upload_evidence(audit_id, item_code):
    """A photo or recording for one item; JSON for the page's script, a redirect otherwise."""
    try:
        audit = get_audit_for(current_user, audit_id)
        result = next((r for r in audit.results if r.item.code == item_code), None)
        if result is None:
            raise NotFound()
        form = EvidenceUploadForm()
        if not form.validate_on_submit():
            raise _form_error(form)
        attachment = store_audit_attachment(result, actor=current_user, file_storage=form.file.data,
                                             note=form.note.data or "")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if _wants_json():
            return _json_error(error)
        if error.status in (403, 404):
            raise  # a refusal is an error page, not a message on a page the user may not see
        for messages in (error.fields or {"file": [error.message]}).values():
            for message in messages:
                flash(str(message), "danger")
        return redirect(url_for("audits.record", audit_id=audit_id))
    if _wants_json():
        return jsonify({"attachment": {
            "id": attachment.id, "name": attachment.original_name, "size": attachment.size,
            "url": url_for("evidence.download", attachment_id=attachment.id),
        }}), 201
    flash(_("“%(name)s” has been added to the evidence.", name=attachment.original_name), "success")
    return redirect(url_for("audits.record", audit_id=audit_id) + f"#item-{item_code}")


def _form_error(form):
    from tracker.core.errors import ValidationError

    return ValidationError(fields={k: [str(m) for m in v] for k, v in form.errors.items()})


# --- checklist templates (administrators) -----------------------------------------------------


def _require_checklist_admin():
    if not can_manage_checklists(current_user):
        abort(403)


def _violation_choices(template):
    """Active catalogue entries, plus deactivated ones the template's items still cite."""
    cited = {i.violation_type_id for s in template.sections for i in s.items}
    types = db.session.scalars(
        select(ViolationType).where(ViolationType.active.is_(True) | ViolationType.id.in_(cited))
        .order_by(ViolationType.code)
    )
    return [(t.code, f"{t.code} {t.name}") for t in types]


@bp.route("/admin/checklists")
def templates():
    _require_checklist_admin()
    return render_template("audits/templates.html", versions=template_versions())


@bp.route("/admin/checklists/<int:template_id>")
def template_detail(template_id):
    _require_checklist_admin()
    template = get_template(template_id)
    return render_template("audits/template.html", template=template)


@bp.route("/admin/checklists/<int:template_id>/edit", methods=["GET", "POST"])
def template_edit(template_id):
    _require_checklist_admin()
    template = get_template(template_id)
    if not template.active:
        flash(_("Only the current version of a checklist can be changed."), "warning")
        return redirect(url_for("audits.template_detail", template_id=template.id))
    form = template_form(template, submitted=request.method == "POST", violation_choices=_violation_choices(template))
    errors = []
    if form.validate_on_submit():
        version = template.version
        try:
            target = ops.revise_template(template, actor=current_user, **form.params())
        except DomainError as error:
            db.session.rollback()
            errors = [str(m) for m in error.fields.pop("sections", [])]
            if error.fields or not errors:
                populate_errors(form, error)
        else:
            db.session.commit()
            if target.version != version:
                flash(_("Audits were recorded on version %(old)s, so the changes are saved as version %(new)s.",
                        old=version, new=target.version), "success")
            else:
                flash(_("The checklist has been saved."), "success")
            return redirect(url_for("audits.template_detail", template_id=target.id))
    status = 422 if request.method == "POST" else 200
    return render_template("audits/template_form.html", form=form, template=template, errors=errors), status
