"""`--target NAME` for every lifecycle command: one helper, so each command reaches a platform the same way.

`local` (the default) is this checkout's platform: the bootstrap admin, the local Mailpit and the trail file
`.bizid/audit/operator.jsonl`. Any other target (realm/definitions/targets/NAME.yaml) is reached only as its
operator account (`operator_account:`, realm/operator_account.py) — never the bootstrap admin, never the
reconciler — mails through the target's `smtp` (SES, its login from Secrets Manager) and keeps the operator
audit trail in S3 (`operator_trail:`, realm/operator_audit_s3.py). The target file is validated and the
operator account's secret read before the first request; a bad target exits 2 having done nothing.

Usage in a command module:

    operating.register(parser, _suspend_cmd)      # adds --target/--definitions, wraps the command
    def _suspend_cmd(args, ctx): ctx.admin(), ctx.trail(), ctx.notifier(), ctx.definitions()
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realm import admin, loader, smtp
from realm.archive_s3 import S3AuditArchive
from realm.loader import DEFINITIONS_DIR, DefinitionError
from realm.models import Definitions
from realm.notify import Notifier
from realm.operator_audit import OperatorAuditTrail
from realm.target import ServiceAccountLogin
from realm.targets import LOCAL
from scripts import arguments, settings, targets
from scripts.targets import Operating

Command = Callable[[argparse.Namespace, "Context"], int]
STACK_OUTPUTS_ENV = "BIZID_STACK_OUTPUTS"
"""`--stack-outputs`' default: the file of `pulumi stack output --json` for the target's stack."""


@dataclass
class Context:
    """What a lifecycle command works on: one target, resolved once."""

    operating: Operating
    directory: Path
    cfg: settings.Settings
    _defs: Definitions | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.operating.name

    @property
    def local(self) -> bool:
        return self.operating.local

    def definitions(self) -> Definitions:
        if self._defs is None:
            self._defs = loader.load(self.directory)
        return self._defs

    def admin(self) -> Any:
        """A KeycloakAdmin on the target's realm: the local bootstrap admin, or the operator account."""
        return admin.admin_client(self.operating.target)

    def state(self) -> Path:
        """Where this machine keeps a command's own working files for the target (the local review queue, the
        reminder ledger): the local platform's state folder, or a folder per deployed target in it."""
        if self.local:
            return self.cfg.paths.state
        return self.cfg.paths.state / "targets" / self.name

    def trail(self) -> OperatorAuditTrail:
        """The operator audit trail: the local file, or the target's S3 trail (required for a deployed
        target: no lifecycle change there goes unrecorded off this machine)."""
        if self.local:
            return OperatorAuditTrail(self.cfg.paths.state / "audit" / "operator.jsonl")
        home = self.operating.trail
        if home is None and self.operating.trail_missing:
            raise DefinitionError(self.operating.trail_missing)
        if home is None:
            raise DefinitionError(
                f"{self.operating.file}: operator_trail: missing: on a deployed target the operator audit "
                "trail is kept in S3 (operator_trail: {bucket: <stack output <region>AuditBucket>, region: "
                '...}; docs/infra.md, "The operator audit trail")'
            )
        from realm.operator_audit_s3 import S3OperatorAuditTrail

        return S3OperatorAuditTrail(home)

    def archive(self) -> S3AuditArchive:
        """A deployed target's audit archive (Keycloak events, OPA decisions; realm/archive_s3.py): the
        bucket and region of its operator trail, which is kept in the same archive bucket."""
        self.trail()  # the same checks and message when the target names no trail
        home = self.operating.trail
        assert home is not None
        from realm.operator_audit_s3 import store_for

        return S3AuditArchive(store_for(home, ""))

    def notifier(self) -> Notifier | None:
        """Mail through the target's server (the local Mailpit; SES with its login from Secrets Manager);
        None when realm.yaml has no smtp section."""
        mail = self.definitions().realm.smtp
        if mail is None:
            return None
        server = self.operating.smtp_server or mail.server
        credentials = None
        if server.auth is not None:
            reader = (
                smtp.aws_reader()
                if server.auth.source == "aws-secretsmanager"
                else smtp.file_reader(self.cfg.paths.secrets)
            )
            credentials = reader(server.auth)
        return Notifier(mail, server, credentials)


def context(args: argparse.Namespace) -> Context:
    """The target named by --target (default local), resolved once per command."""
    found = getattr(args, "_operating_context", None)
    if isinstance(found, Context):
        return found
    directory = getattr(args, "definitions", None) or DEFINITIONS_DIR
    cfg = settings.load()
    outputs = getattr(args, "stack_outputs", None) or os.environ.get(STACK_OUTPUTS_ENV) or None
    name = getattr(args, "target", None) or LOCAL
    outputs_file = Path(outputs) if outputs else None
    operating = targets.resolve_operator(name, directory, cfg, stack_outputs=outputs_file)
    ctx = Context(operating, directory, cfg)
    args._operating_context = ctx
    return ctx


def _login_name(ctx: Context) -> str:
    login = ctx.operating.target.login
    if isinstance(login, ServiceAccountLogin):
        return f"operator account {login.client_id}"
    return f"bootstrap admin {login.username}"


def run(func: Command) -> Callable[[argparse.Namespace], int]:
    """`func(args, ctx)` as an argparse command: the target resolved first, a deployed target's connection,
    login or permission failure turned into a clear error (scripts/cli.py explains the local platform's)."""
    from scripts.cli_realm import _reaching

    def command(args: argparse.Namespace) -> int:
        ctx = context(args)
        with _reaching(ctx.name, ctx.operating.target.keycloak_url, _login_name(ctx), ctx.local):
            return func(args, ctx)

    command.__name__ = getattr(func, "__name__", "command")
    command.__doc__ = func.__doc__
    return command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        default=LOCAL,
        help="a target in <definitions>/targets/ (local, dev, staging, prod; default: local); a deployed "
        "one is reached as its operator account, mails through its SES, keeps the audit trail in its S3",
    )
    parser.add_argument(
        "--definitions",
        type=arguments.existing_dir,
        default=DEFINITIONS_DIR,
        help=f"definitions directory holding targets/ (default: {DEFINITIONS_DIR})",
    )
    parser.add_argument(
        "--stack-outputs",
        metavar="FILE",
        help="a deployed target's `pulumi stack output --json`: the audit bucket its file names by stack "
        f"output (operator_trail.bucket_output; default: ${STACK_OUTPUTS_ENV})",
    )


def register(parser: argparse.ArgumentParser, func: Command, **defaults: Any) -> None:
    """Give `parser` --target/--definitions and make `func(args, ctx)` its command."""
    add_arguments(parser)
    parser.set_defaults(func=run(func), **defaults)
