"""JSON API v1 (API.md), described by the OpenAPI document flask-smorest builds from the code."""
from flask_smorest import Api as _SmorestApi

from tracker.api.schemas import ErrorSchema
from tracker.extensions import csrf


class Api(_SmorestApi):
    """flask-smorest's Api without its own error handler: tracker.core.web answers every error,
    the JSON envelope under /api/ and HTML pages elsewhere."""

    ERROR_SCHEMA = ErrorSchema  # the API.md envelope, documented on every error response

    def _register_error_handlers(self):
        pass


api = Api()


def init_app(app):
    from tracker.api import audits, bulletins, cases, evidence, ledger, reports, tokens, units, violation_types

    api.init_app(app, spec_kwargs={"info": {"description": "供电服务监督问责 Tracker — JSON API v1"}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in (tokens.blp, units.blp, cases.blp, violation_types.blp, evidence.blp, ledger.blp,
                      bulletins.blp, audits.blp, reports.blp):
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no CSRF exposure
        api.register_blueprint(blueprint)
