"""The comparability grades and the choice rule of the harmonised measures."""

from __future__ import annotations

import pandas as pd
import pytest

from hotlines import data
from hotlines.compare.measures import MEASURES, SUBSETS, grade_counts, harmonised_measures, measure_candidates


def indicator(**changes) -> dict:
    row = {"indicator_id": "X0001", "city_id": "alpha", "group": None, "indicator": "resolution_rate",
           "family": "resolution", "qualifier": "=", "value": 80.0, "value_high": None, "unit": "percent",
           "value_as_stated": "80%", "period": "2023", "year": 2023, "kind": "measured",
           "definition": "share of requests resolved", "source_id": "s1", "locator": "p. 1", "quote": "80%",
           "flag": None, "note": None}
    row.update(changes)
    return row


def frame(*rows) -> pd.DataFrame:
    table = pd.DataFrame(list(rows))
    table["year"] = table["year"].astype("Int64")
    return table


def test_each_grade_and_exclusion_follows_the_stated_rule():
    table = frame(
        indicator(indicator_id="X01"),  # A
        indicator(indicator_id="X02", kind="survey"),  # B: instrument
        indicator(indicator_id="X03", year=2015),  # B: old
        indicator(indicator_id="X04", year=None),  # B: no year
        indicator(indicator_id="X05", qualifier=">", value=90.0),  # B: bound
        indicator(indicator_id="X06", flag="SECONDARY"),  # B: secondary report
        indicator(indicator_id="X07", flag="PROXY", note="another district"),  # C: proxy
        indicator(indicator_id="X08", indicator="case_completion_rate"),  # C: other concept
        indicator(indicator_id="X09"),  # C: named subset
        indicator(indicator_id="X10", kind="target", value=95.0),  # excluded: target
        indicator(indicator_id="X11", indicator="satisfaction_score_0_10", family="satisfaction", unit="score_0_10",
                  value=8.0),  # excluded: no measure in this unit
        indicator(indicator_id="X12", indicator="satisfaction_rate", family="satisfaction", unit="score_0_100"),
        indicator(indicator_id="X13", flag="NOT VERBATIM"),  # B
    )
    out = measure_candidates(table, subsets={"X09": "enquiries only"}).set_index("indicator_id")
    grades = out["grade"].to_dict()
    assert grades["X01"] == "A" and out.loc["X01", "reasons"] == ""
    assert {k: grades[k] for k in ("X02", "X03", "X04", "X05", "X06", "X13")} == dict.fromkeys(
        ("X02", "X03", "X04", "X05", "X06", "X13"), "B")
    assert "instrument: survey" in out.loc["X02", "reasons"]
    assert "year 2015 is before 2019" in out.loc["X03", "reasons"]
    assert "year not stated" in out.loc["X04", "reasons"]
    assert "bound (> 90)" in out.loc["X05", "reasons"]
    assert "secondary report" in out.loc["X06", "reasons"]
    assert grades["X07"] == grades["X08"] == grades["X09"] == "C"
    assert "another district" in out.loc["X07", "reasons"]
    assert "different concept" in out.loc["X08", "reasons"]
    assert "subset of requests: enquiries only" in out.loc["X09", "reasons"]
    assert out.loc["X10", "status"] == "excluded" and "target" in out.loc["X10", "reasons"]
    assert "not used by any measure" in out.loc["X11", "reasons"]
    assert "unit score_0_100 differs" in out.loc["X12", "reasons"]
    assert len(out) == len(table)  # every row is accounted for


def test_recent_from_moves_the_year_threshold():
    table = frame(indicator(indicator_id="X01", year=2017))
    assert measure_candidates(table).iloc[0]["grade"] == "B"
    assert measure_candidates(table, recent_from=2015).iloc[0]["grade"] == "A"


def test_choice_prefers_grade_then_fewer_reasons_then_recency_and_never_averages():
    table = frame(
        indicator(indicator_id="X01", kind="survey", year=2015, value=60.0),  # B, two reasons
        indicator(indicator_id="X02", year=2016, value=70.0),  # B, one reason
        indicator(indicator_id="X03", year=2018, value=75.0),  # B, one reason, more recent
        indicator(indicator_id="X04", flag="PROXY", value=99.0),  # C
        indicator(indicator_id="X05", city_id="beta", year=2021, value=88.0),  # A
        indicator(indicator_id="X06", city_id="beta", year=2024, value=91.0),  # A, more recent
        indicator(indicator_id="X07", city_id="beta", year=2024, value=91.0, source_id="s2"),  # same figure
        indicator(indicator_id="X08", city_id="beta", year=2024, value=93.0, kind="survey"),  # B
    )
    out = harmonised_measures(table).set_index("city_id")
    alpha, beta = out.loc["alpha"], out.loc["beta"]
    assert alpha["indicator_ids"] == "X03" and alpha["value"] == 75.0 and alpha["grade"] == "B"
    assert alpha["n_candidates"] == 4
    assert alpha["alternatives"].split("; ")[0].startswith("X02 B 70")
    assert beta["indicator_ids"] == "X06" and beta["corroborating_ids"] == "X07" and beta["grade"] == "A"
    assert beta["source_ids"] == "s1;s2"
    assert "X05 A 88 2021" in beta["alternatives"] and "X08 B 93 2024" in beta["alternatives"]
    candidate_values = set(table["value"])
    assert set(out["value"]) <= candidate_values


def test_ranges_use_the_labelled_midpoint_and_bounds_the_bound():
    table = frame(
        indicator(indicator_id="X01", indicator="average_resolution_time", unit="days", qualifier="range",
                  value=3.0, value_high=7.0),
        indicator(indicator_id="X02", city_id="beta", indicator="average_resolution_time", unit="days",
                  qualifier="<", value=5.0),
    )
    out = harmonised_measures(table).set_index("city_id")
    assert out.loc["alpha", "value"] == 5.0 and "midpoint of the stated range 3 to 7" in out.loc["alpha", "value_rule"]
    assert out.loc["alpha", "measure"] == "resolution_time_days"
    assert out.loc["beta", "value"] == 5.0 and "stated bound (< 5)" in out.loc["beta", "value_rule"]
    assert not out["higher_is_better"].any()


def test_working_days_are_never_mixed_with_calendar_days():
    table = frame(
        indicator(indicator_id="X01", indicator="average_resolution_time", unit="days", value=6.0),
        indicator(indicator_id="X02", indicator="average_resolution_time_working_days", unit="working_days",
                  value=3.0),
    )
    out = harmonised_measures(table)
    assert sorted(out["measure"]) == ["resolution_time_days", "resolution_time_working_days"]
    assert dict(zip(out["measure"], out["unit"])) == {"resolution_time_days": "days",
                                                      "resolution_time_working_days": "working_days"}


def test_a_subset_id_unknown_to_the_table_is_an_error_and_the_default_ones_exist():
    with pytest.raises(KeyError, match="I9999"):
        measure_candidates(frame(indicator()), subsets={"I9999": "nothing"})
    assert set(SUBSETS) <= set(data.indicators()["indicator_id"])


def test_on_the_evidence_base_no_target_is_used_and_every_row_is_accounted_for():
    indicators, cities = data.indicators(), data.cities()
    candidates = measure_candidates(indicators)
    relevant = indicators[indicators["family"].isin(["resolution", "satisfaction"]) & indicators["city_id"].notna()]
    assert len(candidates) == len(relevant)
    assert set(candidates.loc[candidates["kind"] == "target", "status"]) == {"excluded"}
    out = harmonised_measures(indicators, cities)
    assert out.duplicated(["city_id", "measure"]).sum() == 0
    assert set(out["kind"]) <= {"measured", "survey"}
    used = set(out["indicator_ids"]) | {i for ids in out["corroborating_ids"] for i in ids.split(";") if i}
    assert used <= set(candidates.loc[candidates["status"] == "candidate", "indicator_id"])
    beijing = out[(out.city_id == "beijing") & (out.measure == "resolution_rate")].iloc[0]
    assert (beijing["value"], beijing["grade"], beijing["indicator_ids"], beijing["corroborating_ids"]) == (
        97.0, "A", "I0026", "I0027;I0028")
    # Seoul's 0-100 satisfaction scores are another scale: not among the satisfaction rates.
    seoul = out[(out.city_id == "seoul") & (out.measure == "satisfaction_rate")].iloc[0]
    assert seoul["unit"] == "percent" and seoul["indicator_ids"] == "I0277"
    counts = grade_counts(out, cities, evaluated_only=True)
    assert set(counts["measure"]) == set(MEASURES)
    evaluated = set(cities.loc[cities["in_4g_2024"].fillna(False), "city_id"])
    assert counts["n_cities"].sum() == out["city_id"].isin(evaluated).sum()
