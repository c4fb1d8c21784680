"""`bizid realm plan|apply|drift|bootstrap [--target NAME]`: the realm definitions against a live Keycloak.

- plan:  print what apply would change (per object and field); writes nothing; exit 0.
- apply: make exactly those changes, print them and the number of Admin API writes (0 when nothing
         changed); on the local target also build the signed OPA bundle from the same definitions and
         reload the local OPA (a deployed OPA gets the published bundle: `bizid bundle build`); exit 0.
- drift: like plan, for audits and CI: exit 1 when the live realm differs from the definitions.
- bootstrap: once per deployed target, as its bootstrap admin: create the service-account client the
         other commands sign in as (realm/service_account.py).

`--target` names a file in realm/definitions/targets/ (local, dev, staging, prod): the Keycloak URL, the
OPA URL the flows call, the login (the bootstrap admin only for `local`; a service-account client whose
secret is read from AWS Secrets Manager or an environment variable otherwise), where RP secrets live and
each RP's redirect URIs there (realm/targets.py). Definitions and the target file are validated before the
first request to Keycloak; an invalid file exits 2 with a message naming the file and field (scripts/cli.py
turns ValueError into that). The library is `realm.reconcile`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from realm import build, operator_account, reconcile, secret_sources, service_account
from realm.admin_api import ReconcileError
from realm.loader import DEFINITIONS_DIR
from realm.target import ServiceAccountLogin, Target
from realm.targets import LOCAL
from scripts import arguments, services, settings, targets
from scripts.targets import Resolved

DRIFT_EXIT = 1


@contextmanager
def _reaching(resolved_name: str, url: str, login: str, local: bool) -> Iterator[None]:
    """A deployed target's connection or login failure as a clear error (the local platform's are
    explained by scripts/cli.py)."""
    if local:
        yield
        return
    import requests
    from keycloak.exceptions import KeycloakAuthenticationError, KeycloakConnectionError, KeycloakError

    try:
        yield
    except (KeycloakConnectionError, requests.ConnectionError) as exc:
        raise ValueError(f"target {resolved_name}: cannot reach Keycloak at {url}: {exc}") from None
    except KeycloakAuthenticationError as exc:
        raise ValueError(
            f"target {resolved_name}: Keycloak refused the login of {login} (HTTP {exc.response_code}): "
            "wrong secret, or not bootstrapped yet (`bizid realm bootstrap`)"
        ) from None
    except ReconcileError as exc:
        raise ValueError(
            f"target {resolved_name}: {exc} (a 403: the service account lacks a role, see "
            "realm/service_account.py; a 404 at the public URL: set admin_url in the target file)"
        ) from None
    except KeycloakError as exc:
        hint = ""
        if exc.response_code in (403, 404):
            hint = (
                " (a deployed stack blocks /admin and /realms/master at its public URL: reach it through "
                "admin_url in the target file; or the service account lacks a role: `bizid realm bootstrap`)"
            )
        raise ValueError(
            f"target {resolved_name}: Keycloak refused the request: HTTP {exc.response_code}: "
            f"{exc.error_message!s:.300}{hint}"
        ) from None


def _login_name(target: Target) -> str:
    login = target.login
    if isinstance(login, ServiceAccountLogin):
        return f"service account {login.client_id}"
    return f"bootstrap admin {login.username}"


def _prepare(args: argparse.Namespace) -> tuple[Resolved, reconcile.AdminApi, build.DesiredRealm]:
    build.load(args.definitions)  # validate before anything else (the login's secret is read next)
    resolved = targets.resolve(args.target, args.definitions)
    with _reaching(resolved.name, resolved.target.keycloak_url, _login_name(resolved.target), resolved.local):
        api, desired = reconcile.prepare(resolved.target, args.definitions, args.without_extension)
    if not desired.extension:
        print("[bizid] WARNING: without the bizid extension: no OPA access decision, no release mapper")
    return resolved, api, desired


def _run(args: argparse.Namespace, resolved: Resolved, step: Callable[[], int]) -> int:
    with _reaching(resolved.name, resolved.target.keycloak_url, _login_name(resolved.target), resolved.local):
        return step()


def _plan(args: argparse.Namespace) -> int:
    resolved, api, desired = _prepare(args)

    def step() -> int:
        print(reconcile.plan(api, desired).render())
        return 0

    return _run(args, resolved, step)


def _apply(args: argparse.Namespace) -> int:
    resolved, api, desired = _prepare(args)

    def step() -> int:
        plan, writes = reconcile.apply(api, desired, resolved.secrets)
        print(plan.render())
        if resolved.local:
            bundle = services.publish_opa_bundle(settings.load(), args.definitions)
            print(f"[bizid] realm {desired.name}: {writes} Admin API writes; OPA bundle {bundle.revision}")
        else:
            print(
                f"[bizid] realm {desired.name} on {resolved.name}: {writes} Admin API writes; OPA's data "
                "travels in the signed bundle (`bizid bundle build`, docs/infra.md)"
            )
        return 0

    return _run(args, resolved, step)


def _drift(args: argparse.Namespace) -> int:
    resolved, api, desired = _prepare(args)

    def step() -> int:
        plan = reconcile.plan(api, desired)
        if plan.empty:
            print(f"realm {desired.name}: no drift")
            return 0
        print(f"realm {desired.name}: DRIFT: live realm differs from the definitions (apply repairs it)")
        print(plan.render())
        return DRIFT_EXIT

    return _run(args, resolved, step)


def _bootstrap(args: argparse.Namespace) -> int:
    build.load(args.definitions)
    inputs = targets.bootstrap_inputs(args.target, args.definitions)
    if inputs.generated:  # kept first, so a client is never created with a secret nobody has
        secret_sources.write(inputs.source, inputs.secret)
    if inputs.operator is not None and inputs.operator.generated:
        secret_sources.write(inputs.operator.source, inputs.operator.secret)
    with _reaching(args.target, inputs.admin.keycloak_url, _login_name(inputs.admin), False):
        api = reconcile.connect(inputs.admin)
        result = service_account.bootstrap(api, inputs.admin.realm, inputs.client_id, inputs.secret)
        operator = inputs.operator
        operator_writes = (
            operator_account.bootstrap(api, inputs.admin.realm, operator.client_id, operator.secret).writes
            if operator is not None
            else 0
        )
    holder = service_account.realm_client_id(inputs.admin.realm)
    print(
        f"[bizid] {args.target}: service account {inputs.client_id} (master realm) with roles "
        f"{', '.join(service_account.REALM_ROLES)} of {holder}; "
        f"{result.writes + operator_writes} Admin API writes; its secret: {targets.describe(inputs.source)}"
    )
    if operator is not None:
        print(
            f"[bizid] {args.target}: operator account {operator.client_id} (master realm) with roles "
            f"{', '.join(operator_account.OPERATOR_ROLES)} of {holder}; its secret: "
            f"{targets.describe(operator.source)}"
        )
    print(
        "[bizid] next: `bizid realm apply --target "
        f'{args.target}`, then disable the bootstrap admin (docs/infra.md, "Day one")'
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    realm_p = subparsers.add_parser("realm", help="the realm as code: plan, apply, drift, bootstrap")
    sub = realm_p.add_subparsers(dest="realm_command", required=True)
    commands = (
        ("plan", _plan, "show what apply would change (writes nothing)"),
        ("apply", _apply, "make the live realm match the definitions; prints the number of writes"),
        (
            "drift",
            _drift,
            f"exit {DRIFT_EXIT} and list the differences when the live realm was changed by hand",
        ),
        (
            "bootstrap",
            _bootstrap,
            "once per deployed target, as its bootstrap admin: create the service-account client",
        ),
    )
    for name, func, text in commands:
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--target",
            default=LOCAL,
            required=name == "bootstrap",
            help="a target in <definitions>/targets/ (local, dev, staging, prod; default: local): Keycloak, "
            "the OPA its flows call, the login and where RP secrets live",
        )
        p.add_argument(
            "--definitions",
            type=arguments.existing_dir,
            default=DEFINITIONS_DIR,
            help=f"definitions directory (default: {DEFINITIONS_DIR})",
        )
        if name != "bootstrap":
            p.add_argument(
                "--without-extension",
                action="store_const",
                const=True,
                default=None,
                help="development only: leave out the Java extension's validator, authenticators and "
                f"mapper (also {reconcile.WITHOUT_EXTENSION_ENV}=1)",
            )
        p.set_defaults(func=func)
