"""realm/enrolment.py without a platform: the stored record (as EnrolmentCode.java reads it), options."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from realm import enrolment
from realm.lifecycle import LifecycleError


def test_the_record_keeps_only_a_salted_hash_and_the_expiry() -> None:
    code = enrolment.new_code()
    expires = dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    salt = bytes(range(16))
    value = enrolment.record(code, expires, salt)
    version, state, epoch, attempts, salt_hex, digest = value.split(":")
    assert (version, state, attempts, salt_hex) == ("v1", "issued", "0", salt.hex())
    assert int(epoch) == int(expires.timestamp())
    assert digest == hashlib.sha256(salt + code.encode()).hexdigest()
    assert code not in value
    assert enrolment.StoredCode.parse(value) == enrolment.StoredCode("issued", expires, 0)


def test_codes_are_12_symbols_of_the_unambiguous_alphabet_and_differ() -> None:
    codes = {enrolment.new_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == 12 and set(c) <= set(enrolment.ALPHABET) for c in codes)
    assert not set("01OI") & set(enrolment.ALPHABET)
    assert enrolment.grouped("ABCDEFGHJKLM") == "ABCD-EFGH-JKLM"


def test_fresh_salts_make_the_same_code_hash_differently() -> None:
    expires = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert enrolment.record("ABCDEFGHJKLM", expires) != enrolment.record("ABCDEFGHJKLM", expires)


@pytest.mark.parametrize("value", [None, "", "v2:issued:1:0:00:aa", "v1:issued:x:0:00:aa", "v1:issued:1:0"])
def test_an_unreadable_record_is_none(value: str | None) -> None:
    assert enrolment.StoredCode.parse(value) is None


@pytest.mark.parametrize(
    ("deliver", "days", "message"),
    [("fax", 14, "--deliver 'fax'"), ("mail", 0, "--valid-days 0"), ("letter", 32, "--valid-days 32")],
)
def test_bad_options_name_the_option(deliver: str, days: int, message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        enrolment.validate_options(deliver, days)
