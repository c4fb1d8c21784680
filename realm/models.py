"""Typed shapes of the realm definitions under `realm/definitions/`.

These files are the single source of truth: the Keycloak realm is built from them (`realm.build`), and the
OPA data document is generated from them (`realm.opa_data`). Validation happens here, before any side
effect, so a bad definition never reaches Keycloak or OPA.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a definition must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(StrEnum):
    """Account tiers (DOMAIN.md). The value is what Keycloak stores in the user attribute `tier`."""

    ENTRY = "entry"
    PRIME = "prime"
    MEMBER = "member"
    PROVISIONAL_PRIME = "provisional-prime"


Acr = Literal["aal1", "aal2"]
"""Authentication levels an RP can require. aal1: password; aal2: password + possession factor."""

ACR_LOA: dict[str, int] = {"aal1": 1, "aal2": 2}
"""acr value -> Keycloak level of authentication (realm attribute acr.loa.map)."""

CLIENT_ID = r"^[a-z][a-z0-9-]{1,62}$"
SCOPE_NAME = r"^[a-z][a-z0-9_-]{1,62}$"
CLAIM_NAME = r"^[a-z][a-z0-9_]{1,62}$"


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (a name such as 127.rp.example is not an address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redirect_uri_error(uri: AnyUrl) -> str | None:
    """None for an acceptable redirect URI, else why not (RFC 9700 §2.1, §4.1; RFC 8252 §7.3).

    Exact https URIs only; plain http only to a loopback address (a native or local test RP); no other
    scheme (`javascript:`, `data:`, custom schemes), no fragment (RFC 6749 §3.1.2), no wildcard.
    """
    text = str(uri)
    if "*" in text:
        return f"wildcard redirect URI {text} is not allowed: register exact URIs"
    scheme = (uri.scheme or "").lower()
    host = (uri.host or "").lower()
    if scheme not in ("https", "http"):
        return (
            f"redirect URI {text} has scheme {scheme!r}: only https (or http to a loopback host) is allowed"
        )
    if scheme == "http" and not _is_loopback(host):
        return f"redirect URI {text} uses http on host {host!r}: https is required except for loopback"
    if uri.fragment is not None:
        return f"redirect URI {text} has a fragment: redirect URIs must not contain '#'"
    if uri.username or uri.password:
        return f"redirect URI {text} carries credentials: not allowed"
    return None


def add_months(start: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the last day of a shorter month (31 Jan + 1 -> 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


class Validity(Strict):
    """How long an account of a tier is valid after issue or renewal, and when it may be renewed.

    gBizID (from July 2026, DOMAIN.md): 2 years 3 months, with renewal. The account is valid through the
    same calendar day `years` and `months` later (clamped to the month's last day).
    """

    years: Annotated[int, Field(ge=0, le=10)]
    months: Annotated[int, Field(ge=0, le=11)] = 0
    renewal_window_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        description="renewal is possible from this many days before the last valid day (and after it)"
    )
    renewable: bool = True

    @model_validator(mode="after")
    def _not_empty(self) -> Validity:
        if self.years == 0 and self.months == 0:
            raise ValueError("a validity period must be at least one month")
        return self

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def last_day(self, start: dt.date) -> dt.date:
        """The last valid day of an account issued or renewed on `start`."""
        return add_months(start, self.total_months)

    def describe(self) -> str:
        parts = [f"{self.years} year(s)"] if self.years else []
        parts += [f"{self.months} month(s)"] if self.months else []
        return " ".join(parts)


class TierDefinition(Strict):
    """What a tier means: how it was proofed and the least authentication level its holder must reach."""

    name: Tier
    label: str
    account_type: int = Field(
        description="gBizID account_type code released to RPs (1 entry, 2 prime, 3 member)"
    )
    identity_proofing: str
    attributes_verified: bool = Field(description="false: attributes are self-asserted (Entry)")
    min_acr: Acr
    can_create_members: bool = False
    rp_scoped: bool = Field(False, description="valid only at the RPs named on the account (provisional)")
    issued_by_prime: bool = Field(
        False,
        description="issued and vouched for by a Prime (Member): valid only while that Prime is",
    )
    validity: Validity | None = Field(
        None, description="validity period and renewal of the tier's accounts (None: no expiry, Entry)"
    )


class Claim(Strict):
    """One user attribute released under a scope. `attribute` is the Keycloak user attribute or property."""

    name: Annotated[str, Field(pattern=CLAIM_NAME)]
    attribute: str
    description: str
    multivalued: bool = False


class ScopeDefinition(Strict):
    """A client scope an RP can register for; the claims it carries and why."""

    name: Annotated[str, Field(pattern=SCOPE_NAME)]
    description: str
    verified: bool = Field(
        False,
        description="for verified tiers, also released inside verified_claims; every claim must read an "
        "operator-set attribute (checked against user-profile.yaml at load time, docs/claims.md)",
    )
    claims: tuple[Claim, ...]
    describes_company: bool = False
    """Its claims describe the company: bizid.release releases them only to tiers with verified attributes."""


class Procedure(Strict):
    """A procedure at an RP that can be delegated; some legally require a licensed professional."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    name: str
    licences_accepted: tuple[str, ...] = Field(
        (), description="licence kinds of which the delegate must hold one (empty: no licence required)"
    )


class RelyingParty(Strict):
    """One registered relying party: the single record from which its Keycloak client and OPA data come."""

    client_id: Annotated[str, Field(pattern=CLIENT_ID)]
    name: str
    ministry: str
    purpose: str = Field(min_length=10, description="why the RP may receive attributes (purpose limitation)")
    client_type: Literal["public", "confidential"]
    redirect_uris: tuple[AnyUrl, ...] = Field(min_length=1)
    accepted_tiers: tuple[Tier, ...] = Field(min_length=1)
    min_acr: Acr
    scopes: tuple[Annotated[str, Field(pattern=SCOPE_NAME)], ...]
    optional_scopes: tuple[Annotated[str, Field(pattern=SCOPE_NAME)], ...] = Field(
        (),
        description="registered scopes released only when the RP asks for them (scope=...); the others are "
        "default scopes, released at every sign-in",
    )
    pairwise_sub: bool = False
    procedures: tuple[Procedure, ...] = ()

    @field_validator("redirect_uris")
    @classmethod
    def _safe_redirect_uris(cls, uris: tuple[AnyUrl, ...]) -> tuple[AnyUrl, ...]:
        for uri in uris:
            error = redirect_uri_error(uri)
            if error:
                raise ValueError(error)
        return uris

    @model_validator(mode="after")
    def _optional_scopes_registered(self) -> RelyingParty:
        unknown = [s for s in self.optional_scopes if s not in self.scopes]
        if unknown:
            raise ValueError(
                f"optional_scopes {unknown} are not among the registered scopes {list(self.scopes)}"
            )
        return self

    @field_validator("accepted_tiers", "scopes", "optional_scopes")
    @classmethod
    def _unique(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        seen = [v for v in values if values.count(v) > 1]
        if seen:
            raise ValueError(f"duplicate entries: {sorted(set(map(str, seen)))}")
        return values


GrantName = Literal["authorization_code"]
"""Grants a platform client may be declared to need. Only the browser flow (which runs bizid-access) is
offered: direct grant, implicit, client credentials, device, CIBA and token exchange stay off everywhere."""

BUILTIN_CLIENTS = (
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
)
"""Clients Keycloak creates in every realm; platform-clients.yaml must declare each of them."""


class PlatformClient(Strict):
    """One of Keycloak's built-in clients in the realm, declared like an RP: whether it stays enabled, the
    grants it needs and, if users sign in to it, which tiers at which level. Never created or deleted by the
    reconciler (Keycloak owns them); only the fields that decide whether it can issue a token are owned."""

    client_id: Annotated[str, Field(pattern=CLIENT_ID)]
    purpose: str = Field(min_length=10, description="why the client stays enabled, or why it is disabled")
    enabled: bool
    grants: tuple[GrantName, ...] = Field((), description="grants the client needs; empty: none")
    accepted_tiers: tuple[Tier, ...] = Field((), description="tiers that may sign in to it")
    min_acr: Acr = "aal1"
    any_provisional: bool = Field(
        False,
        description="a provisional Prime may use it whatever RPs its account names (its own account page)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> PlatformClient:
        if self.client_id not in BUILTIN_CLIENTS:
            raise ValueError(f"{self.client_id!r} is not a Keycloak built-in client {list(BUILTIN_CLIENTS)}")
        if self.grants and not self.enabled:
            raise ValueError("a disabled client needs no grants")
        if bool(self.grants) != bool(self.accepted_tiers):
            raise ValueError("a client users sign in to needs both grants and accepted_tiers")
        return self


Seconds = Annotated[int, Field(gt=0)]


class PasswordPolicy(Strict):
    min_length: Annotated[int, Field(ge=8)]
    max_length: Annotated[int, Field(ge=64)]
    not_username: bool
    not_email: bool
    hash_algorithm: Literal["argon2", "pbkdf2-sha512"]
    hash_iterations: Annotated[int, Field(ge=1)]
    password_history: Annotated[int, Field(ge=0)]
    blocklist: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}\.txt$")] | None = Field(
        None,
        description="file name of the common-password list (passwordBlacklist policy);"
        " scripts/password_blocklist.py"
        " makes it from the list a pinned package ships",
    )


class BruteForce(Strict):
    failure_factor: Annotated[int, Field(ge=1, le=100)]
    wait_increment_seconds: Seconds
    max_failure_wait_seconds: Seconds
    max_delta_time_seconds: Seconds
    quick_login_check_millis: Annotated[int, Field(ge=0)]
    minimum_quick_login_wait_seconds: Seconds
    permanent_lockout: bool
    max_temporary_lockouts: Annotated[int, Field(ge=0)] = 0
    """0: temporary lockouts never turn permanent (Keycloak's permanent-after-temporary mode is off)."""
    strategy: Literal["MULTIPLE", "LINEAR"] = "MULTIPLE"
    """How the wait grows: MULTIPLE adds wait_increment_seconds every failure_factor failures."""
    concurrent_sign_in_wait_millis: Annotated[int, Field(ge=0, le=10_000)] = 0
    """A sign-in that arrives while another sign-in of the same account is being checked waits this long for
    its turn (realm attribute bizid.bruteForce.concurrentWaitMillis, read by the extension's
    bizid-waiting-brute-force-detector) instead of being refused at once; 0 = Keycloak's refusal."""

    @model_validator(mode="after")
    def _no_lockout_dos(self) -> BruteForce:
        if self.permanent_lockout or self.max_temporary_lockouts:
            raise ValueError("a permanent lockout lets anyone disable any account by guessing")
        if self.max_failure_wait_seconds < self.wait_increment_seconds:
            raise ValueError("max_failure_wait_seconds must be at least wait_increment_seconds")
        return self


class Lifetimes(Strict):
    access_token: Seconds
    sso_session_idle: Seconds
    sso_session_max: Seconds
    client_session_idle: Seconds
    client_session_max: Seconds
    login_action: Seconds
    loa_max_age_aal2: Seconds
    loa_max_age_aal1: Seconds = 36000
    """How long a password sign-in (level 1) counts for SSO; Keycloak's own default for a level, 10 h."""

    @model_validator(mode="after")
    def _ordered(self) -> Lifetimes:
        if self.sso_session_idle > self.sso_session_max:
            raise ValueError("sso_session_idle must not exceed sso_session_max")
        return self


class Events(Strict):
    login_events: bool
    admin_events: bool
    admin_events_details: bool
    expiration_seconds: Seconds


class OtpPolicy(Strict):
    """One-time password policy. Defaults are what every authenticator app supports (RFC 6238 TOTP)."""

    type: Literal["totp"] = "totp"
    algorithm: Literal["HmacSHA1", "HmacSHA256", "HmacSHA512"] = "HmacSHA1"
    digits: Literal[6, 8] = 6
    period_seconds: Annotated[int, Field(ge=15, le=120)] = 30
    look_ahead_window: Annotated[int, Field(ge=0, le=3)] = 1
    code_reusable: bool = False


class WebAuthnPolicy(Strict):
    """WebAuthn (security keys and passkeys) used as the second factor, an alternative to TOTP."""

    rp_entity_name: str = "bizid"
    signature_algorithms: tuple[Literal["ES256", "ES384", "ES512", "RS256", "EdDSA"], ...] = (
        "ES256",
        "RS256",
    )
    attestation: Literal["none", "indirect", "direct", "not specified"] = "none"
    user_verification: Literal["required", "preferred", "discouraged", "not specified"] = "preferred"


class RefreshTokens(Strict):
    """Refresh-token rotation with reuse detection (RFC 9700 §4.14.2)."""

    rotate: Literal[True] = Field(True, description="every refresh returns a new refresh token")
    max_reuse: Literal[0] = Field(0, description="a refresh token works once; a replay ends its session")


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = rf"^{_LABEL}(?:\.{_LABEL})*$"
MAIL_ADDRESS = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$"


class SmtpAuth(Strict):
    """Where the SMTP login comes from: a secret the caller of `realm apply` reads (never the definitions).

    On AWS the stacks keep the SES SMTP credentials in Secrets Manager (infra/components/secrets.py,
    `smtp_secret_name`), a JSON object {"username": ..., "password": ...}; a target overlay names it here.
    """

    source: Literal["aws-secretsmanager", "file"] = Field(
        description="aws-secretsmanager: a secret id; file: a JSON file under the platform's secrets folder"
    )
    secret: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@:-]{1,2048}$", description="secret id or ARN")]
    region: Annotated[str, Field(pattern=r"^[a-z]{2}-[a-z]+-[0-9]$")] | None = Field(
        None, description="the secret's AWS region (required for aws-secretsmanager)"
    )

    @model_validator(mode="after")
    def _region(self) -> SmtpAuth:
        if self.source == "aws-secretsmanager" and self.region is None:
            raise ValueError("region: required for an aws-secretsmanager secret")
        return self


class SmtpServer(Strict):
    """The mail server Keycloak and the platform's notifier send through (realm smtpServer)."""

    host: Annotated[str, Field(pattern=HOSTNAME, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)]
    starttls: bool = False
    ssl: bool = False
    auth: SmtpAuth | None = None

    @model_validator(mode="after")
    def _safe(self) -> SmtpServer:
        if self.starttls and self.ssl:
            raise ValueError("choose one of starttls and ssl")
        if self.auth is not None and not (self.starttls or self.ssl):
            raise ValueError("an SMTP login must not travel in clear text: set starttls or ssl")
        if not (self.starttls or self.ssl) and not _is_loopback(self.host):
            raise ValueError(f"plain SMTP only to a loopback address, not {self.host!r}: set starttls or ssl")
        return self


class SmtpSettings(Strict):
    """Who the platform's mail comes from, and (by default) where it goes; docs/mail.md."""

    from_address: Annotated[str, Field(alias="from", pattern=MAIL_ADDRESS)]
    from_display_name: Annotated[str, Field(min_length=1, max_length=100)]
    reply_to: Annotated[str, Field(pattern=MAIL_ADDRESS)] | None = None
    envelope_from: Annotated[str, Field(pattern=MAIL_ADDRESS)] | None = None
    server: SmtpServer = Field(
        description="the local platform's Mailpit by default; a target overlay sets its own (e.g. SES)"
    )


LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"


class Localisation(Strict):
    """The realm's languages, and the e-mail theme Keycloak's own mails (verification, password reset,
    execute actions) use: `bizid`, packaged in the extension jar, bilingual Japanese then English
    (realm/extensions/src/main/resources/theme/bizid/email; docs/mail.md)."""

    locales: Annotated[tuple[Annotated[str, Field(pattern=LOCALE)], ...], Field(min_length=1)] = ("ja", "en")
    default_locale: Annotated[str, Field(pattern=LOCALE)] = "en"
    email_theme: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")] | None = "bizid"

    @model_validator(mode="after")
    def _default_is_supported(self) -> Localisation:
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale {self.default_locale!r} is not in locales {list(self.locales)}")
        if len(set(self.locales)) != len(self.locales):
            raise ValueError(f"locales: a locale is named twice in {list(self.locales)}")
        return self


class RealmSettings(Strict):
    """Realm-wide security settings; docs/realm.md explains each choice."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]+$")]
    display_name: str
    registration_allowed: bool
    verify_email: bool
    password: PasswordPolicy
    brute_force: BruteForce
    lifetimes: Lifetimes
    events: Events
    prime_revalidation_years: Annotated[int, Field(ge=1, le=10)]
    login_with_email: bool = True
    otp: OtpPolicy = OtpPolicy()
    webauthn: WebAuthnPolicy = WebAuthnPolicy()
    refresh_tokens: RefreshTokens = RefreshTokens()
    smtp: SmtpSettings | None = Field(
        None, description="the realm's mail; without it verification and notification mail cannot be sent"
    )
    localisation: Localisation = Localisation()


def corporate_number_check_digit(base12: str) -> int:
    """National Tax Agency check digit for the 12 digits that follow it.

    Counting the 12 digits from the right (n = 1..12), weight 1 for odd n and 2 for even n;
    check digit = 9 - (sum mod 9).
    """
    if len(base12) != 12 or not base12.isdigit():
        raise ValueError("need exactly 12 digits")
    total = sum(int(d) * (2 if n % 2 == 0 else 1) for n, d in enumerate(reversed(base12), start=1))
    return 9 - (total % 9)


def corporate_number_error(value: str) -> str | None:
    """None when `value` is a valid corporate number (法人番号), else a message that says what is wrong."""
    if not re.fullmatch(r"[0-9]{13}", value):
        return f"corporate number {value!r} must be exactly 13 digits"
    expected = corporate_number_check_digit(value[1:])
    if int(value[0]) != expected:
        return f"corporate number {value!r} has check digit {value[0]}, expected {expected}"
    return None


class LicenceKind(Strict):
    """A licensed profession (士業) that can be required of a delegate."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    name: str
    body: str


class Definitions(Strict):
    """Everything under realm/definitions/, cross-checked: every reference must resolve."""

    realm: RealmSettings
    tiers: tuple[TierDefinition, ...]
    scopes: tuple[ScopeDefinition, ...]
    licences: tuple[LicenceKind, ...]
    rps: tuple[RelyingParty, ...]
    platform_clients: tuple[PlatformClient, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> Definitions:
        if {t.name for t in self.tiers} != set(Tier):
            raise ValueError(f"tiers must define exactly {[t.value for t in Tier]}")
        for t in self.tiers:
            if (t.attributes_verified or t.rp_scoped) and t.validity is None:
                raise ValueError(
                    f"tier {t.name.value!r} must have a validity (its accounts need valid_until)"
                )
        issued = [t.name.value for t in self.tiers if t.issued_by_prime]
        if issued and not any(t.can_create_members for t in self.tiers):
            raise ValueError(f"tiers {issued} are issued by a Prime, but no tier can_create_members")
        scope_names = {s.name for s in self.scopes}
        licence_kinds = {lic.kind for lic in self.licences}
        client_ids: set[str] = set()
        for rp in self.rps:
            if rp.client_id in client_ids:
                raise ValueError(f"RP {rp.client_id!r} is defined twice")
            client_ids.add(rp.client_id)
            for scope in rp.scopes:
                if scope not in scope_names:
                    raise ValueError(f"RP {rp.client_id!r} registers unknown scope {scope!r}")
            for proc in rp.procedures:
                for kind in proc.licences_accepted:
                    if kind not in licence_kinds:
                        raise ValueError(
                            f"RP {rp.client_id!r} procedure {proc.id!r} accepts unknown licence {kind!r}"
                        )
            if rp.procedures and "delegation" not in rp.scopes:
                raise ValueError(f"RP {rp.client_id!r} has delegable procedures but no 'delegation' scope")
        self._platform_clients_complete(client_ids)
        return self

    def _platform_clients_complete(self, rp_ids: set[str]) -> None:
        declared = [c.client_id for c in self.platform_clients]
        for client_id in sorted({c for c in declared if declared.count(c) > 1}):
            raise ValueError(f"platform client {client_id!r} is declared twice")
        missing = sorted(set(BUILTIN_CLIENTS) - set(declared))
        if missing:
            raise ValueError(f"platform clients {missing} are not declared: say whether each stays enabled")
        for client_id in sorted(rp_ids & set(declared)):
            raise ValueError(f"{client_id!r} is both an RP and a platform client")

    def tier(self, name: Tier) -> TierDefinition:
        return next(t for t in self.tiers if t.name == name)

    def rp(self, client_id: str) -> RelyingParty:
        for rp in self.rps:
            if rp.client_id == client_id:
                return rp
        raise KeyError(f"unknown RP {client_id!r}; registered: {sorted(r.client_id for r in self.rps)}")


# --- declarative user profile (realm/definitions/user-profile.yaml) -----------------------------------

ProfileRole = Literal["admin", "user"]
"""Who may view or edit an attribute: `admin` (Admin API, operators), `user` (the account holder)."""

PROFILE_ATTRIBUTE = r"^[A-Za-z][A-Za-z0-9_]{1,62}$"


class AttributePermissions(Strict):
    view: tuple[ProfileRole, ...]
    edit: tuple[ProfileRole, ...]

    @model_validator(mode="after")
    def _edit_implies_view(self) -> AttributePermissions:
        missing = [r for r in self.edit if r not in self.view]
        if missing:
            raise ValueError(f"roles {missing} may edit but not view the attribute")
        return self


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def validator_config_error(validator: str, config: dict[str, str | int | bool | list[str]]) -> str | None:
    """What Keycloak's built-in validators refuse in their configuration (it answers HTTP 400 on the whole
    user profile otherwise); unknown validators are checked against the server in realm.preflight."""
    if validator in ("length", "integer", "double"):
        bounds = {}
        for key in ("min", "max"):
            if key in config:
                number = _number(config[key])
                if number is None or (validator != "double" and not number.is_integer()):
                    kind = "number" if validator == "double" else "whole number"
                    return f"{key}: {config[key]!r} is not a {kind}"
                if validator == "length" and number < 0:
                    return f"{key}: must not be negative"
                bounds[key] = number
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            return f"min {config['min']!r} is greater than max {config['max']!r}"
    if validator == "pattern":
        pattern = config.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            return "pattern: a regular expression is required"
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"pattern: {pattern!r} is not a regular expression ({exc})"
    if validator == "options":
        options = config.get("options")
        if not isinstance(options, list) or not options or not all(isinstance(o, str) and o for o in options):
            return "options: a non-empty list of values is required"
    return None


class ProfileAttribute(Strict):
    """One user attribute of the declarative user profile and who may see and change it."""

    name: Annotated[str, Field(pattern=PROFILE_ATTRIBUTE)]
    display_name: str
    group: str | None = None
    permissions: AttributePermissions
    required_for: tuple[ProfileRole, ...] = Field(
        (), description="contexts in which a value is mandatory (user: registration and account console)"
    )
    multivalued: bool = False
    default: str | None = Field(None, description="value Keycloak stores when the attribute is left empty")
    validations: dict[str, dict[str, str | int | bool | list[str]]] = Field(
        default_factory=dict, description="Keycloak validator id -> its configuration"
    )
    annotations: dict[str, str] = Field(default_factory=dict)
    reason: str = Field(min_length=10, description="why these permissions (shown to reviewers only)")

    @property
    def operator_set(self) -> bool:
        """Only operators can change it: the holder may never edit it (what a verified claim may read)."""
        return "user" not in self.permissions.edit

    @field_validator("validations")
    @classmethod
    def _validator_configs(
        cls, validations: dict[str, dict[str, str | int | bool | list[str]]]
    ) -> dict[str, dict[str, str | int | bool | list[str]]]:
        for validator, config in validations.items():
            error = validator_config_error(validator, config)
            if error:
                raise ValueError(f"validations.{validator}: {error}")
        return validations

    @model_validator(mode="after")
    def _default_is_an_option(self) -> ProfileAttribute:
        options = self.validations.get("options", {}).get("options")
        if self.default is not None and isinstance(options, list) and self.default not in options:
            raise ValueError(f"default {self.default!r} is not one of the options {options}")
        return self


class ProfileGroup(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    display_header: str
    display_description: str


class UserProfileDefinition(Strict):
    """The realm's declarative user profile: every attribute anyone may store, with its permissions."""

    unmanaged_attribute_policy: Literal["ADMIN_VIEW", "DISABLED"]
    groups: tuple[ProfileGroup, ...] = ()
    attributes: tuple[ProfileAttribute, ...]

    @model_validator(mode="after")
    def _consistent(self) -> UserProfileDefinition:
        names = [a.name for a in self.attributes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"attributes defined twice: {duplicates}")
        for required in ("username", "email"):
            if required not in names:
                raise ValueError(f"Keycloak requires the attribute {required!r} in the user profile")
        groups = {g.name for g in self.groups}
        for attr in self.attributes:
            if attr.group is not None and attr.group not in groups:
                raise ValueError(f"attribute {attr.name!r} names unknown group {attr.group!r}")
        return self

    def attribute(self, name: str) -> ProfileAttribute:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        raise KeyError(f"no user-profile attribute {name!r}")
