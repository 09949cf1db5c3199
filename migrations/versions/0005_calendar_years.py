"""declared calendar years: years the holiday package does not cover, entered by the administrator

Revision ID: 0005_calendar_years
Revises: 0004_case_day_stats
Create Date: 2026-11-21 18:00:00.000000

A declared year's official schedule is kept as calendar overrides; every other day of it follows
the weekday rule (tracker.core.calendar). The table only records which years, by whom and when.
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_calendar_years"
down_revision = "0004_case_day_stats"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name=op.f("ck_calendar_years_year_range")),
        sa.ForeignKeyConstraint(["declared_by_id"], ["users.id"],
                                name=op.f("fk_calendar_years_declared_by_id_users")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )


def downgrade():
    op.drop_table("calendar_years")
