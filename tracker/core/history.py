"""Append-only, hash-chained history of every change (DESIGN.md §3).

Each event stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON)``; the chain
is global (one sequence for the whole system), so deleting, reordering or editing any stored
event breaks verification from that event on. Appends lock the single chain-head row, which
serialises writers on PostgreSQL; on SQLite every writing transaction already holds the
database's write lock from its BEGIN IMMEDIATE (tracker.core.database).
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.database import UTCDateTime, utcnow
from tracker.extensions import db

GENESIS_HASH = "0" * 64


class HistoryHead(db.Model):
    """The chain's current end: one row, locked by every append."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class HistoryEvent(db.Model):
    __tablename__ = "history_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))  # as it was; "system" for automatic steps
    action: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(64))  # "case:JD-2026-000123", "audit:17", "unit:JZ-QH"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User")

    __table_args__ = (Index("ix_history_events_case_id_seq", "case_id", "seq"),)


def canonical_json(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_payload(event: HistoryEvent) -> dict:
    """What the hash covers: everything but the hashes themselves."""
    return _payload(event.seq, event.at, event.actor_id, event.actor_name, event.action, event.subject, event.data)


def _payload(seq, at, actor_id, actor_name, action, subject, data) -> dict:
    return {
        "seq": seq,
        "at": at.isoformat(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "subject": subject,
        "data": data,
    }


def compute_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode()).hexdigest()


def _json_safe(data):
    # Round-trip through JSON so what is hashed now equals what is read back from the database.
    return json.loads(canonical_json(data or {}))


def record_event(*, actor, action: str, subject: str, data: dict | None = None, case=None) -> HistoryEvent:
    """Append one event to the chain in the caller's transaction (flush, no commit)."""
    # The head row is created by the migration; locking it serialises appends.
    head = db.session.scalars(select(HistoryHead).where(HistoryHead.id == 1).with_for_update()).one()
    event = HistoryEvent(
        seq=head.seq + 1,
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        subject=subject,
        case_id=case.id if case is not None else None,
        data=_json_safe(data),
        prev_hash=head.hash,
    )
    event.hash = compute_hash(event.prev_hash, event_payload(event))
    head.seq, head.hash = event.seq, event.hash
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None


def verify_chain(batch_size: int = 10_000) -> VerifyResult:
    """Recompute every hash in order; name the first event whose link or content is wrong.

    Plain rows in keyset batches (``seq > last``), not ORM objects: constant memory, no
    server-side cursor, and about three times faster over millions of events.
    """
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    c = HistoryEvent.__table__.c
    stmt = (
        select(c.seq, c.at, c.actor_id, c.actor_name, c.action, c.subject, c.data, c.prev_hash, c.hash)
        .order_by(c.seq)
        .limit(batch_size)
    )
    last_seq = None
    while True:
        rows = db.session.execute(stmt if last_seq is None else stmt.where(c.seq > last_seq)).all()
        for seq, at, actor_id, actor_name, action, subject, data, stored_prev, stored_hash in rows:
            checked += 1
            payload = _payload(seq, at, actor_id, actor_name, action, subject, data)
            if seq != expected_seq or stored_prev != prev_hash or compute_hash(prev_hash, payload) != stored_hash:
                return VerifyResult(False, checked, seq if seq == expected_seq else expected_seq)
            prev_hash, expected_seq = stored_hash, expected_seq + 1
        if len(rows) < batch_size:
            break
        last_seq = rows[-1][0]
    head = db.session.get(HistoryHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        # Events were removed from the end.
        return VerifyResult(False, checked, expected_seq)
    return VerifyResult(True, checked, None)
