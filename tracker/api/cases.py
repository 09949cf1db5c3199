"""Complaints and cases (API.md): intake, lists, the case, its actions and its history."""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowValidationError

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema
from tracker.cases import operations as ops
from tracker.cases.action_schemas import ACTION_SCHEMAS
from tracker.cases.privacy import granted_case_ids
from tracker.cases.queries import CaseFilters, case_detail_options, case_events, get_case_for, list_cases
from tracker.cases.serializers import case_to_dict, event_to_dict
from tracker.cases.states import Action, CaseState, Channel, Severity
from tracker.core.errors import NotFound, PermissionDenied, ValidationError
from tracker.core.history import verify_chain
from tracker.core.permissions import is_admin, is_staff, is_supervisor
from tracker.extensions import db
from tracker.units.queries import get_unit_by_code

blp = Blueprint("api_cases", __name__, url_prefix="/api/v1", description="Complaints and cases")


def _values(enum_cls):
    return validate.OneOf([m.value for m in enum_cls])


class ComplainantSchema(Schema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class ComplaintSchema(Schema):
    channel = fields.String(required=True, validate=_values(Channel))
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    received_at = fields.AwareDateTime(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=200))
    details = fields.String(load_default="", validate=validate.Length(max=20000))
    complainant = fields.Nested(ComplainantSchema, load_default=None, allow_none=True)
    external_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    violation_type_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))


class CaseSchema(Schema):
    """Documentation of the Case object; the dict is built by tracker.cases.serializers."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String()
    state = fields.String()
    outcome = fields.String(allow_none=True)
    channel = fields.String()
    external_ref = fields.String(allow_none=True)
    unit_code = fields.String()
    unit_name = fields.String()
    received_at = fields.String()
    summary = fields.String()
    details = fields.String()
    complainant = fields.Dict(allow_none=True)
    violation_type_code = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)
    version = fields.Integer()
    deadlines = fields.List(fields.Dict())
    inquiry = fields.Dict()
    explanation = fields.Dict()
    responsibilities = fields.List(fields.Dict())
    measures = fields.List(fields.Dict())
    interviews = fields.List(fields.Dict())
    appeal = fields.Dict()
    rectification = fields.Dict()
    follow_up = fields.Dict(allow_none=True)
    merged_into = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    available_actions = fields.List(fields.String(), allow_none=True,
                                    metadata={"description": "null in lists; the case itself names them"})


class CaseEnvelopeSchema(Schema):
    case = fields.Nested(CaseSchema)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    next_cursor = fields.String(allow_none=True)


class CaseListArgsSchema(Schema):
    unit = fields.String(load_default=None)
    state = fields.String(load_default=None, validate=_values(CaseState))
    channel = fields.String(load_default=None, validate=_values(Channel))
    severity = fields.String(load_default=None, validate=_values(Severity))
    overdue = fields.Boolean(load_default=False)
    from_ = fields.Date(load_default=None, data_key="from")
    to = fields.Date(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    phone = fields.String(load_default=None, validate=validate.Length(max=32))
    sort = fields.String(load_default="received_desc", validate=validate.OneOf(["received_desc", "received_asc", "updated_desc"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class ActionBodySchema(Schema):
    """Every action's body carries ``version``; the other fields depend on the action (API.md)."""

    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True)


class EventSchema(Schema):
    seq = fields.Integer()
    at = fields.String()
    actor = fields.String()
    action = fields.String()
    data = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    next_cursor = fields.String(allow_none=True)


class VerifySchema(Schema):
    ok = fields.Boolean()
    checked = fields.Integer()
    first_bad_seq = fields.Integer(allow_none=True)


@blp.route("/complaints", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(ComplaintSchema)
@blp.response(201, CaseEnvelopeSchema)
@blp.alt_response(200, schema=CaseEnvelopeSchema, description="Already registered (same channel and external_ref)")
@token_required
def create_complaint(body):
    """Register a complaint; the same channel + external_ref again returns the existing case."""
    user = api_user()
    complainant = body["complainant"] or {}
    case, created = ops.register_case(
        actor=user,
        channel=Channel(body["channel"]),
        unit=get_unit_by_code(body["unit_code"]),
        received_at=body["received_at"],
        summary=body["summary"],
        details=body["details"],
        complainant=ops.Complainant(**complainant),
        external_ref=body["external_ref"],
        violation_type_code=body["violation_type_code"],
    )
    db.session.commit()
    return {"case": case_to_dict(case, user)}, 201 if created else 200


@blp.route("/cases")
@blp.doc(security=SECURITY)
@blp.arguments(CaseListArgsSchema, location="query")
@blp.response(200, CaseListSchema)
@token_required
def list_cases_endpoint(args):
    """Cases in the caller's scope; ``unit`` includes the unit's subtree."""
    user = api_user()
    if not is_staff(user):
        raise PermissionDenied()  # external supervisors see no cases at all
    unit = None
    if args["unit"]:
        unit = get_unit_by_code(args["unit"])
        if unit is None:
            raise ValidationError(_l("Unknown unit."), field="unit")
    filters = CaseFilters(
        unit=unit,
        state=CaseState(args["state"]) if args["state"] else None,
        channel=Channel(args["channel"]) if args["channel"] else None,
        severity=Severity(args["severity"]) if args["severity"] else None,
        overdue=args["overdue"],
        date_from=args["from_"],
        date_to=args["to"],
        q=args["q"],
        phone=args["phone"],
    )
    cases, next_cursor = list_cases(user, filters, sort=args["sort"], cursor=args["cursor"], limit=args["limit"],
                                    options=case_detail_options(unit_joined=True))
    granted = granted_case_ids(user, [c.id for c in cases])
    items = [case_to_dict(c, user, with_actions=False, granted=c.id in granted) for c in cases]
    return {"items": items, "next_cursor": next_cursor}


@blp.route("/cases/<number>")
@blp.doc(security=SECURITY)
@blp.response(200, CaseEnvelopeSchema)
@blp.alt_response(404, schema=ErrorSchema)
@token_required
def get_case(number):
    user = api_user()
    return {"case": case_to_dict(get_case_for(user, number), user)}


@blp.route("/cases/<number>/actions/<action>", methods=["POST"])
@blp.doc(
    security=SECURITY,
    description="Run a workflow action (see API.md's table for each body). 409 invalid_transition names "
    "the state; 409 version_conflict when `version` is stale; nothing changes in either case.",
)
@blp.arguments(ActionBodySchema)
@blp.response(200, CaseEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema)
@token_required
def run_action(_body, number, action):
    user = api_user()
    try:
        action = Action(action)
    except ValueError:
        raise NotFound() from None
    case = get_case_for(user, number)
    try:
        params = ACTION_SCHEMAS[action]().load(request.get_json(silent=True) or {})
    except MarshmallowValidationError as error:
        raise ValidationError(fields={k: _flatten(v) for k, v in error.messages.items()}) from None
    version = params.pop("version")
    ops.perform(case, action, actor=user, version=version, **params)
    db.session.commit()
    return {"case": case_to_dict(case, user)}


def _flatten(messages):
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flatten(v)]
    if isinstance(messages, list):
        return [str(m) if not isinstance(m, (dict, list)) else "; ".join(_flatten(m)) for m in messages]
    return [str(messages)]


@blp.route("/cases/<number>/events")
@blp.doc(security=SECURITY)
@blp.response(200, EventListSchema)
@token_required
def list_events(number):
    """The case's history, oldest first, each entry with its place in the hash chain."""
    user = api_user()
    case = get_case_for(user, number)
    return {"items": [event_to_dict(e, user, case) for e in case_events(case)], "next_cursor": None}


@blp.route("/history/verify")
@blp.doc(security=SECURITY)
@blp.response(200, VerifySchema)
@token_required
def verify_history():
    """Recompute the whole hash chain (supervisors and administrators)."""
    user = api_user()
    if not (is_supervisor(user) or is_admin(user)):
        raise PermissionDenied()
    result = verify_chain()
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq}
