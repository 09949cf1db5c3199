"""case text search on SQLite: an FTS5 trigram index over the searched columns of the cases

Revision ID: 0008_case_text_search
Revises: 0007_unit_month_counts
Create Date: 2026-11-21 20:30:00.000000

SQLite only (PostgreSQL has the pg_trgm GIN indexes of migration 0003). ``cases_fts`` is an
external-content FTS5 table: it stores only the index, and reads the texts from ``cases`` by id.
Its three triggers keep it in step with every INSERT, UPDATE of the four columns and DELETE of a
case, whoever writes it; the last statements index the cases already there and merge the index
into one segment (about 2 minutes at a million cases). See tracker/cases/search.py.
"""
from alembic import op


revision = "0008_case_text_search"
down_revision = "0007_unit_month_counts"
branch_labels = None
depends_on = None

COLUMNS = "summary, details, number, external_ref"
NEW = "new.id, new.summary, new.details, new.number, new.external_ref"
OLD = "'delete', old.id, old.summary, old.details, old.number, old.external_ref"


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE VIRTUAL TABLE cases_fts USING fts5({COLUMNS}, content='cases', content_rowid='id', "
               "tokenize='trigram')")
    op.execute(f"CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN "
               f"INSERT INTO cases_fts(rowid, {COLUMNS}) VALUES ({NEW}); END")
    op.execute(f"CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN "
               f"INSERT INTO cases_fts(cases_fts, rowid, {COLUMNS}) VALUES ({OLD}); END")
    op.execute(f"CREATE TRIGGER cases_fts_update AFTER UPDATE OF {COLUMNS} ON cases BEGIN "
               f"INSERT INTO cases_fts(cases_fts, rowid, {COLUMNS}) VALUES ({OLD}); "
               f"INSERT INTO cases_fts(rowid, {COLUMNS}) VALUES ({NEW}); END")
    op.execute("INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')")
    # One segment: the rebuild leaves several, whose merging the next writes would take on
    # (a 20,000-row import took 32-41 s after the rebuild, 24 s after this; 19-20 s without the index).
    op.execute("INSERT INTO cases_fts(cases_fts) VALUES ('optimize')")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("cases_fts_update", "cases_fts_delete", "cases_fts_insert"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE cases_fts")
