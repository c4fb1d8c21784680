"""`bizid review submit|list|approve|reject`: Entry -> Prime against the real Keycloak and OPA (issue 13 §2).

An approved Entry account signs in to a Prime-only RP with the second factor the approval enrolled; a
rejected or failed approval leaves the account exactly as it was (attributes and credentials compared),
including a failure in the middle of the approval (Keycloak refusing a value; the queue failing after the
account was updated).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyotp
import pytest

from realm import upgrade_review
from realm.lifecycle import Actor, LifecycleError, today_jst
from realm.models import Definitions, Tier
from realm.upgrade_review import ApplicationStore, Evidence
from scripts import cli_lifecycle, cli_review
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.conftest import run_cli as run
from tests.test_lifecycle import _company

pytestmark = pytest.mark.platform

OPERATOR = "ops.test"
ACTOR = Actor(OPERATOR, "documents checked")


def _evidence(**overrides: str) -> Evidence:
    company = _company()
    fields = {
        "corporate_number": company["corporate_number"],
        "corporate_name": "Upgrade K.K.",
        "representative_name": "Upgrade Representative",
        "address": "1-1 Kasumigaseki, Tokyo",
        "seal_certificate": "SEAL-2026-000123",
        **overrides,
    }
    return Evidence(**fields)


def _state(admin: Any, user_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    user = admin.get_user(user_id)
    credentials = sorted((c["type"], c["id"]) for c in admin.get_credentials(user_id))
    return user.get("attributes") or {}, credentials


def _trail_text(platform: Settings) -> str:
    path = cli_lifecycle.trail_path(platform)
    return path.read_text() if path.exists() else ""


@pytest.fixture
def queue(tmp_path: Path) -> ApplicationStore:
    return ApplicationStore(tmp_path / "review")


def test_an_approved_entry_account_signs_in_as_a_prime(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = make_account(Tier.ENTRY)
    refused = new_browser(platform).login(
        rp_client(platform, definitions, "jgrants"), entry.username, entry.password
    )
    assert refused.tokens is None and "tier_not_accepted" in (refused.error_description or "")

    evidence = _evidence()
    code, out, err = run(
        capsys, "review", "submit", "--username", entry.username,
        "--corporate-number", evidence.corporate_number or "", "--corporate-name", evidence.corporate_name,
        "--representative-name", evidence.representative_name, "--address", evidence.address,
        "--seal-certificate", evidence.seal_certificate,
    )  # fmt: skip
    assert code == 0, err
    application_id = re.search(r"app-[0-9a-f]{12}", out)
    assert application_id, out
    code, out, _ = run(capsys, "review", "list", "--status", "pending")
    assert application_id.group() in out and "SEAL-2026-000123" in out

    code, out, err = run(
        capsys, "review", "approve", "--id", application_id.group(), "--reason", "documents checked",
        "--operator", OPERATOR,
    )  # fmt: skip
    assert code == 0, err
    secret = re.search(r"TOTP \(base32\), deliver out of band: ([A-Z2-7=]+)", out)
    assert secret, out
    attributes, credentials = _state(admin, entry.user_id)
    assert attributes["tier"] == ["prime"]
    assert attributes["corporate_number"] == [evidence.corporate_number]
    assert attributes["representative_name"] == [evidence.representative_name]
    validity = definitions.tier(Tier.PRIME).validity
    assert validity is not None
    assert attributes["valid_until"] == [validity.last_day(today_jst()).isoformat()]
    assert "otp" in {t for t, _ in credentials}

    result = new_browser(platform).login(
        rp_client(platform, definitions, "jgrants"),
        entry.username,
        entry.password,
        otp=lambda: pyotp.TOTP(secret.group(1)).now(),
        scope="openid profile corporate",
    )
    assert result.tokens is not None, result
    assert result.otp_prompted, "a Prime signed in without its second factor"
    code, out, _ = run(capsys, "review", "approve", "--id", application_id.group(), "--reason", "again",
                       "--operator", OPERATOR)  # fmt: skip
    assert code == 2
    mine = [json.loads(line) for line in _trail_text(platform).splitlines()]
    mine = [e for e in mine if e["account_id"] == entry.user_id]
    assert [e["action"] for e in mine] == ["upgrade"]
    assert mine[0]["changes"]["tier"] == ["entry", "prime"]


def test_an_approval_refused_by_keycloak_midway_leaves_the_account_unchanged(
    platform: Settings,
    admin: Any,
    definitions: Definitions,
    make_account: MakeAccount,
    queue: ApplicationStore,
) -> None:
    entry = make_account(Tier.ENTRY)
    # Valid evidence as far as bizid checks it; Keycloak's user profile refuses a 300-character name.
    application = upgrade_review.submit(
        admin, queue, entry.username, _evidence(representative_name="R" * 300)
    )
    before, trail_before = _state(admin, entry.user_id), _trail_text(platform)
    with pytest.raises(LifecycleError, match=r"Keycloak refused the upgrade.*unchanged"):
        upgrade_review.approve(
            admin, definitions, queue, application.id, ACTOR, cli_lifecycle.trail(platform)
        )
    assert _state(admin, entry.user_id) == before
    assert queue.get(application.id).status == "pending"
    assert _trail_text(platform) == trail_before


def test_a_failure_after_the_update_puts_the_account_back(
    platform: Settings,
    admin: Any,
    definitions: Definitions,
    make_account: MakeAccount,
    queue: ApplicationStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = make_account(Tier.ENTRY)
    application = upgrade_review.submit(admin, queue, entry.username, _evidence())
    before, trail_before = _state(admin, entry.user_id), _trail_text(platform)

    def broken_save(self: ApplicationStore, app: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ApplicationStore, "save", broken_save)
    with pytest.raises(LifecycleError, match="put back as it was"):
        upgrade_review.approve(
            admin, definitions, queue, application.id, ACTOR, cli_lifecycle.trail(platform)
        )
    monkeypatch.undo()
    assert _state(admin, entry.user_id) == before, "a half-upgraded account was left behind"
    assert queue.get(application.id).status == "pending"
    assert _trail_text(platform) == trail_before


def test_bad_reviews_are_refused_and_write_nothing(
    platform: Settings,
    admin: Any,
    definitions: Definitions,
    make_account: MakeAccount,
    queue: ApplicationStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    with pytest.raises(LifecycleError, match="only an Entry account is upgraded"):
        upgrade_review.submit(admin, queue, prime.username, _evidence())
    with pytest.raises(LifecycleError, match="--corporate-number"):
        upgrade_review.submit(admin, queue, prime.username, _evidence(corporate_number="1234567890123"))
    with pytest.raises(LifecycleError, match="--seal-certificate"):
        _evidence(seal_certificate="").validate()
    entry = make_account(Tier.ENTRY)
    application = upgrade_review.submit(admin, queue, entry.username, _evidence())
    with pytest.raises(LifecycleError, match="already pending"):
        upgrade_review.submit(admin, queue, entry.username, _evidence())
    # The account was suspended after it applied: the approval is refused, nothing changes.
    set_attributes(admin, entry.user_id, account_status="suspended")
    before, trail_before = _state(admin, entry.user_id), _trail_text(platform)
    with pytest.raises(LifecycleError, match="suspended"):
        upgrade_review.approve(
            admin, definitions, queue, application.id, ACTOR, cli_lifecycle.trail(platform)
        )
    with pytest.raises(LifecycleError, match="no such application"):
        upgrade_review.approve(
            admin, definitions, queue, "app-000000000000", ACTOR, cli_lifecycle.trail(platform)
        )
    assert _state(admin, entry.user_id) == before
    assert _trail_text(platform) == trail_before
    event = upgrade_review.reject(admin, queue, application.id, ACTOR, cli_lifecycle.trail(platform))
    assert event.action == "upgrade-reject" and queue.get(application.id).status == "rejected"
    assert _state(admin, entry.user_id)[0]["tier"] == ["entry"]
    code, _, err = run(
        capsys, "review", "approve", "--id", "not-an-id", "--reason", "x", "--operator", OPERATOR
    )
    assert code == 2 and "--id 'not-an-id'" in err
    assert isinstance(cli_review.store_path(platform), Path)
