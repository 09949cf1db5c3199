"""Form helpers: domain errors land on the form's fields (flaskbb's populate_errors)."""
from urllib.parse import urlsplit

from flask import request, url_for
from wtforms import SelectChoice

from tracker.core.errors import DomainError


def populate_errors(form, error: DomainError) -> bool:
    """Attach a domain error's field messages to the form; True if any field took one."""
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [str(m) for m in messages]
            placed = True
    if not placed:
        form.form_errors = list(form.form_errors) + [str(error.message)]
    return placed


def safe_next_url(default_endpoint="main.index"):
    """The ``next`` parameter if it points inside this site, else the default page."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return url_for(default_endpoint)


def select_choices(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
