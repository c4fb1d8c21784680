"""A real S3 server for the tests: MinIO (installed by `make install`, scripts/install.py `ensure_minio`),
started on this clone's loopback S3 port (16900 + BIZID_PORT_OFFSET) with its data in a temporary folder,
stopped at the end of the session.

The fixtures are imported by tests/conftest.py: `s3_server` is the running server (endpoint, credentials,
`client()`, `environ()` for a `bizid` process), `s3_bucket` a new empty bucket per test;
`s3_server.bucket(locked=True)` makes one with Object Lock in compliance mode (like the audit archive), where
S3 and MinIO refuse a PutObject without Content-MD5 or an x-amz-checksum header.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts import settings

ACCESS_KEY = "bizid-test"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "ap-northeast-1"

    def client(self) -> Any:
        import boto3

        from realm.s3_store import s3_client

        session = boto3.Session(aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)
        return s3_client(self.region, self.endpoint, session)

    def environ(self) -> dict[str, str]:
        """What a `bizid` process needs to use this server through the usual AWS chain."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
        }

    def bucket(self, *, locked: bool = False) -> str:
        name = f"bizid-test-{uuid.uuid4().hex[:16]}"
        client = self.client()
        client.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": self.region},
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


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    cfg = settings.load()
    binary = cfg.paths.minio
    if not binary.is_file():
        pytest.fail(f"MinIO not found at {binary}: run `make install` (scripts/install.py ensure_minio)")
    port = cfg.ports.s3
    if not _free(port):
        pytest.fail(f"port {port} (S3, 16900 + BIZID_PORT_OFFSET) is taken: another clone's offset?")
    data: Path = tmp_path_factory.mktemp("minio")
    secret = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "MINIO_ROOT_USER": ACCESS_KEY,
        "MINIO_ROOT_PASSWORD": secret,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
        "MINIO_REGION": "ap-northeast-1",
        "MINIO_CI_CD": "1",
    }
    log = (data / "minio.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "server", str(data / "data"), "--address", f"127.0.0.1:{port}", "--quiet"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"MinIO exited ({process.returncode}): {(data / 'minio.log').read_text()[-2000:]}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{endpoint}/minio/health/ready", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"MinIO did not become ready on {endpoint}")
            time.sleep(0.2)
        yield S3Server(endpoint, ACCESS_KEY, secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.bucket()
