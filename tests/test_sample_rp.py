"""The sample RP (scripts/sample_rp, Authlib) is a real RP: it refuses what an RP must refuse, and its web
app signs a user in end to end. The claims and delegation e2e tests use it too (tests/conftest.py,
`sample_rp_sign_in`)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests
from authlib.integrations.requests_client import OAuthError
from joserfc.errors import InvalidClaimError

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from scripts.sample_rp.__main__ import main as sample_rp_main
from scripts.sample_rp.client import RpError, SampleRp, SignedIn
from scripts.sample_rp.config import rp_config
from scripts.sample_rp.web import make_server
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, sample_rp_sign_in

pytestmark = pytest.mark.platform


def callback_for(platform: Settings, rp: SampleRp, account: CreatedAccount, url: str) -> str:
    totp = account.totp_base32
    otp = (lambda: pyotp.TOTP(totp).now()) if totp else None
    location = new_browser(platform).sign_in_at(
        url, rp.config.redirect_uri, account.username, account.password, otp
    )
    assert location is not None
    return location


def test_a_wrong_nonce_or_state_is_refused(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    rp = SampleRp(rp_config(platform, definitions, "seminar"))
    entry = make_account(Tier.ENTRY)
    pending = rp.start(scope="openid profile")
    callback = callback_for(platform, rp, entry, pending.url)
    with pytest.raises(RpError, match="state"):
        rp.finish(dataclasses.replace(pending, state="forged"), callback)
    with pytest.raises(InvalidClaimError, match="nonce"):
        rp.finish(dataclasses.replace(pending, nonce="another"), callback)


def test_the_code_is_useless_without_the_pkce_verifier(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    rp = SampleRp(rp_config(platform, definitions, "seminar"))
    pending = rp.start()
    callback = callback_for(platform, rp, make_account(Tier.ENTRY), pending.url)
    with pytest.raises(OAuthError, match=r"invalid_grant"):
        rp.finish(dataclasses.replace(pending, code_verifier="x" * 50), callback)


@pytest.fixture
def web_rp(platform: Settings, definitions: Definitions) -> Iterator[tuple[SampleRp, str]]:
    rp = SampleRp(rp_config(platform, definitions, "jgrants"))
    server = make_server(rp, scope="openid profile corporate")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield rp, f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_web_app_signs_a_prime_in(
    platform: Settings, web_rp: tuple[SampleRp, str], make_account: MakeAccount
) -> None:
    rp, base = web_rp
    prime = make_account(Tier.PRIME)
    callback = callback_for(platform, rp, prime, f"{base}/")  # the RP redirects the browser to Keycloak
    page = requests.get(callback, timeout=30)
    assert page.status_code == 200, page.text
    claims = page.json()
    assert claims["id_token"]["sub"] == claims["userinfo"]["sub"] == prime.user_id
    assert claims["id_token"]["verified_claims"]["verification"]["assurance_level"] == "prime"
    replay = requests.get(callback, timeout=30)  # the state was used: a replayed callback is refused
    assert replay.status_code == 400 and "state" in replay.json()["error"]


def test_sample_rp_sign_in_returns_validated_claims(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:

    result = sample_rp_sign_in(
        platform, definitions, "seminar", make_account(Tier.ENTRY), scope="openid account"
    )
    assert isinstance(result, SignedIn)
    assert result.id_token["iss"] == platform.issuer and result.id_token["aud"] == "seminar"
    assert result.userinfo["tier"] == "entry"


def test_two_sign_ins_in_one_totp_period_both_succeed(
    platform: Settings, make_account: MakeAccount, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The realm refuses a used code; the sample RP's user, like a person, then waits for the next one.
    Two back-to-back sign-ins of one account (as docs/rp-guide.md runs them) must both get tokens."""
    prime = make_account(Tier.PRIME)
    creds = tmp_path / "prime.json"
    creds.write_text(
        json.dumps({"username": prime.username, "password": prime.password, "totp_base32": prime.totp_base32})
    )
    if time.time() % 30 > 15:  # start early in a period, so both sign-ins fall in it
        time.sleep(30.5 - time.time() % 30)
    started = int(time.time() // 30)
    for attempt in (1, 2):
        code = sample_rp_main(["sign-in", "--rp", "jgrants", "--credentials", str(creds)])
        out, err = capsys.readouterr()
        assert code == 0, f"sign-in {attempt}: {out} {err}"
        assert json.loads(out)["id_token"]["sub"] == prime.user_id
    assert int(time.time() // 30) > started, "the second sign-in used the next period's code"
