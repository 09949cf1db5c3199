"""JSON API v1 (API.md), described by the OpenAPI document flask-smorest builds from the code."""
from http import HTTPStatus

from apispec import BasePlugin
from flask_smorest import Api as _SmorestApi

from tracker.api.schemas import ErrorSchema
from tracker.extensions import csrf


class Api(_SmorestApi):
    """flask-smorest's Api without its own error handler: tracker.core.web answers every error,
    the JSON envelope under /api/ and HTML pages elsewhere."""

    ERROR_SCHEMA = ErrorSchema  # the API.md envelope, documented on every error response

    def _register_error_handlers(self):
        pass


class ConventionalErrors(BasePlugin):
    """API.md's error conventions hold for every operation, so the document names them on each
    one (in the error envelope), not only under ``default``: 401 and 403 where a bearer token is
    required, 404 where the path names an object, 400 (malformed JSON) and 413 where there is a
    request body, 422 everywhere. Responses an operation documents itself are kept."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = []
            if operation.get("security"):
                statuses += [401, 403]
            if "{" in (path or ""):
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 413]
            statuses.append(422)  # a body or query that fails validation (tracker.core.web: any query)
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for status in statuses:
                if str(status) not in documented:
                    responses[str(status)] = HTTPStatus(status).name  # flask-smorest's ErrorSchema responses


api = Api()


def init_app(app):
    from tracker.api import audits, bulletins, cases, evidence, ledger, reports, tokens, units, violation_types

    api.init_app(app, spec_kwargs={"info": {"description": "供电服务监督问责 Tracker — JSON API v1"},
                                   "extra_plugins": [ConventionalErrors()]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in (tokens.blp, units.blp, cases.blp, violation_types.blp, evidence.blp, ledger.blp,
                      bulletins.blp, audits.blp, reports.blp):
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no CSRF exposure
        api.register_blueprint(blueprint)
