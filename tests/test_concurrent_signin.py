"""Issue 14 §4 against the real Keycloak: two simultaneous correct sign-ins of one account (a double submit,
two tabs on deadline day) both succeed, while wrong passwords, sent one by one or concurrently, still lock the
account (brute-force protection stays on: docs/realm.md "Concurrent sign-ins").

Keycloak 26's own protector refuses the second of two concurrent sign-ins as `user_temporarily_disabled`;
`test_keycloaks_own_protector_refuses_the_second_sign_in` reproduces that by setting the realm's wait to 0.
"""

from __future__ import annotations

from typing import Any

import pytest

from loadtests import concurrent_signins as cs
from realm import login_texts
from realm.models import Definitions, Tier
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform

ROUNDS = 3
WRONG_PASSWORD_MESSAGE = "Invalid username or password"
BUSY_MESSAGE = login_texts.text("signInInProgress")
"""WaitingBruteForceProtector.BUSY_MESSAGE (realm/extensions/.../bruteforce/): Japanese, then English."""
BUSY_MESSAGE_EN = "Another sign-in to this account is in progress"


def _locked(admin: Any, user_id: str) -> bool:
    status = admin.connection.raw_get(
        f"admin/realms/{admin.connection.realm_name}/attack-detection/brute-force/users/{user_id}"
    ).json()
    return bool(status["disabled"])


def test_two_simultaneous_correct_sign_ins_of_one_account_both_succeed(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    assert definitions.realm.brute_force.concurrent_sign_in_wait_millis > 0
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    for _ in range(ROUNDS):
        outcomes = cs.duplicates(platform, client, entry.username, entry.password, copies=2)
        assert [o.kind for o in outcomes] == ["signed-in", "signed-in"], outcomes
    assert not _locked(admin, entry.user_id)


def test_more_simultaneous_sign_ins_than_may_wait_get_an_explained_answer_never_the_wrong_password_message(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    """Five at once: one is checked, three wait their turn, the fifth (or a waiter whose turn does not come
    within the wait) gets a page saying another sign-in is in progress, not "Invalid username or password"."""
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    outcomes = cs.duplicates(platform, client, entry.username, entry.password, copies=5)
    assert sum(o.kind == "signed-in" for o in outcomes) >= 2, outcomes
    assert any(o.kind == "refused" for o in outcomes), outcomes
    for outcome in outcomes:
        assert outcome.kind in ("signed-in", "refused"), outcome
        assert WRONG_PASSWORD_MESSAGE not in outcome.message, outcome
        if outcome.kind == "refused":
            # The whole bilingual text: Japanese first, then the English a reader of either understands.
            assert BUSY_MESSAGE in outcome.message, outcome
            assert BUSY_MESSAGE_EN in outcome.message, outcome


def test_keycloaks_own_protector_refuses_the_second_sign_in(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    """The behaviour the realm's wait replaces (wait 0): one of two simultaneous correct sign-ins is turned
    away with the lockout message although the account is not locked."""
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    seen: list[list[cs.Outcome]] = []
    with cs.realm_wait(platform, 0):
        for _ in range(ROUNDS):
            outcomes = cs.duplicates(platform, client, entry.username, entry.password, copies=2)
            seen.append(outcomes)
            if any(o.kind == "refused" for o in outcomes):
                break
    refused = [o for round_ in seen for o in round_ if o.kind == "refused"]
    assert refused, seen
    assert all(WRONG_PASSWORD_MESSAGE in o.message for o in refused), refused  # looks like a wrong password
    assert new_browser(platform).login(client, entry.username, entry.password).ok


def test_wrong_passwords_sent_two_at_a_time_still_lock_the_account(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    """Waiting for the turn must not let parallel guesses past the failure factor: each is checked in turn."""
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    factor = definitions.realm.brute_force.failure_factor
    for _ in range(factor // 2 + 1):
        outcomes = cs.duplicates(platform, client, entry.username, "not-the-password-at-all", copies=2)
        assert all(o.kind == "refused" for o in outcomes), outcomes
    assert _locked(admin, entry.user_id), "concurrent wrong passwords did not lock the account"
    assert not new_browser(platform).login(client, entry.username, entry.password).ok, "locked, yet signed in"
