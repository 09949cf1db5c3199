from flask_babel import lazy_gettext as _l

from tracker.core.enums import LabelledEnum


class Role(LabelledEnum):
    admin = "admin"
    supervisor = "supervisor"
    unit_head = "unit_head"
    external = "external"

    @classmethod
    def _labels(cls):
        return {
            "admin": _l("Administrator"),
            "supervisor": _l("Supervision staff"),
            "unit_head": _l("Unit head"),
            "external": _l("External supervisor"),
        }


# Which roles need a scope unit: a unit head always answers for a unit; a supervisor may be
# scoped to a subtree or see the whole organisation; admins and external supervisors have none.
ROLES_REQUIRING_UNIT = {Role.unit_head}
ROLES_ALLOWING_UNIT = {Role.unit_head, Role.supervisor}
