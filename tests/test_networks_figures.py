"""Figures and display tables of the network chapters: what is drawn matches the graph or table."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from hotlines.networks import builders, figures  # noqa: E402
from hotlines.networks.model import add_actor, new_graph  # noqa: E402
from hotlines.networks.simulate import Calibration, SimulationParameters, published_resolution_aggregates  # noqa: E402
from hotlines.requests import survival  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _patches_by_colour(ax) -> dict[str, int]:
    counts: dict[str, int] = {}
    for patch in ax.patches:
        if isinstance(patch, FancyArrowPatch) and patch.get_gid() != "arrowhead":
            colour = mcolors.to_hex(patch.get_edgecolor())
            counts[colour] = counts.get(colour, 0) + 1
    return counts


# ------------------------------------------------------------------ layout and graph drawing


def test_tiers_run_top_to_bottom_and_districts_sit_over_their_units():
    g = builders.vertical(2, 3, 4)
    pos = figures.tier_layout(g)
    y = {n: p[1] for n, p in pos.items()}
    assert y["leadership"] > y["hub"] > y["agency_01"] > y["district_01"] > y["grassroots_01_01"]
    # each district above the mean of its own three units, and its units contiguous
    for d in ("01", "02"):
        units = [pos[f"grassroots_{d}_{s:02d}"][0] for s in (1, 2, 3)]
        assert pos[f"district_{d}"][0] == pytest.approx(np.mean(units))
    xs_01 = [pos[f"grassroots_01_{s:02d}"][0] for s in (1, 2, 3)]
    xs_02 = [pos[f"grassroots_02_{s:02d}"][0] for s in (1, 2, 3)]
    assert max(xs_01) < min(xs_02)
    # every row spans the width of the longest (six units: width 5)
    agencies = [pos[f"agency_{a:02d}"][0] for a in range(1, 5)]
    assert min(agencies) == pytest.approx(-2.5) and max(agencies) == pytest.approx(2.5)


def test_a_node_without_a_row_is_named():
    g = new_graph("odd")
    add_actor(g, "hub", "hotline_centre", "municipal")
    g.add_node("ghost", type="grassroots_unit", tier="municipal")
    with pytest.raises(ValueError, match="node 'ghost': no row for type 'grassroots_unit' at tier 'municipal'"):
        figures.tier_layout(g)


def test_every_tie_is_drawn_once_in_its_type_colour():
    g = builders.horizontal(3, liaisons=False)  # 3 dispatch, 3 SLA, 3 sharing pairs (both ways), 1 supervision
    fig, ax = plt.subplots()
    figures.draw_graph(g, ax)
    counts = _patches_by_colour(ax)
    style = figures.EDGE_STYLES
    assert counts[mcolors.to_hex(style["dispatch"]["color"])] == 3
    assert counts[mcolors.to_hex(style["service_level_contract"]["color"])] == 3
    assert counts[mcolors.to_hex(style["information_sharing"]["color"])] == 3
    assert counts[mcolors.to_hex(style["supervision"]["color"])] == 1
    assert mcolors.to_hex(style["escalation"]["color"]) not in counts


def test_vertical_drawing_has_its_escalation_ties_and_no_empty_band():
    g = builders.vertical(2, 2, 2)
    n_escalation = sum(1 for *_, t in g.edges(keys=True) if t == "escalation")
    fig, ax = plt.subplots()
    figures.draw_graph(g, ax, types=["escalation"])
    assert _patches_by_colour(ax) == {mcolors.to_hex(figures.EDGE_STYLES["escalation"]["color"]): n_escalation}
    heads = [p for p in ax.patches if isinstance(p, FancyArrowPatch) and p.get_gid() == "arrowhead"]
    assert len(heads) == n_escalation and all(p.get_linestyle() == "solid" for p in heads)
    assert not [t for t in ax.texts if t.get_text() == "no actors at this level"]


def test_graphs_figure_legend_lists_only_what_is_drawn_and_marks_empty_tiers():
    fig = figures.graphs_figure({"horizontal": builders.horizontal(3)}, title="t")
    legend = [t.get_text() for t in fig.legends[0].get_texts() if t.get_text().strip()]
    assert "escalation / report-in" not in legend and "district government" not in legend
    assert {"dispatch (routes requests)", "service-level contract", "agency liaison", "hotline centre (hub)"} <= set(legend)
    empty = [t for t in fig.axes[0].texts if t.get_text() == "no actors at this level"]
    assert len(empty) == 2  # district and grassroots
    both = figures.graphs_figure({"v": builders.vertical(2, 2, 2), "h": builders.horizontal(3)})
    assert "escalation / report-in" in [t.get_text() for t in both.legends[0].get_texts()]


# ------------------------------------------------------------------ resolution curves


def _km():
    records = pd.DataFrame(
        {
            "model": ["a"] * 4 + ["b"] * 4,
            "complex": [False, False, True, True] * 2,
            "duration_days": [1.0, 2.0, 3.0, 5.0, 1.0, 4.0, 2.0, 6.0],
            "event": [True, True, True, False, True, True, True, True],
        }
    )
    return survival.kaplan_meier(records, by=["model", "complex"])


def test_curves_plot_the_kaplan_meier_steps_in_the_order_of_the_labels():
    km = _km()
    fig = figures.resolution_curves_figure(km, group="model", labels={"b": "model B", "a": "model A"}, title="SIMULATED test")
    simple = fig.axes[0]
    lines = [line for line in simple.get_lines() if line.get_label() in ("model A", "model B")]
    assert [line.get_label() for line in lines] == ["model B", "model A"]  # labels' order, not the table's
    expected = km[(km["model"] == "b") & (~km["complex"])].sort_values("time_days")
    np.testing.assert_allclose(lines[0].get_ydata(), expected["survival"])
    np.testing.assert_allclose(lines[0].get_xdata(), expected["time_days"])
    # default span: every curve at or below 1% by then (a's complex curve never is: its last time, 5)
    assert simple.get_xlim() == (0.0, 6.0)
    assert fig._suptitle.get_text() == "SIMULATED test"


def test_curves_refuse_a_table_without_the_grouping_column():
    with pytest.raises(KeyError, match="no column 'city'"):
        figures.resolution_curves_figure(_km())


# ------------------------------------------------------------------ scenarios and sweeps


def test_scenario_figure_places_each_median_at_its_value():
    table = pd.DataFrame(
        {
            "scenario": ["vertical", "horizontal", "horizontal + x"],
            "base": ["vertical", "horizontal", "horizontal"],
            "median_days_simple": [1.5, 1.2, 1.2],
            "median_days_complex": [4.0, 6.0, 3.5],
        }
    )
    fig = figures.scenario_figure(table)
    ax = fig.axes[0]
    circles = [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 1]
    assert sorted(float(line.get_xdata()[0]) for line in circles) == [3.5, 4.0, 6.0]
    # rows top to bottom in table order
    ys = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert ys["vertical"] > ys["horizontal"] > ys["horizontal + x"]
    with pytest.raises(KeyError, match="no column 'base'"):
        figures.scenario_figure(table.drop(columns="base"))


def test_sweep_figure_has_one_panel_per_measure_and_keeps_every_point():
    table = pd.DataFrame(
        {
            "base": ["horizontal"] * 3 + ["vertical"],
            "escalation_depth": [0.0, 1.0, 1.0, 2.0],
            "hub_dependence": [1.0, 0.5, 0.5, 0.2],
            "median_days_complex": [6.0, 5.0, 5.0, 4.0],
        }
    )
    fig = figures.measure_sweep_figure(table, measures=("escalation_depth", "hub_dependence"))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        points = np.concatenate([line.get_ydata() for line in ax.get_lines() if line.get_linestyle() == "None"])
        assert sorted(points) == [4.0, 5.0, 5.0, 6.0]
    # the two identical points are offset sideways, not drawn on top of each other
    xs = np.concatenate([line.get_xdata() for line in fig.axes[0].get_lines() if line.get_label() == "horizontal"])
    assert len(set(np.round(xs, 9))) == 3


# ------------------------------------------------------------------ display tables


def test_parameter_provenance_covers_every_parameter_and_marks_the_sourced_ones():
    params = SimulationParameters()
    table = figures.parameter_provenance(params, {"vertical": builders.vertical(), "horizontal": builders.horizontal()})
    indexed = table.set_index("parameter")
    names = set(params.table()["parameter"]) - {"origin", "city"}
    assert names <= set(indexed.index)
    assert indexed.loc["deadline_days", "value"] == "7" and indexed.loc["deadline_days", "status"] == "sourced"
    assert "I0029" in indexed.loc["deadline_days", "basis"]
    assert indexed.loc["n_agencies (horizontal)", "value"] == "21" and indexed.loc["n_agencies (horizontal)", "status"] == "sourced"
    assert indexed.loc["n_districts, n_grassroots_per_district, n_agencies (vertical)", "value"] == "8 districts, 10 units each, 20 agencies"
    assert indexed.loc["arrival_rates", "value"] == "100 per category × 6"
    assert indexed.loc["extra_agencies", "value"] == "1–2"
    assert set(table["status"]) == {"sourced", "assumption", "design"}
    assert (table["status"] == "sourced").sum() == 2


def test_a_parameter_without_provenance_is_refused_by_name(monkeypatch):
    monkeypatch.delitem(figures.PARAMETER_PROVENANCE, "negotiation_days")
    with pytest.raises(KeyError, match="'negotiation_days' has no entry"):
        figures.parameter_provenance(SimulationParameters())


def test_summary_display_formats_censored_medians_and_shares():
    summary = pd.DataFrame(
        {
            "city": ["sim_a", "sim_a"],
            "complex": [False, True],
            "n": [1200.0, 300.0],
            "share_censored": [0.0, 0.6],
            "median_days": [1.234, math.inf],
            "median_ci_low": [1.2, 9.0],
            "median_ci_high": [1.3, math.inf],
            "restricted_mean_days": [1.5, 7.25],
            "mean_days_closed_only": [1.5, 3.0],
        }
    )
    out = figures.summary_display(summary, labels={"sim_a": "model A"})
    assert out.iloc[0].tolist() == ["model A", "simple", "1,200", "0.0%", "1.2 (1.2–1.3)", "1.5", "1.5"]
    assert out.iloc[1]["median (95% CI)"] == "not reached (9.0–not reached)"
    assert out.iloc[1]["open at snapshot"] == "60.0%"


def test_calibration_display_names_the_published_bound():
    log = pd.DataFrame({"iteration": [1, 2], "scale": [1.0, 2.0], "restricted_mean_days": [2.5, 4.48], "target_mean_days": [4.5, 4.5], "simulated": [True, True]})
    calibration = Calibration(SimulationParameters().scaled(2.0), 2.0, log)
    aggregates = published_resolution_aggregates()
    out = figures.calibration_display({"vertical": calibration}, aggregates, {"vertical": "beijing"})
    assert out.iloc[0].tolist() == ["vertical", "< 5 days (I0001)", "4.5", "2.00", "4.48", "2"]
    with pytest.raises(KeyError, match="no published aggregate for city 'atlantis'"):
        figures.calibration_display({"vertical": calibration}, aggregates, {"vertical": "atlantis"})


def test_records_display_takes_the_first_record_of_each_group_and_spells_the_path():
    from hotlines.networks.simulate import simulate

    params = SimulationParameters(arrival_rates={"noise": 30.0}, arrival_days=5, horizon_days=20)
    records = simulate(builders.vertical(2, 2, 3, categories=["noise"]), params, seed=3).records
    out = figures.records_display(records, by=("complex",))
    first_simple = records[~records["complex"]].iloc[0]
    first_complex = records[records["complex"]].iloc[0]
    assert set(out["request_id"]) == {first_simple["request_id"], first_complex["request_id"]}
    row = out.set_index("request_id").loc[first_simple["request_id"]]
    assert row["path"] == first_simple["path"].replace(">", " > ")
    assert row["created"] == first_simple["created"].strftime("%Y-%m-%d %H:%M")
    complex_path = out.set_index("request_id").loc[first_complex["request_id"], "path"]
    assert " + agency_" in complex_path


def test_association_display_rounds_and_leaves_constant_measures_missing():
    associations = pd.DataFrame(
        {"measure": ["hub_dependence", "ei_index"], "n": [6, 6], "measure_min": [0.0, -1.0], "measure_max": [0.98, -1.0],
         "spearman_rho": [0.9412, math.nan], "slope": [2.8091, math.nan]}
    )
    out = figures.association_display(associations)
    assert out.iloc[0].tolist() == ["Hub dependence (share of connected pairs)", "6", "0.00 to 0.98", "0.94", "2.81"]
    assert out.iloc[1][["Spearman's rho", "slope (days per unit)"]].tolist() == ["—", "—"]


def test_summary_display_orders_models_as_the_labels_do():
    summary = pd.DataFrame(
        {"city": ["sim_a", "sim_b"], "complex": [True, True], "n": [10.0, 20.0], "share_censored": [0.0, 0.0],
         "median_days": [1.0, 2.0], "median_ci_low": [0.5, 1.5], "median_ci_high": [1.5, 2.5],
         "restricted_mean_days": [1.0, 2.0], "mean_days_closed_only": [1.0, 2.0]}
    )
    out = figures.summary_display(summary, labels={"sim_b": "B", "sim_a": "A"})
    assert out["model"].tolist() == ["B", "A"] and out["n"].tolist() == ["20", "10"]


def test_graphs_figure_legend_puts_ties_in_the_first_column_and_actors_in_the_second():
    fig = figures.graphs_figure({"v": builders.vertical(2, 2, 2), "h": builders.horizontal(3)})
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    half = len(texts) // 2
    tie_labels = {style["label"] for style in figures.EDGE_STYLES.values()}
    node_labels = {style["label"] for style in figures.NODE_STYLES.values()}
    assert len(texts) % 2 == 0
    assert {t for t in texts[:half] if t.strip()} <= tie_labels
    assert {t for t in texts[half:] if t.strip()} <= node_labels
    assert {t for t in texts if t.strip()} & node_labels == {"leadership", "hotline centre (hub)", "agency", "agency liaison",
                                                             "district government", "grassroots unit"}


def test_long_curves_are_drawn_within_the_step_resolution():
    rng = np.random.default_rng(4)
    records = pd.DataFrame({"model": "a", "complex": False, "duration_days": rng.exponential(2.0, 20_000), "event": True})
    km = survival.kaplan_meier(records, by=["model", "complex"])
    fig = figures.resolution_curves_figure(km, group="model")
    line = next(line for line in fig.axes[0].get_lines() if line.get_label() == "a")
    x, y = line.get_xdata(), line.get_ydata()
    assert len(x) < len(km) / 10
    # the drawn step function, evaluated at every estimated time, is within the resolution of the full one
    drawn = y[np.searchsorted(x, km["time_days"].to_numpy(), side="right") - 1]
    assert np.max(np.abs(drawn - km["survival"].to_numpy())) <= figures.STEP_RESOLUTION + 1e-12
    assert x[0] == 0.0 and x[-1] == km["time_days"].max()
