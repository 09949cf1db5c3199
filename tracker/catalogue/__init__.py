"""The violation catalogue (服务违规类型): the entries cases and audit items cite.

Administrators maintain it; every signed-in user (and API client) may read it. The model is
``tracker.cases.models.ViolationType``; changes go through ``tracker.catalogue.operations``.
"""
from flask_babel import get_locale


def display_name(vt) -> str:
    """The entry's name in the user's language: the English name in English when there is one."""
    locale = get_locale()
    if locale is not None and locale.language == "en" and vt.name_en:
        return vt.name_en
    return vt.name
