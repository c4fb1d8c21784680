"""`bizid accounts create`: ready-to-use accounts of every tier, for people and for tests.

Everything is validated before the one Admin API write that creates the user with its password and, for
tiers that need a possession factor, an enrolled TOTP credential (secret printed once).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keycloak.exceptions import KeycloakError

from realm import account_input, loader
from realm.admin import user_attribute as _attr
from realm.models import Definitions, OtpPolicy, Tier, corporate_number_error

DEMO_ACCOUNTS_FILE = "demo-accounts.json"


class AccountError(ValueError):
    """Input for an account is invalid; the message names the option and value."""


@dataclass(frozen=True)
class AccountSpec:
    """What an operator asks for; validated by `validate` before anything is written."""

    tier: Tier
    username: str
    email: str
    first_name: str
    last_name: str
    password: str | None = None
    corporate_number: str | None = None
    corporate_name: str | None = None
    corporate_type: str = "corporation"
    representative_name: str | None = None
    address: str | None = None
    phone_number: str | None = None
    branch: str | None = None
    prime_username: str | None = None
    provisional_rps: tuple[str, ...] = ()
    valid_until: dt.date | None = None
    status: str = "active"
    totp: bool | None = None
    """Enrol a TOTP credential; None means what the tier needs (aal2 tiers: yes; Entry: optional)."""


@dataclass(frozen=True)
class CreatedAccount:
    username: str
    tier: Tier
    password: str
    totp_secret: str | None = field(default=None, repr=False)
    user_id: str = ""

    @property
    def totp_base32(self) -> str | None:
        """The secret as authenticator apps and pyotp expect it (Keycloak keys TOTP on the raw bytes)."""
        return base64.b32encode(self.totp_secret.encode()).decode() if self.totp_secret else None

    def describe(self) -> str:
        totp = f"  TOTP (base32): {self.totp_base32}" if self.totp_secret else ""
        return f"{self.tier.value:18} {self.username} / {self.password}{totp}"


def _random_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def _random_totp_secret() -> str:
    """20 random characters, the shape Keycloak itself generates for OTP secrets."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def _user_by_username(admin: Any, username: str) -> dict[str, Any] | None:
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    return users[0] if users else None


JST = dt.timezone(dt.timedelta(hours=9), "JST")
"""Validity dates are days in Japan Standard Time, as in the policies (bizid.inputs)."""


def _check_issuing_prime(username: str, prime: dict[str, Any]) -> None:
    """A Member may be issued only by a Prime the access policy would accept as its issuer right now."""
    status = _attr(prime, "account_status") or "active"
    if status != "active" or prime.get("enabled") is False:
        raise AccountError(
            f"--prime {username!r}: the Prime is suspended; a suspended Prime cannot issue Members"
        )
    valid_until = _attr(prime, "valid_until")
    if not valid_until:
        raise AccountError(f"--prime {username!r}: the Prime has no validity date (valid_until)")
    today = dt.datetime.now(JST).date()
    try:
        expired = dt.date.fromisoformat(valid_until) < today
    except ValueError:
        raise AccountError(
            f"--prime {username!r}: the Prime's valid_until {valid_until!r} is not a date"
        ) from None
    if expired:
        raise AccountError(
            f"--prime {username!r}: the Prime expired on {valid_until} (today is {today}, JST); "
            "an expired Prime cannot issue Members"
        )


PasswordCheck = Callable[[str], bool]
"""True when a password is on the realm's blocklist (the CLI reads the list file; None: not checked here,
Keycloak still applies its own copy)."""


def _check_input(spec: AccountSpec, defs: Definitions, blocked: PasswordCheck | None) -> None:
    """What Keycloak would refuse about the fields themselves, named by option (no request needed)."""
    if len(spec.username) > account_input.MAX_FIELD:
        raise AccountError(f"--username: longer than {account_input.MAX_FIELD} characters")
    error = account_input.email_error(spec.email)
    if error:
        raise AccountError(f"--email {error}")
    for option, value in (("--first-name", spec.first_name), ("--last-name", spec.last_name)):
        error = account_input.name_error(value)
        if error:
            raise AccountError(f"{option}: {error}")
    if spec.password is not None:
        policy = defs.realm.password
        error = account_input.password_error(spec.password, spec.username, spec.email, policy, blocked)
        if error:
            raise AccountError(f"--password: {error}")


def validate(
    spec: AccountSpec, defs: Definitions, admin: Any, blocked: PasswordCheck | None = None
) -> dict[str, Any]:
    """Check the spec against the definitions and the live realm; return the attributes to store."""
    tier = defs.tier(spec.tier)
    if not spec.username or not spec.username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError(f"--username {spec.username!r}: use letters, digits, '-', '_' or '.'")
    _check_input(spec, defs, blocked)
    if spec.status not in ("active", "suspended"):
        raise AccountError(f"--status {spec.status!r}: must be active or suspended")
    if spec.corporate_type not in ("corporation", "sole_proprietor"):
        raise AccountError(
            f"--corporate-type {spec.corporate_type!r}: must be corporation or sole_proprietor"
        )
    if _user_by_username(admin, spec.username):
        raise AccountError(f"--username {spec.username!r}: an account with that username already exists")
    if admin.get_users({"email": spec.email, "exact": True}):
        raise AccountError(f"--email {spec.email!r}: another account already has this e-mail address")

    attrs: dict[str, Any] = {
        "tier": spec.tier.value,
        "account_status": spec.status,
        "corporate_type": spec.corporate_type,
    }
    company = {
        "corporate_number": spec.corporate_number,
        "corporate_name": spec.corporate_name,
        "representative_name": spec.representative_name,
        "address": spec.address,
    }

    if spec.tier is Tier.MEMBER:
        if not spec.prime_username:
            raise AccountError("--prime: a Member is issued by a Prime; name the Prime's username")
        prime = _user_by_username(admin, spec.prime_username)
        if prime is None:
            raise AccountError(f"--prime {spec.prime_username!r}: no such account")
        prime_tier = _attr(prime, "tier")
        if prime_tier != Tier.PRIME.value:
            raise AccountError(
                f"--prime {spec.prime_username!r}: is a {prime_tier!r} account; only a Prime creates Members"
            )
        _check_issuing_prime(spec.prime_username, prime)
        # A Member belongs to its Prime's company: the company attributes are the Prime's, never typed again.
        company = {name: _attr(prime, name) for name in company}
        attrs["corporate_type"] = _attr(prime, "corporate_type") or "corporation"
        # The Prime's own (canonical, lower-case) username: the policy compares it with the record found.
        attrs["prime_username"] = prime["username"]
        prime_valid = _attr(prime, "valid_until")
        valid_until = spec.valid_until or (dt.date.fromisoformat(prime_valid) if prime_valid else None)
    elif spec.prime_username:
        raise AccountError(f"--prime: only a Member has a Prime (tier is {spec.tier.value})")
    else:
        valid_until = spec.valid_until

    if spec.tier is Tier.PROVISIONAL_PRIME:
        if not spec.provisional_rps:
            raise AccountError(
                "--rp: a provisional Prime is valid only at the RPs named on it; name at least one"
            )
        for client_id in spec.provisional_rps:
            try:
                rp = defs.rp(client_id)
            except KeyError as exc:
                raise AccountError(f"--rp {client_id!r}: {exc.args[0]}") from None
            if Tier.PROVISIONAL_PRIME not in rp.accepted_tiers:
                raise AccountError(f"--rp {client_id!r}: this RP does not accept provisional Prime accounts")
        attrs["provisional_rps"] = list(spec.provisional_rps)
    elif spec.provisional_rps:
        raise AccountError(
            f"--rp: only a provisional Prime is limited to named RPs (tier is {spec.tier.value})"
        )

    if spec.branch:
        if spec.tier is not Tier.MEMBER:
            raise AccountError("--branch: only a Member belongs to a branch office")
        attrs["branch"] = spec.branch

    if tier.attributes_verified or spec.tier is Tier.PROVISIONAL_PRIME:
        if attrs["corporate_type"] == "corporation" and not company["corporate_number"]:
            raise AccountError(
                f"--corporate-number: required for a {spec.tier.value} account of a corporation"
            )
        if not company["corporate_name"]:
            raise AccountError(f"--corporate-name: required for a {spec.tier.value} account")
    number = company["corporate_number"]
    if number:
        error = corporate_number_error(number)
        if error:
            raise AccountError(f"--corporate-number: {error}")
    if attrs["corporate_type"] == "sole_proprietor" and number:
        raise AccountError("--corporate-number: sole proprietors have no corporate number")
    attrs.update({k: v for k, v in company.items() if v})

    if spec.tier is not Tier.ENTRY:
        if valid_until is None:
            today = dt.datetime.now(JST).date()
            validity = tier.validity
            if validity is not None:  # the tier's validity period (tiers.yaml)
                valid_until = validity.last_day(today)
            else:
                years = defs.realm.prime_revalidation_years if spec.tier is Tier.PRIME else 1
                valid_until = today.replace(year=today.year + years)
        attrs["valid_until"] = valid_until.isoformat()
    elif valid_until is not None:
        attrs["valid_until"] = valid_until.isoformat()
    if spec.phone_number:
        attrs["phone_number"] = spec.phone_number
    return attrs


def _credentials(password: str, totp_secret: str | None, otp: OtpPolicy) -> list[dict[str, Any]]:
    """The password and, when given, a TOTP credential with the realm's OTP policy (realm.yaml `otp`)."""
    creds: list[dict[str, Any]] = [{"type": "password", "value": password, "temporary": False}]
    if totp_secret:
        creds.append(
            {
                "type": "otp",
                "userLabel": "enrolled by bizid accounts create",
                "secretData": json.dumps({"value": totp_secret}),
                "credentialData": json.dumps(
                    {
                        "subType": "totp",
                        "digits": otp.digits,
                        "counter": 0,
                        "period": otp.period_seconds,
                        "algorithm": otp.algorithm,
                    }
                ),
            }
        )
    return creds


def create(
    spec: AccountSpec, defs: Definitions, admin: Any, blocked: PasswordCheck | None = None
) -> CreatedAccount:
    """Validate, then create the account in one Admin API call."""
    attrs = validate(spec, defs, admin, blocked)
    password = spec.password or _random_password()
    needs_totp = defs.tier(spec.tier).min_acr == "aal2"
    if spec.totp is False and needs_totp:
        raise AccountError(f"--no-totp: a {spec.tier.value} account must have a possession factor")
    needs_totp = needs_totp or bool(spec.totp)
    totp_secret = _random_totp_secret() if needs_totp else None
    payload = {
        "username": spec.username,
        "email": spec.email,
        "emailVerified": True,  # created by an operator, who checked the address
        "firstName": spec.first_name,
        "lastName": spec.last_name,
        "enabled": True,
        "attributes": {k: v if isinstance(v, list) else [v] for k, v in attrs.items()},
        "credentials": _credentials(password, totp_secret, defs.realm.otp),
    }
    try:
        user_id: str = admin.create_user(payload, exist_ok=False)
    except KeycloakError as exc:
        # Checked above; this is the backstop (a policy changed on the server): nothing was kept.
        raise AccountError(
            f"Keycloak refused the account {spec.username!r}: {_keycloak_message(exc)}"
        ) from None
    return CreatedAccount(spec.username, spec.tier, password, totp_secret, user_id)


def _keycloak_message(exc: KeycloakError) -> str:
    body = exc.response_body
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or exc)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(parsed, dict):
        return str(
            parsed.get("errorMessage") or parsed.get("error_description") or parsed.get("error") or parsed
        )
    return text[:300]


# --- demo accounts printed by `bizid up` ------------------------------------------------------------

DEMO_CORPORATE_NUMBER = "5010401089998"


def demo_specs() -> list[AccountSpec]:
    company: dict[str, Any] = {
        "corporate_number": DEMO_CORPORATE_NUMBER,
        "corporate_name": "Demo Manufacturing K.K.",
        "representative_name": "Yamada Taro",
        "address": "1-1 Chiyoda, Chiyoda-ku, Tokyo",
    }
    return [
        AccountSpec(Tier.ENTRY, "demo-entry", "demo-entry@example.test", "Hanako", "Suzuki"),
        AccountSpec(Tier.PRIME, "demo-prime", "demo-prime@example.test", "Taro", "Yamada", **company),
        AccountSpec(
            Tier.MEMBER,
            "demo-member",
            "demo-member@example.test",
            "Jiro",
            "Sato",
            prime_username="demo-prime",
            branch="Osaka branch",
        ),
        AccountSpec(
            Tier.PROVISIONAL_PRIME,
            "demo-provisional",
            "demo-provisional@example.test",
            "Saburo",
            "Tanaka",
            corporate_number="7000012050002",
            corporate_name="Provisional Trading K.K.",
            provisional_rps=("it-subsidy",),
        ),
    ]


def ensure_demo_accounts(admin: Any, store: Path) -> list[CreatedAccount]:
    """One account per tier, created once; their credentials are kept in `store` (mode 600) for
    re-printing."""
    known: dict[str, dict[str, Any]] = json.loads(store.read_text()) if store.exists() else {}
    defs = loader.load()
    result = []
    for spec in demo_specs():
        saved = known.get(spec.username)
        if saved and _user_by_username(admin, spec.username):
            result.append(CreatedAccount(spec.username, spec.tier, saved["password"], saved.get("totp")))
            continue
        existing = _user_by_username(admin, spec.username)
        if existing:  # created elsewhere without saved credentials: start again
            admin.delete_user(existing["id"])
        account = create(spec, defs, admin)
        if spec.tier is Tier.MEMBER:  # its Prime permits the demo Member every RP that accepts Members
            from realm import member_permissions

            member_permissions.permit_all(admin, defs, account.user_id)
        known[spec.username] = {"password": account.password, "totp": account.totp_secret}
        result.append(account)
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(known, indent=2))
    store.chmod(0o600)
    return result
