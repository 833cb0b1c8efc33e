"""Append-only audit trail with a SHA-256 hash chain.

Each event's ``hash`` is SHA-256 over the canonical JSON of (seq, case_id, event, actor, data,
created_at, prev_hash); ``prev_hash`` is the previous event's hash (64 zeros for the first). Appends
are serialised by first updating the single ``audit_head`` row in the caller's transaction, which
takes the write lock on SQLite and a row lock on PostgreSQL, so concurrent writers cannot fork the
chain. ``verify_chain`` recomputes every hash and names the first event that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, AuditHead

GENESIS = "0" * 64
# Built once and run as Core statements on the session's connection: building them per append, the
# ORM's synchronisation of an UPDATE (no AuditHead object is ever loaded) and a unit-of-work flush
# for the event cost more than the statements themselves on the POST /v1/exceptions path.
_HEAD = cast(Table, AuditHead.__table__)
_BUMP_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.hash)
)
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))
_INSERT_EVENT = insert(cast(Table, AuditEvent.__table__))


def event_hash(
    *,
    seq: int,
    case_id: str | None,
    event: str,
    actor: str,
    data: dict[str, Any],
    created_at: str,
    prev_hash: str,
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "case_id": case_id,
            "event": event,
            "actor": actor,
            "data": data,
            "created_at": created_at,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    *,
    event: str,
    actor: str,
    case_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction (the caller commits).

    The row is inserted at once; the returned object carries its values but is not in the session."""
    payload = json.loads(json.dumps(data or {}, default=str))  # exactly what the JSON column returns
    # One statement takes the lock, advances the sequence and reads the previous hash (RETURNING
    # sees the row after the update; the hash column is not changed by it).
    session.flush()  # the caller's pending rows first, as before the head's lock (lock order)
    connection = session.connection()
    bumped, head = connection.execute(_BUMP_HEAD).one()  # the head row is created by the initial migration
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    digest = event_hash(
        seq=bumped,
        case_id=case_id,
        event=event,
        actor=actor,
        data=payload,
        created_at=created_at,
        prev_hash=head,
    )
    values = {
        "seq": bumped,
        "case_id": case_id,
        "event": event,
        "actor": actor,
        "data": payload,
        "created_at": created_at,
        "prev_hash": head,
        "hash": digest,
    }
    connection.execute(_INSERT_EVENT, values)
    connection.execute(_SET_HEAD_HASH, {"new_hash": digest})
    return AuditEvent(**values)


def case_events(session: Session, case_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq))
    )


def event_to_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "case_id": event.case_id,
        "event": event.event,
        "actor": event.actor,
        "data": event.data,
        "created_at": event.created_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_events(events: Iterable[AuditEvent], head: tuple[int, str] | None = None) -> ChainReport:
    """Recompute the chain in seq order; stop at the first event whose link or hash is wrong.

    ``head`` (seq, hash), read before the events, must lie on the chain: events deleted from its end
    leave the chain shorter than the head. Events past the head are checked like the others: they
    were appended (and committed) between reading the head and reading the events, which a running
    service does at any time."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    hash_at_head = GENESIS
    for ev in events:
        if ev.seq != expected_seq:
            return ChainReport(checked, ev.seq, f"sequence gap: expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev:
            return ChainReport(checked, ev.seq, "prev_hash does not match the previous event's hash")
        recomputed = event_hash(
            seq=ev.seq,
            case_id=ev.case_id,
            event=ev.event,
            actor=ev.actor,
            data=ev.data,
            created_at=ev.created_at,
            prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            return ChainReport(checked, ev.seq, "content does not match its hash (row altered)")
        prev = ev.hash
        if head is not None and ev.seq == head[0]:
            hash_at_head = ev.hash
        expected_seq += 1
        checked += 1
    if head is not None and expected_seq - 1 < head[0]:
        return ChainReport(
            checked, expected_seq, f"chain ends before its head (seq {head[0]}): events deleted"
        )
    if head is not None and hash_at_head != head[1]:
        return ChainReport(checked, head[0], f"the head's hash does not match event {head[0]}")
    return ChainReport(checked)


def verify_chain(session: Session) -> ChainReport:
    # The head first: whatever is appended while the events are read lies past it (verify_events).
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=500))
    return verify_events(events.scalars(), head=(int(row[0]), str(row[1])) if row else None)
