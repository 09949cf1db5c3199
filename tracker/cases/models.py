from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.cases.states import (
    AppealDecision,
    CaseState,
    Channel,
    DeadlineKind,
    FollowUpResult,
    MeasureKind,
    Outcome,
    ResponsibilityKind,
    Severity,
    ViolationCategory,
)
from tracker.core.database import UTCDateTime, enum_column_type, utcnow
from tracker.extensions import db


class ViolationType(db.Model):
    """An entry of the violation catalogue (服务违规类型)."""

    __tablename__ = "violation_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[ViolationCategory] = mapped_column(enum_column_type(ViolationCategory, "violation_category"))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    clause: Mapped[str] = mapped_column(String(255), default="")
    severity: Mapped[Severity] = mapped_column(enum_column_type(Severity, "severity"))
    points: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (CheckConstraint("points >= 0 AND points <= 100", name="points_range"),)

    def __repr__(self):
        return f"<ViolationType {self.code}>"


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    state: Mapped[CaseState] = mapped_column(enum_column_type(CaseState, "case_state"), default=CaseState.registered)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column_type(Outcome, "outcome"))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "channel"))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")

    # Personal data (PIPL): shown in full to supervisors only (tracker.cases.privacy).
    complainant_name: Mapped[str | None] = mapped_column(String(64))
    complainant_phone: Mapped[str | None] = mapped_column(String(32), index=True)  # digits only
    complainant_address: Mapped[str | None] = mapped_column(String(255))

    violation_type_id: Mapped[int | None] = mapped_column(ForeignKey("violation_types.id"))
    severity: Mapped[Severity | None] = mapped_column(enum_column_type(Severity, "severity"))

    # 三问
    inquiry_facts: Mapped[str] = mapped_column(Text, default="")
    inquiry_persons: Mapped[str] = mapped_column(Text, default="")
    inquiry_accountability: Mapped[str] = mapped_column(Text, default="")

    # 说清楚
    explanation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation_text: Mapped[str | None] = mapped_column(Text)
    explanation_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    determined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    determined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    determination_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appeal_grounds: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appeal_decision: Mapped[AppealDecision | None] = mapped_column(enum_column_type(AppealDecision, "appeal_decision"))
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rectification_text: Mapped[str | None] = mapped_column(Text)
    rectification_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rectification_submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rectification_returned_reason: Mapped[str | None] = mapped_column(Text)
    rectification_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rectification_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rectification_note: Mapped[str | None] = mapped_column(Text)

    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_result: Mapped[FollowUpResult | None] = mapped_column(enum_column_type(FollowUpResult, "follow_up_result"))
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    unit = relationship("Unit")
    violation_type: Mapped[ViolationType | None] = relationship()
    merged_into: Mapped["Case | None"] = relationship(remote_side=[id])
    determined_by = relationship("User", foreign_keys=[determined_by_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    responsibilities: Mapped[list["Responsibility"]] = relationship(
        back_populates="case", order_by="Responsibility.id", cascade="all, delete-orphan"
    )
    measures: Mapped[list["Measure"]] = relationship(
        back_populates="case", order_by="Measure.id", cascade="all, delete-orphan"
    )
    interviews: Mapped[list["WarningInterview"]] = relationship(
        back_populates="case", order_by="WarningInterview.id", cascade="all, delete-orphan"
    )
    deadlines: Mapped[list["Deadline"]] = relationship(
        back_populates="case", order_by="Deadline.id", cascade="all, delete-orphan"
    )

    # ``version`` is bumped exactly once per change by tracker.cases.operations.lock_for_change,
    # with a conditional UPDATE that also takes the row lock (optimistic locking, 409 on conflict).
    __table_args__ = (
        UniqueConstraint("channel", "external_ref", name="uq_cases_channel_external_ref"),
        Index("ix_cases_unit_state", "unit_id", "state"),
        Index("ix_cases_received_at_id", "received_at", "id"),
        Index("ix_cases_state_received_at", "state", "received_at"),
        # Filtered lists, newest first, stop after a page (docs/performance.md).
        Index("ix_cases_channel_received_at", "channel", "received_at", "id"),
        Index("ix_cases_severity_received_at", "severity", "received_at", "id"),
        # Early warning: the substantiated cases determined in a window (tracker.reports.figures).
        Index("ix_cases_determined_cover", "determined_at", "outcome", "merged_into_id", "unit_id", "severity", "id"),
        # ... and per unit, so that a county's repeat and rising units read its own units' cases
        # only (migration 0006).
        Index("ix_cases_unit_determined", "unit_id", "determined_at", "outcome", "merged_into_id", "severity"),
        Index("ix_cases_unit_received", "unit_id", "received_at", "merged_into_id"),
        # Aggregates over a period (dashboards, reports) read this instead of the wide rows.
        Index("ix_cases_received_cover", "received_at", "unit_id", "merged_into_id", "state", "outcome", "severity",
              "channel", "violation_type_id"),
        # Text search (ILIKE '%…%') through trigrams; PostgreSQL only (migration 0003).
        *(
            Index(f"ix_cases_{column}_trgm", column, postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
            for column in ("summary", "details", "number", "external_ref")
        ),
        CheckConstraint("state <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        CheckConstraint(
            "state NOT IN ('determined', 'appealed', 'rectifying', 'rectification_submitted', 'verified') "
            "OR (outcome IS NOT NULL AND violation_type_id IS NOT NULL AND severity IS NOT NULL)",
            name="determined_has_outcome",
        ),
    )

    def __repr__(self):
        return f"<Case {self.number} {self.state.value}>"

    @property
    def open_deadlines(self):
        return [d for d in self.deadlines if d.met_at is None and d.cancelled_at is None]

    def deadline(self, kind: DeadlineKind):
        """The current (latest, not cancelled) clock of a kind, or None."""
        for d in reversed(self.deadlines):
            if d.kind == kind and d.cancelled_at is None:
                return d
        return None


class Responsibility(db.Model):
    """Who answers for the case: a unit and optionally a named person (四级控制)."""

    __tablename__ = "responsibilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_name: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[ResponsibilityKind] = mapped_column(enum_column_type(ResponsibilityKind, "responsibility_kind"))

    case: Mapped[Case] = relationship(back_populates="responsibilities")
    unit = relationship("Unit")
    measures: Mapped[list["Measure"]] = relationship(back_populates="responsibility")


class Measure(db.Model):
    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    responsibility_id: Mapped[int] = mapped_column(ForeignKey("responsibilities.id", ondelete="CASCADE"))
    kind: Mapped[MeasureKind] = mapped_column(enum_column_type(MeasureKind, "measure_kind"))
    points: Mapped[int | None] = mapped_column()
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="measures")
    responsibility: Mapped[Responsibility] = relationship(back_populates="measures")

    __table_args__ = (
        CheckConstraint("points IS NULL OR (points >= 0 AND points <= 100)", name="points_range"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_positive"),
    )


class WarningInterview(db.Model):
    """警示谈话: scheduled, held (minutes recorded), acknowledged by the interviewee's unit."""

    __tablename__ = "warning_interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(120))
    interviewer: Mapped[str] = mapped_column(String(64))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="interviews")
    measure: Mapped[Measure] = relationship()

    __table_args__ = (
        CheckConstraint("acknowledged_at IS NULL OR held_at IS NOT NULL", name="ack_after_held"),
    )


RUNNING_CLOCK = "met_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL"


class Deadline(db.Model):
    """One clock of a case on the working-day calendar."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DeadlineKind] = mapped_column(enum_column_type(DeadlineKind, "deadline_kind"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # superseded or no longer needed
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_days: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="deadlines")

    # Running clocks only (most clocks are met or cancelled): overdue and due-soon lists by due
    # date, and the case list's "overdue" filter by case.
    __table_args__ = (
        Index("ix_deadlines_running_due", "due_at", sqlite_where=text(RUNNING_CLOCK),
              postgresql_where=text(RUNNING_CLOCK)),
        Index("ix_deadlines_running_case", "case_id", "due_at", sqlite_where=text(RUNNING_CLOCK),
              postgresql_where=text(RUNNING_CLOCK)),
    )

    def is_overdue(self, now: datetime) -> bool:
        if self.cancelled_at is not None or self.paused_at is not None:
            return False
        if self.met_at is not None:
            return self.met_at > self.due_at
        return now > self.due_at


class DeadlineSetting(db.Model):
    """The administrator's working days per clock; rectification may differ by severity."""

    __tablename__ = "deadline_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DeadlineKind] = mapped_column(enum_column_type(DeadlineKind, "deadline_kind"))
    severity: Mapped[Severity | None] = mapped_column(enum_column_type(Severity, "severity"))
    working_days: Mapped[int] = mapped_column()

    __table_args__ = (
        UniqueConstraint("kind", "severity", name="uq_deadline_settings_kind_severity"),
        CheckConstraint("working_days >= 0 AND working_days <= 365", name="days_range"),
    )


class CalendarOverride(db.Model):
    """An administrator's correction of the holiday calendar for one day."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_working_day: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(String(120), default="")


class CalendarYear(db.Model):
    """A year the holiday package does not cover, declared by an administrator: its official
    State Council schedule has been entered as overrides, and every other day of it follows
    the weekday rule (Monday to Friday working). See tracker.core.calendar."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(120), default="")  # as long as CalendarOverride.note
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    declared_by = relationship("User")

    __table_args__ = (CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),)


class ComplainantAccessGrant(db.Model):
    """A supervisor let a unit head see a complainant's data in full (logged in the history)."""

    __tablename__ = "complainant_access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_complainant_access_grants_case_user"),)


class Attachment(db.Model):
    """Evidence: stored under a generated name outside static/, served only through a view."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Evidence belongs to a case, or to an audit's item result until the audit's approval
    # opens a case for the failed item, which then gets the evidence too.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    audit_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_results.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case | None] = relationship()
    uploaded_by = relationship("User")

    __table_args__ = (
        CheckConstraint("case_id IS NOT NULL OR audit_result_id IS NOT NULL", name="has_owner"),
    )


class Notification(db.Model):
    """An in-app notice of a new task; the text is rendered in the reader's language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship()

    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),)


def case_id_of(obj):
    """The id of the case an object (a case, or one of its clocks, responsibilities, measures...)
    belongs to, without loading anything: what the statistics and repeat-mark hooks need."""
    if isinstance(obj, Case):
        return obj.id
    state = inspect(obj)
    case_id = state.dict.get("case_id")
    if case_id is None:
        case = state.dict.get("case")
        case_id = case.id if case is not None else None
    if case_id is None and state.committed_state.get("case_id") is not None:
        case_id = state.committed_state["case_id"]
    return case_id
