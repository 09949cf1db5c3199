"""One place that turns errors into answers: HTML pages for the web, the JSON envelope for the API.

API.md: ``{"error": {"code", "message", "fields"}}``; never a 500 for bad input.
"""
import re

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, NotFound
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch

from tracker.core.errors import DomainError, ValidationError
from tracker.extensions import db

HTML_ERROR_PAGES = {400, 403, 404, 409, 413, 429, 500}

# Short machine codes for HTTP errors that are not DomainErrors.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
}


def wants_json():
    return request.path.startswith("/api/")


def _http_message(status):
    messages = {
        400: _("The request is malformed."),
        401: _("Authentication is required."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The request conflicts with the current state."),
        413: _("The upload is too large."),
        415: _("This content type is not supported."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }
    return messages.get(status, _("The request could not be carried out."))


def error_response(status, code, message, fields=None, headers=None):
    """Render the error for the caller: JSON envelope under /api/, an HTML page elsewhere."""
    if wants_json():
        body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
        response = jsonify(body)
        response.status_code = status
    else:
        if status in (400, 413) and "form" not in request.__dict__:
            # The body was refused, perhaps while it was being read: what renders the page (the
            # layout's forms) must not read it again, or the handler itself would fail (a 500).
            request.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())
        template = f"errors/{status}.html" if status in HTML_ERROR_PAGES else "errors/generic.html"
        response = current_app.make_response(
            (render_template(template, status=status, message=message, fields=fields or {}), status)
        )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_validation_messages(data):
    """flask-smorest/webargs put messages under the location: {"json": {"field": [...]}}."""
    messages = (data or {}).get("messages") or {}
    fields = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            for field, errs in location_messages.items():
                fields[field] = _stringify(errs)
    return fields


def _stringify(errs):
    if isinstance(errs, dict):
        return [f"{key}: {msg}" for key, value in errs.items() for msg in _stringify(value)]
    if isinstance(errs, (list, tuple)):
        out = []
        for e in errs:
            out.extend(_stringify(e))
        return out
    return [str(errs)]


def handle_domain_error(error: DomainError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


def handle_http_exception(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    db.session.rollback()
    status = error.code
    fields = None
    if isinstance(error, CSRFError):
        return error_response(400, "csrf_failed", _("The form has expired. Reload the page and try again."))
    if status == 422:
        fields = _flatten_validation_messages(getattr(error, "data", None))
    message = _http_message(status)
    headers = dict(error.get_headers()) if status in (401, 405, 429) else None
    if headers:
        headers.pop("Content-Type", None)
    return error_response(status, _HTTP_CODES.get(status, "error"), message, fields, headers)


def handle_unexpected(error: Exception):
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_response(500, "internal_error", _http_message(500))


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:id>`` within the range of the database's integer ids. A larger number is an id
    that does not exist: 404 for every method (Werkzeug's own ``max`` would make the matcher
    answer 405 for some), never an overflow in the database driver (a 500 on SQLite)."""

    MAX = 2**31 - 1

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, self.MAX if max is None else max, signed)

    def to_python(self, value):
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise NoMatch()
        number = int(value)  # the rule's regex let through digits only
        if self.min is not None and number < self.min:
            raise NoMatch()
        if number > self.max:
            raise NotFound()
        return number


# Text that no database column can hold: NUL (PostgreSQL refuses it in text) and unpaired
# surrogates (not encodable as UTF-8; JSON's "\ud800" escapes produce them).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)."
# No request the API knows nests deeper than a few levels; far deeper JSON is malformed for us.
MAX_JSON_DEPTH = 32


def _collect_unstorable(value, found):
    """Fields (named by their top-level key) whose text, or key, no column can store."""
    stack = [(value, None, 0)]
    while stack:
        item, name, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                found.setdefault(UNSTORABLE.sub("\ufffd", name or "body"), [UNSTORABLE_MESSAGE])
        elif isinstance(item, dict):
            for key, sub in item.items():
                field = name or str(key)
                stack += [(key, field, depth + 1), (sub, field, depth + 1)]
        elif isinstance(item, list):
            stack += [(sub, name, depth + 1) for sub in item]


def refuse_unstorable_text():
    """Refuse, before any view runs, a request whose path, query, form or JSON body carries text
    that no column can store: 422 ``validation_error`` naming the fields (404 for a path),
    instead of a database error (a 500) halfway through an operation; JSON nested too deep for
    the parser or for us is malformed (400). Multipart bodies of the API are left to its schemas,
    which authenticate before the body is read (tracker.api.evidence)."""
    found = {}
    _collect_unstorable(request.view_args or {}, found)
    if found:
        raise NotFound()  # no object is named like that
    _collect_unstorable(request.args.to_dict(flat=False), found)
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise BadRequest() from None
        _collect_unstorable(body, found)
    elif request.mimetype == "application/x-www-form-urlencoded" or (
        request.mimetype == "multipart/form-data" and not wants_json()
    ):
        _collect_unstorable(request.form.to_dict(flat=False), found)
    if found:
        raise ValidationError(fields=found)


def init_app(app):
    app.url_map.converters["int"] = DatabaseIntegerConverter  # before any blueprint adds its rules
    app.before_request(refuse_unstorable_text)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_http_exception)
    # In tests an unexpected error propagates, so the failing test shows its traceback.
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
