"""Monte Carlo and Sobol indices of the rebuilt index's ranks (simulated)."""

from __future__ import annotations

import numpy as np
import pytest

from hotlines.index import CompositeIndex, monte_carlo, sobol_indices
from hotlines.index import uncertainty as unc


@pytest.fixture(scope="module")
def index():
    return CompositeIndex()


def test_same_seed_same_result_bit_for_bit_and_another_seed_differs(index):
    a = monte_carlo(index, n=2000, seed=11)
    b = monte_carlo(index, n=2000, seed=11)
    c = monte_carlo(index, n=2000, seed=12)
    assert np.array_equal(a.totals, b.totals) and np.array_equal(a.weights, b.weights)
    assert a.draws.equals(b.draws)
    assert not np.array_equal(a.totals, c.totals)
    assert not a.draws[["normalisation", "imputation"]].equals(c.draws[["normalisation", "imputation"]])


@pytest.mark.parametrize("combo", [
    ("minmax", "mean", "weighted_sum", "as_value"),
    ("minmax_scale", "median", "geometric", "floor"),
    ("zscore", "none", "weighted_sum", "missing"),
    ("rank", "worst", "geometric", "as_value"),
])
def test_zero_perturbation_and_fixed_methods_give_the_deterministic_ranks(index, combo):
    norm, imp, agg, lb = combo
    fixed = index.with_(normalisation=norm, imputation=imp, aggregation=agg, lower_bounds=lb)
    mc = monte_carlo(fixed, n=50, seed=5, concentration=None, normalisations=(norm,), imputations=(imp,),
                     aggregations=(agg,), lower_bounds=(lb,))
    expected = fixed.totals["rank"].to_numpy(dtype=int)
    assert (mc.ranks == expected).all()
    assert np.allclose(mc.totals, fixed.totals["total"].to_numpy()[None, :], rtol=0, atol=1e-9)
    summary = mc.summary().set_index("city_id")
    assert (summary["mc_rank_p05"] == summary["deterministic_rank"]).all()
    assert (summary["mc_rank_p95"] == summary["deterministic_rank"]).all()


def test_vectorised_and_loop_give_identical_ranks(index):
    assert np.array_equal(monte_carlo(index, n=300, seed=3).ranks, unc.monte_carlo_loop(index, n=300, seed=3))


def test_dirichlet_weights_are_centred_on_the_published_weights(index):
    struct = unc.Structure.of(index)
    draws = unc.draw_weights(struct, 20000, 100.0, np.random.default_rng(0))
    assert np.allclose(draws.sum(axis=1), 100.0)
    assert (draws >= 0).all()
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert (np.abs(draws.mean(axis=0) - struct.w3) < 5 * se + 1e-12).all()
    # a tighter concentration gives less spread
    tight = unc.draw_weights(struct, 20000, 10000.0, np.random.default_rng(0))
    assert (tight.std(axis=0) < draws.std(axis=0)).all()


def test_summary_intervals_are_ordered_and_labelled_simulated(index):
    mc = monte_carlo(index, n=1000, seed=1)
    s = mc.summary()
    assert len(s) == 20
    assert ((s["mc_rank_p05"] <= s["mc_median_rank"]) & (s["mc_median_rank"] <= s["mc_rank_p95"])).all()
    assert s["mc_rank_p05"].min() >= 1 and s["mc_rank_p95"].max() <= 20
    assert "simulated" in s.attrs["note"]
    by = mc.by_option()
    assert set(by["factor"]) == {"normalisation", "imputation", "aggregation", "lower_bounds"}
    assert by.groupby("factor")["n"].apply(lambda n: n.iloc[::20].sum()).eq(1000).all()


def test_sobol_attributes_all_rank_variance_to_the_only_varying_factors(index):
    # weights fixed and only imputation and aggregation vary: for every city whose rank moves, their indices
    # carry all of its variance (S1 + interaction = ST; ST of each is at least its S1)
    table = sobol_indices(index, n_base=512, seed=7, concentration=None, normalisations=("minmax",),
                          imputations=("mean", "worst"), aggregations=("weighted_sum", "geometric"),
                          lower_bounds=("as_value",))
    assert set(table["factor"]) == {"imputation", "aggregation"}
    wide = table.pivot(index="city_id", columns="factor", values="ST").dropna()
    assert len(wide) >= 10  # cities whose rank changes
    assert (wide.max(axis=1) > 0.5).all()
    # the exact variance split, computed over the four equally likely method combinations
    fixed = {(imp, agg): index.with_(imputation=imp, aggregation=agg).totals.set_index("city_id")["rank"]
             for imp in ("mean", "worst") for agg in ("weighted_sum", "geometric")}
    for city in wide.index:
        y = np.array([[fixed[(i, a)][city] for a in ("weighted_sum", "geometric")] for i in ("mean", "worst")], float)
        var = y.var()
        s1_imp = y.mean(axis=1).var() / var
        st_imp = 1 - y.mean(axis=0).var() / var
        row = table[(table["city_id"] == city) & (table["factor"] == "imputation")].iloc[0]
        assert row["S1"] == pytest.approx(s1_imp, abs=0.1) and row["ST"] == pytest.approx(st_imp, abs=0.1)
    assert "simulated" in table.attrs["note"]


def test_sobol_on_the_full_design_returns_every_city_and_group(index):
    table = sobol_indices(index, n_base=128, seed=3)
    assert table["city_id"].nunique() == 20
    assert set(table["factor"]) == set(unc.FACTOR_GROUPS)
    assert (table["n_evaluations"] == 128 * (len(unc.FACTOR_GROUPS) + 2)).all()
