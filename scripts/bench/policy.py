"""Policy decision latency: inside OPA, over HTTP from the Keycloak host, and what a sign-in pays for it.

    .venv/bin/python -m scripts.bench.policy [--requests 2000] [--signins 10] [--out docs/bench/policy.md]

Three measurements (docs/bench/policy.md explains the method and records the figures):

1. **Decision time inside OPA**, from OPA's own metrics (`?metrics=true`): `timer_server_handler_ns` (the
   whole HTTP handler: parse input, evaluate, encode) and `timer_rego_query_eval_ns` (evaluation only),
   p50/p99 over `--requests` decisions per case. Private OPA servers (the real binary, production flags:
   decision logs on) serve the repository's policies with registries of 10 and of 1,000 RPs, generated
   from a copy of realm/definitions with synthetic RPs added (clones of jgrants).
2. **HTTP round trip from the Keycloak host** to the platform's OPA (settings.opa_url) for the exact inputs
   Keycloak sends, on a kept-alive connection as Keycloak's client uses; times the calls per sign-in.
3. **Sign-in wall time** on the live platform for a delegate selecting a delegation, when the account holds
   1 and when it holds 100 delegations (Keycloak parses the stored records to find the selected one).

No thresholds: this prints and writes figures; tests never time anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyotp
import requests
import yaml

from policies import matrix, opa_client, opa_server
from realm import accounts, delegation, loader
from realm.accounts import AccountSpec
from realm.delegation import DelegationRecord
from realm.models import Tier
from realm.oidc.browser_flow import BrowserFlow, Client
from scripts import settings
from scripts.keycloak_admin import admin_client

OPA_FLAGS = ("--set", "decision_logs.console=true", "--log-format", "json")
PRINCIPAL_NUMBER = "5010401089998"
FIRM_NUMBER = "7000012050002"

Json = Any


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def definitions_with(rp_count: int, directory: Path) -> Path:
    """A copy of realm/definitions with synthetic RPs (clones of jgrants) up to `rp_count` RPs."""
    target = directory / f"definitions-{rp_count}"
    shutil.copytree(loader.DEFINITIONS_DIR, target)
    template = yaml.safe_load((target / "rps" / "jgrants.yaml").read_text(encoding="utf-8"))
    existing = len(list((target / "rps").glob("*.yaml")))
    for i in range(rp_count - existing):
        client_id = f"bench-rp-{i:04d}"
        rp = {
            **template,
            "client_id": client_id,
            "redirect_uris": [f"http://127.0.0.1:18900/callback/{client_id}"],
        }
        (target / "rps" / f"{client_id}.yaml").write_text(
            yaml.safe_dump(rp, allow_unicode=True), encoding="utf-8"
        )
    assert len(loader.load(target).rps) == rp_count
    return target


def inputs(now: dt.datetime) -> dict[str, tuple[str, Json]]:
    """The inputs Keycloak sends at a Prime's sign-in to jGrants (docs/policies.md), by case name."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    account: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "username": "bench-delegate",
        "tier": "prime",
        "status": "active",
        "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
        "corporate_number": FIRM_NUMBER,
        "prime_username": None,
        "provisional_rps": [],
    }
    release_account = {
        **account,
        "email": "bench@example.test",
        "emailVerified": True,
        "firstName": "Taro",
        "lastName": "Yamada",
        "corporate_name": "Yamada Tax Office",
        "corporate_type": "corporation",
        "address": "Osaka",
    }
    base = {
        "rp": {"client_id": "jgrants"},
        "now": stamp,
        "decision_id": str(uuid.uuid4()),
        "delegation": None,
    }
    scopes = ["openid", "profile", "email", "account", "corporate", "delegation"]
    delegated = {
        "rp": {"client_id": "jgrants", "procedure": "subsidy-application"},  # a delegated sign-in names one
        "delegation": {
            "id": str(uuid.uuid4()),
            "principal_corporate_number": PRINCIPAL_NUMBER,
            "granted_by": "bench-principal",
            "delegate_username": "bench-delegate",
            "rp": "jgrants",
            "procedures": ["subsidy-application", "subsidy-report"],
            "not_before": (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "not_after": (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "revoked": False,
        },
        "grantor": {
            "username": "bench-principal",
            "tier": "prime",
            "corporate_number": PRINCIPAL_NUMBER,
            "status": "active",
            "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
            "corporate_name": "Principal K.K.",
        },
        "licences": [
            {
                "kind": "zeirishi",
                "number": "1",
                "holder_username": "bench-delegate",
                "not_after": None,
                "revoked": False,
            }
        ],
    }
    return {
        "access, password step (phase identified)": (
            "access",
            {**base, "account": account, "authn": {"loa": 1, "phase": "identified"}},
        ),
        "access, end of flow": ("access", {**base, "account": account, "authn": {"loa": 2}}),
        "release, all scopes": (
            "release",
            {**base, "account": release_account, "authn": {"loa": 2}, "scopes": scopes},
        ),
        "access with a delegation": (
            "access",
            {**base, "account": account, "authn": {"loa": 2}, **delegated},
        ),
        "release with a delegation": (
            "release",
            {**base, "account": release_account, "authn": {"loa": 2}, "scopes": scopes, **delegated},
        ),
    }


def opa_internal(url: str, cases: dict[str, tuple[str, Json]], n: int) -> dict[str, dict[str, float]]:
    """p50/p99 (microseconds) of OPA's own handler and evaluation timers per case."""
    http = requests.Session()
    http.headers.update(opa_server.bearer(opa_client.token_for(url)))
    results = {}
    for name, (package, policy_input) in cases.items():
        handler: list[float] = []
        evaluation: list[float] = []
        for i in range(n + 50):
            response = http.post(
                f"{url}/v1/data/bizid/{package}/decision?metrics=true",
                json={"input": policy_input},
                timeout=10,
            )
            body = response.json()
            assert "result" in body, body
            if package == "access":
                assert body["result"]["allow"] is True, (name, body["result"])
            else:
                assert body["result"]["claims"], (name, body["result"])
            if i < 50:  # warm-up
                continue
            handler.append(body["metrics"]["timer_server_handler_ns"] / 1000)
            evaluation.append(body["metrics"]["timer_rego_query_eval_ns"] / 1000)
        results[name] = {
            "handler_p50": percentile(handler, 0.5),
            "handler_p99": percentile(handler, 0.99),
            "eval_p50": percentile(evaluation, 0.5),
            "eval_p99": percentile(evaluation, 0.99),
        }
    return results


def round_trip(url: str, cases: dict[str, tuple[str, Json]], n: int) -> dict[str, dict[str, float]]:
    """p50/p99 (microseconds) of the HTTP round trip as a kept-alive client sees it."""
    http = requests.Session()
    http.headers.update(opa_server.bearer(opa_client.token_for(url)))
    results = {}
    for name, (package, policy_input) in cases.items():
        body = json.dumps({"input": policy_input})
        samples = []
        for i in range(n + 50):
            start = time.perf_counter()
            response = http.post(
                f"{url}/v1/data/bizid/{package}/decision",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            elapsed = time.perf_counter() - start
            assert response.status_code == 200
            if i >= 50:
                samples.append(elapsed * 1e6)
        results[name] = {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}
    return results


def signin_times(
    cfg: settings.Settings, signins: int, holdings: tuple[int, ...]
) -> dict[int, dict[str, float]]:
    """Sign-in wall time (ms) of delegates selecting a delegation, holding `k` delegations each."""
    defs = loader.load()
    admin = admin_client(cfg)
    run = uuid.uuid4().hex[:6]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    principal = accounts.create(
        AccountSpec(
            Tier.PRIME,
            f"bench-principal-{run}",
            f"bench-principal-{run}@example.test",
            "B",
            "P",
            corporate_number=PRINCIPAL_NUMBER,
            corporate_name="Bench Principal K.K.",
        ),
        defs,
        admin,
    )
    rp = cfg.definitions().rp("jgrants")
    client = Client("jgrants", str(rp.redirect_uris[0]), cfg.client_secret("jgrants"))
    results: dict[int, dict[str, float]] = {}
    for held in holdings:
        samples: list[float] = []
        for i in range(signins):
            name = f"bench-delegate-{run}-{held}-{i}"
            tax = accounts.create(
                AccountSpec(
                    Tier.PRIME,
                    name,
                    f"{name}@example.test",
                    "B",
                    "D",
                    corporate_number=FIRM_NUMBER,
                    corporate_name="Bench Tax Office",
                ),
                defs,
                admin,
            )
            records = [
                DelegationRecord(
                    id=str(uuid.uuid4()),
                    principal_corporate_number=PRINCIPAL_NUMBER,
                    granted_by=principal.username,
                    delegate_username=name,
                    rp="jgrants",
                    procedures=("subsidy-application",),
                    not_before=now - dt.timedelta(days=1),
                    not_after=now + dt.timedelta(days=30),
                    revoked=False,
                )
                for _ in range(held)
            ]
            delegation.write_values(
                admin, admin.get_user(tax.user_id), "delegations", [r.to_attribute() for r in records]
            )
            selected = records[-1].id  # the last one: the lookup reads through all of them
            flow = BrowserFlow(requests.Session(), cfg.issuer, verify=str(cfg.paths.ca_cert))
            start = time.perf_counter()
            result = flow.login(
                client,
                name,
                tax.password,
                otp=pyotp.TOTP(tax.totp_base32 or "").now,
                extra={"delegation": selected, "procedure": "subsidy-application"},
            )
            elapsed = time.perf_counter() - start
            assert result.tokens is not None, result
            samples.append(elapsed * 1000)
        results[held] = {"p50": statistics.median(samples), "max": max(samples)}
    return results


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="decisions per case and registry size")
    parser.add_argument("--signins", type=int, default=10, help="sign-ins per delegation count")
    parser.add_argument("--out", type=Path, help="also write the tables (Markdown) to this file")
    args = parser.parse_args(argv)
    cfg = settings.load()
    cfg.remember_opa_read_token()  # part 2 calls the platform's OPA, which asks for the read token
    now = dt.datetime.now(dt.UTC)
    cases = inputs(now)
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit(f"### 1. Decision time inside OPA (µs; {args.requests} decisions per cell after 50 warm-up)")
    emit()
    internal: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bizid-bench-") as tmp:
        for rp_count in (10, 1000):
            with matrix.private_opa(
                definitions_with(rp_count, Path(tmp)), extra_args=OPA_FLAGS, binary=cfg.paths.opa
            ) as url:
                internal[rp_count] = opa_internal(url, cases, args.requests)
    emit(_row(["decision", "RPs", "handler p50", "handler p99", "eval p50", "eval p99"]))
    emit(_row(["---"] * 6))
    for name in cases:
        for rp_count, figures in internal.items():
            f = figures[name]
            emit(
                _row(
                    [
                        name,
                        f"{rp_count:,}",
                        f"{f['handler_p50']:.0f}",
                        f"{f['handler_p99']:.0f}",
                        f"{f['eval_p50']:.0f}",
                        f"{f['eval_p99']:.0f}",
                    ]
                )
            )
    emit()
    emit(f"### 2. HTTP round trip to the platform's OPA from the Keycloak host (µs; {args.requests} calls)")
    emit()
    trips = round_trip(cfg.opa_url, cases, args.requests)
    emit(_row(["decision", "p50", "p99"]))
    emit(_row(["---"] * 3))
    for name, f in trips.items():
        emit(_row([name, f"{f['p50']:.0f}", f"{f['p99']:.0f}"]))
    access = [trips["access, password step (phase identified)"], trips["access, end of flow"]]
    release = trips["release, all scopes"]
    login_p50 = sum(t["p50"] for t in access) + release["p50"]
    login_p99 = sum(t["p99"] for t in access) + release["p99"]
    emit()
    emit(
        f"Per sign-in (2 access calls in the login flow + 1 release call at the token endpoint, the ID and "
        f"access token share one decision): **{login_p50 / 1000:.2f} ms at p50, at most "
        f"{login_p99 / 1000:.2f} ms at p99** (sum of p99s, an upper bound); a userinfo call adds one release "
        f"call ({release['p50'] / 1000:.2f} ms p50)."
    )
    emit()
    emit(f"### 3. Sign-in wall time of a delegate selecting a delegation (ms; {args.signins} sign-ins each)")
    emit()
    times = signin_times(cfg, args.signins, (1, 100)) if args.signins else {}
    emit(_row(["delegations on the account", "p50", "max"]))
    emit(_row(["---"] * 3))
    for held, f in times.items():
        emit(_row([str(held), f"{f['p50']:.0f}", f"{f['max']:.0f}"]))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
