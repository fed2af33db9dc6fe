"""CompositeIndex on hand-computed examples, its log, regeneration with one change and comparison."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotlines.index import CompositeIndex, compare, parse_spec
from hotlines.index import uncertainty as unc

from .test_index_spec import RAW

CITIES = ["x", "y", "z"]


def tiny_spec(a_cont_direction: str = "higher"):
    """Two first-level indicators: A (60) = A1 {a_bin 20, a_cont 40}; B (40) = B1 {b_ord 40, levels 0-4}."""
    def w(value, assumed=True):
        return {"value": value, "assumed": True, "reason": "test"} if assumed else {
            "value": value, "assumed": False, "locator": "t.txt:L1", "quote": "q"}

    raw = {
        "name": "tiny", "total": 100, "methods": copy.deepcopy(RAW["methods"]),
        "indicators": [
            {"id": "A", "name": "A", "weight": w(60, False), "children": [
                {"id": "A1", "name": "A1", "weight": w(60, False), "children": [
                    {"id": "a_bin", "name": "a", "definition": "d", "locator": "t.txt:L1", "type": "binary",
                     "direction": {"value": "higher", "assumed": False}, "weight": w(20)},
                    {"id": "a_cont", "name": "a", "definition": "d", "locator": "t.txt:L1", "type": "continuous", "scale": None,
                     "direction": {"value": a_cont_direction, "assumed": True, "reason": "test"}, "weight": w(40)},
                ]}]},
            {"id": "B", "name": "B", "weight": w(40, False), "children": [
                {"id": "B1", "name": "B1", "weight": w(40, False), "children": [
                    {"id": "b_ord", "name": "b", "definition": "d", "locator": "t.txt:L1", "type": "ordinal",
                     "levels": {0: "none", 1: "one", 2: "two", 3: "three", 4: "four"}, "scale": {"min": 0, "max": 4},
                     "direction": {"value": "higher", "assumed": False}, "weight": w(40)},
                ]}]},
        ],
    }
    return parse_spec(raw)


def inputs_from(table: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = [{"city_id": c, "indicator": k, "value": v, "used": True, "qualifier": "="}
            for k, column in table.items() for c, v in column.items() if v is not None]
    return pd.DataFrame(rows)


DATA = {"a_bin": {"x": 1, "y": 0, "z": 0}, "a_cont": {"x": 10, "y": 20, "z": 30}, "b_ord": {"x": 4, "y": 3, "z": 0}}


def test_minmax_and_weighted_sum_reproduce_a_hand_computed_example():
    idx = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES)
    # Formula (1): a_cont -> 0, 0.5, 1; b_ord (min 0, max 4) -> 1, 0.75, 0; a_bin enters as 0/1.
    assert idx.normalised.loc[["x", "y", "z"], "a_cont"].tolist() == [0.0, 0.5, 1.0]
    assert idx.normalised.loc[["x", "y", "z"], "b_ord"].tolist() == [1.0, 0.75, 0.0]
    # Formulas (2)-(5): x = 20*1 + 40*0 + 40*1 = 60; y = 0 + 20 + 30 = 50; z = 0 + 40 + 0 = 40.
    totals = idx.totals.set_index("city_id")
    assert totals["total"].tolist() == pytest.approx([60.0, 50.0, 40.0])
    assert totals["rank"].tolist() == [1, 2, 3]
    first = idx.level_scores(1)
    assert first.loc["y", "A"] == pytest.approx(20.0) and first.loc["y", "B"] == pytest.approx(30.0)
    # the third-level points sum to the second level, which sums to the first (Formulas 3-4)
    s = idx.scores
    third = s[s["level"] == 3].groupby(["city_id", "parent"])["points"].sum()
    second = s[s["level"] == 2].set_index(["city_id", "indicator"])["points"]
    assert np.allclose(third.sort_index().to_numpy(), second.sort_index().to_numpy())


def test_lower_is_better_flips_the_normalised_value():
    idx = CompositeIndex(tiny_spec("lower"), inputs_from(DATA), CITIES)
    assert idx.normalised.loc[["x", "y", "z"], "a_cont"].tolist() == [1.0, 0.5, 0.0]
    assert idx.totals.set_index("city_id")["total"].tolist() == pytest.approx([100.0, 50.0, 0.0])


def test_mean_imputation_is_logged_with_counts_and_values():
    data = copy.deepcopy(DATA)
    data["a_cont"]["y"] = None          # imputed by the mean of 10 and 30 = 20
    data["b_ord"]["x"] = None           # mean of 3 and 0 = 1.5
    data["b_ord"]["z"] = None           # ... two cells
    idx = CompositeIndex(tiny_spec(), inputs_from(data), CITIES, imputation="mean")
    assert idx.imputed.at["y", "a_cont"] == 20.0
    assert idx.imputed.loc[["x", "z"], "b_ord"].tolist() == [3.0, 3.0]  # mean of the one observed value (3)
    log = idx.log
    rows = log[(log["step"] == "imputation") & (log["what"] == "imputed")].set_index("item")
    assert rows.at["a_cont", "value"] == 1 and "mean of 2 observed values = 20" in rows.at["a_cont", "detail"]
    assert rows.at["b_ord", "value"] == 2 and "mean of 1 observed values = 3" in rows.at["b_ord", "detail"]
    assert rows.at["a_bin", "value"] == 0
    # b_ord has a single observed value: the log says all cities now share it, and Formula (1) falls back to the scale
    assert ((log["item"] == "b_ord") & (log["what"] == "no spread")).sum() == 2
    assert idx.normalised["b_ord"].tolist() == [0.75, 0.75, 0.75]
    # the scores table marks the imputed cells
    s = idx.scores[idx.scores["level"] == 3].set_index(["city_id", "indicator"])
    assert s.at[("y", "a_cont"), "imputed"] and not s.at[("x", "a_cont"), "imputed"]


def test_median_worst_and_none_imputation_by_hand():
    data = copy.deepcopy(DATA)
    data["a_cont"]["y"] = None
    data["a_bin"]["y"] = 1
    data["a_cont"]["z"] = 100  # x 10, z 100: median 55
    inputs = inputs_from(data)
    assert CompositeIndex(tiny_spec(), inputs, CITIES, imputation="median").imputed.at["y", "a_cont"] == 55.0
    # worst of a continuous item is its worst observed value (10 for higher-is-better)
    assert CompositeIndex(tiny_spec(), inputs, CITIES, imputation="worst").imputed.at["y", "a_cont"] == 10.0
    # worst of a binary item is 0
    data2 = copy.deepcopy(DATA)
    data2["a_bin"]["z"] = None
    assert CompositeIndex(tiny_spec(), inputs_from(data2), CITIES, imputation="worst").imputed.at["z", "a_bin"] == 0.0
    # none: y's A1 is the weighted mean of the items it has (a_bin = 1 only) times 60 -> 60
    none = CompositeIndex(tiny_spec(), inputs, CITIES, imputation="none")
    assert none.level_scores(2).at["y", "A1"] == pytest.approx(60.0)
    assert none.totals.set_index("city_id").at["y", "total"] == pytest.approx(60.0 + 40 * 0.75)


def test_geometric_aggregation_by_hand():
    idx = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES, aggregation="geometric")
    lift = lambda v: 0.1 + 0.9 * v  # noqa: E731
    # y: A1 share = exp((20 ln lift(0) + 40 ln lift(0.5)) / 60); B1 share = lift(0.75); total = 100 * A^0.6 * B^0.4
    a1 = math.exp((20 * math.log(lift(0)) + 40 * math.log(lift(0.5))) / 60)
    b1 = lift(0.75)
    expected = 100 * a1 ** 0.6 * b1 ** 0.4
    assert idx.totals.set_index("city_id").at["y", "total"] == pytest.approx(expected, rel=1e-12)
    assert idx.level_scores(2).at["y", "A1"] == pytest.approx(60 * a1, rel=1e-12)


def test_zscore_and_rank_normalisation_by_hand():
    z = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES, normalisation="zscore").normalised["a_cont"]
    sd = np.std([10, 20, 30])
    assert z.tolist() == pytest.approx([-10 / sd, 0.0, 10 / sd])
    r = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES, normalisation="rank").normalised["b_ord"]
    assert r.tolist() == [1.0, 0.5, 0.0]


def test_entropy_weights_by_hand_and_with_their_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idx = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES, weighting="entropy")
        idx.totals  # weights are computed on first use
    assert any("dispersion, not importance" in str(w.message) for w in caught)

    def d(values):
        p = np.asarray(values, float) / np.sum(values)
        p = p[p > 0]
        return 1 + (p * np.log(p)).sum() / np.log(3)

    dj = {"a_bin": d([1, 0, 0]), "a_cont": d([0, 0.5, 1]), "b_ord": d([1, 0.75, 0])}
    expected = {k: 100 * v / sum(dj.values()) for k, v in dj.items()}
    got = idx.weights.set_index("id")["weight"]
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12)
    assert (idx.log["what"] == "entropy warning").any()


def test_with_changes_one_setting_and_compare_reports_differences():
    a = CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES)
    b = a.with_(normalisation="rank")
    assert b.settings.normalisation == "rank" and b.settings.imputation == a.settings.imputation
    table = compare(a, b)
    assert table.attrs["changed"] == {"normalisation": ("minmax", "rank")}
    total = table[table["level"] == "total"].set_index("city_id")
    # rank normalisation (binary items too): a_bin 1, .25, .25 (tied ranks averaged); a_cont 0, .5, 1; b_ord 1, .5, 0
    # -> x = 20 + 0 + 40 = 60; y = 5 + 20 + 20 = 45; z = 5 + 40 + 0 = 45, a tie
    assert total["score_b"].tolist() == pytest.approx([60.0, 45.0, 45.0])
    assert total["score_diff"].tolist() == pytest.approx([0.0, -5.0, 5.0])
    assert total["rank_b"].tolist() == [1, 2, 2] and total["rank_diff"].tolist() == [0, 0, -1]
    assert set(table["level"]) == {"total", "A", "B"}


def test_the_shipped_index_runs_and_logs_every_step():
    idx = CompositeIndex()
    assert len(idx.cities) == 20 and idx.totals["rank"].min() == 1
    assert set(idx.log["step"]) >= {"settings", "spec", "inputs", "imputation", "normalisation", "weights", "aggregation"}
    imputed = idx.log[(idx.log["step"] == "imputation") & (idx.log["what"] == "imputed")].set_index("item")["value"]
    missing = idx.raw.isna().sum()
    assert imputed.astype(int).to_dict() == missing.astype(int).to_dict()
    # with excluded indicators' weight redistributed, the first-level weights stay as published
    w = idx.weights.set_index("id")["weight"]
    assert [w[f] for f in ("process_governance", "collaborative_governance", "smart_governance", "responsive_governance")] == \
        pytest.approx([20, 25, 30, 25])
    dropped = idx.with_(excluded_weight="drop")
    assert dropped.totals["max_total"].iloc[0] == pytest.approx(100 - 5 - 13 / 3 - 12)


def test_lower_bound_treatments_differ_as_documented():
    idx = CompositeIndex()
    floor = idx.with_(lower_bounds="floor")
    missing = idx.with_(lower_bounds="missing")
    # Guangzhou's connection rate is stated as 'exceeding 96.2%': as_value keeps 96.2, floor lifts it to the mean of the
    # exact values (98.0 and 99.7), missing imputes that mean too
    assert idx.imputed.at["guangzhou", "call_answer_rate"] == pytest.approx(96.2)
    assert floor.imputed.at["guangzhou", "call_answer_rate"] == pytest.approx(98.85)
    assert missing.imputed.at["guangzhou", "call_answer_rate"] == pytest.approx(98.85)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=9, max_size=9),
       st.sampled_from(["weighted_sum", "geometric"]))
def test_object_and_vectorised_aggregation_agree_on_random_data(cells, aggregation):
    values = {"a_bin": {}, "a_cont": {}, "b_ord": {}}
    for (k, c), v in zip([(k, c) for k in values for c in CITIES], cells):
        if v is None:
            continue
        offset = 1000 * CITIES.index(c)  # keeps the continuous values distinct, so Formula (1) is defined
        values[k][c] = round(v) if k == "a_bin" else (round(4 * v) if k == "b_ord" else 100 * v + offset)
    for k in values:  # every indicator needs data and every city a value somewhere
        values[k].setdefault("x", 1 if k == "a_bin" else (4 if k == "b_ord" else 50.0))
    values["a_cont"].setdefault("y", 1007.0)
    values["a_cont"].setdefault("z", 2093.0)
    idx = CompositeIndex(tiny_spec(), inputs_from(values), CITIES, imputation="none", aggregation=aggregation)
    struct = unc.Structure.of(idx)
    prepared = unc._prepared(idx, struct, ("minmax",), ("none",), (aggregation,), ("as_value",))
    totals = unc.aggregate(prepared[("minmax", "none", aggregation, "as_value")], struct.w3[None, :], struct,
                           aggregation == "geometric")
    assert np.allclose(totals[0], idx.totals["total"].to_numpy(), equal_nan=True)


def test_repr_names_the_settings():
    assert "imputation=mean" in repr(CompositeIndex(tiny_spec(), inputs_from(DATA), CITIES))
