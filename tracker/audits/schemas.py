"""Shapes of the audits' JSON input, shared by the API and the recording page's save endpoint."""
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowValidationError

from tracker.audits.operations import NOTE_MAX_LENGTH
from tracker.audits.states import AuditKind, ItemResult
from tracker.core.errors import ValidationError


class ResultInputSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    item_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    # Left out: unchanged; null: not answered (again).
    result = fields.String(allow_none=True, validate=validate.OneOf([r.value for r in ItemResult]))
    note = fields.String(allow_none=True, validate=validate.Length(max=NOTE_MAX_LENGTH))


class ResultsBodySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True, strict=True)
    results = fields.List(fields.Nested(ResultInputSchema), required=True, validate=validate.Length(max=500))


class NewAuditSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in AuditKind]))
    template_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    visited_at = fields.AwareDateTime(required=True)
    results = fields.List(fields.Nested(ResultInputSchema), load_default=list, validate=validate.Length(max=500))
    auditors = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                           validate=validate.Length(max=20))
    note = fields.String(load_default="", validate=validate.Length(max=20000))


class AuditActionBodySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True, strict=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20000))


def load(schema_class, data) -> dict:
    """Load JSON input; a shape error is a 422 validation_error naming the fields."""
    if not isinstance(data, dict):
        raise ValidationError(_l("Send a JSON object."), field="body")
    try:
        return schema_class().load(data)
    except MarshmallowValidationError as error:
        raise ValidationError(fields={k: _flatten(v) for k, v in error.messages.items()}) from None


def _flatten(messages) -> list[str]:
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flatten(v)]
    if isinstance(messages, list):
        out = []
        for m in messages:
            out.extend(_flatten(m) if isinstance(m, (dict, list)) else [str(m)])
        return out
    return [str(messages)]
