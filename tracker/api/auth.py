"""Bearer-token authentication for the API. The authenticated user is ``g.api_user``."""
from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from tracker.accounts.operations import user_for_token
from tracker.core.errors import DomainError


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    default_message = _l("A valid bearer token is required.")


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise Unauthorized()
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def api_user():
    return g.api_user


SECURITY = [{"bearerAuth": []}]
