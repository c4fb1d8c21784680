"""`bizid`: the one entry point behind the Makefile.

Each folder contributes its own sub-commands through a `register(subparsers)` function; this module only
wires them together and turns known errors into a clear message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from scripts import platform_cli
from scripts.install import InstallError

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Registrar]:
    from loadtests import cli as load_cli
    from scripts import (
        cli_accounts,
        cli_audit,
        cli_bundle,
        cli_delegation,
        cli_drill,
        cli_matrix,
        cli_members,
        cli_realm,
        cli_reminders,
        cli_report,
        cli_review,
    )
    from scripts.sites import cli as sites_cli

    return [
        platform_cli.register,
        cli_realm.register,
        cli_accounts.register,
        cli_delegation.register,
        cli_matrix.register,
        load_cli.register,
        cli_bundle.register,
        cli_audit.register,
        cli_report.register,
        cli_reminders.register,
        cli_members.register,
        cli_review.register,
        cli_drill.register,
        sites_cli.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bizid", description="bizid local platform and realm as code")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in _registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except (InstallError, ValueError) as exc:
        print(f"bizid: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        message = platform_problem(exc)
        if message is None:
            raise
        print(f"bizid: error: {message}", file=sys.stderr)
        return 2
    return result


def platform_problem(exc: Exception) -> str | None:
    """A clear message for the platform being down or not installed yet (else None: a real bug, shown)."""
    import requests
    from keycloak.exceptions import KeycloakConnectionError, KeycloakError

    from scripts import settings

    cfg = settings.load()
    if isinstance(exc, KeycloakConnectionError | requests.ConnectionError):
        return f"cannot reach the local platform ({cfg.keycloak_url}, {cfg.opa_url}): is it up? (`bizid up`)"
    if isinstance(exc, FileNotFoundError) and exc.filename and str(cfg.paths.state) in str(exc.filename):
        return f"{exc.filename} is missing: the local platform is not installed here yet (`bizid up`)"
    if isinstance(exc, KeycloakError):
        return f"Keycloak refused the request: HTTP {exc.response_code}: {exc.error_message!s:.300}"
    return None


if __name__ == "__main__":
    sys.exit(main())
