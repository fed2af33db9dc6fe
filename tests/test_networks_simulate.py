"""The simulation: reproducible, labelled simulated, canonical records, censoring, queueing
theory, and the qualitative contrast between the archetypes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy

from hotlines.networks import builders
from hotlines.networks.simulate import (
    ServerPool,
    SimulationParameters,
    calibrate_time_scale,
    published_resolution_aggregates,
    resolution_summary,
    simulate,
)
from hotlines.requests.schema import COLUMNS, conform, durations

SMALL = SimulationParameters(arrival_rates={"noise": 40.0, "water": 20.0}, arrival_days=20, horizon_days=30)


def small_vertical():
    return builders.vertical(2, 3, 4, categories=["noise", "water"])


def small_horizontal(**options):
    return builders.horizontal(4, categories=["noise", "water"], **options)


def test_same_seed_same_records_bit_for_bit():
    a = simulate(small_vertical(), SMALL, seed=7)
    b = simulate(small_vertical(), SMALL, seed=7)
    pd.testing.assert_frame_equal(a.records, b.records, check_exact=True)
    pd.testing.assert_frame_equal(a.staffing, b.staffing, check_exact=True)
    c = simulate(small_vertical(), SMALL, seed=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a.records.drop(columns="source_file"), c.records.drop(columns="source_file"), check_exact=True)


def test_another_seed_gives_other_records():
    a = simulate(small_vertical(), SMALL, seed=7).records
    b = simulate(small_vertical(), SMALL, seed=8).records
    assert len(a) != len(b) or not a["created"].equals(b["created"])
    assert not a["closed"].equals(b["closed"])


def test_records_conform_to_the_canonical_schema_and_are_labelled_simulated():
    result = simulate(small_horizontal(), SMALL, seed=1)
    records = result.records
    assert list(records.columns[: len(COLUMNS)]) == list(COLUMNS)
    pd.testing.assert_frame_equal(conform(records), records[list(COLUMNS)])
    assert {name: str(records[name].dtype) for name in COLUMNS} == {name: dtype for name, (dtype, _) in COLUMNS.items()}
    assert set(records["dataset"]) == {"simulation"}
    assert set(records["city"]) == {"sim_horizontal"}
    assert records["simulated"].all() and records.attrs["simulated"] is True
    assert result.simulated is True and result.staffing["simulated"].all()
    assert records["request_id"].is_unique
    assert records["source_row"].tolist() == list(range(1, len(records) + 1))
    assert records["source_file"].iloc[0] == "simulation:horizontal:seed=1"
    assert records["created"].min() >= pd.Timestamp("2024-01-01", tz="UTC")
    assert records["channel"].isna().all()  # channels are not simulated: missing, not invented
    labelled = simulate(small_horizontal(), SMALL.replace(city="sim_nyc_like"), seed=1).records
    assert set(labelled["city"]) == {"sim_nyc_like"}


def test_open_requests_are_censored_at_the_horizon():
    params = SMALL.replace(horizon_days=20)  # snapshot when arrivals stop: the last requests are open
    records = simulate(small_vertical(), params, seed=3).records
    open_ = records[~records["is_closed"]]
    assert 0 < len(open_) < len(records)
    assert open_["closed"].isna().all() and set(open_["status"]) == {"open"}
    assert records.loc[records["is_closed"], "closed"].notna().all()
    assert (records["snapshot"] == pd.Timestamp("2024-01-21", tz="UTC")).all()
    closed = records[records["is_closed"]]
    assert (closed["closed"] >= closed["created"]).all() and (closed["closed"] <= closed["snapshot"]).all()
    frame = durations(records)
    assert not frame.loc[~records["is_closed"], "event"].any()
    censored_span = (open_["snapshot"] - open_["created"]).dt.total_seconds() / 86400
    assert np.allclose(frame.loc[open_.index, "duration_days"], censored_span)


def test_the_number_of_requests_is_poisson():
    counts = [len(simulate(small_horizontal(), SMALL, seed=s).records) for s in range(5)]
    expected = 60.0 * 20
    assert all(abs(c - expected) < 5 * math.sqrt(expected) for c in counts)
    assert len(set(counts)) > 1


def test_routes_deadlines_and_paths_follow_the_graph():
    records = simulate(small_vertical(), SMALL, seed=2).records
    simple = records[~records["complex"]]
    # territorial first: every request goes to a grassroots unit through its own district
    assert simple["agency"].str.startswith("grassroots_").all()
    parts = simple["path"].str.split(">")
    assert parts.map(len).eq(3).all() and parts.str[0].eq("hub").all()
    assert (parts.str[1].str[-2:] == parts.str[2].str[11:13]).all()  # district_0d > grassroots_0d_ss
    # the seven-day binding deadline is the due date
    due_days = (records["due"] - records["created"]).dt.total_seconds() / 86400
    assert np.allclose(due_days, 7.0, atol=1e-6)
    complex_ = records[records["complex"]]
    assert set(complex_["coordination"]) == {"report_in"}
    assert complex_["n_agencies"].between(2, 3).all()
    assert (complex_["path"].str.count(r"\+") == complex_["n_agencies"] - 1).all()


def test_service_levels_set_due_dates_only_where_contracted():
    records = simulate(small_horizontal(sla_share=0.5), SMALL, seed=2).records
    contracted = records["agency"].isin(["agency_01", "agency_02"])
    assert records.loc[contracted, "due"].notna().all() and records.loc[~contracted, "due"].isna().all()
    assert set(records.loc[records["complex"], "coordination"]) == {"negotiation"}


def test_leadership_decides_whether_summons_are_obeyed():
    v = small_vertical()
    assert set(simulate(builders.without_leadership_ties(v), SMALL, seed=2).records.query("complex")["coordination"]) == {"negotiation"}
    h = builders.with_cross_level_escalation(small_horizontal(), 1.0)
    assert set(simulate(h, SMALL, seed=2).records.query("complex")["coordination"]) == {"report_in"}
    half = builders.with_cross_level_escalation(builders.horizontal(8, categories=["noise", "water"]), 0.5, seed=1)
    assert {"report_in", "negotiation"} <= set(simulate(half, SMALL, seed=2).records.query("complex")["coordination"])


def test_staffing_meets_the_nominal_utilisation():
    result = simulate(small_horizontal(), SMALL, seed=4)
    staffing = result.staffing
    assert (staffing["nominal_utilisation"] <= SMALL.utilisation + 1e-9).all()
    # one server fewer would exceed it (fewest servers that meet it)
    fewer = staffing["work_days"] / ((staffing["servers"] - 1) * SMALL.arrival_days)
    assert ((staffing["servers"] == 1) | (fewer > SMALL.utilisation)).all()


def test_a_single_server_matches_pollaczek_khinchine():
    """M/G/1 check of the engine: Poisson arrivals (delayed by iid transit, still Poisson),
    lognormal work with mean 0.1 day and cv 0.5, one server at utilisation 0.7.
    Mean time = transit 0.25 + wait lambda E[S^2] / (2 (1 - rho)) + work 0.1."""
    g = builders.horizontal(1, liaisons=False, categories=["x"])
    g.nodes["agency_01"]["servers"] = 1
    params = SimulationParameters(arrival_rates={"x": 7.0}, arrival_days=4000, horizon_days=4100, complex_share=0.0, handling_days=0.1, work_cv=0.5, staffing="graph")
    records = simulate(g, params, seed=0).records
    second_moment = (1 + 0.5**2) * 0.1**2
    expected = 0.25 + 7.0 * second_moment / (2 * (1 - 0.7)) + 0.1
    assert durations(records)["duration_days"].mean() == pytest.approx(expected, rel=0.04)


def test_server_pool_serves_earliest_key_first():
    env = simpy.Environment()
    pool = ServerPool(env, 2)
    finished = []

    def job(name, key, start):
        yield env.timeout(start)
        if pool.free:
            pool.free -= 1
        else:
            yield pool.wait(key)
        yield env.timeout(1.0)
        pool.release()
        finished.append((name, env.now))

    for name, key, start in [("a", 9, 0), ("b", 9, 0), ("late", 9, 0.1), ("urgent", 1, 0.2), ("tie", 9, 0.1)]:
        env.process(job(name, key, start))
    env.run()
    assert finished == [("a", 1.0), ("b", 1.0), ("urgent", 2.0), ("late", 2.0), ("tie", 3.0)]
    assert pool.free == 2
    with pytest.raises(ValueError):
        ServerPool(env, 0)


def test_vertical_resolves_complex_requests_faster_under_the_default_parameters():
    """The qualitative contrast of the issue (seed 000): under the documented defaults, with
    equal arrivals, equal work times and equal nominal utilisation, the vertical archetype's
    obliged, parallel, deadline-bound report-in resolves complex requests faster than the
    horizontal archetype's voluntary negotiation one peer after another."""
    params = SimulationParameters()
    v = resolution_summary(simulate(builders.vertical(), params, seed=11).records, by="complex").set_index("complex")
    h = resolution_summary(simulate(builders.horizontal(), params, seed=11).records, by="complex").set_index("complex")
    assert v.loc[True, "median_ci_high"] < h.loc[True, "median_ci_low"]
    assert v.loc[True, "restricted_mean_days"] < h.loc[True, "restricted_mean_days"]
    assert v.loc[True, "median_days"] < 0.8 * h.loc[True, "median_days"]


def test_the_contrast_comes_from_the_coordination_mechanism():
    """Make negotiation as quick on average as reporting in: the horizontal archetype's
    complex requests then close about as fast as the vertical one's (within 15%)."""
    params = SimulationParameters()
    quick = params.replace(negotiation_days=params.report_in_deadline_days / 2)
    v = resolution_summary(simulate(builders.vertical(), params, seed=11).records.query("complex"))
    h = resolution_summary(simulate(builders.horizontal(), quick, seed=11).records.query("complex"))
    assert h["median_days"].item() == pytest.approx(v["median_days"].item(), rel=0.15)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match=r"arrival_rates\['x'\]"):
        SimulationParameters(arrival_rates={"x": -1.0})
    with pytest.raises(ValueError, match="arrival_days <= horizon_days"):
        SimulationParameters(arrival_days=10, horizon_days=5)
    with pytest.raises(ValueError, match="negotiation_days must be a positive"):
        SimulationParameters(negotiation_days=0)
    with pytest.raises(ValueError, match="extra_agencies"):
        SimulationParameters(extra_agencies=(2, 1))
    table = SimulationParameters().table()
    assert {"parameter", "value", "unit"} == set(table.columns) and "negotiation_days" in set(table["parameter"])


def test_bad_graphs_for_simulation_are_refused():
    with pytest.raises(ValueError, match="no reachable resolver handles category 'fire'"):
        simulate(small_horizontal(), SimulationParameters(arrival_rates={"fire": 1.0}, arrival_days=1, horizon_days=2))
    with pytest.raises(ValueError, match="staffing='graph'"):
        simulate(small_horizontal(), SMALL.replace(staffing="graph"))


def test_scaled_parameters_keep_rules_fixed():
    scaled = SimulationParameters().scaled(2.0)
    assert scaled.negotiation_days == 6.0 and scaled.handling_days == 3.0
    assert scaled.deadline_days == 7.0 and scaled.arrival_rates == SimulationParameters().arrival_rates


def test_calibration_meets_its_target_and_says_what_it_is():
    params = SimulationParameters(arrival_rates={"noise": 30.0}, arrival_days=20, horizon_days=60)
    graph = builders.horizontal(4, categories=["noise"])
    calibration = calibrate_time_scale(graph, 4.0, params, seed=1, tolerance=0.03)
    achieved = resolution_summary(simulate(graph, calibration.parameters, seed=1).records)["restricted_mean_days"].item()
    assert achieved == pytest.approx(4.0, rel=0.03)
    assert calibration.log["restricted_mean_days"].iloc[-1] == pytest.approx(achieved)
    assert calibration.log["simulated"].all()
    assert "model results, not observations" in calibration.note
    assert calibration.parameters.deadline_days == params.deadline_days


def test_published_aggregates_are_bounds_with_their_source():
    table = published_resolution_aggregates().set_index("city_id")
    assert table.loc["beijing", "qualifier"] == "<" and table.loc["beijing", "value"] == 5
    assert table.loc["new_york", "qualifier"] == ">" and table.loc["new_york", "value"] == 10
    assert table["locator"].str.contains("000_8b5fa105864a0e27.txt:L69").all()


def test_resolution_summary_handles_censoring():
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    days = pd.to_timedelta
    records = pd.DataFrame(
        {
            "created": [t0] * 4,
            "closed": [t0 + days(1, "D"), t0 + days(2, "D"), pd.NaT, t0 + days(4, "D")],
            "is_closed": [True, True, False, True],
            "snapshot": [t0 + days(3, "D")] * 4,
        }
    )
    row = resolution_summary(records).iloc[0]
    # Kaplan-Meier by hand: S(1) = 3/4, S(2) = 1/2, censored at 3, S(4) = 0: median 2
    assert (row["n"], row["n_closed"], row["median_days"]) == (4, 3, 2.0)
    # restricted mean up to 4 days: 1 + 0.75 + 0.5 + 0.5 = 2.75; naive mean of the closed: 7/3
    assert row["restricted_mean_days"] == pytest.approx(2.75)
    assert row["mean_days_closed_only"] == pytest.approx(7 / 3)
