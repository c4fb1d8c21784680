"""`bizid notify reminders --ledger s3://...` against the real Keycloak, Mailpit and a real S3 server (MinIO):
the job as it runs on AWS, where the ledger is S3 objects (realm.reminders.S3Ledger): mailed once, and a
second run mails nothing; a ledger that cannot be used stops the run before any mail."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from realm.lifecycle import today_jst
from realm.models import Tier
from realm.reminders import s3_folder
from realm.s3_store import AppendOnceStore, S3Location
from scripts.mailbox import Mailbox
from scripts.settings import Settings
from tests.conftest import MakeAccount, set_attributes
from tests.conftest import run_cli as run
from tests.s3_server import S3Server

pytestmark = pytest.mark.platform


def test_reminders_with_an_s3_ledger_mail_once(
    platform: Settings,
    make_account: MakeAccount,
    admin: object,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = s3_server.bucket(locked=True)  # like the audit archive the job writes to on AWS
    ledger = f"s3://{bucket}/reminders/"
    mailbox = Mailbox(platform.mail_api_url)
    expiring = make_account(Tier.PRIME)
    until = (today_jst() + dt.timedelta(days=4)).isoformat()
    set_attributes(admin, expiring.user_id, valid_until=until)
    address = f"{expiring.username}@example.test"  # as conftest's make_account sets it

    code, out, err = run(
        capsys, "notify", "reminders", "--days", "10", "--ledger", "s3://bizid-test-absent/r/"
    )
    assert code == 2 and "s3://bizid-test-absent/r/" in err and "nothing was sent" in err, err
    assert not [m for m in mailbox.messages_to(address) if "expire" in m.subject]

    code, out, err = run(capsys, "notify", "reminders", "--days", "10", "--ledger", ledger)
    assert code == 0, err
    mail = mailbox.wait_for(address, "about to expire")
    assert until in mail.text
    assert expiring.username not in out
    store = AppendOnceStore(S3Location.parse(ledger), s3_server.client())
    key = f"validity:{expiring.user_id}:{until}"
    entry = store.get(f"{s3_folder(key)}sent.json")
    assert entry is not None and expiring.username.encode() not in entry

    count = len(mailbox.messages_to(address))
    code, out, err = run(capsys, "notify", "reminders", "--days", "10", "--ledger", ledger)
    assert code == 0, err
    time.sleep(2)  # give a wrongly sent second mail the time to arrive before counting
    assert len(mailbox.messages_to(address)) == count
