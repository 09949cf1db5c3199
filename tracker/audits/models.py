from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.core.database import UTCDateTime, enum_column_type, utcnow
from tracker.extensions import db


class ChecklistTemplate(db.Model):
    """A versioned checklist. Editing a version that audits used creates the next version;
    audits keep pointing at the version they were recorded on."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    kind: Mapped[AuditKind] = mapped_column(enum_column_type(AuditKind, "audit_kind"))
    active: Mapped[bool] = mapped_column(default=True)  # the current version of its code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sections: Mapped[list["ChecklistSection"]] = relationship(
        back_populates="template", order_by="ChecklistSection.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("code", "version", name="uq_checklist_templates_code_version"),)


class ChecklistSection(db.Model):
    __tablename__ = "checklist_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")

    template: Mapped[ChecklistTemplate] = relationship(back_populates="sections")
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="section", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("checklist_sections.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(default=1)
    critical: Mapped[bool] = mapped_column(default=False)  # 一票否决
    violation_type_id: Mapped[int | None] = mapped_column(ForeignKey("violation_types.id"))
    clause: Mapped[str] = mapped_column(String(255), default="")

    section: Mapped[ChecklistSection] = relationship(back_populates="items")
    violation_type = relationship("ViolationType")

    __table_args__ = (
        UniqueConstraint("template_id", "code", name="uq_checklist_items_template_code"),
        CheckConstraint("weight >= 1 AND weight <= 100", name="weight_range"),
    )


audit_auditors = Table(
    "audit_auditors",
    db.metadata,
    Column("audit_id", ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class AuditorPseudonym(db.Model):
    """The stable pseudonym under which the audited unit sees a mystery shopper (暗访员 A-07)."""

    __tablename__ = "auditor_pseudonyms"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)


class Audit(db.Model):
    __tablename__ = "audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AuditKind] = mapped_column(enum_column_type(AuditKind, "audit_kind"))
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[AuditState] = mapped_column(enum_column_type(AuditState, "audit_state"), default=AuditState.draft)
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    # Derived from the results when submitted (kept for lists, scorecards and reports).
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    critical_failed: Mapped[bool] = mapped_column(default=False)
    plan_entry_id: Mapped[int | None] = mapped_column(ForeignKey("audit_plan_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    template: Mapped[ChecklistTemplate] = relationship()
    unit = relationship("Unit")
    author = relationship("User", foreign_keys=[author_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    auditors = relationship("User", secondary=audit_auditors, order_by="User.id")
    results: Mapped[list["AuditResult"]] = relationship(
        back_populates="audit", order_by="AuditResult.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_audits_unit_visited", "unit_id", "visited_at"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
    )


class AuditResult(db.Model):
    __tablename__ = "audit_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"))
    result: Mapped[ItemResult | None] = mapped_column(enum_column_type(ItemResult, "item_result"))
    note: Mapped[str] = mapped_column(Text, default="")
    # The case this failed item opened or joined on approval (its finding, 问题).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    audit: Mapped[Audit] = relationship(back_populates="results")
    item: Mapped[ChecklistItem] = relationship()
    case = relationship("Case")

    __table_args__ = (UniqueConstraint("audit_id", "item_id", name="uq_audit_results_audit_item"),)


class AuditPlan(db.Model):
    """Which units are to be visited in a period, by whom and when."""

    __tablename__ = "audit_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    period_from: Mapped[date] = mapped_column()
    period_to: Mapped[date] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list["AuditPlanEntry"]] = relationship(
        back_populates="plan", order_by="AuditPlanEntry.planned_on", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("period_to >= period_from", name="period_order"),)


class AuditPlanEntry(db.Model):
    __tablename__ = "audit_plan_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[AuditKind] = mapped_column(enum_column_type(AuditKind, "audit_kind"))
    planned_on: Mapped[date] = mapped_column()

    plan: Mapped[AuditPlan] = relationship(back_populates="entries")
    unit = relationship("Unit")
    auditor = relationship("User")
