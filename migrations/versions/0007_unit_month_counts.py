"""unit month counts: each unit's own cases received and determined per month, for early warning

Revision ID: 0007_unit_month_counts
Revises: 0006_repeat_marks
Create Date: 2026-11-21 17:00:00.000000

Early warning's repeat units and rising units count a unit's *own* cases over six months; at a
million cases the organisation's window held 330,000 of them. The table holds those counts per
unit and Beijing month (tracker.reports.stats keeps it with the roll-up), so a window reads its
whole months here and only the days at its ends from the cases. Filled from the existing cases
with the statement ``flask --app tracker stats rebuild`` runs (the application's code: should a
later migration change the columns it reads, freeze that SQL here instead).
"""
from alembic import op
import sqlalchemy as sa


revision = "0007_unit_month_counts"
down_revision = "0006_repeat_marks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_month_counts",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("determined", sa.Integer(), nullable=False),
        sa.Column("determined_general", sa.Integer(), nullable=False),
        sa.Column("determined_serious", sa.Integer(), nullable=False),
        sa.Column("determined_grave", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_month_counts_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "month", name=op.f("pk_unit_month_counts")),
    )
    op.create_index("ix_unit_month_counts_month", "unit_month_counts",
                    ["month", "unit_id", "received", "determined", "determined_general", "determined_serious",
                     "determined_grave"])
    from tracker.reports import stats

    stats.rebuild_own(op.get_bind())


def downgrade():
    op.drop_index("ix_unit_month_counts_month", table_name="unit_month_counts")
    op.drop_table("unit_month_counts")
