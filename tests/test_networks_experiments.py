"""Counterfactual experiments and sweeps (all results simulated)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hotlines.networks import experiments
from hotlines.networks.simulate import SimulationParameters

PARAMS = SimulationParameters(arrival_rates={"noise": 60.0, "sanitation": 60.0, "water": 60.0}, arrival_days=30, horizon_days=60)


@pytest.fixture(scope="module")
def scenario_table():
    scenarios = experiments.default_scenarios(PARAMS, size="small")
    return experiments.run_scenarios(scenarios, seed=5, progress=False).set_index("scenario")


def test_scenarios_are_complete_and_labelled(scenario_table):
    assert list(scenario_table.index) == [
        "vertical",
        "horizontal",
        "horizontal + cross-level escalation",
        "vertical + service-level contracts",
        "vertical, complex share 0.4",
        "horizontal, complex share 0.4",
        "vertical without leadership ties",
        "horizontal without leadership ties",
        "horizontal, negotiation as quick as reporting in",
    ]
    assert scenario_table["simulated"].all()
    assert (scenario_table["seed"] == 5).all()
    assert set(experiments.REPORTED_MEASURES) <= set(scenario_table.columns)


def test_counterfactuals_change_structure_as_designed(scenario_table):
    t = scenario_table
    assert t.loc["vertical", "escalation_depth"] == 2 and t.loc["horizontal", "escalation_depth"] == 0
    assert t.loc["horizontal + cross-level escalation", "escalation_depth"] == 1
    assert t.loc["horizontal + cross-level escalation", "hub_dependence"] < t.loc["horizontal", "hub_dependence"]
    assert t.loc["vertical + service-level contracts", "share_agencies_with_sla"] == 1.0
    assert t.loc["vertical without leadership ties", "hub_dependence"] > t.loc["vertical", "hub_dependence"]


def test_counterfactuals_move_complex_resolution_times(scenario_table):
    t = scenario_table
    complex_median = t["median_days_complex"]
    # summons instead of negotiation speeds complex requests up; losing the enforcer slows them down
    assert complex_median["horizontal + cross-level escalation"] < 0.8 * complex_median["horizontal"]
    assert complex_median["vertical without leadership ties"] > 1.25 * complex_median["vertical"]
    # more complex requests raise the overall median in both modes
    assert t.loc["vertical, complex share 0.4", "median_days"] > t.loc["vertical", "median_days"]
    assert t.loc["horizontal, complex share 0.4", "median_days"] > t.loc["horizontal", "median_days"]
    # simple requests do not depend on escalation: identical draws, identical routes
    assert t.loc["horizontal + cross-level escalation", "median_days_simple"] == pytest.approx(t.loc["horizontal", "median_days_simple"], rel=0.05)


def test_sweep_is_tidy_and_reproducible():
    grid = {"base": ["horizontal"], "escalation_share": [0.0, 0.5, 1.0], "n_agencies": [6], "liaisons": [False]}
    small = PARAMS.replace(arrival_days=10, horizon_days=30)
    table = experiments.sweep(grid, small, seeds=[1, 2], progress=False)
    assert len(table) == 6
    assert list(table.columns[:6]) == ["base", "escalation_share", "n_agencies", "liaisons", "scenario", "seed"]
    assert table.groupby("escalation_share")["escalation_depth"].first().tolist() == [0.0, 1.0, 1.0]
    assert table["simulated"].all()
    again = experiments.sweep(grid, small, seeds=[1, 2], progress=False)
    pd.testing.assert_frame_equal(table, again)
    with_params = experiments.sweep({"base": ["horizontal"], "n_agencies": [6], "complex_share": [0.0, 0.5]}, small, progress=False)
    assert math.isnan(with_params.loc[0, "median_days_complex"]) and not math.isnan(with_params.loc[1, "median_days_complex"])


def test_measure_associations_by_hand():
    table = pd.DataFrame({"ei_index": [0.0, 1.0, 2.0, 3.0], "hub_dependence": [0.5] * 4, "median_days": [1.0, 3.0, 5.0, 7.0]})
    out = experiments.measure_associations(table, measures=["ei_index", "hub_dependence"]).set_index("measure")
    assert out.loc["ei_index", "slope"] == pytest.approx(2.0)
    assert out.loc["ei_index", "spearman_rho"] == pytest.approx(1.0)
    assert math.isnan(out.loc["hub_dependence", "slope"]) and math.isnan(out.loc["hub_dependence", "spearman_rho"])
    assert out["simulated"].all()


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size must be one of"):
        experiments.default_scenarios(PARAMS, size="huge")
