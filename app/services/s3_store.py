"""Content-addressed document storage in Amazon S3 (``REPAIRDESK_DOCUMENT_STORE=s3://bucket/prefix``).

Same contract as :class:`app.services.document_store.DocumentStore`: ``put(data)`` returns the
SHA-256 hex key (storing each distinct byte string once), ``get(sha256)`` returns the bytes or raises
``NotFoundError``, ``exists(sha256)`` answers yes/no. Objects live at ``<prefix>/<ab>/<sha256>``.

Every write asks for server-side encryption with KMS (``aws:kms``; with the key
``REPAIRDESK_DOCUMENT_KMS_KEY_ID`` when set, else the bucket's default KMS key) and sends the
SHA-256 checksum so S3 rejects a corrupted upload. A put of content already stored is a no-op
(a conditional ``If-None-Match: *`` write settles two concurrent puts). ``get`` checks the bytes
against their key, so a tampered object is an error, never silently served.

Credentials, region and endpoint come from boto3's standard chain (``AWS_*`` variables, the ECS task
role; ``AWS_ENDPOINT_URL_S3`` points at an S3-compatible endpoint). Calls time out and retry with
boto3's standard backoff rather than hanging a request.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from tools.errors import DocumentError, NotFoundError, ValidationError

ENCRYPTION = "aws:kms"


def parse_location(location: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``; ``ValidationError`` otherwise."""
    parts = urlsplit(location)
    bucket = parts.netloc
    if parts.scheme != "s3" or not bucket or parts.query or parts.fragment:
        raise ValidationError("expected s3://bucket[/prefix]", source=location)
    # Bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens.
    if not (3 <= len(bucket) <= 63) or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789.-" for c in bucket):
        raise ValidationError("not a valid S3 bucket name", source=location)
    return bucket, parts.path.strip("/")


def _check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFoundError("not a document key", source=sha256[:80])
    return sha256


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3DocumentStore:
    """Documents in one S3 bucket under ``prefix`` (see the module docstring)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", *, kms_key_id: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.kms_key_id = kms_key_id

    def key(self, sha256: str) -> str:
        digest = _check_key(sha256)
        path = f"{digest[:2]}/{digest}"
        return f"{self.prefix}/{path}" if self.prefix else path

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return digest
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key(digest),
            "Body": data,
            "ContentType": "application/octet-stream",
            "ServerSideEncryption": ENCRYPTION,
            "ChecksumSHA256": base64.b64encode(bytes.fromhex(digest)).decode(),
            "Metadata": {"sha256": digest},
            "IfNoneMatch": "*",
        }
        if self.kms_key_id:
            args["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.put_object(**args)
        except self.client.exceptions.ClientError as exc:
            # Another writer stored the same content between our check and our write: same bytes.
            if _error_code(exc) not in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except self.client.exceptions.ClientError as exc:
            if _error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
                raise NotFoundError("no stored document with this hash", source=sha256) from exc
            raise
        data: bytes = response["Body"].read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DocumentError(
                "stored bytes do not match their content hash",
                source=f"s3://{self.bucket}/{self.key(sha256)}",
            )
        return data

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except self.client.exceptions.ClientError as exc:
            if _error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True


def open_s3_store(location: str, client: Any = None, *, kms_key_id: str | None = None) -> S3DocumentStore:
    """The store for ``s3://bucket/prefix``, with a boto3 client built from the standard chain;
    ``kms_key_id`` (``REPAIRDESK_DOCUMENT_KMS_KEY_ID``): None uses the bucket's default key."""
    bucket, prefix = parse_location(location)
    if client is None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 5},
            ),
        )
    return S3DocumentStore(client, bucket, prefix, kms_key_id=kms_key_id or None)
