"""The population-versus-GDP test on fixtures, and the real tables it runs on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotlines import data
from hotlines.compare.context import choose_gdp, load_city_context
from hotlines.compare.performance import index_scores, performance_table
from hotlines.compare.scale import power_statement, scale_table, urban_scale_test, urban_scale_tests

CITIES = [f"c{i}" for i in range(8)]


def fixture_scale() -> pd.DataFrame:
    return pd.DataFrame({"city_id": CITIES, "population": [1e6 * (i + 1) for i in range(8)],
                         "gdp_usd_billion": [50.0, 400, 20, 300, 10, 200, 30, 100]})


def fixture_performance() -> pd.DataFrame:
    rows = []
    for i, city in enumerate(CITIES):
        rows.append({"city_id": city, "measure": "score", "label": "score", "value": 10.0 + i, "unit": "points",
                     "grade": pd.NA, "higher_is_better": True})
        rows.append({"city_id": city, "measure": "days", "label": "days", "value": 30.0 - 2 * i, "unit": "days",
                     "grade": "C" if i < 3 else "A", "higher_is_better": False})
    rows.append({"city_id": "c0", "measure": "rare", "label": "rare", "value": 1.0, "unit": "x", "grade": "B",
                 "higher_is_better": True})
    table = pd.DataFrame(rows)
    table["grade"] = table["grade"].astype("string")
    return table


def test_monotone_fixture_gives_rho_one_with_the_exact_p():
    out = urban_scale_test(fixture_scale(), fixture_performance(), seed=0, power_sims=500)
    row = out[(out.scale_variable == "population") & (out.measure == "score")].iloc[0]
    assert row["n"] == 8 and row["spearman"] == pytest.approx(1.0)
    assert row["p_method"] == "monte carlo"  # 8! = 40320 pairings > 9999 resamples
    exact = urban_scale_test(fixture_scale(), fixture_performance(), n_resamples=40320, seed=0, power_sims=500)
    erow = exact[(exact.scale_variable == "population") & (exact.measure == "score")].iloc[0]
    assert erow["p_method"] == "exact" and erow["p_value"] == pytest.approx(2 / math.factorial(8))
    assert erow["kendall_tau"] == pytest.approx(1.0)


def test_sign_is_oriented_to_performance_and_small_n_is_not_tested():
    out = urban_scale_test(fixture_scale(), fixture_performance(), seed=0, power_sims=500)
    days = out[(out.scale_variable == "population") & (out.measure == "days")].iloc[0]
    assert days["spearman"] == pytest.approx(-1.0) and days["rho_performance"] == pytest.approx(1.0)
    rare = out[out.measure == "rare"].iloc[0]
    assert rare["n"] == 1 and np.isnan(rare["spearman"]) and "not tested" in rare["note"]
    assert out["min_detectable_spearman"].dropna().between(0.5, 1.0).all()


def test_without_grade_c_drops_those_cities_and_is_labelled():
    out = urban_scale_tests(fixture_scale(), fixture_performance(), seed=0, power_sims=500)
    assert set(out["rows"]) == {"all grades", "without grade C"}
    without = out[(out.rows == "without grade C") & (out.measure == "days") & (out.scale_variable == "population")]
    assert without.iloc[0]["n"] == 5 and without.iloc[0]["cities"] == "c3, c4, c5, c6, c7"
    assert "score" not in set(out.loc[out.rows == "without grade C", "measure"])  # ungraded index rows: once


def test_power_statement_states_n_and_detectable_size():
    out = urban_scale_test(fixture_scale(), fixture_performance(), seed=0, power_sims=500)
    text = power_statement(out)
    assert "8 cities" in text or "8 to 8" in text
    assert "little power" in text


def test_real_scale_table_has_population_for_all_20_and_gdp_where_sourced():
    cities = data.cities()
    scale = scale_table(cities, choose_gdp(load_city_context()))
    assert len(scale) == 20 and scale["population"].notna().all()
    missing = set(scale.loc[scale["gdp_usd_billion"].isna(), "city_id"])
    assert missing == {"madrid", "paris", "toronto"}
    assert scale.loc[scale.city_id == "paris", "gdp_reason"].item() == "no GDP figure found in the sources searched"


def test_real_index_scores_carry_their_partial_data_caveat():
    scores = index_scores()
    assert scores.groupby("measure").size().eq(20).all() and scores["measure"].nunique() == 5
    assert scores["share_observed"].between(0, 1).all()
    assert scores["source"].str.contains("partial data").all()
    table = performance_table(None, scores)
    assert table["grade"].isna().all()
