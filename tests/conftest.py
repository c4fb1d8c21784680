"""Shared fixtures. Tests marked `platform` run against the real PostgreSQL, Keycloak and OPA.

The suite starts the local platform itself when it is not already running (and stops what it started),
so `make test` works on a fresh machine and beside a developer's `make up` alike.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import itertools
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from realm import accounts, loader, reconcile
from realm.accounts import AccountSpec, CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, Client, LoginResult
from realm.oidc.next_totp import NextTotp
from scripts import services, settings
from scripts.keycloak_admin import admin_client
from scripts.sample_rp.client import Refused, SampleRp, SignedIn
from scripts.sample_rp.config import redirect_uri, rp_config
from scripts.settings import Settings
from tests.s3_server import s3_bucket, s3_server  # noqa: F401  (fixtures: a real S3 server, MinIO)

MakeAccount = Callable[..., CreatedAccount]
_ACCOUNT_SERIAL = itertools.count()  # one sequence for the whole run: usernames never collide across modules

TEST_COMPANY = {
    "corporate_number": "5010401089998",
    "corporate_name": "Test K.K.",
    "representative_name": "Test Representative",
    "address": "Tokyo",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the `platform` fixture (directly or through another fixture) is a platform test,
    so `make test-fast` (`-m "not platform"`) never starts the platform."""
    for item in items:
        if "platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.platform)


@pytest.fixture(scope="session")
def platform() -> Iterator[Settings]:
    cfg = settings.load()
    already_running = all(s.healthy for s in services.status(cfg))
    services.start_all(cfg)
    reconcile.apply_definitions(cfg.target(), cfg.paths.secrets)
    yield cfg
    if not already_running and not os.environ.get("BIZID_KEEP_PLATFORM"):
        services.stop_all(cfg)


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    """The definitions as the local platform runs them (redirect URIs on its RP port)."""
    return settings.load().definitions()


@pytest.fixture(scope="session")
def run_id() -> str:
    """A suffix that keeps accounts of this run apart from those of earlier runs on the same platform."""
    return uuid.uuid4().hex[:8]


def rp_client(cfg: Settings, defs: Definitions, client_id: str) -> Client:
    rp = defs.rp(client_id)
    secret = None
    if rp.client_type == "confidential":
        secret = cfg.client_secret(client_id)
    return Client(client_id=client_id, redirect_uri=redirect_uri(defs, client_id), secret=secret)


def new_browser(cfg: Settings) -> BrowserFlow:
    """A fresh user agent with an empty cookie jar."""
    return BrowserFlow(requests.Session(), cfg.issuer, verify=str(cfg.paths.ca_cert))


@pytest.fixture(scope="session")
def admin(platform: Settings) -> Any:
    return admin_client(platform)


@pytest.fixture(scope="module")
def default_company() -> dict[str, str]:
    """The company given to a Prime or provisional Prime made without one; a module may override it."""
    return TEST_COMPANY


@pytest.fixture(scope="module")
def make_account(
    admin: Any, definitions: Definitions, run_id: str, default_company: dict[str, str]
) -> MakeAccount:
    """Create a real account through `realm.accounts` (validation included), unique to this run."""

    def make(
        tier: Tier,
        name: str | None = None,
        company: dict[str, str] | None = None,
        member_permissions: tuple[str, ...] | None = None,
        **fields: Any,
    ) -> CreatedAccount:
        username = f"{name or tier.value}-{run_id}-{next(_ACCOUNT_SERIAL):05d}"
        if (
            company is None
            and tier in (Tier.PRIME, Tier.PROVISIONAL_PRIME)
            and "corporate_name" not in fields
        ):
            company = default_company
        spec = AccountSpec(
            tier=tier,
            username=username,
            email=f"{username}@example.test",
            first_name="Test",
            last_name=username,
            **{**(company or {}), **fields},
        )
        created = accounts.create(spec, definitions, admin)
        if tier is Tier.MEMBER:
            # A Member may use only the RPs its Prime permitted (bizid members permit); by default a test
            # Member is permitted every RP that accepts Members, as the sign-in tests expect.
            if member_permissions is None:
                member_permissions = tuple(
                    rp.client_id for rp in definitions.rps if Tier.MEMBER in rp.accepted_tiers
                )
            if member_permissions:
                user = admin.get_user(created.user_id)
                attributes = {
                    **(user.get("attributes") or {}),
                    "member_permissions": list(member_permissions),
                }
                admin.update_user(created.user_id, {**user, "attributes": attributes})
        return created

    return make


def set_attributes(admin: Any, user_id: str, **changes: str | None) -> None:
    """An operator edit through the Admin API: set (or, with None, remove) user attributes."""
    user = admin.get_user(user_id)
    attributes: dict[str, list[str]] = dict(user.get("attributes") or {})
    for name, value in changes.items():
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = [value]
    admin.update_user(user_id, {**user, "attributes": attributes})


def prime_record(admin: Any, username: str | None) -> dict[str, Any] | None:
    """The issuing Prime's current record as `bizid-access` / `bizid-release` send it (input.prime)."""
    if not username:
        return None
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    if not users:
        return {"username": username, "found": False}
    stored: dict[str, list[str]] = users[0].get("attributes") or {}

    def first(name: str) -> str | None:
        values = [v for v in stored.get(name, []) if v]
        return values[0] if values else None

    status = first("account_status") or "active"
    return {
        "username": users[0]["username"],
        "found": True,
        "tier": first("tier"),
        "status": status if users[0].get("enabled", True) else "suspended",
        "valid_until": first("valid_until"),
        "corporate_number": first("corporate_number"),
    }


def release_input(admin: Any, user: dict[str, Any], rp: str, loa: int, scopes: list[str]) -> dict[str, Any]:
    """The release input `bizid-release` builds (docs/policies.md) from a stored user: single-valued profile
    attributes as strings, multivalued ones as lists, empty values and non-profile attributes left out."""
    stored: dict[str, list[str]] = user.get("attributes") or {}
    profile = {a["name"]: bool(a.get("multivalued")) for a in admin.get_realm_users_profile()["attributes"]}

    def first(name: str) -> str | None:
        values = [v for v in stored.get(name, []) if v]
        return values[0] if values else None

    account: dict[str, Any] = {
        "id": user["id"],
        "username": user["username"],
        "tier": first("tier"),
        "status": first("account_status") or "active",
        "valid_until": first("valid_until"),
        "corporate_number": first("corporate_number"),
        "prime_username": first("prime_username"),
        "provisional_rps": [v for v in stored.get("provisional_rps", []) if v],
        "member_permissions": [v for v in stored.get("member_permissions", []) if v],
        "email": user.get("email"),
        "emailVerified": bool(user.get("emailVerified")),
        "firstName": user.get("firstName"),
        "lastName": user.get("lastName"),
    }
    for name, values in stored.items():
        if name in account or name in ("account_status", "delegations", "licences") or name not in profile:
            continue
        values = [v for v in values if v]
        if values:
            account[name] = values if profile[name] else values[0]
    return {
        "rp": {"client_id": rp},
        "account": account,
        "authn": {"loa": loa},
        "scopes": scopes,
        "delegation": None,
        "grantor": None,
        "licences": None,
        "prime": prime_record(admin, account["prime_username"]),
        "now": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "decision_id": str(uuid.uuid4()),
    }


@pytest.fixture
def definitions_copy(tmp_path: Path) -> Path:
    """A private copy of realm/definitions to edit in a test."""
    target = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, target)
    return target


def edit_yaml(path: Path, change: dict[str, Any]) -> None:
    """Set top-level keys of one YAML definitions file."""
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


# --- self-registration through the real registration page ------------------------------------------


REGISTRATION_PASSWORD = "correct horse battery 9"


@dataclass
class Registration:
    """A self-registration through the real registration page of the scratch realm, up to where it ended."""

    session: requests.Session
    username: str
    verifier: str
    form_fields: set[str]
    response: requests.Response


def register(
    platform: Settings,
    realm: str,
    client_id: str,
    password: str = REGISTRATION_PASSWORD,
    email: str | None = None,
    **extra: str,
) -> Registration:
    """Fill in the real registration page of `realm`, started from `client_id`'s authorization request."""
    session = requests.Session()
    session.trust_env = False
    verifier = secrets.token_urlsafe(40)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    page = session.get(
        f"{platform.keycloak_url}/realms/{realm}/protocol/openid-connect/registrations",
        params={
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid account",  # `account` is optional at seminar (rps/seminar.yaml)
            "redirect_uri": f"http://127.0.0.1:{platform.ports.rp}/callback/{client_id}",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        },
        verify=str(platform.paths.ca_cert),
    )
    assert page.status_code == 200
    match = re.search(r'action="([^"]+)"', page.text)
    assert match is not None
    username = f"reg-{uuid.uuid4().hex[:8]}"
    response = session.post(
        html.unescape(match.group(1)),
        data={
            "username": username,
            "email": email or f"{username}@example.test",
            "firstName": "Hanako",
            "lastName": "Suzuki",
            "password": password,
            "password-confirm": password,
            **extra,
        },
        allow_redirects=False,
        verify=str(platform.paths.ca_cert),
    )
    return Registration(session, username, verifier, set(re.findall(r'name="([^"]+)"', page.text)), response)


# --- the sample RP (scripts/sample_rp, Authlib) on the RP side, the scripted browser as the user -------


def sample_rp_sign_in(
    cfg: Settings,
    defs: Definitions,
    client_id: str,
    account: CreatedAccount,
    scope: str = "openid",
    **extra: str,
) -> SignedIn | Refused:
    """Sign `account` in at `client_id` the way a real RP does it: Authlib builds the request, validates
    the ID token against the JWKS and calls userinfo; the scripted browser only fills Keycloak's forms."""
    rp = SampleRp(rp_config(cfg, defs, client_id))
    pending = rp.start(scope=scope, **extra)
    otp = NextTotp(account.totp_base32) if account.totp_base32 else None
    agent = LoginResult()
    callback = new_browser(cfg).sign_in_at(
        pending.url, rp.config.redirect_uri, account.username, account.password, otp, agent, otp_attempts=2
    )
    assert callback is not None, f"the login stopped on a page: {agent}"
    return rp.finish(pending, callback)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`bizid ARGV` in-process: exit code, stdout, stderr; never a traceback (bad input is a clear error)."""
    from scripts import cli

    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@dataclass
class PasswordStep:
    """A browser past the password form of an RP's sign-in: the page Keycloak showed next."""

    session: requests.Session
    page: requests.Response
    verifier: str
    verify: str


def submit_password(platform: Settings, client: Client, username: str, password: str) -> PasswordStep:
    """Open `client`'s authorization request (code + PKCE S256) and submit the password form, for tests that
    drive the pages after it by hand (TOTP set-up, required actions)."""
    from urllib.parse import urlencode, urljoin

    from realm.oidc.browser_flow import parse_page, pkce_pair

    session = requests.Session()
    session.trust_env = False
    verify = str(platform.paths.ca_cert)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = session.get(f"{platform.issuer}/protocol/openid-connect/auth?{urlencode(params)}", verify=verify)
    login = next(f for f in parse_page(page.text).forms if "username" in f.fields)
    page = session.post(
        urljoin(page.url, login.action),
        data={**login.fields, "username": username, "password": password},
        verify=verify,
    )
    return PasswordStep(session, page, verifier, verify)
