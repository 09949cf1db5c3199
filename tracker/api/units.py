from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.orm import selectinload

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ListArgsSchema, list_schema
from tracker.core.paging import keyset_page
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.queries import units_visible_to

blp = Blueprint("api_units", __name__, url_prefix="/api/v1", description="Organisation tree")


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Function(lambda u: u.level.value)
    parent_code = fields.Function(lambda u: u.parent.code if u.parent else None)
    active = fields.Boolean()


@blp.route("/units")
@blp.doc(security=SECURITY)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, list_schema(UnitSchema, "UnitList"))
@token_required
def list_units(args):
    """Units the caller may see (the caller's scope subtree), in id order."""
    rows, next_cursor = keyset_page(
        db.session, units_visible_to(api_user()).order_by(None).options(selectinload(Unit.parent)), [Unit.id],
        cursor=args["cursor"], limit=args["limit"],
    )
    return {"items": rows, "next_cursor": next_cursor}
