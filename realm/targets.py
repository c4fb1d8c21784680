"""Named targets: the per-environment overlay on the one set of definitions (`realm/definitions/targets/`).

One file per target (`local.yaml`, `dev.yaml`, `staging.yaml`, `prod.yaml`) says what differs between
environments and nothing else: the Keycloak URL, the OPA URL the flows call, where the Admin API login
comes from, where the RPs' client secrets live, and each RP's redirect URIs there. Tiers, scopes, flows and
policies stay in the shared definitions, so every environment runs the same realm.

`local` takes its URLs, CA, bootstrap admin and secret files from the local platform (`scripts.settings`,
which follows BIZID_PORT_OFFSET); its RPs keep their definitions' loopback redirect URIs with the port moved
by the offset. Every other target must name a service-account client (never the bootstrap admin), a
secret store that is not a file (unless the target is itself on loopback, as the stand-in in the tests is),
and the redirect URIs of every RP.

Validated like the rest of the definitions: errors name the file, the field and the value, before any
request is made.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyUrl, Field, field_validator, model_validator

from realm import loader
from realm.loader import DefinitionError
from realm.models import (
    CLIENT_ID,
    Definitions,
    RelyingParty,
    SmtpServer,
    Strict,
    _is_loopback,
    redirect_uri_error,
)
from realm.platform import LOCAL_RP_PORT

TARGETS_DIR = "targets"
LOCAL = "local"
SERVICE_ACCOUNT_CLIENT = "bizid-realm-admin"
"""The reconciler's confidential client in the master realm (`realm.service_account`)."""
OPERATOR_ACCOUNT_CLIENT = "bizid-operator"
"""The lifecycle commands' confidential client in the master realm (`realm.operator_account`)."""

AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
ENV_NAME = r"^[A-Z][A-Z0-9_]{1,100}$"
SECRET_NAME = r"^[A-Za-z0-9/_+=.@-]{1,512}$"


class EnvSecret(Strict):
    """A secret read from an environment variable of the process running `bizid`."""

    env: Annotated[str, Field(pattern=ENV_NAME)]


class AwsSecret(Strict):
    """A secret read from AWS Secrets Manager (the whole SecretString), by the name the stack exports."""

    aws_secret: Annotated[str, Field(pattern=SECRET_NAME)]
    region: Annotated[str, Field(pattern=AWS_REGION)]


SecretSource = EnvSecret | AwsSecret


class ServiceAccount(Strict):
    """The confidential client of the master realm the reconciler signs in as (client credentials)."""

    client_id: Annotated[str, Field(pattern=CLIENT_ID)] = SERVICE_ACCOUNT_CLIENT
    secret: SecretSource


class OperatorAccount(Strict):
    """The confidential client of the master realm the lifecycle commands sign in as (client credentials):
    user management of the bizid realm only, never realm or client changes (`realm.operator_account`)."""

    client_id: Annotated[str, Field(pattern=CLIENT_ID)] = OPERATOR_ACCOUNT_CLIENT
    secret: SecretSource

    @field_validator("client_id")
    @classmethod
    def _not_the_reconciler(cls, value: str) -> str:
        if value == SERVICE_ACCOUNT_CLIENT:
            raise ValueError(
                f"{value!r} is the reconciler's client: the operator account is a separate client "
                f"(default {OPERATOR_ACCOUNT_CLIENT!r})"
            )
        return value


S3_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
"""S3's bucket naming rules: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or
digit (the rest of the rules: `bucket_name_error`)."""


def bucket_name_error(name: str) -> str | None:
    """The S3 naming rules a pattern cannot say: no '..', not an IPv4 address, no reserved prefix/suffix."""
    if ".." in name:
        return "two adjacent periods"
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name):
        return "formatted as an IP address"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        return "a prefix S3 reserves"
    if name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        return "a suffix S3 reserves"
    return None


STACK_OUTPUT = r"^[A-Za-z][A-Za-z0-9_]{0,127}$"


class OperatorTrail(Strict):
    """Where the operator audit trail of a deployed target is kept: one object per entry under `prefix` in an
    S3 bucket with Object Lock (the stack's audit archive: stack output `<region label>AuditBucket`). The
    same bucket holds the archived Keycloak events and OPA decisions (`realm.archive_s3`).

    The bucket is named either as `bucket` or as `bucket_output`, the stack output that holds its name (the
    archive's name has a random suffix): read at run time from `--stack-outputs FILE`, the JSON of `pulumi
    stack output --json` (`with_bucket`), so no name is copied by hand into the target file."""

    bucket: Annotated[str, Field(pattern=S3_BUCKET)] | None = None
    bucket_output: Annotated[str, Field(pattern=STACK_OUTPUT)] | None = Field(
        None, description="the stack output naming the bucket (tokyoAuditBucket); value from --stack-outputs"
    )
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9!_.*'()/-]{0,199}/$")] = "operator-trail/"
    region: Annotated[str, Field(pattern=AWS_REGION)]
    endpoint_url: AnyUrl | None = Field(
        None,
        description="an S3-compatible endpoint on loopback (the tests' stand-in); None: AWS's own endpoint",
    )

    @field_validator("bucket")
    @classmethod
    def _bucket_rules(cls, name: str | None) -> str | None:
        error = bucket_name_error(name) if name is not None else None
        if error:
            raise ValueError(f"not an S3 bucket name: {error} (value: {name!r})")
        return name

    @model_validator(mode="after")
    def _one_bucket(self) -> OperatorTrail:
        if (self.bucket is None) == (self.bucket_output is None):
            raise ValueError(
                "name the bucket once: `bucket` (its name) or `bucket_output` (the stack output holding it, "
                "e.g. tokyoAuditBucket, read from --stack-outputs FILE)"
            )
        return self

    def with_bucket(self, outputs: dict[str, Any], source: str) -> OperatorTrail:
        """This trail with `bucket_output` replaced by its value in `outputs` (the stack outputs read from
        `source`); ValueError naming the source, the output and the value when it is missing or not a
        bucket name."""
        if self.bucket_output is None:
            return self
        value = outputs.get(self.bucket_output)
        if not isinstance(value, str):
            raise ValueError(
                f"{source}: no stack output {self.bucket_output!r} with a bucket name (value: {value!r}; "
                f"outputs: {', '.join(sorted(outputs)) or 'none'})"
            )
        try:
            return OperatorTrail(
                bucket=value, prefix=self.prefix, region=self.region, endpoint_url=self.endpoint_url
            )
        except ValueError:
            raise ValueError(
                f"{source}: stack output {self.bucket_output}: not an S3 bucket name (value: {value!r})"
            ) from None

    @field_validator("endpoint_url")
    @classmethod
    def _loopback_only(cls, url: AnyUrl | None) -> AnyUrl | None:
        if url is not None and not _is_loopback((url.host or "").lower()):
            raise ValueError(
                f"only an S3-compatible server on loopback may replace AWS's endpoint (value: {str(url)!r})"
            )
        return url


class FileSecrets(Strict):
    """RP client secrets as files (mode 0600) under a folder: only for a target on loopback."""

    files: Path


class AwsSecrets(Strict):
    """RP client secrets in AWS Secrets Manager, one secret per client: `<aws_prefix><client id>`."""

    aws_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,400}/$")]
    region: Annotated[str, Field(pattern=AWS_REGION)]
    kms_key: str | None = Field(None, description="key for new secrets (the stack's key); None: AWS's")
    replicas: dict[Annotated[str, Field(pattern=AWS_REGION)], str | None] = Field(
        default_factory=dict,
        description="region -> key of the replica there (the standby region and the stack key's replica)",
    )


ClientSecretsHome = FileSecrets | AwsSecrets


class RpOverlay(Strict):
    """What one RP has per environment: its redirect URIs there."""

    redirect_uris: tuple[AnyUrl, ...] = Field(min_length=1)

    @field_validator("redirect_uris")
    @classmethod
    def _safe(cls, uris: tuple[AnyUrl, ...]) -> tuple[AnyUrl, ...]:
        for uri in uris:
            error = redirect_uri_error(uri)
            if error:
                raise ValueError(error)
        return uris


class TargetDefinition(Strict):
    """One target file. `local: true` takes everything but RP overlays from the local platform."""

    local: bool = False
    keycloak_url: AnyUrl | None = Field(
        None, description="the public URL: the issuer's base, stack output url"
    )
    admin_url: AnyUrl | None = Field(
        None,
        description="where bizid reaches the Admin API and master's token endpoint, when not at keycloak_url "
        "(a deployed stack blocks /admin and /realms/master at its WAF and ALB: the private admin path)",
    )
    ca_cert: Path | None = Field(None, description="CA bundle for Keycloak's TLS; None: the system's")
    opa_url: AnyUrl | None = Field(None, description="the OPA Keycloak's flows call (not this machine)")
    service_account: ServiceAccount | None = None
    operator_account: OperatorAccount | None = Field(
        None, description="the lifecycle commands' login (`bizid accounts ... --target`); None: none run here"
    )
    operator_trail: OperatorTrail | None = Field(
        None, description="the S3 home of the operator audit trail; None: no changing lifecycle command"
    )
    client_secrets: ClientSecretsHome | None = None
    smtp: SmtpServer | None = Field(
        None, description="the mail server of this environment (realm.yaml's is the local Mailpit)"
    )
    rps: dict[str, RpOverlay] = Field(default_factory=dict)

    @property
    def on_loopback(self) -> bool:
        return self.keycloak_url is not None and _is_loopback((self.keycloak_url.host or "").lower())

    @model_validator(mode="after")
    def _complete(self) -> TargetDefinition:
        given = [
            k
            for k in (
                "keycloak_url",
                "admin_url",
                "ca_cert",
                "opa_url",
                "service_account",
                "operator_account",
                "operator_trail",
                "client_secrets",
                "smtp",
            )
            if getattr(self, k) is not None
        ]
        if self.local:
            if given:
                raise ValueError(
                    f"{given[0]}: the local target takes it from the local platform (scripts/settings.py); "
                    "leave it out"
                )
            return self
        missing = [
            k
            for k in ("keycloak_url", "opa_url", "service_account", "client_secrets", "smtp")
            if getattr(self, k) is None
        ]
        if missing:
            raise ValueError(f"{missing[0]}: required for a deployed target (missing: {', '.join(missing)})")
        assert self.keycloak_url is not None
        for name in ("keycloak_url", "admin_url"):
            url = getattr(self, name)
            if url is not None and url.scheme != "https":
                raise ValueError(f"{name}: must be https (value: {str(url)!r})")
        operator, reconciler = self.operator_account, self.service_account
        if operator is not None and reconciler is not None and operator.secret == reconciler.secret:
            raise ValueError(
                "operator_account.secret: the same secret as service_account.secret: the operator "
                "account and the reconciler are separate clients with separate secrets"
            )
        trail = self.operator_trail
        if trail is not None and trail.endpoint_url is not None and not self.on_loopback:
            raise ValueError(
                "operator_trail.endpoint_url: a deployed target's trail is in AWS S3; an endpoint is "
                f"only for a target on loopback (value: {str(trail.endpoint_url)!r})"
            )
        if isinstance(self.client_secrets, FileSecrets) and not self.on_loopback:
            raise ValueError(
                "client_secrets.files: an RP's client secret for a deployed target lives in AWS Secrets "
                "Manager (client_secrets: {aws_prefix: ..., region: ...}), not in a file"
            )
        return self


def target_file(directory: Path, name: str) -> Path:
    return directory / TARGETS_DIR / f"{name}.yaml"


def names(directory: Path = loader.DEFINITIONS_DIR) -> list[str]:
    folder = directory / TARGETS_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load(directory: Path, name: str, defs: Definitions) -> TargetDefinition:
    """The target file `targets/<name>.yaml`, validated, and checked against the definitions: every RP it
    names exists; a deployed target names every RP, with no loopback redirect URI unless it is itself on
    loopback. Raises DefinitionError naming the file, the field and the value."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name):
        raise DefinitionError(f"--target: not a target name (value: {name!r})")
    path = target_file(directory, name)
    if not path.is_file():
        known = ", ".join(names(directory)) or "none"
        raise DefinitionError(f"{path}: no target {name!r} (targets defined: {known})")
    target = loader.load_file(path, TargetDefinition)
    known_rps = {rp.client_id for rp in defs.rps}
    for client_id in target.rps:
        if client_id not in known_rps:
            raise DefinitionError(
                f"{path}: rps.{client_id}: no such RP in {directory / 'rps'} (value: {client_id!r})"
            )
    if target.local:
        return target
    for rp in defs.rps:
        if rp.client_id not in target.rps:
            raise DefinitionError(
                f"{path}: rps.{rp.client_id}.redirect_uris: missing: a deployed target names the redirect "
                "URIs of every RP (the definitions' loopback URIs are for the local platform only)"
            )
        for uri in target.rps[rp.client_id].redirect_uris:
            if not target.on_loopback and _is_loopback((uri.host or "").lower()):
                raise DefinitionError(
                    f"{path}: rps.{rp.client_id}.redirect_uris: loopback redirect URI on a deployed target "
                    f"(value: {str(uri)!r})"
                )
    return target


def _moved(uri: AnyUrl, rp_port: int) -> str:
    """A loopback URI on LOCAL_RP_PORT moved to `rp_port`; any other URI unchanged."""
    text = str(uri)
    if uri.port != LOCAL_RP_PORT or not _is_loopback((uri.host or "").lower()):
        return text
    return text.replace(f":{LOCAL_RP_PORT}", f":{rp_port}", 1)


def overlay(defs: Definitions, redirect_uris: dict[str, tuple[str, ...]], rp_port: int | None) -> Definitions:
    """The definitions as one target runs them: each RP's redirect URIs replaced by the target's (or, on
    the local platform, its loopback URIs moved to the platform's RP port). Re-validated."""
    rps: list[RelyingParty] = []
    for rp in defs.rps:
        if rp.client_id in redirect_uris:
            uris: list[Any] = list(redirect_uris[rp.client_id])
        elif rp_port is not None:
            uris = [_moved(u, rp_port) for u in rp.redirect_uris]
        else:
            uris = [str(u) for u in rp.redirect_uris]
        data = rp.model_dump(mode="json")
        data["redirect_uris"] = uris
        rps.append(RelyingParty.model_validate(data))
    return defs.model_copy(update={"rps": tuple(rps)})
