"""Issue 13 §1: notification mail at account events, in Japanese and English, through the real Mailpit.

Keycloak's own events (registration, password changed, second factor added or removed) are mailed by the
extension's `bizid-notify` event listener; the CLI's operations (delegation granted or revoked, and the
lifecycle notices §2's commands will send) by realm/notify.py, from the same texts. With the mail server
down a sign-in still completes, and the failure is logged with the address masked.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyotp
import pytest

from realm import notify
from realm.models import Tier
from realm.notify import Recipient
from realm.oidc.browser_flow import parse_page
from scripts import cli, notifications, services
from scripts.mailbox import Mailbox, Message
from scripts.settings import REALM, Settings
from tests.conftest import MakeAccount, register, rp_client, submit_password

pytestmark = pytest.mark.platform

GRANTOR = {"corporate_number": "7000012050002", "corporate_name": "Yamada K.K.", "address": "Tokyo"}


@pytest.fixture(scope="module")
def default_company() -> dict[str, str]:
    return GRANTOR


@pytest.fixture(scope="module")
def mailbox(platform: Settings) -> Mailbox:
    return Mailbox(platform.mail_api_url)


def _bilingual(mail: Message, ja: str, en: str, username: str) -> None:
    assert mail.subject == f"[bizid] {ja} / {en}", mail.subject
    assert "---- English ----" in mail.text and username in mail.text, mail.text
    assert mail.sender == "no-reply@bizid.example"
    assert mail.headers.get("Reply-To") == ["helpdesk@bizid.example"], mail.headers


def _email(admin: Any, user_id: str) -> str:
    return str(admin.get_user(user_id)["email"])


def _log_lines(platform: Settings, marker: str, timeout: float = 30.0) -> list[str]:
    """Lines of Keycloak's log that contain `marker`, waiting while the sender thread gets to them."""
    log = platform.paths.logs / "keycloak.log"
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log.read_text(errors="replace").splitlines() if marker in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


def _enrol_totp_at_sign_in(platform: Settings, client_id: str, username: str, password: str) -> str:
    """Sign in as an account without a second factor: set up TOTP on the page Keycloak shows, and return
    where the browser is sent at the end (the RP's redirect URI with a code, when it worked)."""

    client = rp_client(platform, platform.definitions(), client_id)
    step = submit_password(platform, client, username, password)
    session, page, verify = step.session, step.page, step.verify
    setup = next(f for f in parse_page(page.text).forms if "totpSecret" in f.fields)
    secret = setup.fields["totpSecret"]
    code = pyotp.TOTP(base64.b32encode(secret.encode()).decode()).now()
    done = session.post(
        urljoin(page.url, setup.action),
        data={**setup.fields, "totp": code, "userLabel": "phone"},
        verify=verify,
        allow_redirects=False,
    )
    assert done.status_code == 302, done.text[:500]
    return str(done.headers["Location"])


def _prime_without_second_factor(admin: Any, make_account: MakeAccount) -> Any:
    prime = make_account(Tier.PRIME)
    for credential in admin.get_credentials(prime.user_id):
        if credential["type"] != "password":
            admin.delete_credential(prime.user_id, credential["id"])
    return prime


# --- what Keycloak sees ------------------------------------------------------------------------------


def test_a_registration_is_notified(platform: Settings, mailbox: Mailbox) -> None:
    reg = register(platform, REALM, "seminar")
    mail = mailbox.wait_for(f"{reg.username}@example.test", "Your account was registered")
    _bilingual(mail, "アカウントを登録しました", "Your account was registered", reg.username)
    assert "エントリーアカウントが登録されました" in mail.text


def test_an_operator_removing_and_the_holder_adding_a_second_factor_are_notified(
    platform: Settings, admin: Any, make_account: MakeAccount, mailbox: Mailbox
) -> None:
    prime = _prime_without_second_factor(admin, make_account)
    address = _email(admin, prime.user_id)
    removed = mailbox.wait_for(address, "A second factor was removed")
    _bilingual(removed, "二要素認証を削除しました", "A second factor was removed", prime.username)

    location = _enrol_totp_at_sign_in(platform, "jgrants", prime.username, prime.password)
    assert "code=" in location, location
    added = mailbox.wait_for(address, "A second factor was added")
    _bilingual(added, "二要素認証を追加しました", "A second factor was added", prime.username)
    assert "二要素認証（TOTP）が追加されました" in added.text and "A second factor (TOTP)" in added.text
    assert len(mailbox.messages_to(address)) == 2  # one mail per change, no duplicate from old event types


def test_a_password_change_is_notified(
    platform: Settings, admin: Any, make_account: MakeAccount, mailbox: Mailbox
) -> None:
    """The holder changes the password (Keycloak's UPDATE_PASSWORD page, asked for at sign-in)."""
    entry = make_account(Tier.ENTRY)
    admin.update_user(entry.user_id, {"requiredActions": ["UPDATE_PASSWORD"]})

    client = rp_client(platform, platform.definitions(), "seminar")
    step = submit_password(platform, client, entry.username, entry.password)
    session, page, verify = step.session, step.page, step.verify
    change = next(f for f in parse_page(page.text).forms if "password-new" in f.fields)
    new_password = f"a new long passphrase {uuid.uuid4().hex[:6]}"
    done = session.post(
        urljoin(page.url, change.action),
        data={**change.fields, "password-new": new_password, "password-confirm": new_password},
        verify=verify,
        allow_redirects=False,
    )
    assert done.status_code == 302 and "code=" in done.headers["Location"], done.text[:500]
    mail = mailbox.wait_for(_email(admin, entry.user_id), "Your password was changed")
    _bilingual(mail, "パスワードを変更しました", "Your password was changed", entry.username)


@pytest.fixture
def mail_down(platform: Settings) -> Iterator[None]:
    services.stop_mailpit(platform)
    try:
        yield
    finally:
        services.start_mailpit(platform)


def test_a_sign_in_completes_while_the_mail_server_is_down_and_the_failure_is_logged(
    platform: Settings, admin: Any, make_account: MakeAccount, mail_down: None
) -> None:
    prime = _prime_without_second_factor(admin, make_account)
    address = _email(admin, prime.user_id)
    location = _enrol_totp_at_sign_in(platform, "jgrants", prime.username, prime.password)
    assert "code=" in location, location  # the sign-in did not wait for, or fail on, the mail
    failed = _log_lines(platform, f"bizid-notify failed kind=second-factor-added to={notify.mask(address)}")
    assert failed, "the failed send is not in keycloak.log"
    assert all(address not in line for line in _log_lines(platform, "bizid-notify", 0))


# --- what the CLI does --------------------------------------------------------------------------------


def test_a_delegation_granted_and_revoked_is_mailed_to_the_prime_and_the_delegate(
    platform: Settings,
    admin: Any,
    make_account: MakeAccount,
    mailbox: Mailbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME, "grantor")
    firm = make_account(Tier.PRIME, "firm", corporate_number="5010401089998", corporate_name="Tax Firm")
    not_after = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    argv = ["delegation", "grant", "--principal", prime.username, "--delegate", firm.username]
    argv += ["--rp", "jgrants", "--procedure", "subsidy-application", "--not-after", not_after]
    assert cli.main(argv) == 0
    delegation_id = capsys.readouterr().out.strip()
    for account in (prime, firm):
        mail = mailbox.wait_for(_email(admin, account.user_id), "A delegation was granted")
        _bilingual(mail, "委任を登録しました", "A delegation was granted", account.username)
        assert f"{prime.username} -> {firm.username}, RP jgrants (subsidy-application)" in mail.text

    assert cli.main(["delegation", "revoke", "--id", delegation_id, "--delegate", firm.username]) == 0
    for account in (prime, firm):
        mail = mailbox.wait_for(_email(admin, account.user_id), "A delegation was revoked")
        _bilingual(mail, "委任を取り消しました", "A delegation was revoked", account.username)


def test_an_operator_suspending_and_reactivating_an_account_mails_the_holder(
    platform: Settings,
    admin: Any,
    make_account: MakeAccount,
    mailbox: Mailbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`bizid accounts suspend|reactivate` (the notify hook of realm.lifecycle) tell the holder by mail."""
    prime = make_account(Tier.PRIME, "suspended")
    address = _email(admin, prime.user_id)
    common = ["--username", prime.username, "--operator", "ops.mail"]
    assert cli.main(["accounts", "suspend", *common, "--reason", "seal certificate reported stolen"]) == 0
    mail = mailbox.wait_for(address, "Your account was suspended")
    _bilingual(mail, "アカウントを停止しました", "Your account was suspended", prime.username)
    assert "seal certificate reported stolen" in mail.text
    assert cli.main(["accounts", "reactivate", *common, "--reason", "new certificate checked"]) == 0
    mail = mailbox.wait_for(address, "Your account was reactivated")
    _bilingual(mail, "アカウントの停止を解除しました", "Your account was reactivated", prime.username)
    assert len(mailbox.messages_to(address)) == 2
    capsys.readouterr()


@pytest.mark.parametrize(
    ("kind", "ja", "en"),
    [
        ("account-suspended", "アカウントを停止しました", "Your account was suspended"),
        ("account-reactivated", "アカウントの停止を解除しました", "Your account was reactivated"),
        ("delegation-expiring", "委任の期限が近づいています", "A delegation is about to expire"),
        ("validity-expiring", "アカウントの有効期限が近づいています", "Your account is about to expire"),
        ("representative-changed", "代表者が変更されました", "The representative was changed"),
    ],
)
def test_each_lifecycle_notice_reaches_the_mailbox_in_both_languages(
    platform: Settings, mailbox: Mailbox, kind: str, ja: str, en: str
) -> None:
    """The notices §2's lifecycle commands send, through the same sender the delegation commands use."""
    notifier = notifications.local_notifier(platform)
    assert notifier is not None
    address = f"notice-{uuid.uuid4().hex[:8]}@example.test"
    assert notifier.send(kind, Recipient("notice-user", address), detail="2028-03-31")
    _bilingual(mailbox.wait_for(address, en), ja, en, "notice-user")


def test_the_cli_sender_reports_a_down_mail_server_and_logs_it_masked(
    platform: Settings, mail_down: None, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    notifier = notifications.local_notifier(platform)
    assert notifier is not None
    address = f"down-{uuid.uuid4().hex[:8]}@example.test"
    with caplog.at_level("INFO", logger="bizid.notify"):
        assert notifier.send("account-suspended", Recipient("down-user", address)) is False
    assert f"bizid-notify failed kind=account-suspended to={notify.mask(address)}" in caplog.text
    assert address not in caplog.text
