"""`bizid realm plan|apply|drift`: the realm definitions against the live Keycloak.

- plan:  print what apply would change (per object and field); writes nothing; exit 0.
- apply: make exactly those changes, print them and the number of Admin API writes (0 when nothing
         changed), and write the OPA data document from the same definitions; exit 0.
- drift: like plan, for audits and CI: exit 1 when the live realm differs from the definitions.

Definitions are validated before the first request to Keycloak; an invalid file exits 2 with a message
naming the file and field (scripts/cli.py turns ValueError into that). The library is `realm.reconcile`;
this module builds its `Target` from the local platform's settings.
"""

from __future__ import annotations

import argparse

from realm import build, reconcile
from realm.loader import DEFINITIONS_DIR
from scripts import arguments, services, settings
from scripts.settings import Settings

DRIFT_EXIT = 1


def _prepare(args: argparse.Namespace) -> tuple[Settings, reconcile.AdminApi, build.DesiredRealm]:
    cfg = settings.load()
    build.load(args.definitions)  # validate before anything else (the admin password is read next)
    api, desired = reconcile.prepare(cfg.target(), args.definitions, args.without_extension)
    if not desired.extension:
        print("[bizid] WARNING: without the bizid extension: no OPA access decision, no release mapper")
    return cfg, api, desired


def _plan(args: argparse.Namespace) -> int:
    _, api, desired = _prepare(args)
    print(reconcile.plan(api, desired).render())
    return 0


def _apply(args: argparse.Namespace) -> int:
    cfg, api, desired = _prepare(args)
    plan, writes = reconcile.apply(api, desired, cfg.paths.secrets)
    print(plan.render())
    bundle = services.publish_opa_bundle(cfg, args.definitions)
    print(f"[bizid] realm {desired.name}: {writes} Admin API writes; OPA bundle {bundle.revision}")
    return 0


def _drift(args: argparse.Namespace) -> int:
    _, api, desired = _prepare(args)
    plan = reconcile.plan(api, desired)
    if plan.empty:
        print(f"realm {desired.name}: no drift")
        return 0
    print(f"realm {desired.name}: DRIFT: live realm differs from the definitions (apply repairs it)")
    print(plan.render())
    return DRIFT_EXIT


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    realm_p = subparsers.add_parser("realm", help="the realm as code: plan, apply, drift")
    sub = realm_p.add_subparsers(dest="realm_command", required=True)
    commands = (
        ("plan", _plan, "show what apply would change (writes nothing)"),
        ("apply", _apply, "make the live realm match the definitions; prints the number of writes"),
        (
            "drift",
            _drift,
            f"exit {DRIFT_EXIT} and list the differences when the live realm was changed by hand",
        ),
    )
    for name, func, text in commands:
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--definitions",
            type=arguments.existing_dir,
            default=DEFINITIONS_DIR,
            help=f"definitions directory (default: {DEFINITIONS_DIR})",
        )
        p.add_argument(
            "--without-extension",
            action="store_const",
            const=True,
            default=None,
            help="development only: leave out the Java extension's validator, authenticators and "
            f"mapper (also {reconcile.WITHOUT_EXTENSION_ENV}=1)",
        )
        p.set_defaults(func=func)
