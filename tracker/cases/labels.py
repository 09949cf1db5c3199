"""Translated labels for history entries, including the automatic and non-action ones."""
from flask_babel import lazy_gettext as _l

from tracker.cases.states import Action, CaseState

_OTHER_EVENTS = {
    "register": _l("Registered"),
    "merged_from": _l("A duplicate was merged into this case"),
    "appeal_window_elapsed": _l("Appeal window elapsed"),
    "attach_evidence": _l("Evidence attached"),
    "deadline_escalated": _l("Overdue deadline escalated"),
    "audit_finding_joined": _l("Another audit finding joined this case"),
}


def action_label(name: str):
    if name in Action._value2member_map_:
        return Action(name).label
    return _OTHER_EVENTS.get(name, name)


def state_label(name: str):
    return CaseState(name).label if name in CaseState._value2member_map_ else name


def init_app(app):
    from tracker.cases.privacy import event_actor_for

    app.jinja_env.globals.update(action_label=action_label, state_label=state_label, event_actor=event_actor_for)
