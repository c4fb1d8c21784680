"""Synthetic OPA inputs for the policy matrix: one account per tier with every attribute a claim reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from realm.build import DERIVED_CLAIM_ATTRIBUTES

Json = Any

PRINCIPAL_CORPORATE_NUMBER = "5010401089998"
ACCOUNT_CORPORATE_NUMBER = "7000012050002"


SAMPLE_VALUES: dict[str, Json] = {
    "firstName": "Taro",
    "lastName": "Yamada",
    "email": "taro@example.test",
    "emailVerified": True,
    "phone_number": "+81312345678",
    "corporate_number": ACCOUNT_CORPORATE_NUMBER,
    "corporate_name": "Yamada Shoji K.K.",
    "corporate_type": "corporation",
    "representative_name": "Yamada Taro",
    "address": "1-1 Kasumigaseki, Chiyoda-ku, Tokyo",
    "branch": "Osaka branch",
}
"""Values of the account attributes claims read; an attribute not listed here gets a placeholder."""


def now_rfc3339(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic_account(
    registry: dict[str, Any], tier: str, now: dt.datetime, rps: list[str]
) -> dict[str, Any]:
    """An active account of `tier`, valid for a year, with a value for every attribute a claim reads."""
    tier_def = registry["tiers"][tier]
    account: dict[str, Any] = {
        "id": f"matrix-{tier}",
        "username": f"matrix-{tier}",
        "tier": tier,
        "status": "active",
        "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
        "corporate_number": ACCOUNT_CORPORATE_NUMBER,
        "prime_username": "matrix-prime" if tier == "member" else None,
        "provisional_rps": rps if tier_def.get("rp_scoped") else [],
        # A Member permitted by its Prime for every RP (bizid members permit): the matrix shows the tiers.
        "member_permissions": sorted(registry["rps"]) if tier_def.get("issued_by_prime") else [],
    }
    derived = DERIVED_CLAIM_ATTRIBUTES
    for scope in registry["scopes"].values():
        for claim in scope["claims"].values():
            attribute = claim["attribute"]
            if attribute in derived or attribute in account:
                continue
            if attribute == "branch" and tier != "member":
                continue
            value = SAMPLE_VALUES.get(attribute, f"sample {attribute}")
            account[attribute] = [value] if claim.get("multivalued") else value
    return account


def issuing_prime(account: dict[str, Any]) -> dict[str, Any] | None:
    """The current record of the account's issuing Prime (input.prime): an active Prime of its company."""
    if not account.get("prime_username"):
        return None
    return {
        "username": account["prime_username"],
        "found": True,
        "tier": "prime",
        "status": "active",
        "valid_until": account["valid_until"],
        "corporate_number": account["corporate_number"],
    }


def base_input(
    registry: dict[str, Any], rp: str, account: dict[str, Any], loa: int, now: dt.datetime
) -> Json:
    return {
        "rp": {"client_id": rp},
        "account": account,
        "authn": {"loa": loa},
        "now": now_rfc3339(now),
        "decision_id": str(uuid.uuid4()),
        "scopes": [],
        "delegation": None,
        "grantor": None,
        "licences": None,
        "prime": issuing_prime(account),
    }
