"""Domain errors raised by operations and mapped to HTTP answers in one place.

Operations raise these; the web layer turns them into a flash message or a form-field
error, the API into the JSON error envelope of API.md with the status named here.
"""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was changed."""

    code = "domain_error"
    status = 422
    default_message = _l("The request could not be carried out.")

    def __init__(self, message=None, *, field=None, fields=None, headers=None):
        self.message = message if message is not None else self.default_message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        if field is not None:
            self.fields.setdefault(field, []).append(self.message)
        super().__init__(str(self.message))


class ValidationError(DomainError):
    code = "validation_error"
    status = 422
    default_message = _l("Some fields are not valid.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    default_message = _l("This action is not allowed in the current state.")


class VersionConflict(DomainError):
    code = "version_conflict"
    status = 409
    default_message = _l(
        "Someone else changed this record in the meantime. Reload the page and try again."
    )


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _l("You are not allowed to do this.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _l("Not found.")
