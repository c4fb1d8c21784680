"""realm/s3_store.py: the locations it accepts, and the exact requests it makes (botocore's Stubber checks
them against S3's API model). Against a real S3 implementation: tests/test_s3_store_server.py."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.stub import Stubber

from realm.s3_store import AppendOnceStore, S3Location, S3LocationError, S3StoreError


def _stubbed() -> tuple[AppendOnceStore, Stubber]:
    import boto3

    client = boto3.client(
        "s3", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    return AppendOnceStore(S3Location.parse("s3://bizid-dev-audit-1/reminders"), client), Stubber(client)


def _put_params(body: bytes) -> dict[str, Any]:
    return {
        "Bucket": "bizid-dev-audit-1",
        "Key": "reminders/a/b.json",
        "Body": body,
        "ContentType": "application/json",
        "ContentMD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "ChecksumSHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
        "IfNoneMatch": "*",
    }


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://bizid-dev-audit-1", "bizid-dev-audit-1", ""),
        ("s3://bizid-dev-audit-1/", "bizid-dev-audit-1", ""),
        ("s3://bizid-dev-audit-1/reminders", "bizid-dev-audit-1", "reminders/"),
        ("s3://b.c-d/x/y/", "b.c-d", "x/y/"),
    ],
)
def test_locations(uri: str, bucket: str, prefix: str) -> None:
    location = S3Location.parse(uri)
    assert (location.bucket, location.prefix) == (bucket, prefix)
    assert S3Location.parse(location.uri) == location


@pytest.mark.parametrize(
    "uri",
    [
        "bucket/prefix",
        "https://bucket/prefix",
        "s3://",
        "s3://Upper/x",
        "s3://ab/x",
        "s3://-bucket/x",
        "s3://a..b/x",
        "s3://bucket//x",
        "s3://bucket/../x",
        "s3://bucket/./x",
        "s3://bucket/a\nb",
    ],
)
def test_bad_locations_are_named(uri: str) -> None:
    with pytest.raises(S3LocationError) as caught:
        S3Location.parse(uri)
    assert repr(uri) in str(caught.value)


@pytest.mark.parametrize("name", ["", "/x", "a//b", "../x", "a/./b"])
def test_names_stay_under_the_prefix(name: str) -> None:
    with pytest.raises(S3StoreError):
        S3Location.parse("s3://bucket/p").key(name)


def test_put_if_absent_is_a_conditional_put_with_md5_and_sha256() -> None:
    """If-None-Match: * (one writer wins), Content-MD5 and x-amz-checksum-sha256 (S3 refuses a PutObject
    into an Object Lock bucket without one of them)."""
    store, stub = _stubbed()
    stub.add_response("put_object", {"ETag": '"e"'}, _put_params(b"{}"))
    stub.add_client_error(
        "put_object", "PreconditionFailed", http_status_code=412, expected_params=_put_params(b"{}")
    )
    with stub:
        assert store.put_if_absent("a/b.json", b"{}") is True
        assert store.put_if_absent("a/b.json", b"{}") is False
    stub.assert_no_pending_responses()


def test_a_conflicting_conditional_write_is_retried() -> None:
    store, stub = _stubbed()
    stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stub.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
    with stub:
        assert store.put_if_absent("a/b.json", b"{}") is False
    stub.assert_no_pending_responses()


def test_errors_name_the_location_and_the_code() -> None:
    store, stub = _stubbed()
    stub.add_client_error("put_object", "AccessDenied", http_status_code=403)
    stub.add_client_error("list_objects_v2", "NoSuchBucket", http_status_code=404)
    with stub:
        with pytest.raises(
            S3StoreError, match=r"s3://bizid-dev-audit-1/reminders/: put a/b.json: AccessDenied"
        ):
            store.put_if_absent("a/b.json", b"{}")
        with pytest.raises(
            S3StoreError, match=r"s3://bizid-dev-audit-1/reminders/: not usable: NoSuchBucket"
        ):
            store.check()
