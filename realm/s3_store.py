"""Append-once objects in S3: a record is written once under its name and never replaced or deleted.

Why: an ECS task has no durable disk, and two runs of a job may overlap; a ledger (the reminders sent) or an
audit trail (the operators' actions) kept as one S3 object per record is durable, and a conditional PUT
(`If-None-Match: *`, S3's conditional writes) lets exactly one writer create a name: the other gets HTTP 412
and learns that the record is already there. Nothing here overwrites or deletes, so the same code works in a
bucket with Object Lock in compliance mode (the audit archive), where S3 refuses a PutObject without
Content-MD5 or an x-amz-checksum header: every PUT carries both (Content-MD5 and x-amz-checksum-sha256,
computed here, so no SDK default decides it).

    location = S3Location.parse("s3://bucket/some/prefix/")   # S3LocationError names a bad value
    store = AppendOnceStore(location)                            # boto3 client from the AWS chain
    store.put_if_absent("a/b.json", b"{...}")  -> True (written) | False (already there)
    store.get("a/b.json")                      -> bytes | None
    store.list("a/")                           -> [StoredObject(name, size, last_modified, etag)]
    store.check()                              -> None, or S3StoreError (bucket missing, no access, ...)

Names are relative to the location's prefix. Errors are `S3StoreError` (a ValueError: the CLI prints it as
a clear error) naming the s3:// URI and S3's error code, never a traceback. Credentials come from the usual
AWS chain (task role, profile, SSO); `endpoint_url` points the client at another S3 implementation
(tests: a local MinIO).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

# S3 general purpose bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, starting and
# ending with a letter or digit (S3 User Guide, "General purpose bucket naming rules").
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MAX_KEY_BYTES = 1024
# A conditional write racing another write to the same name can get 409 ConditionalRequestConflict; S3 says
# to retry it (the retry then sees the winner's object: 412).
_CONFLICT_RETRIES = 3


class S3StoreError(ValueError):
    """An S3 location is malformed, or S3 refused or could not be reached; the message names the URI."""


class S3LocationError(S3StoreError):
    """A value given as s3://bucket/prefix is not one; the message names the value."""


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix ("" or ending in "/")."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """`s3://bucket[/prefix[/]]`: the prefix gets a trailing "/" so names never run into it."""
        if not uri.startswith("s3://"):
            raise S3LocationError(f"{uri!r}: not an s3://bucket/prefix URI")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise S3LocationError(f"{uri!r}: {bucket!r} is not an S3 bucket name (3-63 of a-z 0-9 . -)")
        if prefix.startswith("/") or "//" in prefix or any(p in (".", "..") for p in prefix.split("/")):
            raise S3LocationError(f"{uri!r}: the prefix {prefix!r} has an empty, '.' or '..' segment")
        if any(ord(c) < 0x20 or c == "\x7f" for c in prefix):
            raise S3LocationError(f"{uri!r}: the prefix has control characters")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if len(prefix.encode()) > _MAX_KEY_BYTES // 2:
            raise S3LocationError(f"{uri!r}: the prefix is longer than {_MAX_KEY_BYTES // 2} bytes")
        return cls(bucket, prefix)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        """The object key of `name` under the prefix; a name must not climb out of it."""
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
            raise S3StoreError(f"{self.uri}: {name!r} is not an object name under it")
        key = self.prefix + name
        if len(key.encode()) > _MAX_KEY_BYTES:
            raise S3StoreError(f"{self.uri}: {name!r} makes a key longer than {_MAX_KEY_BYTES} bytes")
        return key


@dataclass(frozen=True)
class StoredObject:
    name: str
    """Relative to the location's prefix."""
    size: int
    last_modified: dt.datetime
    etag: str


def s3_client(region: str | None = None, endpoint_url: str | None = None, session: Any = None) -> Any:
    """A boto3 S3 client: signature v4, standard retries, path-style addressing for a custom endpoint;
    credentials from `session` (a boto3.Session) or the default AWS chain."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=30,
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    return (session or boto3).client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _hint(code: str) -> str:
    if code in ("NoCredentialsError", "ExpiredToken", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return " (no valid AWS credentials: the task role, AWS_PROFILE or `aws sso login`)"
    if code in ("AccessDenied", "403"):
        return " (the role may not use this bucket and prefix, or its KMS key)"
    if code in ("NoSuchBucket", "404"):
        return " (no such bucket)"
    if code in ("InvalidRequest", "MissingContentMD5"):
        return " (S3 refused the request's form)"
    return ""


class AppendOnceStore:
    """Objects under one S3 location, each written at most once (see the module docstring)."""

    def __init__(
        self,
        location: S3Location,
        client: Any = None,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.location = location
        self._client = client if client is not None else s3_client(region, endpoint_url)

    def _error(self, what: str, exc: Exception) -> S3StoreError:
        code = _code(exc)
        return S3StoreError(f"{self.location.uri}: {what}: {code}{_hint(code)}")

    def put_if_absent(self, name: str, body: bytes, content_type: str = "application/json") -> bool:
        """Create `name` with `body` unless an object of that name exists: True when this call wrote it,
        False when it was already there (whoever wrote it; its content is left as it is)."""
        key = self.location.key(name)
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                self._client.put_object(
                    Bucket=self.location.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ContentMD5=md5,
                    ChecksumSHA256=sha256,
                    IfNoneMatch="*",
                )
                return True
            except Exception as exc:
                code, status = _code(exc), _status(exc)
                if status == 412 or code == "PreconditionFailed":
                    return False
                if (status == 409 or code == "ConditionalRequestConflict") and attempt < _CONFLICT_RETRIES:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise self._error(f"put {name}", exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, name: str) -> bytes | None:
        """The object's content; None when there is none of that name."""
        key = self.location.key(name)
        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=key)
            return bytes(response["Body"].read())
        except Exception as exc:
            code = _code(exc)
            if code == "NoSuchKey" or (_status(exc) == 404 and code != "NoSuchBucket"):
                return None
            raise self._error(f"get {name}", exc) from None

    def list(self, under: str = "") -> list[StoredObject]:
        """Every object whose name starts with `under` (relative to the prefix), sorted by name."""
        prefix = self.location.prefix + under
        found: list[StoredObject] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found.append(
                        StoredObject(
                            name=str(item["Key"])[len(self.location.prefix) :],
                            size=int(item.get("Size", 0)),
                            last_modified=item["LastModified"],
                            etag=str(item.get("ETag", "")).strip('"'),
                        )
                    )
        except Exception as exc:
            raise self._error(f"list {under or '(all)'}", exc) from None
        return sorted(found, key=lambda o: o.name)

    def check(self) -> None:
        """The location can be listed (bucket there, credentials valid, access granted): before any side
        effect, so a wrong location stops a job before it does anything."""
        try:
            self._client.list_objects_v2(Bucket=self.location.bucket, Prefix=self.location.prefix, MaxKeys=1)
        except Exception as exc:
            raise self._error("not usable", exc) from None
