"""Text search over the cases: a term found anywhere in the summary, the details, the case number
or the external reference, as a substring (Chinese needs no word segmentation), without regard to
letter case.

PostgreSQL answers ``LIKE``/``ILIKE`` from the pg_trgm GIN indexes of those four columns
(migration 0003). SQLite has no such index: it scanned the cases newest first until it had a page
of matches, every case for a term that matches none (1.5 s at a million cases). On SQLite a term of
three characters or more is therefore looked up in ``cases_fts``, an FTS5 table with the
``trigram`` tokenizer over the same four columns (migration 0008; its triggers keep it in step with
every INSERT, UPDATE and DELETE of ``cases``). A trigram index finds substrings of three characters
or more, case-insensitively, exactly as the ``LIKE`` it replaces; a shorter term (电费) still scans.
"""
from sqlalchemy import Column, Integer, MetaData, Table, Text, or_, select

from tracker.cases.models import Case

FTS_TABLE = "cases_fts"
TRIGRAM = 3  # the shortest term the trigram index can find

# Not in the application's metadata: the migration creates it, on SQLite only.
_fts = Table(FTS_TABLE, MetaData(), Column("rowid", Integer), Column(FTS_TABLE, Text))

SEARCHED_COLUMNS = ("summary", "details", "number", "external_ref")


def is_search_index_table(name: str) -> bool:
    """The FTS table and its shadow tables (``cases_fts_data``, ``cases_fts_idx`` ...)."""
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")


def text_condition(term: str, dialect_name: str):
    """SQL: the case holds ``term`` (stripped, not empty) in one of the searched columns."""
    if dialect_name == "sqlite" and len(term) >= TRIGRAM:
        # A phrase of one string: FTS5's own syntax (AND, OR, NEAR, *, ^) stays literal text.
        phrase = '"' + term.replace('"', '""') + '"'
        return Case.id.in_(select(_fts.c.rowid).where(_fts.c[FTS_TABLE].op("MATCH")(phrase)))
    like = f"%{_escape_like(term)}%"
    # A term without letter case (Chinese, digits) matches the same rows with LIKE as with ILIKE,
    # and PostgreSQL runs LIKE several times faster: ILIKE case-folds every text it reads.
    cased = term.lower() != term.upper()
    return or_(*(
        column.ilike(like, escape="\\") if cased else column.like(like, escape="\\")
        for column in (getattr(Case, name) for name in SEARCHED_COLUMNS)
    ))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
