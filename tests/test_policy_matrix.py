"""`bizid policy matrix` shows what OPA decides: the platform's OPA, and private OPAs on edited registries.

- Against the platform's OPA (settings.opa_url): Entry is refused at jGrants, allowed at the seminar with
  aal1; a Prime at jGrants gets its corporate number, also inside verified_claims.
- The committed report (docs/reports/policy-matrix.{md,html}) is exactly what the current policies and
  definitions produce: a change of either without regenerating the report fails here.
- A registry edit shows up: with a copy of the definitions where the seminar no longer accepts Entry,
  a private OPA refuses Entry there and the report says so.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import yaml

from policies import matrix, matrix_report
from realm import loader
from scripts import cli_matrix, settings
from scripts.settings import Settings

REPORTS = matrix_report.DEFAULT_OUT


@pytest.fixture(scope="module")
def current() -> matrix.Matrix:
    """The matrix of the repository's policies and definitions, from a private OPA."""
    with matrix.private_opa(binary=settings.load().paths.opa) as url:
        return matrix.build(matrix.Opa(url))


def _claims(m: matrix.Matrix, rp: str, tier: str, scope_set: str = "registered") -> matrix.ClaimsRow:
    return next(row for row in m.claims[rp] if row.tier == tier and row.scope_set == scope_set)


@pytest.mark.platform
def test_the_platform_opa_refuses_entry_at_jgrants_and_admits_it_at_the_seminar(platform: Settings) -> None:
    m = matrix.build(matrix.Opa(platform.opa_url))
    assert m.access["jgrants"]["entry"] == matrix.AccessCell(None, ("tier_not_accepted",))
    assert m.access["seminar"]["entry"] == matrix.AccessCell("aal1", ())
    assert m.access["seminar"]["prime"].allowed_acr == "aal2"  # the tier's minimum, not the RP's aal1
    assert m.access["jgrants"]["provisional-prime (RP named)"].reasons == ("tier_not_accepted",)
    assert m.access["it-subsidy"]["provisional-prime (RP named)"].allowed_acr == "aal2"
    assert m.access["it-subsidy"]["provisional-prime (not named)"].reasons == ("provisional_rp_not_allowed",)
    prime = _claims(m, "jgrants", "prime")
    assert "corporate_number" in prime.released and "corporate_number" in prime.verified
    entry = _claims(m, "seminar", "entry", "every scope")
    assert not {"corporate_number", "corporate_name"} & set(entry.released)
    assert ("corporate_number", "corporate", "scope_not_registered") in entry.withheld
    provisional = _claims(m, "it-subsidy", "provisional-prime")
    assert ("corporate_number", "corporate", "unverified_tier") in provisional.withheld
    assert provisional.verified == ()


def test_the_committed_report_is_what_the_policy_decides_now(current: matrix.Matrix) -> None:
    for suffix, render in (("md", matrix_report.render_markdown), ("html", matrix_report.render_html)):
        committed = (REPORTS / f"{matrix_report.REPORT_NAME}.{suffix}").read_text(encoding="utf-8")
        assert committed == render(current), (
            f"docs/reports/{matrix_report.REPORT_NAME}.{suffix} is stale: "
            "run `bizid policy matrix` and commit it"
        )


def test_delegation_rows_follow_the_licence_rules(current: matrix.Matrix) -> None:
    rows = {(r.rp, r.procedure, r.licence): r for r in current.delegations}
    assert rows[("jgrants", "subsidy-application", None)].allowed
    unlicensed = rows[("jgrants", "subsidy-report", None)]
    assert not unlicensed.allowed and unlicensed.claim_procedures == ()
    assert any("licence_required" in reason for reason in unlicensed.reasons)
    licensed = rows[("jgrants", "subsidy-report", "zeirishi")]
    assert licensed.allowed and licensed.claim_procedures == ("subsidy-report",)
    assert licensed.claim_licences == ("zeirishi",)


def _edited_definitions(tmp_path: Path) -> Path:
    copy = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, copy)
    seminar = copy / "rps" / "seminar.yaml"
    data = yaml.safe_load(seminar.read_text(encoding="utf-8"))
    data["accepted_tiers"] = [t for t in data["accepted_tiers"] if t != "entry"]
    seminar.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return copy


def test_the_matrix_follows_an_edited_registry(tmp_path: Path, current: matrix.Matrix) -> None:
    with matrix.private_opa(_edited_definitions(tmp_path), binary=settings.load().paths.opa) as url:
        edited = matrix.build(matrix.Opa(url))
    assert current.access["seminar"]["entry"].allowed_acr == "aal1"
    assert edited.access["seminar"]["entry"] == matrix.AccessCell(None, ("tier_not_accepted",))
    assert all(row.tier != "entry" for row in edited.claims["seminar"])
    assert edited.registry_digest != current.registry_digest
    assert edited.policy_digest == current.policy_digest
    # Everything else is unchanged.
    assert {rp: row for rp, row in edited.access.items() if rp != "seminar"} == {
        rp: row for rp, row in current.access.items() if rp != "seminar"
    }


def test_the_cli_writes_both_reports_from_a_definitions_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    cli_matrix.register(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "out"
    args = parser.parse_args(
        ["policy", "matrix", "--definitions", str(_edited_definitions(tmp_path)), "--out", str(out)]
    )
    assert args.func(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["policy-matrix.html", "policy-matrix.md"]
    md = (out / "policy-matrix.md").read_text(encoding="utf-8")
    seminar_row = next(line for line in md.splitlines() if line.startswith("| seminar |"))
    assert "| no: tier_not_accepted |" in seminar_row
    html_text = (out / "policy-matrix.html").read_text(encoding="utf-8")
    assert '<td class="no">no: tier_not_accepted</td>' in html_text
    assert "wrote" in capsys.readouterr().out


def test_an_unreachable_opa_is_a_clear_error() -> None:
    with pytest.raises(matrix.MatrixError, match="cannot be reached"):
        matrix.build(matrix.Opa("http://127.0.0.1:9", timeout=1))
