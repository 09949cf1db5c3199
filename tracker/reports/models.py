from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.database import UTCDateTime, enum_column_type, utcnow
from tracker.extensions import db
from tracker.reports.states import BulletinState, JobState


class Bulletin(db.Model):
    """通报: a period summary across units. Published versions are immutable; a correction is
    a new version that supersedes the old one."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[date] = mapped_column()
    period_to: Mapped[date] = mapped_column()
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # the subtree; None = everything
    introduction: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[BulletinState] = mapped_column(
        enum_column_type(BulletinState, "bulletin_state"), default=BulletinState.draft
    )
    version_no: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id"))
    # The anonymised figures frozen at publication (ranking, categories, typical cases).
    content: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit")
    supersedes: Mapped["Bulletin | None"] = relationship(remote_side=[id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])

    __table_args__ = (
        CheckConstraint("period_to >= period_from", name="period_order"),
        CheckConstraint("state <> 'published' OR (published_at IS NOT NULL AND content IS NOT NULL)",
                        name="published_is_complete"),
    )


class Feedback(db.Model):
    """What an external supervisor sends about a bulletin (or in general), and the answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bulletin: Mapped[Bulletin | None] = relationship()
    author = relationship("User", foreign_keys=[author_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])


class ReportJob(db.Model):
    """A background job, e.g. every unit's PDF for a period, with progress and a result file."""

    __tablename__ = "report_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_column_type(JobState, "job_state"), default=JobState.queued)
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    result_path: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by = relationship("User")


class _CaseStatSums:
    """The sums kept per roll-up row (tracker.reports.stats.VALUES)."""

    cases: Mapped[int] = mapped_column(default=0)
    steps_met_late: Mapped[int] = mapped_column(default=0)  # clocks met after their due time
    rectification_met: Mapped[int] = mapped_column(default=0)
    rectification_on_time: Mapped[int] = mapped_column(default=0)
    interviews_held: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)
    fines: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))


class CaseDayStat(_CaseStatSums, db.Model):
    """The case statistics roll-up (tracker.reports.stats): the sums of the cases received on one
    Beijing day in one unit's *whole subtree*, for one combination of channel, severity, violation
    type and substantiation. Kept in the same transaction as the cases; never edited by hand."""

    __tablename__ = "case_day_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)  # "" when not classified
    violation_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0: none
    substantiated: Mapped[bool] = mapped_column(primary_key=True)


class CaseMonthStat(_CaseStatSums, db.Model):
    """The same sums per Beijing month (``month``: its first day), so that a period of whole
    months reads thirty times fewer rows; the days at the ends of a period come from
    ``CaseDayStat``."""

    __tablename__ = "case_month_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    violation_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    substantiated: Mapped[bool] = mapped_column(primary_key=True)


class UnitMonthCount(db.Model):
    """A unit's *own* cases (not its subtree's) per Beijing month (``month``: its first day):
    received in the month, and determined substantiated (or partly) in the month, by severity.
    Early warning's repeat units and rising units add these up per unit; the days at the ends
    of a window come from the cases (tracker.reports.figures). Merged duplicates count nowhere.
    Kept with the roll-up (tracker.reports.stats) in the same transaction as the cases."""

    __tablename__ = "unit_month_counts"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    received: Mapped[int] = mapped_column(default=0)
    determined: Mapped[int] = mapped_column(default=0)  # every severity, or none
    determined_general: Mapped[int] = mapped_column(default=0)
    determined_serious: Mapped[int] = mapped_column(default=0)
    determined_grave: Mapped[int] = mapped_column(default=0)

    # The organisation's window: a range of months over every unit, read from the index alone.
    __table_args__ = (Index("ix_unit_month_counts_month", "month", "unit_id", "received", "determined",
                            "determined_general", "determined_serious", "determined_grave"),)


class RunningClockStat(db.Model):
    """Running clocks (not met, cancelled or paused; not the appeal window) of the cases received
    on ``day`` in a unit's whole subtree, by the Beijing day they fall due: "overdue steps now" is
    the sum over the days before today plus the few clocks due earlier today
    (tracker.reports.stats)."""

    __tablename__ = "running_clock_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    due_day: Mapped[date] = mapped_column(primary_key=True)
    clocks: Mapped[int] = mapped_column(default=0)


class AuditDayStat(db.Model):
    """Approved audits visited on one Beijing day in a unit's whole subtree: how many, and the
    sum of their scores (tracker.reports.stats). Approved audits never change."""

    __tablename__ = "audit_day_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    audits: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)  # audits with a score
    score_sum: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))


class AuditSectionStat(db.Model):
    """The same audits by checklist section: weight earned, weight applicable, and how many of
    the audits answered the section."""

    __tablename__ = "audit_section_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    section_name: Mapped[str] = mapped_column(String(120), primary_key=True)
    section_name_en: Mapped[str] = mapped_column(String(160), primary_key=True)
    earned: Mapped[int] = mapped_column(default=0)
    applicable: Mapped[int] = mapped_column(default=0)
    audits: Mapped[int] = mapped_column(default=0)


class RepeatMark(db.Model):
    """One counted case of one person (a name within the responsible unit), for early warning's
    repeat violations (tracker.reports.repeats): the case was determined substantiated (or
    partly) at ``determined_at`` and is not a merged duplicate. ``earlier_at`` is the
    determination time of the same person's mark ``REPEAT_THRESHOLD - 1`` places earlier, so the
    people with enough cases in any window are an index range. Kept in the same transaction as
    the cases; never edited by hand."""

    __tablename__ = "repeat_marks"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    person_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False, index=True)
    determined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    earlier_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The candidates of a window, read from the index alone. Only the marks with an earlier_at
    # (1.5 % of them at a million cases) are in it: a full index's statistics, dominated by the
    # NULLs, led SQLite to scan the whole table instead.
    __table_args__ = (
        Index("ix_repeat_marks_candidates", "earlier_at", "determined_at", "unit_id", "person_name",
              sqlite_where=text("earlier_at IS NOT NULL"), postgresql_where=text("earlier_at IS NOT NULL")),
    )
