"""The report's claim that population, not GDP, goes with hotline performance, tested on sourced figures.

Seed 001 (L434) states: "By analyzing the correlation between population size, GDP,
and the overall performance of hotlines, it becomes evident that population size is
positively correlated with hotline performance, while GDP shows no such
correlation." The report publishes neither the city data nor the statistic behind
the sentence. Here population comes from ``cities.csv``, GDP from
``data/city_context.csv`` (converted to US dollars with sourced annual-average rates,
one figure per city chosen by :func:`hotlines.compare.context.choose_gdp`), and
performance from :mod:`hotlines.compare.performance` (the rebuilt 4G scores, which
rest on partial data, and the harmonised resolution and satisfaction measures).

Each pair is a Spearman correlation with an exact or Monte Carlo permutation
p-value and a paired bootstrap interval, a Kendall tau with its permutation p-value,
the number of cities, and the smallest Spearman correlation such a test would detect
with 80% power at that n (simulated). ``rho_performance`` orients the sign so that a
positive value always means "larger city (or economy), better performance" (a
resolution time is better when lower).

>>> from hotlines import data
>>> from hotlines.compare.context import load_city_context, choose_gdp
>>> scale = scale_table(data.cities(), choose_gdp(load_city_context()))
>>> int(scale["population"].notna().sum()), int(scale["gdp_usd_billion"].notna().sum())
(20, 17)
"""

from __future__ import annotations

import pandas as pd

from .smalln import minimum_detectable_correlation, rank_correlation

CLAIM = ("population size is positively correlated with hotline performance, while GDP shows no such correlation "
         "(seed 001, L434)")
SCALE_LABELS = {"population": "Population (residents)", "gdp_usd_billion": "GDP (USD billion, nominal where stated)"}


def scale_table(cities: pd.DataFrame, gdp_choice: pd.DataFrame, evaluated_only: bool = True) -> pd.DataFrame:
    """Population and the chosen GDP figure per city, with their years and qualifiers.

    Columns: city_id, name, population, population_year, population_qualifier,
    gdp_usd_billion, gdp_year, gdp_qualifier, gdp_source_kind, gdp_reason.
    """
    table = cities[cities["in_4g_2024"].fillna(False)] if evaluated_only else cities
    out = table[["city_id", "name", "population", "population_year", "population_qualifier"]].merge(
        gdp_choice[["city_id", "value_usd", "year", "qualifier", "source_kind", "reason"]], on="city_id", how="left")
    out = out.rename(columns={"value_usd": "gdp_usd_billion", "year": "gdp_year", "qualifier": "gdp_qualifier",
                              "source_kind": "gdp_source_kind", "reason": "gdp_reason"})
    out["gdp_reason"] = out["gdp_reason"].fillna("no GDP figure found in the sources searched")
    out["population"] = out["population"].astype("Float64")
    return out.reset_index(drop=True)


def urban_scale_test(scale: pd.DataFrame, performance: pd.DataFrame,
                     scale_variables=("population", "gdp_usd_billion"), measures=None, drop_grades=(),
                     n_resamples: int = 9999, seed=0, ci_method: str = "BCa", min_n: int = 4,
                     power_sims: int = 2000) -> pd.DataFrame:
    """Rank correlations of population and GDP with each performance measure, one row per pair.

    ``performance`` is :func:`hotlines.compare.performance.performance_table` (only
    cities in ``scale`` enter). ``drop_grades`` leaves out rows of those comparability
    grades (e.g. ``("C",)``); index scores have no grade and always stay. Pairs with
    fewer than ``min_n`` cities get a row with the count and no statistic.

    Columns: scale_variable, measure, label, higher_is_better, rows, n, spearman,
    rho_performance, p_value, p_method, ci_low, ci_high, ci_method, kendall_tau,
    kendall_p, min_detectable_spearman, cities, note.
    """
    measures = list(dict.fromkeys(performance["measure"])) if measures is None else list(measures)
    perf = performance[performance["city_id"].isin(scale["city_id"])]
    if drop_grades:
        perf = perf[~perf["grade"].isin(list(drop_grades))]
    rows_label = "all grades" if not drop_grades else "without grade " + ", ".join(drop_grades)
    power_cache: dict[int, float] = {}
    rows = []
    for name in measures:
        part = perf[perf["measure"] == name]
        if part.empty:
            continue
        label, better = part["label"].iloc[0], bool(part["higher_is_better"].iloc[0])
        joined = scale.merge(part[["city_id", "value"]], on="city_id")
        for variable in scale_variables:
            pair = joined[["city_id", variable, "value"]].dropna()
            row = {"scale_variable": variable, "measure": name, "label": label, "higher_is_better": better,
                   "rows": rows_label, "n": len(pair), "spearman": float("nan"), "rho_performance": float("nan"),
                   "p_value": float("nan"), "p_method": pd.NA, "ci_low": float("nan"), "ci_high": float("nan"),
                   "ci_method": pd.NA, "kendall_tau": float("nan"), "kendall_p": float("nan"),
                   "min_detectable_spearman": float("nan"), "cities": ", ".join(pair["city_id"]), "note": ""}
            if len(pair) < min_n:
                row["note"] = f"not tested: {len(pair)} cities (fewer than {min_n})"
                rows.append(row)
                continue
            data = pair.astype({variable: float, "value": float})
            sp = rank_correlation(data, variable, "value", "spearman", n_resamples, seed, ci_method).iloc[0]
            kd = rank_correlation(data, variable, "value", "kendall", n_resamples, seed, ci_method).iloc[0]
            n = len(pair)
            if n not in power_cache:
                power_cache[n] = float(minimum_detectable_correlation(n, n_sim=power_sims, seed=seed)
                                       ["min_detectable_spearman"].iloc[0])
            row.update(spearman=sp["estimate"], rho_performance=sp["estimate"] * (1 if better else -1),
                       p_value=sp["p_value"], p_method=sp["p_method"], ci_low=sp["ci_low"], ci_high=sp["ci_high"],
                       ci_method=sp["ci_method"], kendall_tau=kd["estimate"], kendall_p=kd["p_value"],
                       min_detectable_spearman=power_cache[n], note=sp["note"] or "")
            rows.append(row)
    return pd.DataFrame(rows)


def urban_scale_tests(scale: pd.DataFrame, performance: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """:func:`urban_scale_test` on all rows, and again without grade C rows (harmonised measures only)."""
    everything = urban_scale_test(scale, performance, **kwargs)
    graded = performance[performance["grade"].notna()]
    graded_measures = [m for m in dict.fromkeys(graded["measure"])]
    without_c = urban_scale_test(scale, performance, measures=graded_measures, drop_grades=("C",), **kwargs)
    return pd.concat([everything, without_c], ignore_index=True)


def power_statement(results: pd.DataFrame) -> str:
    """One plain sentence on what these tests can detect, from the n and the simulated power in ``results``.

    >>> r = pd.DataFrame({"n": [20, 5], "spearman": [0.3, 0.1], "min_detectable_spearman": [0.6, float("nan")]})
    >>> power_statement(r)[:60]
    'With 5 to 20 cities per test (two-sided Spearman test, 5% le'
    """
    tested = results[results["spearman"].notna()]
    if tested.empty:
        return "No pair had enough cities to be tested."
    by_n = tested.groupby("n")["min_detectable_spearman"].first().sort_index()
    detectable = by_n.dropna()
    parts = []
    if len(detectable):
        low_n, high_n = int(detectable.index[0]), int(detectable.index[-1])
        parts.append(f"80% power is reached only for correlations of about {detectable.iloc[-1]:.2f} (n = {high_n})"
                     + (f" to {detectable.iloc[0]:.2f} (n = {low_n})" if low_n != high_n else "") + " or stronger")
    hopeless = [int(n) for n in by_n.index[by_n.isna()]]
    if hopeless:
        parts.append("with n = " + ", ".join(map(str, hopeless)) + " no correlation reaches 80% power")
    return (f"With {int(by_n.index.min())} to {int(by_n.index.max())} cities per test (two-sided Spearman test, "
            f"5% level, power simulated): " + "; ".join(parts) + ". These data have little power: a non-significant "
            "result is not evidence of no association, and a significant one among many tests may be chance.")
