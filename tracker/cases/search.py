"""Text search over the cases: a term found anywhere in the summary, the details, the case number
or the external reference, as a substring (Chinese needs no word segmentation), without regard to
letter case.

PostgreSQL answers ``LIKE``/``ILIKE`` from the pg_trgm GIN indexes of those four columns
(migration 0003). SQLite has no such index: it scanned the cases newest first until it had a page
of matches, every case for a term that matches none (1.5–2.4 s at a million cases). On SQLite a term of
three characters or more is therefore looked up in ``cases_fts``, an FTS5 table with the
``trigram`` tokenizer over the same four columns (migration 0008; its triggers keep it in step with
every INSERT, UPDATE and DELETE of ``cases``). A trigram index finds substrings of three characters
or more, case-insensitively, exactly as the ``LIKE`` it replaces; a shorter term (电费) still scans.

The index answers *which* cases hold the term, not which are the newest in the user's scope, so
the page reads every match by id and sorts them: cheap for a rare term, not for a common one (at a
million cases on a slow day, about 2.8 µs a match: 56 ms for 20,000 matches, 706 ms for 347,000).
A common term is found quickly by scanning the cases newest first, as before (the newest 50 of a
county's matches for a term in 35 % of the cases: 6 ms). So the matches are counted first, up to
``FTS_DRIVE_LIMIT``; with more, the search uses ``LIKE``. The limit is where the two cost about the
same for a county of 45,000 cases (30,000 matches, about 85 ms either way); for a smaller scope
the index stays cheaper further, for the whole organisation the scan wins sooner.
"""
from sqlalchemy import Column, Integer, MetaData, Table, Text, func, or_, select

from tracker.cases.models import Case

FTS_TABLE = "cases_fts"
TRIGRAM = 3  # the shortest term the trigram index can find
FTS_DRIVE_LIMIT = 30_000  # matches up to which the page is read from the index's list

# Not in the application's metadata: the migration creates it, on SQLite only.
_fts = Table(FTS_TABLE, MetaData(), Column("rowid", Integer), Column(FTS_TABLE, Text))

SEARCHED_COLUMNS = ("summary", "details", "number", "external_ref")


def is_search_index_table(name: str) -> bool:
    """The FTS table and its shadow tables (``cases_fts_data``, ``cases_fts_idx`` ...)."""
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")


def text_condition(term: str, session):
    """SQL: the case holds ``term`` (stripped, not empty) in one of the searched columns. On SQLite
    this may count the term's matches first (one statement)."""
    if session.get_bind().dialect.name == "sqlite" and len(term) >= TRIGRAM:
        matches = select(_fts.c.rowid).where(_fts.c[FTS_TABLE].op("MATCH")(fts_phrase(term)))
        capped = matches.limit(FTS_DRIVE_LIMIT + 1).subquery()
        found = session.scalar(select(func.count()).select_from(capped))
        if found <= FTS_DRIVE_LIMIT:
            return Case.id.in_(matches)
    like = f"%{_escape_like(term)}%"
    # A term without letter case (Chinese, digits) matches the same rows with LIKE as with ILIKE,
    # and PostgreSQL runs LIKE several times faster: ILIKE case-folds every text it reads.
    cased = term.lower() != term.upper()
    return or_(*(
        column.ilike(like, escape="\\") if cased else column.like(like, escape="\\")
        for column in (getattr(Case, name) for name in SEARCHED_COLUMNS)
    ))


def fts_phrase(term: str) -> str:
    """The term as one FTS5 string: its own syntax (AND, OR, NEAR, *, ^) stays literal text."""
    return '"' + term.replace('"', '""') + '"'


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
