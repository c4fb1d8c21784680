"""`bizid policy matrix`: the command line of `policies.matrix` (asks the local platform's OPA by
default)."""

from __future__ import annotations

import argparse
from pathlib import Path

from policies.matrix import MatrixError
from policies.matrix_report import DEFAULT_OUT, generate
from scripts import settings


def _matrix_cmd(args: argparse.Namespace) -> int:
    cfg = settings.load()
    opa_url = args.opa_url or (None if args.definitions is not None else cfg.opa_url)
    try:
        written = generate(args.out, opa_url, args.definitions, cfg.paths.opa)
    except MatrixError as exc:
        raise ValueError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="reports generated from the policies")
    p_sub = policy.add_subparsers(dest="policy_command", required=True)
    matrix_p = p_sub.add_parser("matrix", help="tier x RP access and released claims, asked of OPA")
    matrix_p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default docs/reports)"
    )
    source = matrix_p.add_mutually_exclusive_group()
    source.add_argument("--opa-url", help="ask this OPA server (default: the platform's)")
    source.add_argument(
        "--definitions",
        type=Path,
        help="start a private OPA on policies/bizid and the registry generated from this definitions folder",
    )
    matrix_p.set_defaults(func=_matrix_cmd)
