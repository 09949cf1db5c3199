"""Locale choice: the user's saved language, else the session's, else the browser's."""
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from tracker.extensions import babel

# Browser language tags we recognise, mapped to our catalogue names.
_BROWSER_LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, background jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(list(_BROWSER_LANGUAGES))
    return _BROWSER_LANGUAGES.get(best, current_app.config["BABEL_DEFAULT_LOCALE"])


def html_lang():
    """The ``lang`` attribute for <html>: BCP 47, e.g. zh-Hans-CN."""
    return str(get_locale()).replace("_", "-")


def init_app(app):
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["html_lang"] = html_lang
