"""An S3-compatible server on loopback for the tests of the S3 operator trail: moto's server mode.

It is an emulator, not S3: AWS cannot run here. It answers the calls the trail makes (ListObjectsV2,
GetObject, PutObject with `If-None-Match: *` -> 412 for a taken key) over real HTTP through boto3, and keeps
buckets with Object Lock in compliance mode (a locked version cannot be deleted; a PutObject without
Content-MD5 or a checksum header is refused, as S3 does). What it cannot show, AWS itself decides: IAM
policies and KMS (the policies are checked under Pulumi mocks). Port: 17500 + BIZID_PORT_OFFSET.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "ap-northeast-1"
BASE_PORT = 17500


@dataclass(frozen=True)
class S3Emulator:
    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def bucket(self, locked: bool = True) -> str:
        """A new bucket; `locked`: Object Lock with a default COMPLIANCE retention, like the audit archive."""
        name = f"bizid-test-audit-{secrets.token_hex(4)}"
        client = self.client()
        client.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=locked,
        )
        if locked:
            client.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
                },
            )
        return name


@pytest.fixture(scope="session")
def s3_emulator() -> Iterator[S3Emulator]:
    from moto.server import ThreadedMotoServer

    port = BASE_PORT + int(os.environ.get("BIZID_PORT_OFFSET", "0"))
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Emulator(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
