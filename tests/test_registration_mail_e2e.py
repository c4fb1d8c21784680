"""Issue 13 §1: self-registration as Entry completes end to end through the real mail server.

Form at an RP's registration page -> Keycloak sends the verification mail over SMTP to the local Mailpit
-> the test reads it through Mailpit's API, as the user's mail client would, and follows the link in the
same browser -> the RP gets an authorization code for a signed-in, verified Entry account. Before the
platform had a mail server, the verification page answered HTTP 500 "Failed to send email" and the
account stayed behind with VERIFY_EMAIL.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from realm.oidc.browser_flow import BrowserFlow, Client, decode_jwt_payload
from scripts.mailbox import VERIFICATION_SUBJECT, Mailbox
from scripts.settings import REALM, Settings
from tests.conftest import REGISTRATION_PASSWORD, new_browser, register, rp_client

pytestmark = pytest.mark.platform


@pytest.fixture(scope="module")
def mailbox(platform: Settings) -> Mailbox:
    return Mailbox(platform.mail_api_url)


def _follow_inside_keycloak(platform: Settings, session: requests.Session, url: str) -> requests.Response:
    """Follow redirects while they stay at Keycloak; return the first answer that leaves it (or a page)."""
    response = session.get(url, allow_redirects=False, verify=str(platform.paths.ca_cert))
    for _ in range(10):
        location = response.headers.get("Location")
        if response.status_code not in (302, 303) or location is None:
            return response
        target = urljoin(platform.keycloak_url, location)
        if not target.startswith(platform.keycloak_url):
            return response
        response = session.get(target, allow_redirects=False, verify=str(platform.paths.ca_cert))
    raise AssertionError(f"redirect loop at {response.url}")


def _seminar(platform: Settings) -> Client:
    """The seminar RP as this platform registered it (its redirect URI on the platform's RP port)."""
    return rp_client(platform, platform.definitions(), "seminar")


def _code(platform: Settings, response: requests.Response) -> str:
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(_seminar(platform).redirect_uri), location
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert "error" not in query, query
    return query["code"]


def test_self_registration_completes_through_the_verification_mail(
    platform: Settings, admin: Any, mailbox: Mailbox
) -> None:
    reg = register(platform, REALM, "seminar")
    address = f"{reg.username}@example.test"
    assert reg.response.status_code == 302, reg.response.text[:300]
    assert "VERIFY_EMAIL" in reg.response.headers["Location"]

    # The verification page sends the mail (before: HTTP 500 "Failed to send email").
    page = _follow_inside_keycloak(platform, reg.session, reg.response.headers["Location"])
    assert page.status_code == 200, page.text[:500]

    # The verification mail, not the registration notice bizid-notify sends at the same time.
    mail = mailbox.wait_for(address, VERIFICATION_SUBJECT)
    assert mail.to == (address,)
    assert mail.sender == "no-reply@bizid.example"  # realm.yaml smtp.from
    links = [u for u in mail.links() if "/login-actions/action-token" in u]
    assert len(links) == 1, mail.links()
    # The bizid e-mail theme (realm/mail_theme.py): Japanese first, then English, in both parts.
    assert mail.subject == "メールアドレスの確認 / Verify your e-mail address", mail.subject
    for body in (mail.text, html.unescape(mail.html)):
        japanese = body.find("次のリンクを開いてメールアドレスを確認してください")
        english = body.find("If this was you, open the link below to verify your e-mail address")
        assert 0 <= japanese < english, body[:800]
        assert "このリンクの有効期限は 5 分です" in body and "expires within 5 minutes" in body, body[:800]
    assert links[0].startswith(f"{platform.issuer}/login-actions/action-token")

    user = admin.get_users({"username": reg.username, "exact": True})[0]
    assert user["emailVerified"] is False and "VERIFY_EMAIL" in user["requiredActions"]

    code = _code(platform, _follow_inside_keycloak(platform, reg.session, links[0]))
    browser = BrowserFlow(reg.session, platform.issuer, str(platform.paths.ca_cert))
    tokens = browser.exchange(_seminar(platform), code, reg.verifier)
    claims = decode_jwt_payload(tokens["id_token"])
    assert claims["acr"] == "aal1"
    assert claims.get("tier") == "entry", claims

    user = admin.get_user(user["id"])
    assert user["emailVerified"] is True and user["requiredActions"] == []
    # A later password sign-in in a fresh browser goes straight through.
    again = new_browser(platform).login(
        _seminar(platform), reg.username, REGISTRATION_PASSWORD, scope="openid account"
    )
    assert again.tokens is not None, again


def test_a_used_verification_link_signs_nobody_in(platform: Settings, mailbox: Mailbox) -> None:
    """The link is an action token: used again (here from another browser) it only says the address is
    verified already; it starts no session and gives the RP no code."""
    reg = register(platform, REALM, "seminar")
    address = f"{reg.username}@example.test"
    _follow_inside_keycloak(platform, reg.session, reg.response.headers["Location"])
    mail = mailbox.wait_for(address, VERIFICATION_SUBJECT)
    link = next(u for u in mail.links() if "/login-actions/action-token" in u)
    _code(platform, _follow_inside_keycloak(platform, reg.session, link))
    stranger = new_browser(platform).session
    replay = _follow_inside_keycloak(platform, stranger, link)
    assert replay.status_code == 200, replay.status_code
    assert "verified already" in replay.text, replay.text[:500]
    assert "code=" not in replay.headers.get("Location", "")
    assert not any(c.name.startswith("KEYCLOAK_IDENTITY") for c in stranger.cookies)
