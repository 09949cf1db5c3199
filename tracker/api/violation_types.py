from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from tracker.api.auth import SECURITY, token_required
from tracker.api.schemas import ListArgsSchema, list_schema
from tracker.cases.models import ViolationType
from tracker.cases.states import ViolationCategory
from tracker.core.paging import keyset_page
from tracker.extensions import db

blp = Blueprint(
    "api_violation_types", __name__, url_prefix="/api/v1", description="Violation catalogue (服务违规类型)"
)


class ViolationTypeArgsSchema(ListArgsSchema):
    category = fields.String(
        load_default=None,
        validate=validate.OneOf([c.value for c in ViolationCategory]),
        metadata={"description": "Only entries of this category."},
    )
    active = fields.Boolean(
        load_default=True,
        metadata={"description": "true (default): entries in use; false: the deactivated ones."},
    )


class ViolationTypeSchema(Schema):
    code = fields.String()
    category = fields.Function(lambda vt: vt.category.value)
    name = fields.String(metadata={"description": "Chinese name"})
    name_en = fields.String()
    clause = fields.String(metadata={"description": "The rule clause the entry cites"})
    severity = fields.Function(lambda vt: vt.severity.value, metadata={"description": "Default severity"})
    points = fields.Integer(metadata={"description": "Default performance points (0-100)"})
    active = fields.Boolean()


@blp.route("/violation-types")
@blp.doc(security=SECURITY)
@blp.arguments(ViolationTypeArgsSchema, location="query")
@blp.response(200, list_schema(ViolationTypeSchema, "ViolationTypeList"))
@token_required
def list_violation_types(args):
    """The violation catalogue in code order; every signed-in user may read it."""
    stmt = select(ViolationType).where(ViolationType.active.is_(args["active"]))
    if args["category"]:
        stmt = stmt.where(ViolationType.category == ViolationCategory(args["category"]))
    rows, next_cursor = keyset_page(
        db.session, stmt, [ViolationType.code], cursor=args["cursor"], limit=args["limit"]
    )
    return {"items": rows, "next_cursor": next_cursor}
