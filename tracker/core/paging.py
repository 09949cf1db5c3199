"""Keyset (cursor) paging: stable under inserts and as fast on page 1,000 as on page 1."""
import base64
import binascii
import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import tuple_

from tracker.core.errors import ValidationError


def encode_cursor(values) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(_l("The cursor is not valid."), field="cursor") from None
    if not isinstance(values, list) or len(values) != n:
        raise ValidationError(_l("The cursor is not valid."), field="cursor")
    return values


def keyset_page(session, stmt, key_columns, *, cursor=None, limit=50, descending=False, parse=None):
    """One page of ``stmt`` ordered by ``key_columns`` (unique together), after ``cursor``.

    ``parse`` turns the decoded cursor values back into column values (e.g. datetimes).
    Returns (rows, next_cursor). Rows are whatever the statement selects; the key values are
    read from the last row by column name.
    """
    order = [c.desc() if descending else c.asc() for c in key_columns]
    if cursor:
        values = decode_cursor(cursor, len(key_columns))
        if parse:
            values = parse(values)
        key = tuple_(*key_columns) if len(key_columns) > 1 else key_columns[0]
        bound = tuple_(*values) if len(key_columns) > 1 else values[0]
        stmt = stmt.where(key < bound if descending else key > bound)
    rows = session.scalars(stmt.order_by(*order).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, c.key) for c in key_columns])
    return rows, next_cursor
