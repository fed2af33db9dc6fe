"""Small-sample methods checked against brute-force enumeration and published worked examples."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotlines.compare.smalln import (bootstrap_ci, kendall_statistic, minimum_detectable_correlation,
                                     pairwise_permutation_tests, permutation_test, power_curve, rank_correlation,
                                     spearman_statistic)


def brute_force_two_group_p(a, b, func):
    """Two-sided p by enumerating every split, with scipy's convention (twice the smaller tail)."""
    pooled = np.concatenate([a, b])
    observed = func(a) - func(b)
    null = []
    for idx in itertools.combinations(range(len(pooled)), len(a)):
        mask = np.zeros(len(pooled), bool)
        mask[list(idx)] = True
        null.append(func(pooled[mask]) - func(pooled[~mask]))
    null = np.array(null)
    eps = 1e-12
    less, greater = np.mean(null <= observed + eps), np.mean(null >= observed - eps)
    return min(1.0, 2 * min(less, greater)), len(null)


def test_exact_permutation_p_matches_brute_force_enumeration():
    data = pd.DataFrame({"mode": ["v"] * 4 + ["h"] * 3, "days": [2.0, 3.5, 3.5, 6.0, 5.0, 9.0, 11.0]})
    result = permutation_test(data, "days", "mode", groups=("v", "h"), statistic="median", seed=0).iloc[0]
    expected, n_splits = brute_force_two_group_p(np.array([2.0, 3.5, 3.5, 6.0]), np.array([5.0, 9.0, 11.0]), np.median)
    assert result["method"] == "exact"
    assert result["n_permutations"] == n_splits == math.comb(7, 4)
    assert result["estimate"] == pytest.approx(3.5 - 9.0)
    assert result["p_value"] == pytest.approx(expected, abs=1e-12)


def test_mean_statistic_exact_p_matches_brute_force():
    a, b = np.array([1.0, 4.0, 2.0]), np.array([7.0, 5.0, 9.0, 6.0])
    data = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 4, "x": np.concatenate([a, b])})
    result = permutation_test(data, "x", "g", groups=("a", "b"), statistic="mean", seed=3).iloc[0]
    expected, _ = brute_force_two_group_p(a, b, np.mean)
    assert result["p_value"] == pytest.approx(expected, abs=1e-12)
    assert result["estimate"] == pytest.approx(a.mean() - b.mean())


def test_monte_carlo_p_is_close_to_the_exact_p_and_reproducible():
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 10), rng.normal(0.8, 1, 10)
    data = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 10, "x": np.concatenate([a, b])})
    exact, n_splits = brute_force_two_group_p(a, b, np.median)
    assert n_splits == 184756
    first = permutation_test(data, "x", "g", groups=("a", "b"), n_resamples=4999, seed=5)
    again = permutation_test(data, "x", "g", groups=("a", "b"), n_resamples=4999, seed=5)
    other = permutation_test(data, "x", "g", groups=("a", "b"), n_resamples=4999, seed=6)
    row = first.iloc[0]
    assert row["method"] == "monte carlo" and row["n_permutations"] == 4999
    tolerance = 4 * math.sqrt(exact * (1 - exact) / 4999) + 2 / 5000
    assert abs(row["p_value"] - exact) < tolerance
    pd.testing.assert_frame_equal(first, again)
    assert other.iloc[0]["p_value"] != row["p_value"]


def test_small_groups_and_missing_values_are_reported_not_dropped():
    data = pd.DataFrame({"g": ["a", "a", "a", "b", None], "x": [1.0, 2.0, None, 5.0, 3.0]})
    row = permutation_test(data, "x", "g", groups=("a", "b"), seed=0).iloc[0]
    assert row["n_a"] == 2 and row["n_b"] == 1 and row["n_missing"] == 2
    assert np.isnan(row["p_value"]) and "not tested" in row["note"]
    assert row["estimate"] == pytest.approx(1.5 - 5.0)


def test_pairwise_tests_cover_every_pair_and_say_p_is_unadjusted():
    data = pd.DataFrame({"mode": ["vertical"] * 3 + ["mixed"] * 2 + ["horizontal"] * 3,
                         "v": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    out = pairwise_permutation_tests(data, "v", "mode", order=["vertical", "mixed", "horizontal"], seed=0)
    assert list(zip(out["group_a"], out["group_b"])) == [("vertical", "mixed"), ("vertical", "horizontal"),
                                                         ("mixed", "horizontal")]
    assert out["note"].str.contains("one of 3 pairwise tests, p not adjusted").all()


def test_spearman_matches_the_textbook_example():
    # Wikipedia, "Spearman's rank correlation coefficient", worked example (IQ against hours
    # of television per week): rho = -29/165.
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    data = pd.DataFrame({"iq": iq, "tv": tv})
    row = rank_correlation(data, "iq", "tv", seed=0).iloc[0]
    assert row["estimate"] == pytest.approx(-29 / 165, abs=1e-12)
    assert row["n"] == 10 and row["p_method"] == "monte carlo"


def test_exact_spearman_p_matches_enumeration_of_all_pairings():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=7), rng.normal(size=7)
    y[3] = y[5]  # a tie, so ranks are averaged
    observed = stats.spearmanr(x, y).statistic
    null = np.array([stats.spearmanr(np.array(p), y).statistic for p in itertools.permutations(x)])
    eps = 1e-12
    expected = min(1.0, 2 * min(np.mean(null <= observed + eps), np.mean(null >= observed - eps)))
    row = rank_correlation(pd.DataFrame({"x": x, "y": y}), "x", "y", seed=0).iloc[0]
    assert row["p_method"] == "exact" and row["n_permutations"] == 5040
    assert row["estimate"] == pytest.approx(observed)
    assert row["p_value"] == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_b_and_exact_p_agree_with_scipy():
    tied_x = np.array([1, 2, 2, 3, 4, 4, 5, 6.0])
    tied_y = np.array([2, 1, 3, 3, 5, 4, 6, 6.0])
    assert kendall_statistic(tied_x, tied_y) == pytest.approx(stats.kendalltau(tied_x, tied_y).statistic)
    assert spearman_statistic(tied_x, tied_y) == pytest.approx(stats.spearmanr(tied_x, tied_y).statistic)
    rng = np.random.default_rng(3)
    x = rng.normal(size=7)
    y = x + rng.normal(size=7)
    row = rank_correlation(pd.DataFrame({"x": x, "y": y}), "x", "y", method="kendall", seed=0).iloc[0]
    reference = stats.kendalltau(x, y, method="exact")
    assert row["estimate"] == pytest.approx(reference.statistic)
    assert row["p_value"] == pytest.approx(reference.pvalue, abs=1e-12)


def test_percentile_bootstrap_agrees_with_a_hand_written_bootstrap():
    values = np.array([3.1, 4.7, 5.0, 2.2, 6.3, 4.4, 5.9, 3.8, 4.1, 7.2, 2.9, 5.5])
    row = bootstrap_ci(values, "mean", method="percentile", n_resamples=9999, seed=0).iloc[0]
    rng = np.random.default_rng(12345)
    means = values[rng.integers(0, len(values), (40000, len(values)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    assert row["ci_low"] == pytest.approx(low, abs=0.06)
    assert row["ci_high"] == pytest.approx(high, abs=0.06)
    assert row["estimate"] == pytest.approx(values.mean())
    bca = bootstrap_ci(values, "mean", method="BCa", seed=0).iloc[0]
    assert bca["ci_low"] < values.mean() < bca["ci_high"]


def test_degenerate_bootstrap_resamples_are_counted_not_hidden():
    data = pd.DataFrame({"x": [1.0, 1, 1, 1, 1, 2, 3, 4], "y": [2.0, 1, 3, 2, 5, 4, 6, 7]})
    row = rank_correlation(data, "x", "y", seed=0).iloc[0]
    assert row["ci_method"] == "percentile"
    assert "degenerate" in row["note"] and "left out" in row["note"]
    assert -1 <= row["ci_low"] <= row["estimate"] <= row["ci_high"] <= 1


def test_constant_or_tiny_samples_get_no_statistic():
    row = rank_correlation(pd.DataFrame({"x": [1.0, 2], "y": [3.0, 4]}), "x", "y").iloc[0]
    assert np.isnan(row["estimate"]) and "fewer than 3" in row["note"]
    assert "fewer than two distinct" in bootstrap_ci([2.0, 2.0, 2.0]).iloc[0]["note"]


def test_simulated_critical_value_matches_the_exact_null_distribution():
    n = 7
    x = np.arange(n, dtype=float)
    pairings = np.array(list(itertools.permutations(range(n))), dtype=float)
    exact_null = np.round(np.abs(spearman_statistic(np.broadcast_to(x, pairings.shape), pairings)), 9)
    simulated = power_curve(n, [0.0], n_sim=20000, seed=0).iloc[0]
    # The exact test's critical value: the smallest |rho| whose tail probability is at most 5%.
    values = np.unique(exact_null)
    exact_critical = min(v for v in values if np.mean(exact_null >= v) <= 0.05)
    assert abs(simulated["critical_value"] - exact_critical) <= 0.036  # one step of the rho lattice for n = 7
    assert np.mean(exact_null >= simulated["critical_value"]) <= 0.07
    assert simulated["power"] == pytest.approx(np.mean(exact_null >= simulated["critical_value"]), abs=0.01)


def test_power_is_the_size_at_zero_and_grows_with_n():
    at_zero = power_curve(12, [0.0], n_sim=8000, seed=4).iloc[0]
    assert at_zero["power"] == pytest.approx(0.05, abs=0.015)
    small = minimum_detectable_correlation(8, n_sim=2000, seed=1).iloc[0]
    large = minimum_detectable_correlation(20, n_sim=2000, seed=1).iloc[0]
    assert small["min_detectable_spearman"] > large["min_detectable_spearman"] > 0.45
    assert "simulated" in large["statement"]
    none = minimum_detectable_correlation(4, n_sim=500, seed=1).iloc[0]
    assert np.isnan(none["min_detectable_spearman"]) and "cannot reject" in none["statement"]
    assert minimum_detectable_correlation(20, n_sim=2000, seed=1).equals(minimum_detectable_correlation(20, n_sim=2000,
                                                                                                       seed=1))
