"""Audits and checklists (API.md): the checklists, filing an audit, saving results, submit /
approve / return, and reads. The same operations as the web pages."""
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from tracker.accounts.models import User
from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema
from tracker.audits import operations as ops
from tracker.audits.queries import AuditFilters, active_template, active_templates, get_audit_for, list_audits
from tracker.audits.schemas import AuditActionBodySchema, NewAuditSchema, ResultsBodySchema
from tracker.audits.serializers import audit_to_dict, template_to_dict
from tracker.audits.states import AuditAction, AuditKind, AuditState
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.permissions import is_staff
from tracker.extensions import db
from tracker.units.queries import get_unit_by_code

blp = Blueprint("api_audits", __name__, url_prefix="/api/v1", description="Audits and checklists")


class ChecklistItemSchema(Schema):
    code = fields.String()
    text = fields.String()
    weight = fields.Integer()
    critical = fields.Boolean()
    violation_type_code = fields.String(allow_none=True)
    clause = fields.String()


class ChecklistSectionSchema(Schema):
    name = fields.String()
    name_en = fields.String()
    items = fields.List(fields.Nested(ChecklistItemSchema))


class ChecklistSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    kind = fields.String()
    version = fields.Integer()
    sections = fields.List(fields.Nested(ChecklistSectionSchema))


class ChecklistListSchema(Schema):
    items = fields.List(fields.Nested(ChecklistSchema))
    next_cursor = fields.String(allow_none=True)


class AuditSchema(Schema):
    """Documentation of the Audit object; the dict is built by tracker.audits.serializers."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer()
    kind = fields.String()
    template_code = fields.String()
    template_version = fields.Integer()
    template_name = fields.String()
    unit_code = fields.String()
    unit_name = fields.String()
    visited_at = fields.String()
    state = fields.String()
    score = fields.Float(allow_none=True, metadata={"description": "0–100; null until submitted or with no applicable item"})
    critical_failed = fields.Boolean()
    note = fields.String()
    returned_reason = fields.String(allow_none=True)
    submitted_at = fields.String(allow_none=True)
    approved_at = fields.String(allow_none=True)
    results = fields.List(fields.Dict(), metadata={"description": "[{item_code, result, note, weight, critical, case_number}]"})
    auditors = fields.List(fields.Dict(), metadata={
        "description": "The author and auditors: {pseudonym, display} only for viewers who may not know mystery "
                       "shoppers; with username, name and author for supervision staff."})
    version = fields.Integer()
    created_at = fields.String()
    updated_at = fields.String()
    available_actions = fields.List(fields.String())


class AuditEnvelopeSchema(Schema):
    audit = fields.Nested(AuditSchema)


class AuditActionResultSchema(Schema):
    audit = fields.Nested(AuditSchema)
    cases = fields.List(fields.String(), metadata={"description": "Numbers of the cases the failed items opened or joined"})


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditSchema))
    next_cursor = fields.String(allow_none=True)


class AuditListArgsSchema(Schema):
    unit = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf([k.value for k in AuditKind]))
    state = fields.String(load_default=None, validate=validate.OneOf([s.value for s in AuditState]))
    from_ = fields.Date(load_default=None, data_key="from")
    to = fields.Date(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


@blp.route("/checklists")
@blp.doc(security=SECURITY)
@blp.response(200, ChecklistListSchema)
@token_required
def list_checklists():
    """The current version of every checklist, with its sections and items."""
    if not is_staff(api_user()):
        raise PermissionDenied()
    return {"items": [template_to_dict(t) for t in active_templates()], "next_cursor": None}


@blp.route("/audits", methods=["POST"])
@blp.doc(security=SECURITY, description="File an audit (supervision staff); `results` may already hold some or "
         "all answers. `auditors`: usernames of the supervisors who made the visit.")
@blp.arguments(NewAuditSchema)
@blp.response(201, AuditEnvelopeSchema)
@blp.alt_response(422, schema=ErrorSchema)
@token_required
def create_audit(body):
    user = api_user()
    auditors = []
    for username in body["auditors"]:
        auditor = db.session.scalar(select(User).where(User.username == username))
        if auditor is None:
            raise ValidationError(_l("Unknown user %(name)s.", name=username), field="auditors")
        auditors.append(auditor)
    unit = get_unit_by_code(body["unit_code"])
    audit = ops.create_audit(
        actor=user, kind=body["kind"], template=active_template(body["template_code"]), unit=unit,
        visited_at=body["visited_at"], auditors=auditors, note=body["note"],
    )
    if body["results"]:
        ops.record_results(audit, actor=user, version=audit.version, results=body["results"])
    db.session.commit()
    return {"audit": audit_to_dict(audit, user)}, 201


@blp.route("/audits")
@blp.doc(security=SECURITY)
@blp.arguments(AuditListArgsSchema, location="query")
@blp.response(200, AuditListSchema)
@token_required
def list_audits_endpoint(args):
    """Audits in the caller's scope, latest visit first; ``unit`` includes the unit's subtree.
    Unit heads see approved audits only; external supervisors none (403)."""
    user = api_user()
    if not is_staff(user):
        raise PermissionDenied()
    unit = None
    if args["unit"]:
        unit = get_unit_by_code(args["unit"])
        if unit is None:
            raise ValidationError(_l("Unknown unit."), field="unit")
    filters = AuditFilters(
        unit=unit,
        kind=AuditKind(args["kind"]) if args["kind"] else None,
        state=AuditState(args["state"]) if args["state"] else None,
        date_from=args["from_"],
        date_to=args["to"],
    )
    audits, next_cursor = list_audits(user, filters, cursor=args["cursor"], limit=args["limit"], with_results=True)
    return {"items": [audit_to_dict(a, user) for a in audits], "next_cursor": next_cursor}


@blp.route("/audits/<int:audit_id>")
@blp.doc(security=SECURITY)
@blp.response(200, AuditEnvelopeSchema)
@blp.alt_response(404, schema=ErrorSchema)
@token_required
def get_audit(audit_id):
    user = api_user()
    return {"audit": audit_to_dict(get_audit_for(user, audit_id), user)}


@blp.route("/audits/<int:audit_id>/results", methods=["POST"])
@blp.doc(security=SECURITY, description="Save some results: `{\"version\": N, \"results\": [{\"item_code\", "
         "\"result\": \"pass\"|\"fail\"|\"na\"|null, \"note\"}]}`; a key left out keeps its value. 409 "
         "version_conflict when `version` is stale.")
@blp.arguments(ResultsBodySchema)
@blp.response(200, AuditEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema)
@token_required
def save_results(body, audit_id):
    user = api_user()
    audit = get_audit_for(user, audit_id)
    ops.record_results(audit, actor=user, version=body["version"], results=body["results"])
    db.session.commit()
    return {"audit": audit_to_dict(audit, user)}


@blp.route("/audits/<int:audit_id>/actions/<action>", methods=["POST"])
@blp.doc(security=SECURITY, description="`submit` (the author or an auditor; every item answered), `approve` "
         "(a supervisor other than the author and the auditors; failed items open or join cases), `return` "
         "(with `reason`). Each body carries `version`.")
@blp.arguments(AuditActionBodySchema)
@blp.response(200, AuditActionResultSchema)
@blp.alt_response(409, schema=ErrorSchema)
@token_required
def run_action(body, audit_id, action):
    user = api_user()
    try:
        action = AuditAction(action)
    except ValueError:
        raise NotFound() from None
    if action == AuditAction.record:
        raise NotFound()
    audit = get_audit_for(user, audit_id)
    cases = ops.perform(audit, action, actor=user, version=body["version"], reason=body["reason"])
    db.session.commit()
    return {"audit": audit_to_dict(audit, user), "cases": [c.number for c in cases]}
