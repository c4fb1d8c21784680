"""`bizid policy matrix`: which tier may use which RP, and which claims each RP receives - asked of OPA.

Nothing here re-implements a rule. Every cell of the report is a decision OPA returned for a synthetic
input: the RP list, tiers, scopes and procedures are read from the registry OPA serves
(`GET /v1/data/bizid/registry`), each access cell is `POST /v1/data/bizid/access/decision`, each claims
row is `POST /v1/data/bizid/release/decision`. The report therefore shows the policy as it is deployed,
not a description of it; the digests of the served policies and registry in its header say which.

By default `bizid policy matrix` (scripts/cli_matrix.py) asks the platform's OPA. With
`--definitions DIR` it starts a private OPA on `policies/bizid` and the registry generated from DIR
(what-if: "what would this registry change do?"). Output: `policy-matrix.md` and `policy-matrix.html`
in `--out` (default `docs/reports/`).

The synthetic account of each tier has every attribute a claim reads set (so a withheld claim is
withheld by the policy, not for lack of a value), is active and valid for a year; a Member has a branch;
an RP-scoped tier (provisional Prime) is tried with the RP named on it and without.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from policies.matrix_inputs import (
    PRINCIPAL_CORPORATE_NUMBER,
    base_input,
    now_rfc3339,
    synthetic_account,
)
from policies.opa_client import Opa, OpaError
from policies.opa_server import private_opa

__all__ = ["MatrixError", "Opa", "private_opa"]  # re-exported for the matrix's callers


Json = Any


MatrixError = OpaError
"""OPA could not be asked, or answered something that is not a decision (policies.opa_client)."""


# --- the matrix ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessCell:
    """The lowest acr at which OPA allows the tier at the RP, or why it refuses at the highest level."""

    allowed_acr: str | None
    reasons: tuple[str, ...]

    def text(self) -> str:
        return f"yes, {self.allowed_acr}" if self.allowed_acr else "no: " + ", ".join(self.reasons)


@dataclass(frozen=True)
class ClaimsRow:
    tier: str
    scope_set: str
    requested: tuple[str, ...]
    released: tuple[str, ...]
    verified: tuple[str, ...]
    withheld: tuple[tuple[str, str, str], ...]
    """(claim, scope, reason)"""


@dataclass(frozen=True)
class DelegationRow:
    rp: str
    procedure: str
    licence: str | None
    allowed: bool
    reasons: tuple[str, ...]
    claim_procedures: tuple[str, ...]
    claim_licences: tuple[str, ...]


@dataclass
class Matrix:
    policy_digest: str
    registry_digest: str
    columns: list[str]
    """Tier columns; an RP-scoped tier appears twice: `<tier> (RP named)` and `<tier> (not named)`."""
    rps: dict[str, dict[str, Any]]
    access: dict[str, dict[str, AccessCell]] = field(default_factory=dict)
    claims: dict[str, list[ClaimsRow]] = field(default_factory=dict)
    delegations: list[DelegationRow] = field(default_factory=list)


def _codes(decision: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({str(r.get("code")) for r in decision.get("reasons", [])}))


def build(opa: Opa, now: dt.datetime | None = None) -> Matrix:
    """Ask OPA every question the report shows."""
    now = now or dt.datetime.now(dt.UTC)
    registry = opa.registry()
    canonical = json.dumps(registry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    acr_loa: dict[str, int] = registry["acr_loa"]
    by_level = sorted(acr_loa.items(), key=lambda item: item[1])
    top_loa = by_level[-1][1]
    all_scopes = sorted(registry["scopes"])
    variants: list[tuple[str, str, bool]] = []  # (column, tier, RP named on it)
    for tier, tier_def in registry["tiers"].items():
        if tier_def.get("rp_scoped"):
            variants += [(f"{tier} (RP named)", tier, True), (f"{tier} (not named)", tier, False)]
        else:
            variants.append((tier, tier, False))
    matrix = Matrix(
        policy_digest=opa.policy_digest(),
        registry_digest=hashlib.sha256(canonical.encode()).hexdigest(),
        columns=[column for column, _, _ in variants],
        rps=dict(sorted(registry["rps"].items())),
    )
    for rp_id, rp in matrix.rps.items():
        row: dict[str, AccessCell] = {}
        for column, tier, named in variants:
            account = synthetic_account(registry, tier, now, [rp_id] if named else ["some-other-rp"])
            cell = None
            last: dict[str, Any] = {}
            for acr, loa in by_level:
                decision = opa.access(base_input(registry, rp_id, account, loa, now))
                if decision.get("allow") is True:
                    cell = AccessCell(acr, ())
                    break
                last = decision
            row[column] = cell or AccessCell(None, _codes(last))
        matrix.access[rp_id] = row

        rows: list[ClaimsRow] = []
        for column, tier, named in variants:
            if row[column].allowed_acr is None or (registry["tiers"][tier].get("rp_scoped") and not named):
                continue
            account = synthetic_account(registry, tier, now, [rp_id])
            for scope_set, scopes in (
                ("registered", ["openid", *rp["scopes"]]),
                ("every scope", ["openid", *all_scopes]),
            ):
                policy_input = base_input(registry, rp_id, account, top_loa, now)
                policy_input["scopes"] = scopes
                decision = opa.release(policy_input)
                claims: dict[str, Any] = decision.get("claims", {})
                verified = claims.get("verified_claims", {}).get("claims", {})
                rows.append(
                    ClaimsRow(
                        tier=tier,
                        scope_set=scope_set,
                        requested=tuple(scopes),
                        released=tuple(sorted(c for c in claims if c != "verified_claims")),
                        verified=tuple(sorted(verified)),
                        withheld=tuple(
                            sorted(
                                (w["claim"], w["scope"], w["reason"]) for w in decision.get("withheld", [])
                            )
                        ),
                    )
                )
        matrix.claims[rp_id] = rows
        matrix.delegations += _delegation_rows(opa, registry, rp_id, rp, now, top_loa)
    return matrix


def _delegation_rows(
    opa: Opa, registry: dict[str, Any], rp_id: str, rp: dict[str, Any], now: dt.datetime, loa: int
) -> list[DelegationRow]:
    """A Prime of another firm signs in under a valid delegation for each (named) procedure and licence."""
    rows = []
    delegate_tier = next(
        (t for t in ("prime", "member") if t in rp["accepted_tiers"]), rp["accepted_tiers"][0]
    )
    account = synthetic_account(registry, delegate_tier, now, [rp_id])
    account["username"] = "matrix-delegate"
    grantor = {
        "username": "matrix-principal",
        "tier": "prime",
        "corporate_number": PRINCIPAL_CORPORATE_NUMBER,
        "status": "active",
        "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
        "corporate_name": "Principal K.K.",
    }
    for proc_id, proc in sorted(rp["procedures"].items()):
        for licence in [None, *proc["licences_accepted"]]:
            policy_input = base_input(registry, rp_id, account, loa, now)
            policy_input["scopes"] = ["openid", *rp["scopes"]]
            # The RP names the delegated procedure (a delegated sign-in naming none is refused).
            policy_input["rp"]["procedure"] = proc_id
            policy_input["delegation"] = {
                "id": str(uuid.uuid4()),
                "principal_corporate_number": PRINCIPAL_CORPORATE_NUMBER,
                "granted_by": "matrix-principal",
                "delegate_username": "matrix-delegate",
                "rp": rp_id,
                "procedures": [proc_id],
                "not_before": now_rfc3339(now - dt.timedelta(days=1)),
                "not_after": now_rfc3339(now + dt.timedelta(days=30)),
                "revoked": False,
            }
            policy_input["grantor"] = grantor
            policy_input["licences"] = (
                []
                if licence is None
                else [
                    {
                        "kind": licence,
                        "number": "123456",
                        "holder_username": "matrix-delegate",
                        "not_after": None,
                        "revoked": False,
                    }
                ]
            )
            access = opa.access(policy_input)
            release = opa.release(policy_input)
            claim = release.get("claims", {}).get("delegation") or {}
            procs = claim.get("procedures", [])
            rows.append(
                DelegationRow(
                    rp=rp_id,
                    procedure=proc_id,
                    licence=licence,
                    allowed=access.get("allow") is True,
                    reasons=tuple(sorted(str(r.get("message")) for r in access.get("reasons", []))),
                    claim_procedures=tuple(p["id"] for p in procs),
                    claim_licences=tuple(f"{lic['kind']}" for p in procs for lic in p.get("licences", [])),
                )
            )
    return rows
