"""Desired Keycloak state, computed from the definitions: pure functions, no server needed.

Every function here turns validated definitions (`realm.models`) into the Admin REST API representation
(plain dicts) that `realm.reconcile` compares with the live realm and writes. Only fields declared here
are ever compared or written; whatever Keycloak adds on its own (ids, defaults we do not set, generated
salts and secrets) stays server-owned. docs/realm.md explains each choice.

Nothing in this module talks to Keycloak; `load()` reads files and validates them, so a bad definition
fails here, before `realm.reconcile` makes its first request.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from realm import discovery, loader, mail_theme
from realm import smtp as smtp_config
from realm.loader import DEFINITIONS_DIR, DefinitionError
from realm.models import (
    ACR_LOA,
    Definitions,
    PlatformClient,
    RelyingParty,
    ScopeDefinition,
    SmtpServer,
    Tier,
    UserProfileDefinition,
)
from realm.smtp import SmtpCredentials

PROFILE_FILE = "user-profile.yaml"

MANAGED_ATTRIBUTE = "bizid.managed"
"""Client and client-scope attribute marking objects this code created; only those are ever deleted."""

BROWSER_FLOW = "bizid-browser"
REGISTRATION_FLOW = "bizid-registration"
RESET_CREDENTIALS_FLOW = "bizid-reset-credentials"
DIRECT_GRANT_FLOW = "bizid-direct-grant"
FIRST_BROKER_LOGIN_FLOW = "bizid-first-broker-login"

GRANTS_OFF_ATTRIBUTES = {
    "oauth2.device.authorization.grant.enabled": "false",
    "oidc.ciba.grant.enabled": "false",
    "standard.token.exchange.enabled": "false",
}
"""Client attributes that switch off the device grant, CIBA and (standard) token exchange: no client of
the realm is declared to need them, and none of them is guaranteed to end in the bizid-access decision."""


def grant_switches(authorization_code: bool) -> dict[str, bool]:
    """A client's grant switches: at most the authorization code grant (the browser flow, which ends in
    bizid-access); implicit, password and client credentials are always off."""
    return {
        "standardFlowEnabled": authorization_code,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
    }


EXTENSION_VALIDATORS = frozenset({"bizid-corporate-number"})
ENROLMENT_CODE_STEP = "bizid-enrolment-code"
"""After an operator reset, the one-time enrolment code before a new second factor (realm/enrolment.py)."""
EXTENSION_AUTHENTICATORS = frozenset(
    {"bizid-tier-loa", "bizid-access", "bizid-profile-defaults", ENROLMENT_CODE_STEP}
)
EXTENSION_MAPPERS = frozenset({"bizid-release", "bizid-acr"})
EXTENSION_FORM_ACTIONS = frozenset({"bizid-registration-password"})
EXTENSION_PROVIDERS: dict[str, frozenset[str]] = {
    "validator": EXTENSION_VALIDATORS,
    "authenticator": EXTENSION_AUTHENTICATORS,
    "protocol-mapper": EXTENSION_MAPPERS,
    "client-policy-executor": frozenset({"bizid-access-recheck"}),
    "form-action": EXTENSION_FORM_ACTIONS,
    "eventsListener": frozenset({"bizid-notify", "bizid-event-archive"}),
}
"""Provider ids the Java extension (realm/extensions) contributes, by Keycloak SPI name."""

DEFAULT_SCOPES_EVERY_CLIENT = ("basic",)
"""Built-in scopes every client carries: `basic` gives `sub` (and auth_time). The acr claim comes from the
client's own `bizid-acr` mapper (Keycloak's `acr` scope reports the requested level, not the one reached);
without the extension, Keycloak's `acr` scope is used instead."""

DERIVED_CLAIM_ATTRIBUTES = frozenset({"full_name", "account_type", "delegation"})
"""Claim sources the release policy computes (release.rego `_derived_attributes`; tests/test_layers.py
keeps the two equal)."""
COMPUTED_CLAIM_ATTRIBUTES = DERIVED_CLAIM_ATTRIBUTES | {"emailVerified"}
"""Claim sources in scopes.yaml that are not stored attributes: user properties or values the
`bizid-release` mapper computes (full name, gBizID account_type from the tier, the delegation in use)."""

RELEASE_MAPPER_CONFIG = {
    "id.token.claim": "true",
    "access.token.claim": "false",
    "userinfo.token.claim": "true",
    "introspection.token.claim": "false",
}
"""Released claims go to the RP (ID token, userinfo), never into the access token: a resource server that
needs them calls userinfo with the token, which asks the policy again (docs/claims.md)."""

ACR_MAPPER = {
    "name": "acr",
    "protocol": "openid-connect",
    "protocolMapper": "bizid-acr",
    "config": {
        "id.token.claim": "true",
        "access.token.claim": "true",
        "userinfo.token.claim": "true",
        "introspection.token.claim": "true",
    },
}
"""The acr of the level reached (realm/extensions, BizidAcrMapper)."""


def audience_mapper(client_id: str) -> dict[str, Any]:
    """`aud` of the access token: the RP itself (its own resource servers), nobody else."""
    return {
        "name": "audience",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.client.audience": client_id,
            "id.token.claim": "false",
            "access.token.claim": "true",
            "introspection.token.claim": "true",
        },
    }


AMR_MAPPER = {
    "name": "amr",
    "protocol": "openid-connect",
    "protocolMapper": "oidc-amr-mapper",
    "config": {"id.token.claim": "true", "access.token.claim": "true", "introspection.token.claim": "true"},
}
"""Keycloak's AMR mapper (ID and access token; it has no userinfo option). It lists the
`default.reference.value` of each authenticator execution completed in the user session that is younger
than the execution's `default.reference.maxAge` (default 0 s: without one the value is gone at once)."""

AMR_PASSWORD = "pwd"
AMR_OTP = "otp"
AMR_WEBAUTHN = "hwk"
"""RFC 8176 values. WebAuthn proves possession of a key held by an authenticator; with attestation `none` we
cannot tell a hardware key from a synced passkey, so `hwk` is what the method is meant to be."""

ACCESS_PHASE_IDENTIFIED = "identified"
ACCESS_PHASE_COMPLETE = "complete"

Requirement = Literal["REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"]


@dataclass(frozen=True)
class Options:
    """What the build depends on besides the definitions."""

    opa_url: str
    extension: bool = True
    """False only while the Java extension is not installed: its validator, authenticators and mapper are
    left out. Never for a real deployment: without `bizid-access` the login flow would not ask OPA."""
    smtp_server: SmtpServer | None = None
    """The mail server of the platform the realm goes to (local: its Mailpit port); None: the definitions'."""
    smtp_credentials: SmtpCredentials | None = None
    """The SMTP login read for `realm.smtp.server.auth` when the realm is applied (realm/smtp.py)."""


@dataclass(frozen=True)
class Step:
    """An authenticator (or, inside a form flow, a form action) in a flow."""

    provider: str
    requirement: Requirement
    config_alias: str | None = None
    config: dict[str, str] | None = None


@dataclass(frozen=True)
class SubFlow:
    alias: str
    requirement: Requirement
    description: str
    children: tuple[Step | SubFlow, ...]
    flow_type: Literal["basic-flow", "form-flow"] = "basic-flow"
    form_provider: str | None = None
    """For a form flow: the form authenticator that renders it (e.g. registration-page-form)."""


@dataclass(frozen=True)
class Flow:
    """A top-level flow wholly owned by the definitions, and the realm binding that selects it."""

    alias: str
    description: str
    binding: Literal[
        "browserFlow", "registrationFlow", "resetCredentialsFlow", "directGrantFlow", "firstBrokerLoginFlow"
    ]
    children: tuple[Step | SubFlow, ...]

    def shape(self) -> list[dict[str, Any]]:
        """The flow flattened the way GET .../flows/{alias}/executions lists it: depth-first, with levels."""
        rows: list[dict[str, Any]] = []

        def walk(nodes: tuple[Step | SubFlow, ...], level: int) -> None:
            for node in nodes:
                if isinstance(node, SubFlow):
                    rows.append(
                        {
                            "level": level,
                            "flow": node.alias,
                            "type": node.flow_type,
                            "provider": node.form_provider,
                            "requirement": node.requirement,
                        }
                    )
                    walk(node.children, level + 1)
                else:
                    rows.append(
                        {
                            "level": level,
                            "step": node.provider,
                            "requirement": node.requirement,
                            "config": dict(node.config) if node.config is not None else None,
                        }
                    )

        walk(self.children, 0)
        return rows


@dataclass(frozen=True)
class DesiredRealm:
    """Everything the definitions own in the realm, as Admin API representations."""

    name: str
    realm: dict[str, Any]
    events: dict[str, Any]
    user_profile: dict[str, Any]
    client_scopes: tuple[dict[str, Any], ...]
    clients: tuple[dict[str, Any], ...]
    flows: tuple[Flow, ...]
    confidential_clients: frozenset[str] = field(default_factory=frozenset)
    extension: bool = True
    builtin_clients: tuple[dict[str, Any], ...] = ()
    """Keycloak's built-in clients: only the fields listed here are owned; never created or deleted."""
    client_profiles: dict[str, Any] = field(default_factory=lambda: {"profiles": []})
    client_policies: dict[str, Any] = field(default_factory=lambda: {"policies": []})
    """The realm's client profiles and policies (PUT .../client-policies/profiles|policies), wholly owned."""
    """Keycloak's built-in clients: only the fields listed here are owned; never created or deleted."""


# --- loading ----------------------------------------------------------------------------------------


def load_user_profile(directory: Path = DEFINITIONS_DIR) -> UserProfileDefinition:
    path = directory / PROFILE_FILE
    return loader.load_file(path, UserProfileDefinition)


def check_consistency(defs: Definitions, profile: UserProfileDefinition, directory: Path) -> None:
    """Cross-file checks the per-file models cannot make; DefinitionError names file and field."""
    names = {a.name for a in profile.attributes}
    for scope in defs.scopes:
        for claim in scope.claims:
            if claim.attribute not in names and claim.attribute not in COMPUTED_CLAIM_ATTRIBUTES:
                raise DefinitionError(
                    f"{directory / 'scopes.yaml'}: {scope.name}.claims.{claim.name}.attribute: "
                    f"{claim.attribute!r} is neither a user-profile attribute ({PROFILE_FILE}) "
                    f"nor computed by bizid-release {sorted(COMPUTED_CLAIM_ATTRIBUTES)}"
                )
    for scope in defs.scopes:
        if not scope.verified:
            continue
        for claim in scope.claims:
            # A verified claim must be something only the operations centre can set (docs/claims.md).
            if claim.attribute not in names or not profile.attribute(claim.attribute).operator_set:
                raise DefinitionError(
                    f"{directory / 'scopes.yaml'}: {scope.name}.claims.{claim.name}.attribute: the scope is "
                    f"verified, but {claim.attribute!r} is not an operator-set attribute of {PROFILE_FILE} "
                    "(permissions.edit must be [admin]); a holder-editable value is never verified"
                )
    if "tier" in names:
        options = profile.attribute("tier").validations.get("options", {}).get("options")
        if not isinstance(options, list) or set(options) != {t.value for t in Tier}:
            raise DefinitionError(
                f"{directory / PROFILE_FILE}: attributes.tier.validations.options: must list exactly "
                f"{[t.value for t in Tier]} (value: {options!r})"
            )
    lifetimes = defs.realm.lifetimes
    if lifetimes.loa_max_age_aal2 < lifetimes.sso_session_max:
        # A shorter max age lets an aal2 tier come back through the SSO cookie at level 1, skipping the
        # bizid-tier-loa authenticator (it runs only on the form path); bizid-access would then deny.
        raise DefinitionError(
            f"{directory / 'realm.yaml'}: lifetimes.loa_max_age_aal2: must be at least "
            f"lifetimes.sso_session_max ({lifetimes.sso_session_max}) (value: {lifetimes.loa_max_age_aal2})"
        )


def load(directory: Path = DEFINITIONS_DIR) -> tuple[Definitions, UserProfileDefinition]:
    """Load and validate every definition file, including the user profile; raise DefinitionError."""
    defs = loader.load(directory)
    profile = load_user_profile(directory)
    check_consistency(defs, profile, directory)
    return defs, profile


# --- realm settings ---------------------------------------------------------------------------------


def compact_json(value: Any) -> str:
    """JSON as Keycloak stores realm attributes (no spaces, stable key order)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def password_policy(defs: Definitions) -> str:
    p = defs.realm.password
    parts = [f"length({p.min_length})", f"maxLength({p.max_length})"]
    if p.not_username:
        parts.append("notUsername")
    if p.not_email:
        parts.append("notEmail")
    if p.blocklist:
        parts.append(f"passwordBlacklist({p.blocklist})")
    parts += [
        f"hashAlgorithm({p.hash_algorithm})",
        f"hashIterations({p.hash_iterations})",
        f"passwordHistory({p.password_history})",
    ]
    return " and ".join(parts)


def tier_loa(defs: Definitions) -> dict[str, int]:
    """Tier -> least Keycloak level, for the bizid-tier-loa authenticator (realm attribute bizid.tier.loa)."""
    return {t.name.value: ACR_LOA[t.min_acr] for t in defs.tiers}


CONCURRENT_WAIT_ATTRIBUTE = "bizid.bruteForce.concurrentWaitMillis"
"""Read by the extension's WaitingBruteForceProtector (brute_force.concurrent_sign_in_wait_millis)."""


def realm_representation(defs: Definitions) -> dict[str, Any]:
    r = defs.realm
    bf = r.brute_force
    life = r.lifetimes
    return {
        "realm": r.name,
        "enabled": True,
        "displayName": r.display_name,
        "registrationAllowed": r.registration_allowed,
        "registrationEmailAsUsername": False,
        "verifyEmail": r.verify_email,
        "loginWithEmailAllowed": r.login_with_email,
        "duplicateEmailsAllowed": False,
        "editUsernameAllowed": False,
        "rememberMe": False,
        "passwordPolicy": password_policy(defs),
        "bruteForceProtected": True,
        "permanentLockout": bf.permanent_lockout,
        "failureFactor": bf.failure_factor,
        "waitIncrementSeconds": bf.wait_increment_seconds,
        "maxFailureWaitSeconds": bf.max_failure_wait_seconds,
        "maxDeltaTimeSeconds": bf.max_delta_time_seconds,
        "quickLoginCheckMilliSeconds": bf.quick_login_check_millis,
        "minimumQuickLoginWaitSeconds": bf.minimum_quick_login_wait_seconds,
        "maxTemporaryLockouts": bf.max_temporary_lockouts,
        "bruteForceStrategy": bf.strategy,
        "accessTokenLifespan": life.access_token,
        "ssoSessionIdleTimeout": life.sso_session_idle,
        "ssoSessionMaxLifespan": life.sso_session_max,
        "clientSessionIdleTimeout": life.client_session_idle,
        "clientSessionMaxLifespan": life.client_session_max,
        "accessCodeLifespanLogin": life.login_action,
        "otpPolicyType": r.otp.type,
        "otpPolicyAlgorithm": r.otp.algorithm,
        "otpPolicyDigits": r.otp.digits,
        "otpPolicyPeriod": r.otp.period_seconds,
        "otpPolicyLookAheadWindow": r.otp.look_ahead_window,
        "otpPolicyCodeReusable": r.otp.code_reusable,
        "webAuthnPolicyRpEntityName": r.webauthn.rp_entity_name,
        "webAuthnPolicySignatureAlgorithms": list(r.webauthn.signature_algorithms),
        "webAuthnPolicyAttestationConveyancePreference": r.webauthn.attestation,
        "webAuthnPolicyUserVerificationRequirement": r.webauthn.user_verification,
        "revokeRefreshToken": r.refresh_tokens.rotate,
        "refreshTokenMaxReuse": r.refresh_tokens.max_reuse,
        "attributes": {
            "acr.loa.map": compact_json(ACR_LOA),
            "bizid.tier.loa": compact_json(tier_loa(defs)),
            discovery.REALM_ATTRIBUTE: compact_json(discovery.metadata(defs)),
            CONCURRENT_WAIT_ATTRIBUTE: str(bf.concurrent_sign_in_wait_millis),
        },
    }


JSON_REALM_ATTRIBUTES = frozenset({"acr.loa.map", "bizid.tier.loa", discovery.REALM_ATTRIBUTE})
"""Realm attributes holding JSON: compared as parsed values, not as strings."""


def events_config(defs: Definitions) -> dict[str, Any]:
    """PUT /admin/realms/{realm}/events/config. Event types: Keycloak's default set (not declared)."""
    ev = defs.realm.events
    return {
        "eventsEnabled": ev.login_events,
        "eventsExpiration": ev.expiration_seconds,
        "adminEventsEnabled": ev.admin_events,
        "adminEventsDetailsEnabled": ev.admin_events_details,
    }


def event_listeners(options: Options) -> dict[str, Any]:
    """Keycloak's log listener and, with the extension, `bizid-notify` (mail at account events) and
    `bizid-event-archive` (every event as one `bizid-event {json}` log line with its release decision ids:
    the durable copy `bizid audit trace` and `bizid report monthly` read; docs/audit.md)."""
    if not options.extension:
        return {}
    return {"eventsListeners": ["jboss-logging", "bizid-notify", "bizid-event-archive"]}


# --- user profile -----------------------------------------------------------------------------------


def user_profile(profile: UserProfileDefinition, options: Options) -> dict[str, Any]:
    """PUT /admin/realms/{realm}/users/profile (UPConfig)."""
    attributes = []
    for attr in profile.attributes:
        validations = {
            vid: dict(cfg)
            for vid, cfg in attr.validations.items()
            if options.extension or vid not in EXTENSION_VALIDATORS
        }
        rep: dict[str, Any] = {
            "name": attr.name,
            "displayName": attr.display_name,
            "validations": validations,
            "permissions": {"view": list(attr.permissions.view), "edit": list(attr.permissions.edit)},
            "multivalued": attr.multivalued,
        }
        if attr.annotations:
            rep["annotations"] = dict(attr.annotations)
        if attr.required_for:
            rep["required"] = {"roles": list(attr.required_for)}
        if attr.group is not None:
            rep["group"] = attr.group
        if attr.default is not None:
            rep["defaultValue"] = attr.default
        attributes.append(rep)
    config: dict[str, Any] = {
        "attributes": attributes,
        "groups": [
            {"name": g.name, "displayHeader": g.display_header, "displayDescription": g.display_description}
            for g in profile.groups
        ],
    }
    if profile.unmanaged_attribute_policy != "DISABLED":
        config["unmanagedAttributePolicy"] = profile.unmanaged_attribute_policy
    return config


# --- client scopes and clients ----------------------------------------------------------------------


def client_scope(scope: ScopeDefinition) -> dict[str, Any]:
    """An OIDC client scope without protocol mappers: claims are released only by bizid-release (OPA)."""
    return {
        "name": scope.name,
        "description": scope.description,
        "protocol": "openid-connect",
        "attributes": {"include.in.token.scope": "true", MANAGED_ATTRIBUTE: "true"},
        "protocolMappers": [],
    }


def client(rp: RelyingParty, options: Options) -> dict[str, Any]:
    """The Keycloak client of one RP (natural key clientId). The secret is added on create only."""
    mappers: list[dict[str, Any]] = [copy.deepcopy(AMR_MAPPER), audience_mapper(rp.client_id)]
    if options.extension:
        mappers.append(copy.deepcopy(ACR_MAPPER))
        mappers.append(
            {
                "name": "bizid-release",
                "protocol": "openid-connect",
                "protocolMapper": "bizid-release",
                "config": dict(RELEASE_MAPPER_CONFIG),
            }
        )
    if rp.pairwise_sub:
        # The salt is secret and server-owned: the reconciler generates it when absent and never compares it.
        mappers.append(
            {
                "name": "pairwise-sub",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-sha256-pairwise-sub-mapper",
                "config": {"sectorIdentifierUri": ""},
            }
        )
    rep: dict[str, Any] = {
        "clientId": rp.client_id,
        "name": rp.name,
        "description": f"{rp.ministry}: {rp.purpose}",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": rp.client_type == "public",
        "redirectUris": sorted(str(u) for u in rp.redirect_uris),
        "webOrigins": [],
        **grant_switches(authorization_code=True),
        "consentRequired": False,
        "fullScopeAllowed": False,
        "attributes": {
            **GRANTS_OFF_ATTRIBUTES,
            "pkce.code.challenge.method": "S256",
            # Only a floor above the lowest level is declared: Keycloak injects the minimum as the
            # requested acr, and its acr mapper then reports that value even when more was reached.
            "minimum.acr.value": rp.min_acr if ACR_LOA[rp.min_acr] > min(ACR_LOA.values()) else "",
            MANAGED_ATTRIBUTE: "true",
        },
        "defaultClientScopes": [
            *DEFAULT_SCOPES_EVERY_CLIENT,
            *([] if options.extension else ["acr"]),
            *(s for s in rp.scopes if s not in rp.optional_scopes),
        ],
        "optionalClientScopes": list(rp.optional_scopes),
        "protocolMappers": mappers,
    }
    if rp.client_type == "confidential":
        rep["clientAuthenticatorType"] = "client-secret"
    return rep


def builtin_client(platform: PlatformClient) -> dict[str, Any]:
    """The owned fields of one of Keycloak's built-in clients (natural key clientId): whether it is enabled
    and every switch that lets it issue a token. Only the authorization code grant can be declared; it
    runs the realm's browser flow, which ends in bizid-access."""
    return {
        "clientId": platform.client_id,
        "enabled": platform.enabled,
        **grant_switches(authorization_code="authorization_code" in platform.grants),
        "attributes": dict(GRANTS_OFF_ATTRIBUTES),
    }


# --- authentication flows ---------------------------------------------------------------------------


RECOVERY_CODE_STEP = "auth-recovery-authn-code-form"
"""Keycloak's recovery authentication codes (supported, no feature flag, since 26.3): the holder's fallback
second factor, set up with the CONFIGURE_RECOVERY_AUTHN_CODES required action; a one-time code (amr otp)."""


def access_step(alias: str, options: Options, phase: str = ACCESS_PHASE_COMPLETE) -> Step:
    """`bizid-access`: `phase=identified` right after the password step (every rule but the level; cannot
    admit), `phase=complete` as the last step (every rule). See docs/architecture.md, "Access checks happen
    twice"."""
    config = {"opaUrl": options.opa_url, "phase": phase}
    return Step("bizid-access", "REQUIRED", config_alias=alias, config=config)


def amr_config(value: str, max_age: int) -> dict[str, str]:
    """Execution config read by Keycloak's AMR mapper (`Constants.AUTHENTICATION_EXECUTION_REFERENCE_*`)."""
    return {"default.reference.value": value, "default.reference.maxAge": str(max_age)}


def browser_flow(defs: Definitions, options: Options) -> Flow:
    """Identify (SSO cookie, or password at level 1), check access early, raise the level to the tier's
    minimum, then a second factor (TOTP or WebAuthn; TOTP set-up if none is enrolled) at level 2, then ask OPA
    with every rule. Tree and reasons: docs/realm.md."""
    life = defs.realm.lifetimes
    level_1 = SubFlow(
        "bizid-level-1",
        "CONDITIONAL",
        "level 1 (aal1): password",
        (
            Step(
                "conditional-level-of-authentication",
                "REQUIRED",
                "bizid-level-1-condition",
                {"loa-condition-level": "1", "loa-max-age": str(life.loa_max_age_aal1)},
            ),
            Step(
                "auth-username-password-form",
                "REQUIRED",
                "bizid-amr-password",
                amr_config(AMR_PASSWORD, life.sso_session_max),
            ),
        ),
    )
    enrolled = SubFlow(
        "bizid-level-2-enrolled",
        "CONDITIONAL",
        "the user has a second factor: use it",
        (
            Step("conditional-user-configured", "REQUIRED"),
            Step("auth-otp-form", "ALTERNATIVE", "bizid-amr-otp", amr_config(AMR_OTP, life.loa_max_age_aal2)),
            Step(
                "webauthn-authenticator",
                "ALTERNATIVE",
                "bizid-amr-webauthn",
                amr_config(AMR_WEBAUTHN, life.loa_max_age_aal2),
            ),
            Step(
                RECOVERY_CODE_STEP,
                "ALTERNATIVE",
                "bizid-amr-recovery-code",
                amr_config(AMR_OTP, life.loa_max_age_aal2),
            ),
        ),
    )
    enrol = SubFlow(
        "bizid-level-2-enrol",
        "CONDITIONAL",
        "no second factor yet: set up TOTP (CONFIGURE_TOTP required action)",
        (
            Step(
                "conditional-sub-flow-executed",
                "REQUIRED",
                "bizid-level-2-enrol-condition",
                {"flow_to_check": enrolled.alias, "check_result": "not-executed"},
            ),
            *((Step(ENROLMENT_CODE_STEP, "REQUIRED"),) if options.extension else ()),
            Step(
                "auth-otp-form",
                "REQUIRED",
                "bizid-amr-otp-enrol",
                amr_config(AMR_OTP, life.loa_max_age_aal2),
            ),
        ),
    )
    level_2 = SubFlow(
        "bizid-level-2",
        "CONDITIONAL",
        "level 2 (aal2): possession factor",
        (
            Step(
                "conditional-level-of-authentication",
                "REQUIRED",
                "bizid-level-2-condition",
                {"loa-condition-level": "2", "loa-max-age": str(life.loa_max_age_aal2)},
            ),
            enrolled,
            enrol,
        ),
    )
    forms_children: list[Step | SubFlow] = [level_1]
    if options.extension:
        early = access_step("bizid-browser-access-identified", options, ACCESS_PHASE_IDENTIFIED)
        forms_children.append(early)
        forms_children.append(Step("bizid-tier-loa", "REQUIRED"))
    forms_children.append(level_2)
    identify = SubFlow(
        "bizid-identify",
        "REQUIRED",
        "who is signing in, at which level",
        (
            Step("auth-cookie", "ALTERNATIVE"),
            SubFlow("bizid-forms", "ALTERNATIVE", "sign-in forms, level by level", tuple(forms_children)),
        ),
    )
    top: list[Step | SubFlow] = [identify]
    if options.extension:
        top.append(access_step("bizid-browser-access", options))
    return Flow(
        BROWSER_FLOW,
        "bizid sign-in: levels of authentication, tier minimum, OPA access decision",
        "browserFlow",
        tuple(top),
    )


def registration_flow(options: Options) -> Flow:
    """Keycloak's registration form (user profile + password), then the user-profile defaults stored on the
    new account (tier=entry, account_status=active: Keycloak does not store defaults of attributes the user
    may not edit), then the OPA access decision, so a new Entry account is not signed in to an RP that does
    not accept it."""
    form = SubFlow(
        "bizid-registration-form",
        "REQUIRED",
        "registration form (user profile, password)",
        (
            Step("registration-user-creation", "REQUIRED"),
            Step("registration-password-action", "REQUIRED"),
            *((Step("bizid-registration-password", "REQUIRED"),) if options.extension else ()),
        ),
        flow_type="form-flow",
        form_provider="registration-page-form",
    )
    top: list[Step | SubFlow] = [form]
    if options.extension:
        top.append(Step("bizid-profile-defaults", "REQUIRED"))
        top.append(access_step("bizid-registration-access", options))
    return Flow(
        REGISTRATION_FLOW, "bizid self-registration: creates an Entry account", "registrationFlow", tuple(top)
    )


def reset_credentials_flow(options: Options) -> Flow:
    """Keycloak's reset-credentials steps (who, e-mail link, new password) then the OPA access decision: the
    flow ends in a sign-in to the client that started it, so it must pass the policy like the browser flow.
    Keycloak's "reset OTP" step is left out: proving control of the e-mail address must not remove the
    second factor. A Prime or Member is refused at an aal2 RP after a reset (level 1) and signs in again."""
    top: list[Step | SubFlow] = [
        Step("reset-credentials-choose-user", "REQUIRED"),
        Step("reset-credential-email", "REQUIRED"),
        Step("reset-password", "REQUIRED"),
    ]
    if options.extension:
        top.append(access_step("bizid-reset-credentials-access", options))
    else:
        top.append(Step("deny-access-authenticator", "REQUIRED"))
    return Flow(
        RESET_CREDENTIALS_FLOW,
        "bizid password reset: e-mail link, new password, OPA access decision",
        "resetCredentialsFlow",
        tuple(top),
    )


def deny_flow(alias: str, binding: Literal["directGrantFlow", "firstBrokerLoginFlow"], why: str) -> Flow:
    """A flow that refuses everyone, bound where the realm offers no way in (docs/realm.md)."""
    return Flow(
        alias,
        f"bizid: denies every request ({why})",
        binding,
        (Step("deny-access-authenticator", "REQUIRED"),),
    )


def owned_flows(defs: Definitions, options: Options) -> tuple[Flow, ...]:
    """Every top-level flow the realm binds: each either ends in bizid-access or denies."""
    return (
        browser_flow(defs, options),
        registration_flow(options),
        reset_credentials_flow(options),
        deny_flow(DIRECT_GRANT_FLOW, "directGrantFlow", "no client may use the password grant"),
        deny_flow(FIRST_BROKER_LOGIN_FLOW, "firstBrokerLoginFlow", "the realm brokers no identity provider"),
    )


# --- client policies --------------------------------------------------------------------------------

ACCESS_RECHECK_EXECUTOR = "bizid-access-recheck"
WITHDRAWAL_PROFILE = "bizid-withdrawal"
WITHDRAWAL_POLICY = "bizid-withdrawal"


def client_profiles(options: Options) -> dict[str, Any]:
    """The realm's client profiles: one, whose executor asks OPA again at every token refresh."""
    if not options.extension:
        return {"profiles": []}
    return {
        "profiles": [
            {
                "name": WITHDRAWAL_PROFILE,
                "description": "bizid: a withdrawal (suspension, expiry, revoked delegation) ends "
                "the session at the next refresh",
                "executors": [
                    {"executor": ACCESS_RECHECK_EXECUTOR, "configuration": {"opaUrl": options.opa_url}}
                ],
            }
        ]
    }


def client_policies(options: Options) -> dict[str, Any]:
    """The realm's client policies: the withdrawal profile applies to every client."""
    if not options.extension:
        return {"policies": []}
    return {
        "policies": [
            {
                "name": WITHDRAWAL_POLICY,
                "description": "bizid: every client, every refresh passes the access policy again",
                "enabled": True,
                "conditions": [{"condition": "any-client", "configuration": {}}],
                "profiles": [WITHDRAWAL_PROFILE],
            }
        ]
    }


# --- everything -------------------------------------------------------------------------------------


def desired(defs: Definitions, profile: UserProfileDefinition, options: Options) -> DesiredRealm:
    return DesiredRealm(
        name=defs.realm.name,
        realm={
            **realm_representation(defs),
            **mail_theme.realm_settings(defs.realm.localisation, options.extension),
            "smtpServer": smtp_config.smtp_server(
                defs.realm.smtp, options.smtp_server, options.smtp_credentials
            ),
        },
        events={**events_config(defs), **event_listeners(options)},
        user_profile=user_profile(profile, options),
        client_scopes=tuple(client_scope(s) for s in defs.scopes),
        clients=tuple(client(rp, options) for rp in defs.rps),
        flows=owned_flows(defs, options),
        confidential_clients=frozenset(rp.client_id for rp in defs.rps if rp.client_type == "confidential"),
        extension=options.extension,
        builtin_clients=tuple(builtin_client(c) for c in defs.platform_clients),
        client_profiles=client_profiles(options),
        client_policies=client_policies(options),
    )
