"""Figures and tables of graphs derived from coded evidence: what is drawn and listed matches the graph."""

from __future__ import annotations

import itertools
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from hotlines import data  # noqa: E402
from hotlines.coding.codebook import Codebook  # noqa: E402
from hotlines.networks import builders, measures  # noqa: E402
from hotlines.networks import evidence_figures as ef  # noqa: E402
from hotlines.networks.figures import EDGE_STYLES  # noqa: E402

CODES = [
    "mechanism.dispatch_binding",
    "mechanism.cross_level_escalation",
    "leadership.top_leader_attention",
    "institution.sla_partial_framework",
    "mechanism.peer_coordination",
    "mechanism.agency_liaison",
    "institution.performance_evaluation_accountability",
    "technology.open_data",
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def corpus(rows: list[tuple[str, str, str]], cities: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """segments and codings from (segment, code, coder) rows and {segment: cities}."""
    segments = pd.DataFrame({"segment_id": list(cities), "cities": list(cities.values())})
    codings = pd.DataFrame(rows, columns=["segment_id", "code", "coder"])
    return segments, codings


@pytest.fixture
def vertical_city():
    segments, codings = corpus(
        [("S-1", "mechanism.dispatch_binding", "a"), ("S-2", "mechanism.dispatch_binding", "a"),
         ("S-3", "mechanism.cross_level_escalation", "a"), ("S-4", "leadership.top_leader_attention", "a")],
        {"S-1": "v", "S-2": "v", "S-3": "v", "S-4": "v"},
    )
    return builders.from_codings("v", CODES, segments, codings)


@pytest.fixture
def horizontal_city():
    segments, codings = corpus(
        [("S-1", "institution.sla_partial_framework", "a"), ("S-2", "mechanism.peer_coordination", "a"),
         ("S-3", "mechanism.peer_coordination", "a"), ("S-4", "mechanism.agency_liaison", "a")],
        {"S-1": "h", "S-2": "h", "S-3": "h", "S-4": "h"},
    )
    return builders.from_codings("h", CODES, segments, codings)


# ------------------------------------------------------------------ layout and lanes


def test_no_tie_a_rule_can_make_passes_over_a_third_role():
    """The fixed role positions keep every tie the derivation rules can create clear of
    every other role's marker (by more than a lane bundle's half-width and a marker)."""
    pairs = {tuple(sorted((r.source, r.target))) for r in builders.TIE_RULES if r.source != r.target}
    assert len(pairs) >= 10
    for a, b in pairs:
        pa, pb = np.array(ef.ROLE_POSITIONS[a]), np.array(ef.ROLE_POSITIONS[b])
        for c in ef.ROLE_POSITIONS:
            if c in (a, b):
                continue
            distance = ef._distance_to_segment(np.array(ef.ROLE_POSITIONS[c]), pa, pb)
            assert distance > 2 * ef.LANE_GAP + 0.5, (a, b, c, distance)


def test_roles_sit_in_the_band_of_their_tier():
    bands = {tier: (low, high) for tier, low, high in ef.TIER_BANDS}
    for role, (_, y) in ef.ROLE_POSITIONS.items():
        low, high = bands[builders.ROLES[role]["tier"]]
        assert low < y < high, role


def test_archetype_nodes_are_refused_by_name():
    with pytest.raises(ValueError, match="'leadership' is not a role"):
        ef.role_layout(builders.horizontal(2))


def test_lanes_merge_information_sharing_both_ways_and_keep_other_ties_apart(horizontal_city):
    lanes = ef.tie_lanes(horizontal_city)
    hub_agencies = [l for l in lanes if {l.source, l.target} == {"hotline_centre", "municipal_agencies"}]
    assert [l.type for l in hub_agencies] == ["dispatch", "service_level_contract", "information_sharing"]
    assert [l.index for l in hub_agencies] == [0, 1, 2] and {l.n_lanes for l in hub_agencies} == {3}
    sharing = hub_agencies[2]
    assert not sharing.directed and sharing.evidence == ("S-2", "S-3")
    # the self-loop among agencies is not a lane
    assert all(l.source != l.target for l in lanes)
    # parallel lanes are LANE_GAP apart, perpendicular to the pair
    pos = ef.role_layout(horizontal_city)
    starts = [ef._lane_points(l, pos)[0] for l in hub_agencies]
    assert np.linalg.norm(starts[1] - starts[0]) == pytest.approx(ef.LANE_GAP)
    direction = np.subtract(pos["municipal_agencies"], pos["hotline_centre"])
    assert np.dot(starts[1] - starts[0], direction) == pytest.approx(0.0, abs=1e-12)


def test_counts_keep_clear_of_each_other(vertical_city):
    lanes = ef.tie_lanes(vertical_city)
    placed = ef.label_positions(lanes, ef.role_layout(vertical_city))
    points = list(placed.values())
    for p, q in itertools.combinations(points, 2):
        assert math.dist(p, q) >= 0.3


# ------------------------------------------------------------------ the figure


def test_figure_draws_one_arrow_per_lane_with_its_evidence_count(vertical_city, horizontal_city):
    fig = ef.evidence_graphs_figure({"V": vertical_city, "H": horizontal_city})
    for ax, graph in zip(fig.axes, (vertical_city, horizontal_city)):
        lanes = ef.tie_lanes(graph)
        arrows = {p.get_gid(): p for p in ax.patches if isinstance(p, FancyArrowPatch)}
        assert set(arrows) == {f"tie:{l.source}->{l.target}:{l.type}" for l in lanes}
        counts = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("count:")}
        for lane in lanes:
            assert counts[f"count:{lane.source}->{lane.target}:{lane.type}"] == str(lane.n_evidence)
        for lane in lanes:
            arrow = arrows[f"tie:{lane.source}->{lane.target}:{lane.type}"]
            assert arrow.get_edgecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb(EDGE_STYLES[lane.type]["color"]))
    # the vertical city's dispatch rests on two passages, its escalation on one
    v_counts = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("count:")}
    assert v_counts["count:hotline_centre->municipal_agencies:dispatch"] == "2"
    assert v_counts["count:grassroots_units->district_governments:escalation"] == "1"
    # the horizontal city's ties among agencies are a circle with their count
    loops = [p for p in fig.axes[1].patches if isinstance(p, Circle)]
    assert [p.get_gid() for p in loops] == ["loop:municipal_agencies:information_sharing"]
    h_counts = {t.get_gid(): t.get_text() for t in fig.axes[1].texts if (t.get_gid() or "").startswith("count:")}
    assert h_counts["count:municipal_agencies->municipal_agencies:information_sharing"] == "2"
    # an empty tier says so
    assert "no actors at this level" in [t.get_text() for t in fig.axes[1].texts]


def test_arrows_point_from_source_to_target(vertical_city):
    _, ax = plt.subplots()
    ef.draw_evidence_graph(vertical_city, ax)
    pos = ef.role_layout(vertical_city)
    for patch in ax.patches:
        if not isinstance(patch, FancyArrowPatch):
            continue
        _, ends, _ = patch.get_gid().split(":")
        source, target = ends.split("->")
        start, end = patch._posA_posB
        assert math.dist(start, pos[source]) < ef.LANE_GAP * 2 and math.dist(end, pos[target]) < ef.LANE_GAP * 2


# ------------------------------------------------------------------ every city's graph


def test_city_graphs_sorts_cities_by_what_their_evidence_supports():
    segments, codings = corpus(
        [
            ("S-1", "mechanism.dispatch_binding", "a"),
            ("S-2", "leadership.top_leader_attention", "a"),
            ("S-3", "leadership.top_leader_attention", "a"),
            ("S-4", "institution.performance_evaluation_accountability", "a"),
            ("S-5", "mechanism.dispatch_binding", "a"),
            ("S-6", "technology.open_data", "a"),
        ],
        {"S-1": "built", "S-2": "built", "S-3": "unreachable", "S-4": "unreachable", "S-5": "two", "S-6": "notie", "S-7": "empty"},
    )
    found = ef.city_graphs(["built", "unreachable", "two", "notie", "empty"], CODES, segments, codings)
    status = found.status.set_index("city_id")
    assert status["status"].to_dict() == {
        "built": "built", "unreachable": "fails validation", "two": "too thin", "notie": "too thin", "empty": "too thin",
    }
    assert "[unreachable_resolver] node 'municipal_agencies'" in status.loc["unreachable", "reason"]
    assert status.loc["two", "reason"] == "only 2 actors (hub, agencies); centralization needs at least 3"
    assert status.loc["notie", "reason"] == "none of its 1 codes implies a tie"
    assert status.loc["empty", "reason"].startswith("no passage")
    assert status.loc["built", ["n_segments", "n_coded_segments", "n_actors"]].tolist() == [2, 2, 3]
    assert list(found.graphs) == ["built"]
    assert found.graphs["built"].edges["hotline_centre", "municipal_agencies", "dispatch"]["evidence"] == ["S-1"]
    # with min_actors=2 the two-actor city is built too
    assert "two" in ef.city_graphs(["two"], CODES, segments, codings, min_actors=2).graphs


def test_city_graphs_gives_the_same_graph_as_from_codings_on_the_whole_table():
    """Filtering the codings to the city's passages (for speed) changes nothing."""
    segments, codings = data.load("segments"), data.load("codings")
    reconciled = codings[codings["coder"] == "reconciled"]
    book = Codebook.load()
    found = ef.city_graphs(["beijing", "new_york"], book, segments, reconciled)
    for city in ("beijing", "new_york"):
        direct = builders.from_codings(city, book, segments, reconciled)
        assert nx.utils.graphs_equal(found.graphs[city], direct)
        assert sorted(found.graphs[city].edges(keys=True, data="evidence")) == sorted(direct.edges(keys=True, data="evidence"))


# ------------------------------------------------------------------ sweeps


def test_measure_sweep_matches_the_measures_of_each_graph():
    table = ef.measure_sweep(builders.mixture, "escalation_share", [0.0, 1.0], base="horizontal", n_agencies=3, liaisons=False)
    for share in (0.0, 1.0):
        graph = builders.mixture("horizontal", escalation_share=share, n_agencies=3, liaisons=False)
        expected = measures.structure(graph).set_index("measure")["value"]
        got = table[table["parameter_value"] == share].set_index("measure")["value"]
        pd.testing.assert_series_equal(got, expected, check_names=False)
    hierarchy = table[table["measure"] == "krackhardt_hierarchy"]["value"].tolist()
    # without escalation the hub, agencies and leadership form an out-tree (H = 1); with every
    # agency escalating to the leadership that supervises the hub, all reach all (H = 0)
    assert hierarchy == [1.0, 0.0]
    assert table["sweep"].unique().tolist() == ["mixture, base=horizontal, n_agencies=3, liaisons=False, varying escalation_share"]


def test_sweep_figure_draws_one_line_per_measure_and_sweep():
    table = pd.concat([
        ef.measure_sweep(builders.horizontal, "n_agencies", [2, 4], sweep="a", liaisons=False),
        ef.measure_sweep(builders.horizontal, "sla_share", [0.0, 0.5, 1.0], sweep="b", n_agencies=4, liaisons=False),
    ])
    fig = ef.sweep_figure(table, axis_labels={"a": "agencies (count)", "b": "share (0–1)"})
    assert [ax.get_xlabel() for ax in fig.axes] == ["agencies (count)", "share (0–1)"]
    line = next(l for l in fig.axes[1].lines if l.get_gid() == "sweep:b:share_agencies_with_sla")
    assert list(line.get_ydata()) == [0.0, 0.5, 1.0]
    assert len([l for l in fig.axes[0].lines if (l.get_gid() or "").startswith("sweep:")]) == len(ef.SWEEP_STYLES)
    with pytest.raises(KeyError, match="no style"):
        ef.sweep_figure(table, ["n_nodes"])


# ------------------------------------------------------------------ display tables


def test_rules_display_lists_every_code_once_with_its_ties():
    book = Codebook.load()
    table = ef.rules_display(builders.evidence_rules(), book)
    assert len(table) == len(book.codes)
    rows = table.set_index("code")
    binding = rows.loc[book.codes["mechanism.dispatch_binding"].label, "ties implied"]
    assert binding == "hub → agencies (dispatch); hub → districts† (dispatch); districts → grassroots units† (dispatch)"
    liaison = rows.loc[book.codes["mechanism.agency_liaison"].label, "ties implied"]
    assert liaison == "hub ↔ liaisons (information sharing); liaisons ↔ agencies (information sharing)"
    peer = rows.loc[book.codes["mechanism.peer_coordination"].label, "ties implied"]
    assert peer.endswith("among agencies (information sharing)")
    assert rows.loc[book.codes["technology.open_data"].label, "ties implied"] == "none"
    # every code without a tie gives its reason
    assert (table.loc[table["ties implied"] == "none", "why"] != "").all()


def test_tie_evidence_display_counts_passages_per_graph(vertical_city, horizontal_city):
    table = ef.tie_evidence_display({"V": vertical_city, "H": horizontal_city})
    rows = {(r.tie, r.type): (r.V, r.H) for r in table.itertuples(index=False)}
    assert rows[("hub → agencies", "dispatch")] == ("2", "1")
    assert rows[("hub → agencies", "service-level contract")] == ("—", "1")
    assert rows[("hub ↔ agencies", "information sharing")] == ("—", "2")
    assert rows[("among agencies", "information sharing")] == ("—", "2")
    assert rows[("grassroots units → districts", "escalation")] == ("1", "—")


def test_measures_display_formats_and_cites():
    wide = measures.structure_table({"v": builders.vertical(2, 2, 2), "h": builders.horizontal(3)}, wide=True)
    table = ef.measures_display(wide).set_index("measure")
    assert table.loc["escalation depth", "v"] == "2" and table.loc["escalation depth", "h"] == "0"
    assert table.loc["E–I index", "h"] == "-1.00"
    assert table.loc["degree centralization", "formula"] == "{cite:t}`freeman1979centrality`"
    assert table.loc["flow hierarchy", "formula"] == "{cite:t}`luo2011detecting`"
    assert table.loc["escalation depth", "formula"] == "package" and table.loc["actors", "formula"] == ""
    assert list(ef.measures_display(wide, meanings=False).columns) == ["measure", "v", "h"]


def test_city_tables_group_by_mode_and_give_reasons():
    wide = measures.structure_table({"b": builders.vertical(1, 1, 1), "a": builders.horizontal(2)}, wide=True)
    modes = {"a": "horizontal", "b": "vertical"}
    table = ef.city_measures_display(wide, modes, {"a": "Alpha", "b": "Beta"})
    assert table["city"].tolist() == ["Beta", "Alpha"]  # vertical first
    assert table["actors / ties"].tolist()[1] == f"{builders.horizontal(2).number_of_nodes()} / {builders.horizontal(2).number_of_edges()}"
    status = pd.DataFrame([
        {"city_id": "a", "status": "built", "n_segments": 3, "n_coded_segments": 3, "n_actors": 3, "n_ties": 2, "reason": ""},
        {"city_id": "c", "status": "too thin", "n_segments": 4, "n_coded_segments": 2, "n_actors": 1, "n_ties": 0, "reason": "why"},
    ])
    failed = ef.city_status_display(status, modes)
    assert failed.to_dict("records") == [
        {"city": "c", "coded mode": "insufficient evidence", "passages (coded)": "4 (2)", "status": "too thin", "reason": "why"}
    ]


def test_city_measures_figure_places_each_city_at_its_value():
    wide = measures.structure_table({"b": builders.vertical(1, 1, 1), "a": builders.horizontal(2)}, wide=True)
    fig = ef.city_measures_figure(wide, {"a": "horizontal", "b": "vertical"}, measures_shown=("ei_index",))
    lines = {l.get_gid(): l for l in fig.axes[0].lines if l.get_gid()}
    assert list(lines["cities:ei_index:horizontal"].get_xdata()) == [pytest.approx(wide.loc["ei_index", "a"])]
    assert list(lines["cities:ei_index:vertical"].get_xdata()) == [pytest.approx(wide.loc["ei_index", "b"])]


def test_model_tables_cover_every_type():
    from hotlines.networks.model import EDGE_TYPES, NODE_TYPES

    nodes = ef.node_types_display()
    assert len(nodes) == len(NODE_TYPES)
    assert nodes.set_index("actor type").loc["grassroots unit", ["tiers", "resolves requests"]].tolist() == ["grassroots", "yes"]
    edges = ef.edge_types_display().set_index("tie type")
    assert len(edges) == len(EDGE_TYPES)
    assert edges.loc["dispatch", ["routes requests", "cycles"]].tolist() == ["yes", "forbidden"]
    assert edges.loc["information sharing", ["routes requests", "cycles", "among a role's members"]].tolist() == ["no", "allowed", "allowed"]


def test_intake_paths_display_counts_routing_paths(vertical_city, horizontal_city):
    table = ef.intake_paths_display({"V": vertical_city, "H": horizontal_city})
    rows = {(r.graph, r.resolver): (r._3, r._4) for r in table.itertuples(index=False)}
    # hub -> agencies directly; hub -> districts -> grassroots units
    assert rows[("V", "municipal agencies")] == ("1", "1 (1)")
    assert rows[("V", "grassroots units")] == ("2", "1 (1)")
    assert rows[("H", "municipal agencies")] == ("1", "1 (1)")
