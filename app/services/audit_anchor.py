"""Signed chain heads kept outside the database, so deleting events from the end is detected.

An anchor is ``{"seq", "hash", "at", "key_id", "mac"}``: the audit head at some moment, signed with
the audit HMAC key (:mod:`app.services.audit_keys`). Anchors are appended, never rewritten:

- to a file (default ``<data_dir>/audit-anchors.jsonl``, ``REPAIRDESK_AUDIT_ANCHOR=/path``), opened
  for append only and fsynced; keep it on other storage than the database in production;
- or to S3 (``REPAIRDESK_AUDIT_ANCHOR=s3://bucket/prefix``), one object per anchor, written with an
  Object Lock retention (the bucket in ``infra/aws`` has Object Lock on), so not even the account
  that wrote it can delete or overwrite it before the retention ends.

:func:`anchor_head` appends the current head (skipped when it has not moved); the service does so
every ``REPAIRDESK_AUDIT_ANCHOR_SECONDS`` and after each decision; ``repairdesk audit anchor`` does
it by hand. :func:`anchored_heads` reads them back, checking each signature: a forged or altered
anchor is an error, since it is exactly what an intruder would write to cover a truncation.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditHead
from app.services.audit_keys import AuditKey
from tools.errors import ValidationError

S3_RETENTION_DAYS = 2555  # seven years, the usual record-keeping period for payment instructions


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str
    key_id: str
    mac: str = ""

    def body(self) -> bytes:
        fields = {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


class AnchorStore(Protocol):
    def append(self, anchor: Anchor) -> None: ...

    def read(self) -> list[dict[str, Any]]: ...


class FileAnchorStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, anchor: Anchor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(asdict(anchor), sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one write of a short line with O_APPEND: never interleaved
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ValidationError(f"line {number} is not JSON", source=str(self.path)) from exc
        return rows


class S3AnchorStore:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def append(self, anchor: Anchor) -> None:
        retain = datetime.now(UTC) + timedelta(days=S3_RETENTION_DAYS)
        key = f"{self.prefix}/{anchor.seq:015d}-{anchor.at}.json".lstrip("/")
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(asdict(anchor), sort_keys=True).encode(),
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain,
            ChecksumAlgorithm="SHA256",
        )

    def read(self) -> list[dict[str, Any]]:
        rows = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""):
            for item in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                rows.append(json.loads(body))
        return rows


def open_anchor_store(location: str) -> AnchorStore:
    if location.startswith("s3://"):
        import boto3

        from app.services.s3_store import parse_location

        bucket, prefix = parse_location(location)
        return S3AnchorStore(boto3.client("s3"), bucket, prefix or "audit-anchors")
    return FileAnchorStore(Path(location))


def sign(anchor: Anchor, key: AuditKey) -> Anchor:
    return Anchor(anchor.seq, anchor.hash, anchor.at, key.key_id, key.mac(anchor.body()))


def anchor_head(
    session: Session, store: AnchorStore, key: AuditKey, last: list[int] | None = None
) -> Anchor | None:
    """Append the signed current head to ``store`` unless it is at seq 0 or already anchored
    (``last``, a one-element memo the caller keeps, saves re-reading the store)."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    session.rollback()
    if row is None or int(row[0]) == 0:
        return None
    seq = int(row[0])
    if last is not None and last and last[0] >= seq:
        return None
    anchor = sign(
        Anchor(seq, str(row[1]), datetime.now(UTC).isoformat(timespec="microseconds"), key.key_id), key
    )
    store.append(anchor)
    if last is not None:
        last[:] = [seq]
    return anchor


def anchored_heads(store: AnchorStore, keys: list[AuditKey]) -> dict[int, str]:
    """{seq: hash} of every anchor; ``ValidationError`` naming the first anchor whose signature fails."""
    by_id = {k.key_id: k for k in keys}
    heads: dict[int, str] = {}
    for row in store.read():
        try:
            anchor = Anchor(
                int(row["seq"]), str(row["hash"]), str(row["at"]), str(row["key_id"]), str(row["mac"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                "an anchor lacks seq, hash, at, key_id or mac", source="audit anchors"
            ) from exc
        key = by_id.get(anchor.key_id)
        if key is None or sign(anchor, key).mac != anchor.mac:
            raise ValidationError(
                f"the anchor at seq {anchor.seq} is not signed by the audit key", source="audit anchors"
            )
        if heads.get(anchor.seq, anchor.hash) != anchor.hash:
            raise ValidationError(f"two anchors disagree about seq {anchor.seq}", source="audit anchors")
        heads[anchor.seq] = anchor.hash
    return heads


class Anchorer:
    """Anchors the head every ``seconds`` on a daemon thread, and once more on ``stop()``."""

    def __init__(self, sessions: Any, store: AnchorStore, key: AuditKey, seconds: float) -> None:
        import threading

        self.sessions, self.store, self.key, self.seconds = sessions, store, key, seconds
        self._last: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="audit-anchor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def anchor_now(self) -> Anchor | None:
        with self.sessions() as session:
            return anchor_head(session, self.store, self.key, self._last)

    def _loop(self) -> None:
        import logging

        while not self._stop.wait(self.seconds):
            try:
                self.anchor_now()
            except Exception:  # an unreachable anchor store must not take the service down; retried
                logging.getLogger("repairdesk.audit").exception("could not anchor the audit head")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        try:
            self.anchor_now()
        except Exception:
            import logging

            logging.getLogger("repairdesk.audit").exception("could not anchor the audit head")
