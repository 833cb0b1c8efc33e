"""Content-addressed storage for uploaded documents: each distinct byte string is stored once.

``DocumentStore`` is the interface (``put`` returns the SHA-256 hex key, ``get`` returns the bytes
or raises ``NotFoundError``); ``LocalDocumentStore`` keeps files under a directory as
``ab/cd/<sha256>``. ``open_store`` picks the implementation from the location string.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from tools.errors import NotFoundError


class DocumentStore(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


def _check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFoundError("not a document key", source=sha256[:80])
    return sha256


class LocalDocumentStore:
    """Files in a local directory; writes go through a temporary file and an atomic rename."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        key = _check_key(sha256)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError("no stored document with this hash", source=sha256) from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


def open_store(location: str, *, kms_key_id: str | None = None) -> DocumentStore:
    if location.startswith("s3://"):
        from app.services.s3_store import open_s3_store

        return open_s3_store(location, kms_key_id=kms_key_id)
    return LocalDocumentStore(Path(location))
