"""Performance by collaboration mode: coder choice, summaries, tests, and the variant without grade C."""

from __future__ import annotations

import pandas as pd
import pytest

from hotlines.compare.bymode import compare_by_mode, compare_by_mode_variants, default_coders, mode_table
from hotlines.compare.smalln import permutation_test


def coders_table(extra=None):
    rows = [{"coder": "coder_a", "procedure": "independent pass"}, {"coder": "coder_b", "procedure": "independent pass"}]
    return pd.DataFrame(rows + (extra or []))


def test_default_coders_falls_back_to_the_union_until_a_reconciled_pass_exists():
    codings = pd.DataFrame({"coder": ["coder_a", "coder_b"], "segment_id": ["S1", "S1"], "code": ["x", "x"]})
    assert default_coders(coders_table(), codings) == {
        "coders": ["coder_a", "coder_b"], "rule": "union",
        "basis": "union of the two independent passes coder_a and coder_b (no reconciled coding yet)"}
    listed_only = coders_table([{"coder": "coder_r", "procedure": "Reconciliation of passes A and B"}])
    assert default_coders(listed_only, codings)["coders"] == ["coder_a", "coder_b"]  # no codings yet
    with_codings = pd.concat([codings, pd.DataFrame({"coder": ["coder_r"], "segment_id": ["S1"], "code": ["x"]})])
    choice = default_coders(listed_only, with_codings)
    assert choice["coders"] == ["coder_r"] and "reconciled" in choice["basis"]


def fixtures():
    perf = pd.DataFrame({
        "city_id": ["v1", "v2", "v3", "h1", "h2", "h3", "m1", "u1"],
        "measure": "rate", "label": "Rate", "unit": "percent",
        "value": [90.0, 95, 97, 60, 70, 93, 80, 50],
        "grade": ["A", "B", "C", "B", "C", "A", "B", "A"],
        "higher_is_better": True,
    })
    modes = pd.DataFrame({
        "city_id": ["v1", "v2", "v3", "h1", "h2", "h3", "m1", "u1"],
        "dimension": "overall",
        "mode": ["vertical"] * 3 + ["horizontal"] * 3 + ["mixed", "insufficient evidence"],
    })
    return perf, modes


def test_summaries_and_tests_match_direct_computation():
    perf, modes = fixtures()
    result = compare_by_mode(perf, modes, dimensions=("overall",), seed=0)
    summary = result.summary.set_index("mode")
    assert summary.loc["vertical", "median"] == 95 and summary.loc["horizontal", "median"] == 70
    assert summary.loc["insufficient evidence", "cities"] == "u1"
    assert summary.loc["vertical", "grades"] == "A:1 B:1 C:1"
    tests = result.tests.set_index(["group_a", "group_b"])
    assert "insufficient evidence" not in set(result.tests["group_a"]) | set(result.tests["group_b"])
    direct = permutation_test(perf.merge(modes), "value", "mode", groups=("vertical", "horizontal"), seed=0).iloc[0]
    assert tests.loc[("vertical", "horizontal"), "p_value"] == pytest.approx(direct["p_value"])
    assert tests.loc[("vertical", "horizontal"), "estimate"] == pytest.approx(25.0)
    assert "not tested" in tests.loc[("vertical", "mixed"), "note"]  # one mixed city


def test_variant_without_grade_c_leaves_those_cities_out_and_says_so():
    perf, modes = fixtures()
    both = compare_by_mode_variants(perf, modes, dimensions=("overall",), seed=0)
    assert set(both.summary["rows"]) == {"all grades", "without grade C"}
    without = both.summary[both.summary["rows"] == "without grade C"].set_index("mode")
    assert without.loc["vertical", "cities"] == "v1, v2" and without.loc["horizontal", "cities"] == "h1, h3"
    assert both.settings["variants"] == ("all grades", "without grade C")


def test_mode_table_on_the_coded_corpus_has_every_dimension_for_every_city():
    modes = mode_table()
    assert set(modes["dimension"]) == {"overall", "leadership", "institution", "mechanism"}
    assert modes.groupby("city_id").size().eq(4).all()
    assert set(modes["mode"]) <= {"vertical", "mixed", "horizontal", "insufficient evidence"}
    assert modes["basis"].nunique() == 1
