"""The realm's SMTP configuration (realm.yaml `smtp`, realm/smtp.py): typed, validated, built, compared."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import build, loader, smtp
from realm.build import Options
from realm.changes import diff_fields
from realm.loader import DefinitionError
from realm.models import SmtpAuth, SmtpServer

OPA = "http://127.0.0.1:18181"
SES = {"host": "email-smtp.ap-northeast-1.amazonaws.com", "port": 587, "starttls": True}


def _with_smtp(definitions_copy: Path, change: dict[str, Any]) -> Path:
    path = definitions_copy / "realm.yaml"
    data = yaml.safe_load(path.read_text())
    data["smtp"] = {**data["smtp"], **change}
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_definitions_send_as_the_realm_through_the_local_mail_server() -> None:
    defs, profile = build.load()
    desired = build.desired(defs, profile, Options(opa_url=OPA))
    assert desired.realm["smtpServer"] == {
        "host": "127.0.0.1",
        "port": "11025",
        "from": "no-reply@bizid.example",
        "fromDisplayName": "bizid",
        "replyTo": "helpdesk@bizid.example",
        "starttls": "false",
        "ssl": "false",
        "auth": "false",
    }


def test_the_platforms_own_server_replaces_the_definitions_one() -> None:
    defs, profile = build.load()
    options = Options(opa_url=OPA, smtp_server=SmtpServer(host="127.0.0.1", port=11525))
    rep = build.desired(defs, profile, options).realm["smtpServer"]
    assert (rep["host"], rep["port"], rep["from"]) == ("127.0.0.1", "11525", "no-reply@bizid.example")


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"host": "mail.example.jp", "port": 25}, "plain SMTP only to a loopback address"),
        ({"host": "127.0.0.1", "port": 11025, "auth": {"source": "file", "secret": "x"}}, "clear text"),
        ({"host": "127.0.0.1", "port": 70000}, "port"),
        ({"host": "bad host!", "port": 25}, "host"),
        ({**SES, "ssl": True}, "choose one of starttls and ssl"),
        ({**SES, "auth": {"source": "vault", "secret": "x"}}, "source"),
    ],
)
def test_bad_smtp_servers_are_refused_naming_the_file_and_field(
    definitions_copy: Path, server: dict[str, Any], message: str
) -> None:
    path = _with_smtp(definitions_copy, {"server": server})
    with pytest.raises(DefinitionError) as err:
        loader.load(definitions_copy)
    assert str(path) in str(err.value) and "smtp.server" in str(err.value), err.value
    assert message in str(err.value), err.value


@pytest.mark.parametrize("field", ["from", "reply_to"])
def test_a_bad_sender_address_is_refused(definitions_copy: Path, field: str) -> None:
    _with_smtp(definitions_copy, {field: "not an address"})
    with pytest.raises(DefinitionError, match=rf"realm\.yaml: smtp\.{field}"):
        loader.load(definitions_copy)


def test_an_ses_server_with_a_login_needs_the_login_read(definitions_copy: Path) -> None:
    auth = {
        "source": "aws-secretsmanager",
        "secret": "arn:aws:secretsmanager:ap-northeast-1:1:secret:x",
        "region": "ap-northeast-1",
    }
    _with_smtp(definitions_copy, {"server": {**SES, "auth": auth}})
    defs, profile = build.load(definitions_copy)
    with pytest.raises(smtp.SmtpConfigError, match="is unread"):
        build.desired(defs, profile, Options(opa_url=OPA))
    login = smtp.SmtpCredentials("AKIAEXAMPLE", "smtp-password")
    rep = build.desired(defs, profile, Options(opa_url=OPA, smtp_credentials=login)).realm["smtpServer"]
    assert (rep["auth"], rep["user"], rep["password"], rep["starttls"]) == (
        "true",
        "AKIAEXAMPLE",
        "smtp-password",
        "true",
    )
    assert "smtp-password" not in repr(login)


def test_the_masked_live_password_is_not_a_difference_but_a_new_username_is() -> None:
    """The plan compares realms through smtp.comparable (realm/plan.py): Keycloak shows the stored password
    only as a mask, so that is no drift; a rotated SES login changes the username, which is."""
    want = {"smtpServer": {"host": "h", "auth": "true", "user": "AKIA1", "password": "secret"}}
    live = {"smtpServer": {"host": "h", "auth": "true", "user": "AKIA1", "password": smtp.MASKED}}
    assert diff_fields(smtp.comparable(want), smtp.comparable(live)) == []
    assert diff_fields(want, live) != []  # without comparable: a difference every time
    rotated = {"smtpServer": {**live["smtpServer"], "user": "AKIA0"}}
    assert [d.field for d in diff_fields(smtp.comparable(want), smtp.comparable(rotated))] == ["smtpServer"]


def test_file_logins_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    reader = smtp.file_reader(tmp_path)
    (tmp_path / "ses-smtp.json").write_text(json.dumps({"username": "u", "password": "p"}))
    assert reader(SmtpAuth(source="file", secret="ses-smtp.json")) == smtp.SmtpCredentials("u", "p")
    (tmp_path / "broken.json").write_text('{"username": "u"}')
    with pytest.raises(smtp.SmtpConfigError, match=re.escape(str(tmp_path / "broken.json"))):
        reader(SmtpAuth(source="file", secret="broken.json"))
    with pytest.raises(smtp.SmtpConfigError, match="no file"):
        reader(SmtpAuth(source="file", secret="missing.json"))
    with pytest.raises(smtp.SmtpConfigError, match="no file"):
        reader(SmtpAuth(source="file", secret="../ses-smtp.json"))
