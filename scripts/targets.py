"""`--target NAME`: a target file (realm/definitions/targets/NAME.yaml) turned into what the libraries take.

`local` is the platform of this checkout (scripts.settings: ports follow BIZID_PORT_OFFSET, the bootstrap
admin, secret files under .bizid/secrets). Every other target signs in as its service-account client, whose
secret is read from the target's secret source (AWS Secrets Manager by the name the stack exports, or an
environment variable), and keeps RP secrets where its file says (Secrets Manager for a deployed stack).
Everything is validated before the first request to Keycloak.
"""

from __future__ import annotations

import json
import os
import secrets as random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from realm import loader, secret_sources, targets
from realm.client_secrets import ClientSecrets, FileClientSecrets
from realm.loader import DefinitionError
from realm.models import SmtpServer
from realm.secret_sources import SecretsManagerClientSecrets
from realm.target import PasswordLogin, ServiceAccountLogin, Target
from realm.targets import (
    AwsSecret,
    EnvSecret,
    FileSecrets,
    OperatorTrail,
    SecretSource,
    TargetDefinition,
)
from scripts import settings

BOOTSTRAP_USERNAME_ENV = "BIZID_BOOTSTRAP_ADMIN_USERNAME"
BOOTSTRAP_PASSWORD_ENV = "BIZID_BOOTSTRAP_ADMIN_PASSWORD"
"""The bootstrap administrator of a deployed Keycloak, for `bizid realm bootstrap` only (never stored)."""


@dataclass(frozen=True)
class Resolved:
    """A target ready to use: where it is, how to sign in, where RP secrets go."""

    name: str
    file: Path
    definition: TargetDefinition
    target: Target
    secrets: ClientSecrets

    @property
    def local(self) -> bool:
        return self.definition.local


def describe(source: SecretSource) -> str:
    if isinstance(source, EnvSecret):
        return f"environment variable {source.env}"
    assert isinstance(source, AwsSecret)
    return f"AWS Secrets Manager secret {source.aws_secret} ({source.region})"


def _ca_cert(file: Path, definition: TargetDefinition) -> Path | None:
    if definition.ca_cert is None:
        return None
    path = definition.ca_cert if definition.ca_cert.is_absolute() else settings.REPO_ROOT / definition.ca_cert
    if not path.is_file():
        raise DefinitionError(f"{file}: ca_cert: no such file (value: {str(definition.ca_cert)!r})")
    return path


def load_definition(name: str, directory: Path) -> tuple[Path, TargetDefinition]:
    """The target file, validated against the definitions (which are validated first)."""
    defs = loader.load(directory)
    return targets.target_file(directory, name), targets.load(directory, name, defs)


def _deployed(file: Path, definition: TargetDefinition) -> tuple[str, str, Path | None]:
    """(Admin API base URL, OPA URL for the flows, CA bundle)."""
    assert definition.keycloak_url is not None and definition.opa_url is not None
    return (
        str(definition.admin_url or definition.keycloak_url).rstrip("/"),
        str(definition.opa_url).rstrip("/"),
        _ca_cert(file, definition),
    )


def resolve(
    name: str,
    directory: Path = loader.DEFINITIONS_DIR,
    cfg: settings.Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> Resolved:
    """The named target, with its login read (the service account's secret from its source)."""
    file, definition = load_definition(name, directory)
    redirect_uris = {cid: tuple(str(u) for u in rp.redirect_uris) for cid, rp in definition.rps.items()}
    if definition.local:
        cfg = cfg or settings.load()
        target = replace(cfg.target(), redirect_uris=redirect_uris)
        return Resolved(name, file, definition, target, cfg.client_secrets())
    keycloak_url, opa_url, ca_cert = _deployed(file, definition)
    account = definition.service_account
    assert account is not None and definition.client_secrets is not None
    secret = secret_sources.read(account.secret, environ)
    if secret is None:
        raise DefinitionError(
            f"{file}: service_account.secret: {describe(account.secret)} has no value: run "
            f'`bizid realm bootstrap --target {name}` once (docs/infra.md, "Day one")'
        )
    home = definition.client_secrets
    store: ClientSecrets = (
        FileClientSecrets(home.files) if isinstance(home, FileSecrets) else SecretsManagerClientSecrets(home)
    )
    target = Target(
        keycloak_url=keycloak_url,
        login=ServiceAccountLogin(account.client_id, secret),
        ca_cert=ca_cert,
        opa_url=opa_url,
        redirect_uris=redirect_uris,
        smtp_server=definition.smtp,
    )
    return Resolved(name, file, definition, target, store)


@dataclass(frozen=True)
class Operating:
    """A target as the lifecycle commands use it: the local platform (its bootstrap admin, Mailpit and trail
    file), or a deployed one reached as its operator account, mailing through its `smtp` and keeping the
    operator audit trail in its `operator_trail` (None: the target has none; changing commands refuse)."""

    name: str
    file: Path
    local: bool
    target: Target
    smtp_server: SmtpServer | None
    trail: OperatorTrail | None
    trail_missing: str | None = None
    """Why `trail` is None although the target file names one (its bucket is a stack output and no
    --stack-outputs file was given): the message a command that needs the trail stops with."""


def resolve_operator(
    name: str,
    directory: Path = loader.DEFINITIONS_DIR,
    cfg: settings.Settings | None = None,
    environ: Mapping[str, str] | None = None,
    stack_outputs: Path | None = None,
) -> Operating:
    """The named target for `bizid accounts|review|members|delegation|... --target`: validated, and for a
    deployed target its operator account's secret read; never the bootstrap admin nor the reconciler.
    `stack_outputs` (the JSON of `pulumi stack output --json`) gives a bucket named by its stack output."""
    file, definition = load_definition(name, directory)
    if definition.local:
        cfg = cfg or settings.load()
        target = cfg.target()
        return Operating(name, file, True, target, target.smtp_server, None)
    account = definition.operator_account
    if account is None:
        raise DefinitionError(
            f"{file}: operator_account: missing: the lifecycle commands sign in to a deployed target only as "
            "its operator account (operator_account: {client_id: bizid-operator, secret: ...}; "
            'docs/infra.md, "The operator account")'
        )
    keycloak_url, opa_url, ca_cert = _deployed(file, definition)
    trail, missing = _trail_home(file, definition.operator_trail, stack_outputs)  # files before AWS
    secret = secret_sources.read(account.secret, environ)
    if secret is None:
        raise DefinitionError(
            f"{file}: operator_account.secret: {describe(account.secret)} has no value: run "
            f'`bizid realm bootstrap --target {name}` once (docs/infra.md, "Day one")'
        )
    target = Target(
        keycloak_url=keycloak_url,
        login=ServiceAccountLogin(account.client_id, secret),
        ca_cert=ca_cert,
        opa_url=opa_url,
        smtp_server=definition.smtp,
    )
    return Operating(name, file, False, target, definition.smtp, trail, missing)


def read_stack_outputs(path: Path) -> dict[str, Any]:
    """The JSON object `pulumi stack output --json` prints; DefinitionError naming the file otherwise."""
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"--stack-outputs {path}: cannot read it ({exc.strerror})") from None
    except ValueError:
        raise DefinitionError(
            f"--stack-outputs {path}: not JSON (expected the output of `pulumi stack output --json`)"
        ) from None
    if not isinstance(outputs, dict):
        raise DefinitionError(f"--stack-outputs {path}: not a JSON object of stack outputs")
    return outputs


def _trail_home(
    file: Path, trail: OperatorTrail | None, stack_outputs: Path | None
) -> tuple[OperatorTrail | None, str | None]:
    """The trail with its bucket known, or (None, why not) when its stack output was not given."""
    if trail is None or trail.bucket_output is None:
        return trail, None
    if stack_outputs is None:
        return None, (
            f"{file}: operator_trail.bucket_output: {trail.bucket_output}: give the stack's outputs with "
            "--stack-outputs FILE (or BIZID_STACK_OUTPUTS=FILE), FILE written by `pulumi -C infra stack "
            "output --json --stack <env> > FILE` after `pulumi up`"
        )
    try:
        return trail.with_bucket(read_stack_outputs(stack_outputs), f"--stack-outputs {stack_outputs}"), None
    except ValueError as exc:
        raise DefinitionError(f"{file}: operator_trail.bucket_output: {exc}") from None


@dataclass(frozen=True)
class AccountSecret:
    """One service-account client the bootstrap makes: its id and secret, where the secret is kept."""

    client_id: str
    secret: str
    generated: bool
    source: SecretSource


@dataclass(frozen=True)
class Bootstrap:
    """What `bizid realm bootstrap` needs: the bootstrap admin's target, the client id and its secret, and
    the operator account's when the target file has one."""

    admin: Target
    client_id: str
    secret: str
    generated: bool
    source: SecretSource
    operator: AccountSecret | None = None


def _secret_for(source: SecretSource, environ: Mapping[str, str] | None) -> tuple[str, bool]:
    """The secret at `source`, or a new random one to write there (an unset variable: the operator sets
    it)."""
    secret = secret_sources.read(source, environ)
    if secret is not None:
        return secret, False
    if isinstance(source, EnvSecret):
        secret_sources.write(source, "")  # raises: the operator sets the variable
    return random.token_urlsafe(32), True


def bootstrap_inputs(
    name: str, directory: Path = loader.DEFINITIONS_DIR, environ: Mapping[str, str] | None = None
) -> Bootstrap:
    """The bootstrap admin from BIZID_BOOTSTRAP_ADMIN_USERNAME/PASSWORD, and the service account's secret from
    its source (generated when the source is an empty Secrets Manager secret; written only by the caller,
    after the client exists)."""
    env = os.environ if environ is None else environ
    file, definition = load_definition(name, directory)
    if definition.local:
        raise DefinitionError(
            f"{file}: the local target signs in as the local bootstrap admin: it has no service account to "
            "bootstrap (use --target with a deployed target's file)"
        )
    username, password = env.get(BOOTSTRAP_USERNAME_ENV, ""), env.get(BOOTSTRAP_PASSWORD_ENV, "")
    if not username or not password:
        raise DefinitionError(
            f"{BOOTSTRAP_USERNAME_ENV} and {BOOTSTRAP_PASSWORD_ENV} must name the bootstrap administrator "
            "Keycloak created at its first start (on AWS: the secret of stack output keycloakAdminSecretArn)"
        )
    keycloak_url, opa_url, ca_cert = _deployed(file, definition)
    account = definition.service_account
    assert account is not None
    secret, generated = _secret_for(account.secret, environ)
    operator = None
    if definition.operator_account is not None:
        source = definition.operator_account.secret
        value, made = _secret_for(source, environ)
        if value == secret:
            raise DefinitionError(
                f"{file}: operator_account.secret: {describe(source)} holds the reconciler's secret: the two "
                "clients need different secrets"
            )
        operator = AccountSecret(definition.operator_account.client_id, value, made, source)
    admin = Target(
        keycloak_url=keycloak_url,
        login=PasswordLogin(username, password),
        ca_cert=ca_cert,
        opa_url=opa_url,
    )
    return Bootstrap(admin, account.client_id, secret, generated, account.secret, operator)
