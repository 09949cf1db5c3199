from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from tracker.accounts import operations as ops
from tracker.api.schemas import ErrorSchema
from tracker.extensions import db

blp = Blueprint("api_tokens", __name__, url_prefix="/api/v1", description="Authentication")


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Wrong credentials")
@blp.alt_response(429, schema=ErrorSchema, description="Too many failed attempts")
def create_token(body):
    """Exchange a username and password for an expiring bearer token."""
    try:
        user = ops.authenticate(body["username"], body["password"], address=request.remote_addr)
    except (ops.InvalidCredentials, ops.LoginLocked):
        db.session.commit()  # the failure count must survive the refusal
        raise
    token, row = ops.issue_token(user)
    db.session.commit()
    return {"token": token, "expires_at": row.expires_at}
