"""Every model module, imported once so SQLAlchemy and Alembic see the whole schema."""
from tracker.accounts.models import ApiToken, LoginThrottle, User  # noqa: F401
from tracker.audits.models import (  # noqa: F401
    Audit,
    AuditorPseudonym,
    AuditPlan,
    AuditPlanEntry,
    AuditResult,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)
from tracker.cases.models import (  # noqa: F401
    Attachment,
    CalendarOverride,
    CalendarYear,
    Case,
    ComplainantAccessGrant,
    Deadline,
    DeadlineSetting,
    Measure,
    Notification,
    Responsibility,
    ViolationType,
    WarningInterview,
)
from tracker.core.history import HistoryEvent, HistoryHead  # noqa: F401
from tracker.reports.models import Bulletin, Feedback, ReportJob  # noqa: F401
from tracker.units.models import Unit  # noqa: F401
