"""Who may see reports and dashboards, and fetch a bulk job's result. Side-effect free.

Reports show internal figures: staff only (administrators, supervisors, unit heads), each
within their scope. External supervisors read published bulletins, never these.
"""
from tracker.core.permissions import can_see_unit, is_admin, is_staff, is_supervisor, scope_path


def can_view_reports(user) -> bool:
    return is_staff(user)


def can_report_on(user, unit) -> bool:
    """A unit's report or dashboard: the unit must lie in the user's scope."""
    return can_view_reports(user) and can_see_unit(user, unit)


def can_start_bulk_job(user) -> bool:
    return can_view_reports(user)


def can_view_job(user, job, unit) -> bool:
    """The creator, or a supervisor or administrator whose scope covers the job's subtree."""
    if not can_view_reports(user):
        return False
    if job.created_by_id == user.id:
        return True
    if not (is_supervisor(user) or is_admin(user)):
        return False
    prefix = scope_path(user)
    return prefix is None or (unit is not None and unit.path.startswith(prefix))
