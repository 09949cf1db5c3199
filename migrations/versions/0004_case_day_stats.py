"""statistics roll-ups: cases per unit and day or month, running clocks by due day, approved audits

Revision ID: 0004_case_day_stats
Revises: 0003_scale_indexes
Create Date: 2026-11-21 14:00:00.000000

The dashboards, unit reports and bulletins sum these tables instead of the cases: the figures of
a subtree over a period read the rows of the subtree's root unit only (docs/performance.md).
Early warning gets an index of the cases by the time of their determination.
The tables are filled from the existing cases here, with the same statements
``flask --app tracker stats rebuild`` runs (the application's code: should a later migration
change the columns they read, freeze that SQL here instead).
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_case_day_stats"
down_revision = "0003_scale_indexes"
branch_labels = None
depends_on = None


def _create(name, period_column):
    op.create_table(
        name,
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(period_column, sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("violation_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("substantiated", sa.Boolean(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("steps_met_late", sa.Integer(), nullable=False),
        sa.Column("rectification_met", sa.Integer(), nullable=False),
        sa.Column("rectification_on_time", sa.Integer(), nullable=False),
        sa.Column("interviews_held", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("fines", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f(f"fk_{name}_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", period_column, "channel", "severity", "violation_type_id",
                                "substantiated", name=op.f(f"pk_{name}")),
    )


def upgrade():
    # Early warning reads the substantiated cases determined in its window from this index.
    op.create_index("ix_cases_determined_cover", "cases",
                    ["determined_at", "outcome", "merged_into_id", "unit_id", "severity", "id"])
    _create("case_day_stats", "day")
    _create("case_month_stats", "month")
    op.create_table(
        "running_clock_stats",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_day", sa.Date(), nullable=False),
        sa.Column("clocks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_running_clock_stats_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "day", "due_day", name=op.f("pk_running_clock_stats")),
    )
    op.create_table(
        "audit_day_stats",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("audits", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_audit_day_stats_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "day", name=op.f("pk_audit_day_stats")),
    )
    op.create_table(
        "audit_section_stats",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("section_name", sa.String(length=120), nullable=False),
        sa.Column("section_name_en", sa.String(length=160), nullable=False),
        sa.Column("earned", sa.Integer(), nullable=False),
        sa.Column("applicable", sa.Integer(), nullable=False),
        sa.Column("audits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_audit_section_stats_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "day", "section_name", "section_name_en",
                                name=op.f("pk_audit_section_stats")),
    )
    from tracker.reports import stats

    stats.rebuild(op.get_bind(), repeat_marks=False, own_counts=False)  # their tables come in 0006 and 0007


def downgrade():
    op.drop_table("audit_section_stats")
    op.drop_table("audit_day_stats")
    op.drop_table("running_clock_stats")
    op.drop_table("case_month_stats")
    op.drop_table("case_day_stats")
    op.drop_index("ix_cases_determined_cover", table_name="cases")
