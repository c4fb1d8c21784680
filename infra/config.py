"""Typed stack configuration: every value a stack needs, validated before any resource is declared.

The `Pulumi.<stack>.yaml` files hold plain (non-secret) values under the `bizid:` namespace; this module is
their schema. A missing, misspelt or wrong value raises `ConfigError` naming the key as it is written in the
stack file (e.g. `bizid:primary.vpcCidr`), so `pulumi up` stops before it touches AWS. Secrets never pass
through these models: they come from Pulumi secret config as `pulumi.Output`s (see `StackSecrets`)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from realm.site import writable_path

PROJECT = "bizid"
INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parent
STACKS = ("dev", "staging", "prod")

# The two regions of the design; a third would need its own review (data residency, latency, cost).
Region = Literal["ap-northeast-1", "ap-northeast-3"]
REGION_LABELS: dict[str, str] = {"ap-northeast-1": "tokyo", "ap-northeast-3": "osaka"}

# Names of the secret config keys (`pulumi config set --secret bizid:<key> ...`); read by __main__.py.
SECRET_KEYS = ("dbMasterPassword", "keycloakDbPassword", "keycloakAdminPassword", "opaToken")


class ConfigError(ValueError):
    """A stack configuration value is missing or wrong; the message names the key."""


class _Model(BaseModel):
    """camelCase keys as in the YAML files, no unknown keys (a typo must fail, not be ignored)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


class ServiceSize(_Model):
    """Number of Keycloak tasks in one region; autoscaling moves between min and max."""

    desired_count: Annotated[int, Field(ge=0)]
    min_count: Annotated[int, Field(ge=0)]
    max_count: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> ServiceSize:
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError("needs minCount <= desiredCount <= maxCount")
        return self


class RegionConfig(_Model):
    """One region's network and sizes."""

    region: Region
    vpc_cidr: ipaddress.IPv4Network
    availability_zones: Annotated[list[str], Field(min_length=2, max_length=3)]
    nat_gateways: Literal["single", "per-az"]
    database_instances: Annotated[int, Field(ge=1, le=4)]
    keycloak: ServiceSize
    operator_prefix_list: Annotated[str, Field(pattern=r"^pl-[0-9a-f]{8,17}$")] | None = None
    """A managed prefix list (this region's, `pl-…`) of the organisation's operator network that reaches the
    VPC (VPN or Direct Connect, which the stack does not own): admitted to the internal admin path on 443, so
    operators' `--target` commands reach the Admin API. None: only the jobs reach it."""

    @model_validator(mode="after")
    def _zones_in_region(self) -> RegionConfig:
        wrong = [az for az in self.availability_zones if not az.startswith(self.region)]
        if wrong:
            raise ValueError(f"availabilityZones {wrong} are not in {self.region}")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availabilityZones must be distinct")
        if self.vpc_cidr.prefixlen > 20:
            raise ValueError("vpcCidr must be /20 or larger (three subnet tiers per zone)")
        return self

    @property
    def label(self) -> str:
        return REGION_LABELS[self.region]


class DnsConfig(_Model):
    """The public name of the platform and the Route 53 zone it lives in."""

    zone_name: Annotated[str, Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")]
    hostname: Annotated[str, Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")]
    health_check_path: Annotated[str, Field(pattern=r"^/")]

    @model_validator(mode="after")
    def _in_zone(self) -> DnsConfig:
        if not self.hostname.endswith("." + self.zone_name):
            raise ValueError(f"hostname {self.hostname} is not inside zone {self.zone_name}")
        return self


class DatabaseConfig(_Model):
    """Aurora PostgreSQL global database settings shared by both regions."""

    engine_version: Annotated[str, Field(pattern=r"^1[4-7]\.\d+$")]
    instance_class: Annotated[str, Field(pattern=r"^db\.r[5-8]g?\.(large|[0-9]*xlarge)$")]
    master_username: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,15}$")]
    keycloak_username: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,15}$")]
    """Keycloak's own database user (not the master user): created once by the grant step (docs/infra.md)."""
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,62}$")]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    deletion_protection: bool

    @model_validator(mode="after")
    def _own_user(self) -> DatabaseConfig:
        if self.keycloak_username == self.master_username:
            raise ValueError("keycloakUsername must differ from masterUsername (Keycloak has its own user)")
        return self

    @property
    def parameter_group_family(self) -> str:
        return f"aurora-postgresql{self.engine_version.split('.')[0]}"


class ImageSource(_Model):
    """A container image: a pinned reference taken as is, or a Dockerfile in the repo built at deploy time."""

    uri: str | None = None
    dockerfile: str | None = None
    context: str = "."

    @model_validator(mode="after")
    def _one_source(self) -> ImageSource:
        if (self.uri is None) == (self.dockerfile is None):
            raise ValueError("set exactly one of uri or dockerfile")
        if self.dockerfile is not None and not (REPO_ROOT / self.dockerfile).is_file():
            raise ValueError(f"dockerfile {self.dockerfile} does not exist in the repository")
        if self.dockerfile is not None and not (REPO_ROOT / self.context).is_dir():
            raise ValueError(f"context {self.context} is not a folder of the repository")
        return self


class KeycloakConfig(_Model):
    """The Keycloak service (with the project's extension) and its OPA sidecar."""

    image: ImageSource
    opa_image: ImageSource
    realm: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    cpu: Literal[512, 1024, 2048, 4096]
    memory: Annotated[int, Field(ge=1024, le=30720)]
    cpu_target_percent: Annotated[int, Field(ge=20, le=90)]


class EdgeConfig(_Model):
    """WAF rate limits, requests per client IP per 5 minutes (WAF's minimum is 10)."""

    login_rate_limit: Annotated[int, Field(ge=10)]
    token_rate_limit: Annotated[int, Field(ge=10)]
    ip_rate_limit: Annotated[int, Field(ge=10)]


class AuditConfig(_Model):
    """Audit archive retention. Object Lock runs in compliance mode: nobody, root included, can shorten it."""

    object_lock_days: Annotated[int, Field(ge=1, le=36500)]
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653]


class AlarmConfig(_Model):
    """Alarm thresholds and who is told."""

    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    http_5xx_per_minute: Annotated[int, Field(ge=1, alias="http5xxPerMinute")]
    failed_logins_per_5_minutes: Annotated[int, Field(ge=1)]
    replication_lag_ms: Annotated[int, Field(ge=100)]


class RemindersConfig(_Model):
    """The daily reminders job: `bizid notify reminders` as a scheduled ECS task in the primary region."""

    image: ImageSource = ImageSource(dockerfile="infra/images/ops/Dockerfile")
    """The `ops` image (Python and the repository's bizid CLI)."""
    schedule: Annotated[str, Field(pattern=r"^cron\([0-9*?,/ LW#A-Z-]+\)$")] = "cron(0 9 * * ? *)"
    """An EventBridge Scheduler cron expression, in `timezone`."""
    timezone: Literal["Asia/Tokyo"] = "Asia/Tokyo"
    days: Annotated[int, Field(ge=0, le=366)] = 30
    """Passed as `--days`: deadlines within this many days are reminded (realm.reminders.MAX_DAYS)."""
    cpu: Literal[256, 512, 1024] = 256
    memory: Literal[512, 1024, 2048] = 512


class StackConfig(_Model):
    """The whole stack: one region (dev) or Tokyo serving with Osaka on standby (staging, prod)."""

    environment: Literal["dev", "staging", "prod"]
    primary: RegionConfig
    standby: RegionConfig | None = None
    dns: DnsConfig
    database: DatabaseConfig
    keycloak: KeycloakConfig
    edge: EdgeConfig
    audit: AuditConfig
    alarms: AlarmConfig
    reminders: RemindersConfig = RemindersConfig()

    @model_validator(mode="after")
    def _topology(self) -> StackConfig:
        if self.dns.health_check_path != writable_path(self.keycloak.realm):
            raise ValueError(
                f"dns.healthCheckPath must be {writable_path(self.keycloak.realm)}: the site writability "
                "signal (realm/site.py), so DNS never sends users to a site whose database is read-only"
            )
        if self.primary.region != "ap-northeast-1":
            raise ValueError("primary.region must be ap-northeast-1 (Tokyo serves)")
        if self.environment in ("staging", "prod") and self.standby is None:
            raise ValueError(f"standby is required for {self.environment} (two regions)")
        if self.environment == "dev" and self.standby is not None:
            raise ValueError("standby must be absent for dev (one region)")
        if self.standby is not None:
            if self.standby.region == self.primary.region:
                raise ValueError("standby.region must differ from primary.region")
            if self.standby.vpc_cidr.overlaps(self.primary.vpc_cidr):
                raise ValueError("standby.vpcCidr overlaps primary.vpcCidr")
            if self.standby.keycloak.max_count < self.primary.keycloak.desired_count:
                raise ValueError("standby.keycloak.maxCount must be able to carry the primary's desiredCount")
        if self.environment == "prod":
            if not self.database.deletion_protection:
                raise ValueError("database.deletionProtection must be true for prod")
            for key, source in (
                ("keycloak.image", self.keycloak.image),
                ("keycloak.opaImage", self.keycloak.opa_image),
                ("reminders.image", self.reminders.image),
            ):
                if source.uri is not None and "@sha256:" not in source.uri:
                    raise ValueError(f"{key}.uri must be pinned by digest (@sha256:...) for prod")
        return self

    @property
    def regions(self) -> list[RegionConfig]:
        """Primary first."""
        return [self.primary] if self.standby is None else [self.primary, self.standby]

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


@dataclass(frozen=True)
class StackSecrets:
    """Values that only ever travel as Pulumi secrets (encrypted in state, masked in output)."""

    db_master_password: pulumi.Output[str]
    keycloak_db_password: pulumi.Output[str]
    """Of `database.keycloakUsername`: the only database password the Keycloak task gets."""
    keycloak_admin_password: pulumi.Output[str]
    opa_token: pulumi.Output[str]
    """Bearer token Keycloak presents to its OPA sidecar (OPA runs with token authentication)."""


def _key(loc: tuple[int | str, ...]) -> str:
    """`('primary', 'vpcCidr')` -> `bizid:primary.vpcCidr`; list indexes as `[0]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return f"{PROJECT}:{text}"


def parse_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate the `bizid:` keys (prefix stripped), or raise ConfigError naming every bad key."""
    try:
        return StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            # A whole-stack rule has no location; its message starts with the key it is about.
            problems.append(f"{_key(loc)}: {message}" if loc else f"{PROJECT}:{message}")
        raise ConfigError("invalid stack configuration:\n  " + "\n  ".join(problems)) from None


def config_keys() -> list[str]:
    """The non-secret keys a stack file may set under `bizid:`."""
    return [field.alias or name for name, field in StackConfig.model_fields.items()]


def read_stack_file(stack: str) -> dict[str, Any]:
    """The `bizid:` values of `infra/Pulumi.<stack>.yaml`, prefix stripped (other namespaces ignored)."""
    path = INFRA_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigError(f"no stack file {path.name} (stacks: {', '.join(STACKS)})")
    document = yaml.safe_load(path.read_text()) or {}
    values = document.get("config", {}) or {}
    raw: dict[str, Any] = {}
    for key, value in values.items():
        namespace, _, name = str(key).partition(":")
        if namespace != PROJECT:
            continue
        if name in SECRET_KEYS or (isinstance(value, dict) and "secure" in value):
            continue  # secrets are read through pulumi.Config, never validated as plain values
        raw[name] = value
    return raw


def load_stack_config(stack: str) -> StackConfig:
    return parse_config(read_stack_file(stack))


def read_pulumi_config(cfg: pulumi.Config) -> dict[str, Any]:
    """The plain `bizid:` keys from the engine; structured values arrive as JSON text, scalars as text."""
    raw: dict[str, Any] = {}
    for key in config_keys():
        text = cfg.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text)
        except ValueError:
            raw[key] = text
    return raw


def read_pulumi_secrets(cfg: pulumi.Config) -> StackSecrets:
    """Secrets set with `pulumi config set --secret bizid:<key>`; a missing one stops the program."""
    return StackSecrets(
        db_master_password=cfg.require_secret("dbMasterPassword"),
        keycloak_db_password=cfg.require_secret("keycloakDbPassword"),
        keycloak_admin_password=cfg.require_secret("keycloakAdminPassword"),
        opa_token=cfg.require_secret("opaToken"),
    )
