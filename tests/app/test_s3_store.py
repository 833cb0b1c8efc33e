"""The S3 document store against moto's server mode: a real HTTP S3 (and KMS) endpoint on loopback,
reached through an ordinary boto3 client (no patched clients)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from app.services.document_store import open_store
from app.services.s3_store import S3DocumentStore, open_s3_store, parse_location
from tools.errors import DocumentError, NotFoundError, ValidationError

BUCKET = "repairdesk-docs"
REGION = "eu-west-1"


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


@pytest.fixture
def kms_key(aws_env: str) -> str:
    return str(_client("kms", aws_env).create_key(Description="repairdesk documents")["KeyMetadata"]["Arn"])


@pytest.fixture
def bucket(aws_env: str) -> Iterator[str]:
    s3 = _client("s3", aws_env)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield BUCKET
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def store(bucket: str, kms_key: str, monkeypatch: pytest.MonkeyPatch) -> S3DocumentStore:
    return open_s3_store(f"s3://{bucket}/documents", kms_key_id=kms_key)


def test_put_get_exists_by_content_hash(store: S3DocumentStore, aws_env: str) -> None:
    data = b"%PDF-1.4 remittance advice INV-2001"
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.exists(digest)
    assert store.get(digest) == data
    keys = [o["Key"] for o in _client("s3", aws_env).list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"documents/{digest[:2]}/{digest}"]


def test_objects_are_encrypted_with_the_kms_key(store: S3DocumentStore, kms_key: str, aws_env: str) -> None:
    digest = store.put(b"MT103 with an IBAN")
    head = _client("s3", aws_env).head_object(Bucket=BUCKET, Key=store.key(digest))
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key
    assert head["Metadata"] == {"sha256": digest}


def test_put_of_the_same_content_is_idempotent(store: S3DocumentStore, aws_env: str) -> None:
    s3 = _client("s3", aws_env)
    first = store.put(b"same bytes")
    etag = s3.head_object(Bucket=BUCKET, Key=store.key(first))["ETag"]
    versions_before = s3.list_objects_v2(Bucket=BUCKET)["KeyCount"]
    assert store.put(b"same bytes") == first
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == versions_before == 1
    assert s3.head_object(Bucket=BUCKET, Key=store.key(first))["ETag"] == etag
    assert store.put(b"other bytes") != first


def test_missing_and_malformed_keys_are_not_found(store: S3DocumentStore) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(absent)
    with pytest.raises(NotFoundError, match=absent):
        store.get(absent)
    with pytest.raises(NotFoundError, match="not a document key"):
        store.get("../../etc/passwd")


def test_tampered_object_is_refused(store: S3DocumentStore, aws_env: str) -> None:
    digest = store.put(b"original")
    _client("s3", aws_env).put_object(Bucket=BUCKET, Key=store.key(digest), Body=b"tampered")
    with pytest.raises(DocumentError, match="do not match"):
        store.get(digest)


def test_open_store_selects_s3_for_s3_locations(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = open_store(f"s3://{bucket}/prefix")
    assert isinstance(chosen, S3DocumentStore)
    digest = chosen.put(b"via open_store")  # bucket default KMS key: no key id sent
    assert chosen.get(digest) == b"via open_store"


@pytest.mark.parametrize(
    "location", ["s3://", "s3://UPPER/x", "http://bucket/x", "s3://ab/x", "s3://bucket/x?versionId=1"]
)
def test_bad_locations_are_typed_errors(location: str) -> None:
    with pytest.raises(ValidationError):
        parse_location(location)
