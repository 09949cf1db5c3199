"""Database plumbing shared by every module: SQLite pragmas and column types."""
import enum
from contextlib import contextmanager
from contextvars import ContextVar
import sqlite3
from datetime import datetime, timezone

from flask import has_request_context, request
from sqlalchemy import DateTime, Enum, Table, event, func, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.interfaces import MANYTOONE
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

    With the keys known, rows go in without reading anything back (``bulk_insert``: COPY, an
    executemany or multi-row VALUES), which is what makes large batches fast on both databases
    (SQLite cannot batch INSERT ... RETURNING of generated keys in a guaranteed order, so
    SQLAlchemy sends those one row at a time). PostgreSQL draws the values from the column's
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
    (``Index(...).ddl_if(dialect=...)``): Alembic's comparisons leave them out there. Also false
    for SQLite's text-search index (``tracker.cases.search``), which a migration creates outside
    the models."""
    from tracker.cases.search import is_search_index_table

    if isinstance(obj, Table) and is_search_index_table(obj.name):
        return False
    condition = getattr(obj, "_ddl_if", None)
    if condition is None or condition.dialect is None:
        return True
    wanted = condition.dialect if isinstance(condition.dialect, (tuple, list)) else (condition.dialect,)
    return dialect_name in wanted


def insert_loaded(session, *groups) -> None:
    """INSERT new ORM objects, their primary keys already set (``reserve_ids``), in bulk per
    group (``bulk_insert``) outside the unit of work, and attach them to ``session`` as if they
    had been loaded from these rows. Each group holds objects of one class; parents come first.

    For large batches (the 95598 import): a flush spends most of its time on the unit of work's
    bookkeeping per object, not on the INSERT. The row is what a flush would write: the
    attributes set on the object, the foreign keys of its many-to-one relationships, and the
    columns' defaults for the rest (the models set no value on the server side). Flush hooks do
    not see these rows: the caller tells the listeners that need them
    (``tracker.reports.stats.note_inserted``).
    """
    connection = session.connection()
    for objects in groups:
        if objects:
            bulk_insert(connection, inspect(type(objects[0])).local_table, _rows_of(objects))
    for objects in groups:
        for obj in objects:
            make_transient_to_detached(obj)  # loaded: what it holds is what the row holds
    for objects in groups:
        session.add_all(objects)


def bulk_insert(connection, table: Table, rows: list[dict]) -> None:
    """INSERT many complete rows (a value for every column, by column key) into ``table``, in
    the connection's transaction: COPY on PostgreSQL; on SQLite one executemany, or multi-row
    INSERTs for a table with triggers.

    The values are what the ORM would bind (enums, aware datetimes, JSON-able data): each goes
    through its column type's bind processor, as in any SQLAlchemy statement. Nothing is read
    back, so the primary keys must be in the rows (``reserve_ids``).
    """
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, rows)
    elif _has_triggers(connection, table):
        # RETURNING makes SQLAlchemy send the rows as multi-row VALUES of up to 1,000 rows
        # ("insertmanyvalues") instead of one statement per row. A statement that fires a
        # trigger runs in a savepoint, and FTS5 (SQLite 3.40) writes what it holds in memory to
        # a new segment at every savepoint: row by row, the text-search trigger
        # (tracker.cases.search) cost a segment, and its merging, per case. INSERT of 20,000
        # cases: 12.7-18.4 s row by row, 3.4-3.7 s in rows of 1,000 (3.0-4.8 s without the
        # trigger); the import of 20,000 work orders, alternately: 20.8 and 21.2 s → 15.0 and 15.5 s.
        connection.execute(insert(table).returning(*table.primary_key.columns), rows)
    else:  # without a trigger, sqlite3's executemany is the faster (history events: 0.4 s vs 1.3 s per 100,000)
        connection.execute(insert(table), rows)


def _has_triggers(connection, table) -> bool:
    stmt = text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :name")
    return bool(connection.scalar(stmt, {"name": table.name}))


def _copy(connection, table, rows) -> None:
    """COPY ``rows`` into ``table`` through psycopg. An executemany is one prepared INSERT per
    row through psycopg's pipeline; on the 95598 import that per-row work, SQLAlchemy's and
    psycopg's, cost more than the server's (100,000 work orders, alternately: 63.3 and 58.4 s
    → 48.5 and 48.7 s). COPY streams the rows, formatted by psycopg's C code."""
    columns = list(table.columns)
    keys = [column.key for column in columns]
    processors = [column.type.bind_processor(connection.dialect) for column in columns]
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(column.name) for column in columns)
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([value if process is None else process(value)
                            for value, process in zip([row[key] for key in keys], processors)])


def _rows_of(objects) -> list[dict]:
    """The rows a flush would insert for these new objects of one class; each object's missing
    column attributes are filled with the values written."""
    mapper = inspect(type(objects[0]))
    if mapper.version_id_col is not None or any(c.server_default is not None for c in mapper.local_table.c):
        raise TypeError(f"cannot insert {mapper.class_.__name__} outside a flush: "
                        "the database sets some of its values")
    attributes = [(attr.key, attr.columns[0].key, attr.columns[0]) for attr in mapper.column_attrs]
    foreign_keys = [  # (relationship, [(column key, attribute of the target)])
        (rel.key, [(local.key, rel.mapper.get_property_by_column(remote).key)
                   for local, remote in rel.local_remote_pairs])
        for rel in mapper.relationships if rel.direction is MANYTOONE
    ]
    rows = []
    for obj in objects:
        values = instance_dict(obj)
        row = {}
        for relationship, pairs in foreign_keys:
            if relationship in values:
                target = values[relationship]
                for column_key, target_key in pairs:
                    row[column_key] = None if target is None else getattr(target, target_key)
        for key, column_key, column in attributes:
            if key in values:
                row[column_key] = values[key]
            else:
                if column_key not in row:
                    row[column_key] = _python_default(column)
                values[key] = row[column_key]  # committed by make_transient_to_detached
        rows.append(row)
    return rows


def _python_default(column):
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a function without arguments to take a context
    raise TypeError(f"cannot compute the default of {column} outside a flush")
