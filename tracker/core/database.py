"""Database plumbing shared by every module: SQLite pragmas and column types."""
import enum
from contextlib import contextmanager
from contextvars import ContextVar
import sqlite3
from datetime import datetime, timezone

from flask import has_request_context, request
from sqlalchemy import DateTime, Enum, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # The embedded default: WAL lets readers run beside one writer, the busy timeout makes a
    # second writer wait instead of failing, and SQLite only checks foreign keys when asked.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take it over
        # (SQLAlchemy's documented recipe) and emit BEGIN ourselves in _sqlite_begin below.
        dbapi_connection.isolation_level = None


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")


def _may_write():
    """Writing transactions take SQLite's write lock at BEGIN (waiting up to the busy timeout),
    so two writers never both read and then collide when upgrading their locks."""
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return True


def normalize_url(url: str) -> str:
    """Accept the common short schemes and use the psycopg 3 driver requirements.txt installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def init_app(app):
    """Nothing to bind per app yet; the pragma listener is global to every SQLite engine."""


def reserve_ids(connection, column, count: int) -> list[int]:
    """``count`` new values of an autoincrement integer primary key, taken before the INSERT.

    ORM objects whose primary key is set are inserted with one executemany and no RETURNING,
    which is what makes large batches fast on both databases (SQLite cannot batch INSERT ...
    RETURNING in a guaranteed order, so SQLAlchemy sends those one row at a time; psycopg
    re-parses every multi-row VALUES statement). PostgreSQL draws the values from the column's
    sequence, which is safe beside concurrent writers. SQLite gives a new row the largest rowid
    + 1 (no AUTOINCREMENT in this schema); a writing transaction holds the database's write lock
    from its BEGIN IMMEDIATE, so nobody inserts in between. Flush pending rows of the table
    first: they would take the same values.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        stmt = text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :count)")
        params = {"table": column.table.name, "column": column.name, "count": count}
        return sorted(connection.scalars(stmt, params))
    first = (connection.scalar(select(func.max(column))) or 0) + 1
    return list(range(first, first + count))


_as_of: ContextVar[datetime | None] = ContextVar("tracker_as_of", default=None)


def utcnow():
    """Now, in UTC; inside ``as_of(moment)`` that moment instead."""
    return _as_of.get() or datetime.now(timezone.utc)


@contextmanager
def as_of(moment: datetime):
    """Run operations as if it were ``moment``: for importing or generating past records
    (demo data, historical work orders, load data) through the same operations and rules."""
    if moment.tzinfo is None:
        raise ValueError("as_of needs an aware datetime")
    token = _as_of.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _as_of.reset(token)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in and out on both databases (SQLite stores no offset).

    Values are stored as UTC; naive values are refused so no local time slips in unnoticed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def enum_column_type(enum_cls: type[enum.Enum], name: str):
    """Store an enum as its value in a VARCHAR with a CHECK constraint (portable, migratable)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def object_belongs_to_dialect(obj, dialect_name: str) -> bool:
    """False for schema objects the models create on another database only
    (``Index(...).ddl_if(dialect=...)``): Alembic's comparisons leave them out there."""
    condition = getattr(obj, "_ddl_if", None)
    if condition is None or condition.dialect is None:
        return True
    wanted = condition.dialect if isinstance(condition.dialect, (tuple, list)) else (condition.dialect,)
    return dialect_name in wanted
