"""Keycloak's login pages speak the user's language: a Japanese browser (Accept-Language: ja) gets the
Japanese pages, one without a supported language gets the realm's default (realm.yaml `localisation`)."""

from __future__ import annotations

import re

import pytest
import requests

from realm.models import Definitions
from realm.oidc.browser_flow import pkce_pair
from scripts.settings import Settings

pytestmark = pytest.mark.platform


def _login_page_lang(platform: Settings, definitions: Definitions, accept_language: str | None) -> str:
    _, challenge = pkce_pair()
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = requests.get(
        f"{platform.issuer}/protocol/openid-connect/auth",
        params={
            "client_id": "seminar",
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": str(definitions.rp("seminar").redirect_uris[0]),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        headers=headers,
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'<html[^>]*\blang="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def test_a_japanese_browser_gets_the_japanese_login_page(
    platform: Settings, definitions: Definitions
) -> None:
    assert "ja" in definitions.realm.localisation.locales
    assert _login_page_lang(platform, definitions, "ja,en-US;q=0.8") == "ja"


def test_a_browser_without_a_supported_language_gets_the_default(
    platform: Settings, definitions: Definitions
) -> None:
    expected = definitions.realm.localisation.default_locale
    assert _login_page_lang(platform, definitions, "fr-FR") == expected
    assert _login_page_lang(platform, definitions, None) == expected
