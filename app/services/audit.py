"""Append-only audit trail with a keyed (HMAC-SHA-256) hash chain.

Each event's ``hash`` is HMAC-SHA-256, under the key of :mod:`app.services.audit_keys` (its id in
``key_id``), over the canonical JSON of (seq, case_id, event, actor, data, created_at, prev_hash);
``prev_hash`` is the previous event's hash (64 zeros for the first). Without the key nobody can
recompute a hash after changing an event, so rewriting the chain wholesale is detected, not only
editing one row. Events written before revision ``0003_crashsafe`` carry plain SHA-256 hashes and
no ``key_id``; they are verified as such, and the first keyed event after them chains to their last
hash, so rewriting them breaks a link that cannot be re-signed. An unkeyed event after a keyed one
is refused (a downgrade). Deleting events from the end is caught by the signed heads appended
outside the database (:mod:`app.services.audit_anchor`).

Appends are serialised by first updating the single ``audit_head`` row in the caller's transaction,
which takes the write lock on SQLite and a row lock on PostgreSQL, so concurrent writers cannot fork
the chain. ``verify_chain`` recomputes every hash and names the first event that does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, AuditHead
from app.services.audit_keys import AuditKey, environment_key

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
    key: AuditKey | None = None,
) -> str:
    """HMAC-SHA-256 under ``key``; plain SHA-256 (legacy events only) without one."""
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
    ).encode("utf-8")
    return key.mac(body) if key is not None else hashlib.sha256(body).hexdigest()


def session_key(session: Session) -> AuditKey:
    """The key the session's :class:`app.db.session.Database` carries, else the environment's."""
    key = session.info.get("audit_key")
    return key if isinstance(key, AuditKey) else environment_key()


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
    key = session_key(session)
    # Keyword arguments: alike in shape to other calls (the tests, the chain check), not shared logic.
    digest = event_hash(
        seq=bumped,
        case_id=case_id,
        event=event,
        actor=actor,
        data=payload,
        created_at=created_at,
        prev_hash=head,
        key=key,
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
        "key_id": key.key_id,
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
        "key_id": event.key_id,
    }


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_events(
    events: Iterable[AuditEvent],
    head: tuple[int, str] | None = None,
    keys: Iterable[AuditKey] | None = None,
    anchored: dict[int, str] | None = None,
) -> ChainReport:
    """Recompute the chain in seq order; stop at the first event whose link or hash is wrong.

    ``head`` (seq, hash), read before the events, must lie on the chain: events deleted from its end
    leave the chain shorter than the head. Events past the head are checked like the others: they
    were appended (and committed) between reading the head and reading the events, which a running
    service does at any time. ``keys``: the HMAC keys an event may name (default: the environment's).
    ``anchored`` ({seq: hash} from signed heads kept outside the database) must lie on the chain too:
    that catches a truncation that also moved the head back."""
    by_id = {k.key_id: k for k in (keys if keys is not None else [environment_key()])}
    anchored = anchored or {}
    keyed_seen = False
    prev = GENESIS
    expected_seq = 1
    checked = 0
    hash_at_head = GENESIS
    for ev in events:
        if ev.seq != expected_seq:
            return ChainReport(checked, ev.seq, f"sequence gap: expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev:
            return ChainReport(checked, ev.seq, "prev_hash does not match the previous event's hash")
        key = None
        if ev.key_id is not None:
            key = by_id.get(ev.key_id)
            if key is None:
                return ChainReport(checked, ev.seq, f"signed with key {ev.key_id}, which this verifier lacks")
            keyed_seen = True
        elif keyed_seen:
            return ChainReport(checked, ev.seq, "an unkeyed event after keyed ones (downgraded hash)")
        recomputed = event_hash(
            seq=ev.seq,
            case_id=ev.case_id,
            event=ev.event,
            actor=ev.actor,
            data=ev.data,
            created_at=ev.created_at,
            prev_hash=ev.prev_hash,
            key=key,
        )
        if not hmac.compare_digest(recomputed, ev.hash):
            return ChainReport(checked, ev.seq, "content does not match its hash (row altered)")
        if ev.seq in anchored and anchored[ev.seq] != ev.hash:
            return ChainReport(checked, ev.seq, "differs from the signed head anchored outside the database")
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
    if anchored and max(anchored) > expected_seq - 1:
        last = max(anchored)
        return ChainReport(
            checked, expected_seq, f"chain ends before the signed head anchored at seq {last}: events deleted"
        )
    return ChainReport(checked)


def verify_chain(
    session: Session, anchored: dict[int, str] | None = None, keys: Iterable[AuditKey] | None = None
) -> ChainReport:
    # The head first: whatever is appended while the events are read lies past it (verify_events).
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=500))
    return verify_events(
        events.scalars(),
        head=(int(row[0]), str(row[1])) if row else None,
        keys=keys if keys is not None else [session_key(session)],
        anchored=anchored,
    )
