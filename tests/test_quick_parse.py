"""The load generator's page reader (`loadtests.journey.quick_parse`, regular expressions) reads what the
end-to-end tests' reader (`realm.oidc.browser_flow.parse_page`, HTMLParser) reads, on the real Keycloak's
pages: the login form, the login form with an error, the TOTP form."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from loadtests import journey, seed
from loadtests import population as pop
from loadtests.journey import quick_parse, rp_clients
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import parse_page
from scripts.settings import Settings
from tests.conftest import MakeAccount, rp_client, submit_password

pytestmark = pytest.mark.platform

PRIME = 3_990
"""A seeded Prime (i % 10 < 7) from the top of the distributed test's seed, never drawn there at random
before this test of another module runs (its password step only; no TOTP code is used)."""


def _same(text: str) -> None:
    slow, quick, walked = parse_page(text), quick_parse(text), journey._walk(text)
    assert quick.forms == slow.forms
    assert quick.errors == slow.errors
    assert (walked.forms, walked.errors) == (slow.forms, slow.errors), "the tag-by-tag walk reads otherwise"


def test_pages_of_a_good_sign_in_take_the_forms_only_path(platform: Settings) -> None:
    """The login and TOTP pages carry no error marker, so quick_parse reads only their forms (the cheap
    path the load generator takes on every sign-in); `_same` above checks it reads what parse_page reads."""
    step = submit_password(
        platform, rp_clients(platform)["jgrants"], pop.username(PRIME - 10), pop.password(PRIME - 10)
    )
    assert pop.needs_otp(PRIME - 10)
    assert not journey.has_error_marker(step.page.text), "the TOTP page has an error marker"
    _same(step.page.text)


def test_quick_reader_reads_the_real_pages_like_the_html_parser(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    seed.seed(platform, 4_000, batch=1_000, progress=False)
    entry = make_account(Tier.ENTRY)
    seminar = rp_client(platform, definitions, "seminar")
    wrong = submit_password(platform, seminar, entry.username, "not-the-password-at-all")
    assert parse_page(wrong.page.text).errors, "no error on the page after a wrong password"
    _same(wrong.page.text)
    assert pop.needs_otp(PRIME)
    step = submit_password(
        platform, rp_clients(platform)["jgrants"], pop.username(PRIME), pop.password(PRIME)
    )
    assert any("otp" in f.fields for f in parse_page(step.page.text).forms), "no TOTP form"
    _same(step.page.text)
    login = step.session.get(urljoin(step.page.url, "/"), verify=step.verify)  # any page: no crash
    quick_parse(login.text)
    first = submit_password(platform, seminar, "", "")
    _same(first.page.text)
