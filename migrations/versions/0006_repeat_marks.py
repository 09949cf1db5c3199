"""repeat marks: early warning's index of the people with repeated violations; cases by unit and time

Revision ID: 0006_repeat_marks
Revises: 0005_calendar_years
Create Date: 2026-11-21 15:00:00.000000

One row per (responsible unit, person name, case) for every case that counts towards repeat
violations, with the determination time of the person's mark two places earlier
(tracker.reports.repeats). Filled from the existing cases here with the statement
``flask --app tracker stats rebuild`` runs (the application's code: should a later migration
change the columns it reads, freeze that SQL here instead). Two indexes of the cases by unit and
determination or receipt let a county's repeat and rising units read its own units' cases only.
"""
from alembic import op
import sqlalchemy as sa


revision = "0006_repeat_marks"
down_revision = "0005_calendar_years"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "repeat_marks",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("determined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("earlier_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_repeat_marks_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_repeat_marks_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "person_name", "case_id", name=op.f("pk_repeat_marks")),
    )
    op.create_index(op.f("ix_repeat_marks_case_id"), "repeat_marks", ["case_id"])
    op.create_index("ix_repeat_marks_candidates", "repeat_marks",
                    ["earlier_at", "determined_at", "unit_id", "person_name"], sqlite_where=sa.text("earlier_at IS NOT NULL"), postgresql_where=sa.text("earlier_at IS NOT NULL"))
    op.create_index("ix_cases_unit_determined", "cases",
                    ["unit_id", "determined_at", "outcome", "merged_into_id", "severity"])
    op.create_index("ix_cases_unit_received", "cases", ["unit_id", "received_at", "merged_into_id"])
    from tracker.reports import repeats

    repeats.rebuild(op.get_bind())


def downgrade():
    op.drop_index("ix_cases_unit_received", table_name="cases")
    op.drop_index("ix_cases_unit_determined", table_name="cases")
    op.drop_index("ix_repeat_marks_candidates", table_name="repeat_marks")
    op.drop_index(op.f("ix_repeat_marks_case_id"), table_name="repeat_marks")
    op.drop_table("repeat_marks")
