"""The mutation operators of policies/mutation: each produces the expected mutant on a small snippet.

Pure Python (no OPA): the operators must find every place they claim to mutate, never touch strings,
comments or messages they should leave alone, and give ids that do not depend on line numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.mutation import equivalent, operators, report, runner
from policies.mutation.operators import Mutant, generate

SNIPPET = """\
package demo

# METADATA
# title: a == b in a comment is not code
default allow := false

allow if {
	input.level >= 2
	not input.blocked
	input.kind == "prime"
	regex.match(`^[0-9]{13}$`, input.number)
}

label := "a message with spaces" if input.flag == true

size(x) := 1 if x < 10 else := 2
"""


def _by(operator: str, source: str = SNIPPET) -> list[Mutant]:
    return [m for m in generate("demo/demo.rego", source) if m.operator == operator]


def _mutated(operator: str, source: str = SNIPPET) -> set[str]:
    return {m.mutated for m in _by(operator, source)}


def test_operator_names_are_the_documented_ones() -> None:
    produced = {m.operator for m in generate("demo/demo.rego", SNIPPET)}
    assert produced <= set(operators.OPERATORS)


def test_cmp_flip_flips_and_negates_each_comparison() -> None:
    assert _mutated("cmp_flip") >= {
        "input.level > 2",
        "input.level < 2",
        'input.kind != "prime"',
        'label := "a message with spaces" if input.flag != true',
        "size(x) := 1 if x <= 10 else := 2",
        "size(x) := 1 if x >= 10 else := 2",
    }


def test_cmp_flip_ignores_comments_and_strings() -> None:
    source = 'package p\n\n# a == b\nx := "a == b"\n'
    assert _by("cmp_flip", source) == []


def test_delete_expr_replaces_a_body_condition_with_true() -> None:
    assert _mutated("delete_expr") >= {"true", 'label := "a message with spaces" if true'}
    lines = {m.line for m in _by("delete_expr")}
    assert {8, 9, 10, 11} <= lines


def test_delete_expr_skips_assignments_and_some() -> None:
    source = "package p\n\nr if {\n\tsome x in input.xs\n\ty := x\n\ty > 1\n}\n"
    assert [m.original for m in _by("delete_expr", source)] == ["y > 1"]


def test_negate_adds_and_removes_not() -> None:
    assert _mutated("negate") >= {"not input.level >= 2", "input.blocked", 'not input.kind == "prime"'}


def test_negate_on_a_one_line_rule() -> None:
    source = "package p\n\nok if not input.bad\n\nfine if input.good\n"
    assert _mutated("negate", source) == {"ok if input.bad", "fine if not input.good"}


def test_const_num_changes_integers_by_one_but_not_inside_strings_or_names() -> None:
    source = 'package p\n\nx := y2 + 9 if input.s == "10"\n'
    assert _mutated("const_num", source) == {
        'x := y2 + 10 if input.s == "10"',
        'x := y2 + 8 if input.s == "10"',
    }


def test_const_str_changes_values_but_not_messages() -> None:
    assert _mutated("const_str") == {'input.kind == "prime_mutant"'}


def test_const_bool_swaps_true_and_false() -> None:
    assert _mutated("const_bool") == {
        "default allow := true",
        'label := "a message with spaces" if input.flag == false',
    }


def test_regex_drops_anchors_and_widens_repetition() -> None:
    assert _mutated("regex") == {
        "regex.match(`[0-9]{13}$`, input.number)",
        "regex.match(`^[0-9]{13}`, input.number)",
        "regex.match(`^[0-9]{13,}$`, input.number)",
    }
    assert operators.regex_mutants('"^a{2}$"') == ['"a{2}$"', '"^a{2}"', '"^a{2,}$"']


def test_drop_default_removes_the_default_rule() -> None:
    (mutant,) = _by("drop_default")
    assert "default allow" not in mutant.source
    assert mutant.source.count("\n") == SNIPPET.count("\n")  # lines kept, so locations stay comparable


def test_drop_else_removes_one_else_branch() -> None:
    source = "package p\n\nr := 1 if {\n\tinput.a\n} else := 2 if {\n\tinput.b\n} else := 3\n"
    mutants = _by("drop_else", source)
    sources = {m.source for m in mutants}
    assert "package p\n\nr := 1 if {\n\tinput.a\n\n\n} else := 3\n" in sources
    assert "package p\n\nr := 1 if {\n\tinput.a\n} else := 2 if {\n\tinput.b\n}\n" in sources


def test_every_mutant_changes_the_source() -> None:
    for mutant in generate("demo/demo.rego", SNIPPET):
        assert mutant.source != SNIPPET, mutant.mutant_id


def test_ids_are_unique_and_do_not_depend_on_line_numbers() -> None:
    first = generate("demo/demo.rego", SNIPPET)
    shifted = generate("demo/demo.rego", SNIPPET.replace("package demo\n", "package demo\n\n\n# moved\n"))
    assert len({m.mutant_id for m in first}) == len(first)
    assert [m.mutant_id for m in first] == [m.mutant_id for m in shifted]
    assert [m.line + 3 for m in first] == [m.line for m in shifted]


def test_id_names_file_rule_operator_and_snippet() -> None:
    (mutant,) = [m for m in _by("cmp_flip") if m.mutated == "input.level > 2"]
    assert mutant.mutant_id == "demo/demo.rego::allow::cmp_flip::input.level >= 2 => input.level > 2"
    assert mutant.package == "demo"


def test_policy_files_skip_tests_and_fixtures(tmp_path: Path) -> None:
    for rel in ("a/a.rego", "a/a_test.rego", "fixtures/f_test.rego", "fixtures/data.rego"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("package x\n")
    assert [p.relative_to(tmp_path).as_posix() for p in runner.policy_files(tmp_path)] == ["a/a.rego"]


def test_equivalent_list_rejects_duplicates_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "equivalent.yaml"
    path.write_text("equivalent:\n  - {id: a, reason: r}\n  - {id: a, reason: s}\n")
    with pytest.raises(equivalent.ListError, match="listed twice"):
        equivalent.load(path)
    path.write_text("equivalent:\n  - {id: a, why: r}\n")
    with pytest.raises(equivalent.ListError, match=str(path)):
        equivalent.load(path)


def test_summary_fails_on_unlisted_survivor_and_reports_stale_entries() -> None:
    mutants = generate("demo/demo.rego", SNIPPET)
    results = [runner.Result(mutants[0], runner.SURVIVED), runner.Result(mutants[1], runner.KILLED)]
    listed = {mutants[1].mutant_id: "claimed equivalent, but killed"}
    summary = report.summarise(results, listed, 1.0)
    assert [r.mutant.mutant_id for r in summary.unlisted] == [mutants[0].mutant_id]
    assert summary.stale == [mutants[1].mutant_id]
    assert f"policies/bizid/demo/demo.rego:{mutants[0].line}" in report.survivor_line(summary.unlisted[0])
    (stats,) = summary.stats
    assert (stats.killed, stats.survived, stats.kill_ratio) == (1, 1, 0.5)


def test_selection_runs_the_tests_of_every_package_that_can_see_the_mutant(tmp_path: Path) -> None:
    files = {
        "base/base.rego": "package t.base\n\nx := 1\n",
        "mid/mid.rego": "package t.mid\n\nimport data.t.base\n\ny := base.x\n",
        "top/top.rego": "package t.top\n\n# data.t.base in a comment does not count\nz := data.t.mid.y\n",
        "base/base_test.rego": "package t.base_test\n\nimport data.t.base\n\ntest_x if base.x == 1\n",
        "top/top_test.rego": "package t.top_test\n\nimport data.t.top\n\ntest_z if top.z == 1\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    selection = runner.test_selection(tmp_path)
    assert selection["base/base.rego"] == r"^data\.(t\.base_test|t\.top_test)\."
    assert selection["mid/mid.rego"] == r"^data\.(t\.top_test)\."
    assert selection["top/top.rego"] == r"^data\.(t\.top_test)\."


def test_entries_not_run_this_time_are_not_stale() -> None:
    mutants = generate("demo/demo.rego", SNIPPET)
    listed = {mutants[2].mutant_id: "reviewed", "demo/demo.rego::gone::negate::x => not x": "reviewed"}
    subset = [runner.Result(mutants[0], runner.KILLED)]
    summary = report.summarise(subset, listed, 1.0, {m.mutant_id for m in mutants})
    assert summary.stale == ["demo/demo.rego::gone::negate::x => not x"]


def test_drop_rule_removes_one_definition_with_its_metadata_block() -> None:
    source = (
        "package p\n\n# METADATA\n# title: t\nok if input.a\n\nok if {\n\tinput.b\n}\n\ndefault d := false\n"
    )
    mutants = _by("drop_rule", source)
    assert [m.original for m in mutants] == ["ok if input.a", "ok if {"]
    first, second = (m.source for m in mutants)
    assert "METADATA" not in first and "input.a" not in first and "input.b" in first
    assert "input.b" not in second and "ok if input.a" in second and "default d" in second
    assert all(m.source.count("\n") == source.count("\n") for m in mutants)  # locations stay comparable


def test_every_some_turns_every_into_some_and_keeps_the_body() -> None:
    source = "package p\n\nall_s(v) if {\n\tis_array(v)\n\tevery x in v {\n\t\tis_string(x)\n\t}\n}\n"
    (mutant,) = _by("every_some", source)
    assert mutant.mutated == "some x in v"
    expected = "package p\n\nall_s(v) if {\n\tis_array(v)\n\tsome x in v\n\t\tis_string(x)\n\n}\n"
    assert mutant.source == expected


def test_arith_swaps_binary_operators_only() -> None:
    source = 'package p\n\nx := (a * 60) + (b % 9) if input.s == "a - b"\n\ny := -1\n'
    assert _mutated("arith", source) == {
        'x := (a / 60) + (b % 9) if input.s == "a - b"',
        'x := (a * 60) - (b % 9) if input.s == "a - b"',
        'x := (a * 60) + (b / 9) if input.s == "a - b"',
    }


def test_builtin_swap_swaps_opposite_builtins_but_not_methods_of_other_namespaces() -> None:
    source = (
        "package p\n\nx := max([1, 2]) if startswith(input.a, upper(input.b))\n\ny := object.union({}, {})\n"
    )
    assert _mutated("builtin_swap", source) == {
        "x := min([1, 2]) if startswith(input.a, upper(input.b))",
        "x := max([1, 2]) if endswith(input.a, upper(input.b))",
        "x := max([1, 2]) if startswith(input.a, lower(input.b))",
    }
