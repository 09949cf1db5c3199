"""indexes for a million cases: filtered lists in time order, running clocks, text search

Revision ID: 0003_scale_indexes
Revises: 0002_cases_audits_reports
Create Date: 2026-11-21 10:00:00.000000

Found with EXPLAIN on 1,000,000 generated cases (docs/performance.md):

- The case list filtered by channel or severity, newest first: an index per filter column
  followed by the sort key lets the database read the newest matching rows and stop after a
  page. Without it SQLite took the unique (channel, external_ref) index for ``channel = ?`` and
  sorted 580,000 rows (640 ms).
- Running clocks (not met, not cancelled, not paused) get partial indexes: by due date (overdue
  and due-soon lists, escalation) and by case (the "overdue" filter's EXISTS probe). They replace
  ix_deadlines_open_due (met_at, cancelled_at, due_at), whose statistics made SQLite's planner
  believe ``met_at IS NULL`` matched 2 rows and use it for every probe (minutes per page).
- Aggregates over a period (dashboards, reports, bulletins) read a covering index of the
  columns they group and filter by, instead of the wide case rows: on PostgreSQL an aggregate
  over a year of cases went from 2.2 s to 0.16 s (an index-only scan; given the selection is
  not written as a self-join ``cases.id IN (SELECT cases.id ...)``).
- PostgreSQL only: pg_trgm GIN indexes on the four columns the text search matches with
  ``ILIKE '%…%'``, so a rare or absent term is found through the indexes instead of a scan of
  every case. SQLite has no equivalent here; its search stays a scan (see the docs).
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_scale_indexes"
down_revision = "0002_cases_audits_reports"
branch_labels = None
depends_on = None

RUNNING = "met_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL"
TRGM_COLUMNS = ("summary", "details", "number", "external_ref")
COVER_COLUMNS = ("received_at", "unit_id", "merged_into_id", "state", "outcome", "severity", "channel",
                 "violation_type_id")


def upgrade():
    op.create_index("ix_cases_channel_received_at", "cases", ["channel", "received_at", "id"])
    op.create_index("ix_cases_severity_received_at", "cases", ["severity", "received_at", "id"])
    op.create_index("ix_cases_received_cover", "cases", list(COVER_COLUMNS))
    op.drop_index("ix_deadlines_open_due", table_name="deadlines")
    op.create_index("ix_deadlines_running_due", "deadlines", ["due_at"],
                    sqlite_where=sa.text(RUNNING), postgresql_where=sa.text(RUNNING))
    op.create_index("ix_deadlines_running_case", "deadlines", ["case_id", "due_at"],
                    sqlite_where=sa.text(RUNNING), postgresql_where=sa.text(RUNNING))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class lives in the extension's schema, which need not be on the search path.
        schema = op.get_bind().execute(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'")).scalar()
        for column in TRGM_COLUMNS:
            op.create_index(f"ix_cases_{column}_trgm", "cases", [column], postgresql_using="gin",
                            postgresql_ops={column: f'"{schema}".gin_trgm_ops'})
    # Fresh statistics for the planners (a no-op cost on a small database).
    op.execute("ANALYZE")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column in TRGM_COLUMNS:
            op.drop_index(f"ix_cases_{column}_trgm", table_name="cases")
    op.drop_index("ix_deadlines_running_case", table_name="deadlines")
    op.drop_index("ix_deadlines_running_due", table_name="deadlines")
    op.create_index("ix_deadlines_open_due", "deadlines", ["met_at", "cancelled_at", "due_at"])
    op.drop_index("ix_cases_received_cover", table_name="cases")
    op.drop_index("ix_cases_severity_received_at", table_name="cases")
    op.drop_index("ix_cases_channel_received_at", table_name="cases")
