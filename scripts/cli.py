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
    from scripts import cli_accounts, cli_delegation, cli_matrix, cli_realm

    return [
        platform_cli.register,
        cli_realm.register,
        cli_accounts.register,
        cli_delegation.register,
        cli_matrix.register,
        load_cli.register,
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
    return result


if __name__ == "__main__":
    sys.exit(main())
