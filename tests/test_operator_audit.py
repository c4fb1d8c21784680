"""The operator audit trail (append-only, chained, masked) and the tiers' validity periods (issue 13 §2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from realm.models import Definitions, Tier, Validity, add_months
from realm.operator_audit import AuditEntry, AuditError, OperatorAuditTrail, mask_text, mask_username


def _entry(action: str = "suspend", account_id: str = "id-1") -> AuditEntry:
    return AuditEntry(
        time="2026-12-01T00:00:00Z",
        operator="ops.tanaka",
        action=action,
        account_id=account_id,
        account=mask_username("yamada-taro"),
        tier="prime",
        reason=mask_text("called from 03-1234-5678, mail yamada@example.test"),
        changes={"account_status": ["active", "suspended"]},
    )


def test_entries_are_appended_chained_and_read_back(tmp_path: Path) -> None:
    trail = OperatorAuditTrail(tmp_path / "audit" / "operator.jsonl")
    first = trail.append(_entry())
    second = trail.append(_entry("reactivate"))
    trail.append(_entry("suspend", account_id="id-2"))
    assert first.prev == "0" * 64
    assert second.prev != first.prev
    assert [e.action for e in trail.entries("id-1")] == ["suspend", "reactivate"]
    assert (tmp_path / "audit" / "operator.jsonl").stat().st_mode & 0o777 == 0o600
    trail.verify()


def test_an_edited_line_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "operator.jsonl"
    trail = OperatorAuditTrail(path)
    trail.append(_entry())
    trail.append(_entry("reactivate"))
    lines = path.read_text().splitlines()
    edited = json.loads(lines[0])
    edited["reason"] = "nothing happened"
    path.write_text(json.dumps(edited) + "\n" + lines[1] + "\n")
    with pytest.raises(AuditError, match="entry 2 does not follow entry 1"):
        trail.verify()


def test_personal_data_in_the_reason_and_username_is_masked(tmp_path: Path) -> None:
    trail = OperatorAuditTrail(tmp_path / "operator.jsonl")
    trail.append(_entry())
    text = (tmp_path / "operator.jsonl").read_text()
    assert "yamada-taro" not in text and "yamada@example.test" not in text and "1234-5678" not in text
    assert "ya***(11)" in text and "[e-mail]" in text and "[digits]" in text


def test_a_corrupt_trail_is_refused_before_anything_changes(tmp_path: Path) -> None:
    path = tmp_path / "operator.jsonl"
    path.write_text("not json\n")
    with pytest.raises(AuditError, match="line 1 is not JSON"):
        OperatorAuditTrail(path).check_writable()


def test_validity_is_two_years_three_months_for_prime_and_member(definitions: Definitions) -> None:
    for tier in (Tier.PRIME, Tier.MEMBER):
        validity = definitions.tier(tier).validity
        assert validity is not None and (validity.years, validity.months) == (2, 3)
        assert validity.last_day(dt.date(2026, 7, 1)) == dt.date(2028, 10, 1)
    assert definitions.tier(Tier.ENTRY).validity is None
    provisional = definitions.tier(Tier.PROVISIONAL_PRIME).validity
    assert provisional is not None and not provisional.renewable


def test_add_months_clamps_to_the_end_of_a_short_month() -> None:
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2025, 11, 30), 27) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 1, 15), 12) == dt.date(2027, 1, 15)


def test_an_empty_validity_period_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one month"):
        Validity(years=0, months=0, renewal_window_days=30)


def test_a_verified_tier_without_validity_is_refused(definitions_copy: Path) -> None:
    from realm import loader

    directory = definitions_copy
    tiers = yaml.safe_load((directory / "tiers.yaml").read_text())
    for tier in tiers:
        if tier["name"] == "prime":
            tier.pop("validity")
    (directory / "tiers.yaml").write_text(yaml.safe_dump(tiers))
    with pytest.raises(loader.DefinitionError, match="tier 'prime' must have a validity"):
        loader.load(directory)
