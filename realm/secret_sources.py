"""Secrets a deployed target needs, read where the target file says: an environment variable or AWS Secrets
Manager (by the name the stack exports). Nothing here writes a secret to disk.

- `read` / `write`: one secret (the service-account client's), by its `SecretSource`.
- `SecretsManagerClientSecrets`: the RPs' client secrets, one Secrets Manager secret per client
  (`<prefix><client id>`), behind the `realm.client_secrets.ClientSecrets` protocol `realm apply` uses.

boto3 is imported only when an AWS source is used; its credentials come from the usual AWS chain (profile,
SSO, instance role), never from bizid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from realm.targets import AwsSecret, AwsSecrets, EnvSecret, SecretSource


class SecretSourceError(ValueError):
    """A secret could not be read or written; the message names the variable or secret."""


def aws_client(region: str) -> Any:
    try:
        import boto3
    except ImportError:  # pragma: no cover - boto3 is a dependency; kept for a clear message
        raise SecretSourceError("AWS Secrets Manager needs boto3 (pip install boto3)") from None
    return boto3.client("secretsmanager", region_name=region)


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ResourceNotFoundException")


def _aws_error(what: str, exc: Exception) -> SecretSourceError:
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", type(exc).__name__)
    hint = ""
    if code in ("NoCredentialsError", "ExpiredTokenException", "UnrecognizedClientException"):
        hint = " (no valid AWS credentials: set AWS_PROFILE, or `aws sso login`)"
    elif code == "AccessDeniedException":
        hint = " (your AWS role may not read or write this secret, or use its KMS key)"
    return SecretSourceError(f"AWS Secrets Manager: {what}: {code}{hint}")


def read(source: SecretSource, environ: Mapping[str, str] | None = None, client: Any = None) -> str | None:
    """The secret's value; None when the variable is unset or the secret has no value yet."""
    if isinstance(source, EnvSecret):
        value = (os.environ if environ is None else environ).get(source.env, "").strip()
        return value or None
    client = client or aws_client(source.region)
    try:
        value = client.get_secret_value(SecretId=source.aws_secret).get("SecretString")
    except Exception as exc:
        if _not_found(exc) or _no_value(exc):
            return None
        raise _aws_error(f"get {source.aws_secret} in {source.region}", exc) from None
    return str(value).strip() or None


def _no_value(exc: Exception) -> bool:
    """A secret the stack created without a value yet (the bootstrap writes it): InvalidRequest at get."""
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "InvalidRequestException")


def write(source: SecretSource, value: str, client: Any = None) -> None:
    """Keep `value` as the secret (a new version of the stack's secret). An environment variable cannot be
    written from here: the caller sets it."""
    if isinstance(source, EnvSecret):
        raise SecretSourceError(
            f"{source.env} is not set: export it with a new random secret (e.g. "
            f"`export {source.env}=$(openssl rand -base64 32)`) and run the bootstrap again"
        )
    assert isinstance(source, AwsSecret)
    client = client or aws_client(source.region)
    try:
        client.put_secret_value(SecretId=source.aws_secret, SecretString=value)
    except Exception as exc:
        raise _aws_error(f"put {source.aws_secret} in {source.region}", exc) from None


@dataclass
class SecretsManagerClientSecrets:
    """RP client secrets in Secrets Manager: `get` reads `<prefix><client id>`, `put` writes a new version or
    creates it (with the stack's key, replicated to the standby region)."""

    home: AwsSecrets
    client: Any = field(default=None, repr=False)

    def _c(self) -> Any:
        if self.client is None:
            self.client = aws_client(self.home.region)
        return self.client

    def name(self, client_id: str) -> str:
        return f"{self.home.aws_prefix}{client_id}"

    def get(self, client_id: str) -> str | None:
        return read(AwsSecret(aws_secret=self.name(client_id), region=self.home.region), client=self._c())

    def put(self, client_id: str, value: str) -> None:
        name = self.name(client_id)
        try:
            self._c().put_secret_value(SecretId=name, SecretString=value)
            return
        except Exception as exc:
            if not _not_found(exc):
                raise _aws_error(f"put {name} in {self.home.region}", exc) from None
        request: dict[str, Any] = {
            "Name": name,
            "Description": f"bizid: client secret of the RP {client_id} (written by `bizid realm apply`)",
            "SecretString": value,
        }
        if self.home.kms_key:
            request["KmsKeyId"] = self.home.kms_key
        if self.home.replicas:
            request["AddReplicaRegions"] = [
                {"Region": region, **({"KmsKeyId": key} if key else {})}
                for region, key in sorted(self.home.replicas.items())
            ]
        try:
            self._c().create_secret(**request)
        except Exception as exc:
            raise _aws_error(f"create {name} in {self.home.region}", exc) from None
