"""The audit trail's HMAC key: where it comes from, and never beside the data it protects.

Resolution (:func:`resolve_key`), first match wins:

1. ``REPAIRDESK_AUDIT_KEY`` (a secret string; in AWS injected from Secrets Manager or KMS-decrypted
   by the task definition, never written to the database);
2. ``REPAIRDESK_AUDIT_KEY_FILE`` (a file outside the data directory, e.g. a mounted secret);
3. development only: ``<data_dir>/audit.key``, generated once (32 random bytes, mode 0600). It is a
   separate file from the database, so a copy of the database alone cannot re-sign a rewritten chain;
   production sets 1 or 2 (README "Audit trail").

The key id (``hmac-<first 8 hex of SHA-256(key)>``) is stored with each event, so a verifier knows
which key an event claims and a key rotation leaves older events verifiable with the old key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.settings import Settings


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes

    def mac(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()


def key_from_bytes(secret: bytes) -> AuditKey:
    if len(secret) < 16:
        raise ValueError("the audit key must be at least 16 bytes")
    return AuditKey(f"hmac-{hashlib.sha256(secret).hexdigest()[:8]}", secret)


def _dev_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
        handle.flush()
        os.fsync(handle.fileno())
    return path.read_bytes().strip()


def resolve_key(settings: Settings) -> AuditKey:
    """The key for ``settings`` (see the module docstring)."""
    if settings.audit_key is not None:
        return key_from_bytes(settings.audit_key.get_secret_value().encode("utf-8"))
    if settings.audit_key_file is not None:
        return key_from_bytes(Path(settings.audit_key_file).read_bytes().strip())
    return key_from_bytes(_dev_key(settings.data_dir / "audit.key"))


@lru_cache(maxsize=16)
def _cached(data_dir: str, key: str | None, key_file: str | None) -> AuditKey:
    from pydantic import SecretStr

    settings = Settings(
        data_dir=Path(data_dir),
        audit_key=SecretStr(key) if key is not None else None,
        audit_key_file=Path(key_file) if key_file else None,
        database_url="sqlite://",  # not used; skips reading DATABASE_SECRET
    )
    return resolve_key(settings)


def environment_key() -> AuditKey:
    """The key the environment names (for sessions not opened through a :class:`Database` that
    carries one: one-off scripts, some tests)."""
    settings = Settings(database_url="sqlite://")
    secret = settings.audit_key.get_secret_value() if settings.audit_key is not None else None
    return _cached(str(settings.data_dir), secret, str(settings.audit_key_file or "") or None)
