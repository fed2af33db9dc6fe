"""Structural measures against hand-computed values and against brute force over all small graphs."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import networkx as nx
import pytest

from hotlines.networks import builders
from hotlines.networks.measures import (
    MEASURES,
    betweenness_centralization,
    closeness_centralization,
    degree_centralization,
    ei_index,
    escalation_depth,
    flow_hierarchy,
    hub_betweenness,
    hub_dependence,
    intake_paths,
    krackhardt_hierarchy,
    structure,
    structure_table,
)
from hotlines.networks.model import add_actor, add_tie, new_graph

# ---------------------------------------------------------------- Freeman centralization


@pytest.mark.parametrize("n", [4, 5, 8])
def test_a_star_is_maximally_centralized(n):
    star = nx.star_graph(n - 1)
    assert degree_centralization(star) == pytest.approx(1.0)
    assert betweenness_centralization(star) == pytest.approx(1.0)
    assert closeness_centralization(star) == pytest.approx(1.0)
    in_star = nx.DiGraph([(leaf, 0) for leaf in range(1, n)])
    assert degree_centralization(in_star, "in") == pytest.approx(1.0)
    # out-degrees: every leaf 1, the centre 0: sum of (1 - d) = 1 over (n-1)^2
    assert degree_centralization(in_star, "out") == pytest.approx(1 / (n - 1) ** 2)
    mutual_star = nx.DiGraph([(0, leaf) for leaf in range(1, n)] + [(leaf, 0) for leaf in range(1, n)])
    assert betweenness_centralization(mutual_star) == pytest.approx(1.0)


@pytest.mark.parametrize("graph", [nx.complete_graph(5), nx.cycle_graph(6), nx.complete_graph(4)])
def test_regular_graphs_have_zero_centralization(graph):
    assert degree_centralization(graph) == 0.0
    assert betweenness_centralization(graph) == pytest.approx(0.0)
    assert closeness_centralization(graph) == pytest.approx(0.0)


def test_path_of_four_by_hand():
    # degrees 1,2,2,1: sum of (2 - d) = 2 over (n-1)(n-2) = 6
    # betweenness 0,2,2,0 (unordered pairs): 4 over (n-1)^2(n-2)/2 = 9
    # closeness 1/2, 3/4, 3/4, 1/2: 1/2 over (n-1)(n-2)/(2n-3) = 6/5
    p4 = nx.path_graph(4)
    assert degree_centralization(p4) == pytest.approx(1 / 3)
    assert betweenness_centralization(p4) == pytest.approx(4 / 9)
    assert closeness_centralization(p4) == pytest.approx(5 / 12)


def test_path_of_five_by_hand():
    # degrees 1,2,2,2,1 -> 2/12; betweenness 0,3,4,3,0 -> (4+1+0+1+4)/24;
    # closeness 4/10, 4/7, 4/6, 4/7, 4/10 -> (8/15 + 4/21) / (12/7) = 19/45
    p5 = nx.path_graph(5)
    assert degree_centralization(p5) == pytest.approx(1 / 6)
    assert betweenness_centralization(p5) == pytest.approx(10 / 24)
    closeness = Fraction(2) * (Fraction(2, 3) - Fraction(2, 5)) + 2 * (Fraction(2, 3) - Fraction(4, 7))
    assert closeness / Fraction(12, 7) == Fraction(19, 45)
    assert closeness_centralization(p5) == pytest.approx(19 / 45)


def test_directed_path_betweenness_by_hand():
    # a->b->c->d: b lies on (a,c),(a,d); c on (a,d),(b,d): raw 0,2,2,0; max sum (n-1)^2(n-2) = 18
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d")])
    assert betweenness_centralization(g) == pytest.approx(4 / 18)
    assert betweenness_centralization(g, directed=False) == pytest.approx(4 / 9)


def _all_graphs(n, directed):
    pairs = list(itertools.permutations(range(n), 2) if directed else itertools.combinations(range(n), 2))
    for mask in range(1 << len(pairs)):
        g = nx.DiGraph() if directed else nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(p for i, p in enumerate(pairs) if mask >> i & 1)
        yield g


@pytest.mark.parametrize("n", [4, 5])
def test_undirected_maxima_hold_over_every_graph(n):
    """The normalising maxima are the true maxima: no graph on n nodes exceeds 1 and some reach it."""
    top = {"degree": 0.0, "betweenness": 0.0, "closeness": 0.0}
    for g in _all_graphs(n, directed=False):
        values = {"degree": degree_centralization(g), "betweenness": betweenness_centralization(g), "closeness": closeness_centralization(g)}
        for name, value in values.items():
            if not math.isnan(value):
                assert -1e-12 <= value <= 1 + 1e-12, (name, sorted(g.edges))
                top[name] = max(top[name], value)
    assert top == pytest.approx({"degree": 1.0, "betweenness": 1.0, "closeness": 1.0})


def test_directed_maxima_hold_over_every_digraph_on_four_nodes():
    top = {"in": 0.0, "out": 0.0, "betweenness": 0.0}
    for g in _all_graphs(4, directed=True):
        values = {"in": degree_centralization(g, "in"), "out": degree_centralization(g, "out"), "betweenness": betweenness_centralization(g)}
        for name, value in values.items():
            assert -1e-12 <= value <= 1 + 1e-12, (name, sorted(g.edges))
            top[name] = max(top[name], value)
    assert top == pytest.approx({"in": 1.0, "out": 1.0, "betweenness": 1.0})


def test_closeness_is_undefined_on_a_disconnected_graph():
    g = nx.Graph([(0, 1), (2, 3)])
    assert math.isnan(closeness_centralization(g))


def test_bad_direction_is_refused():
    with pytest.raises(ValueError, match="direction must be"):
        degree_centralization(nx.DiGraph([(0, 1)]), "sideways")


# ---------------------------------------------------------------- hierarchy


def test_krackhardt_hierarchy_by_hand():
    # reachable ordered pairs: (a,b), (b,a), (a,c), (b,c); reciprocated: (a,b), (b,a) -> 1 - 2/4
    assert krackhardt_hierarchy(nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")])) == 0.5
    # a->b, b->c, c->b: reachable (a,b), (a,c), (b,c), (c,b); reciprocated (b,c), (c,b) -> 0.5
    assert krackhardt_hierarchy(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "b")])) == 0.5
    # a tree is a perfect hierarchy, a cycle none
    assert krackhardt_hierarchy(nx.DiGraph([("r", "x"), ("r", "y"), ("x", "z")])) == 1.0
    assert krackhardt_hierarchy(nx.DiGraph([(0, 1), (1, 2), (2, 0)])) == 0.0
    empty = nx.DiGraph()
    empty.add_nodes_from([1, 2])
    assert math.isnan(krackhardt_hierarchy(empty))


def test_flow_hierarchy_by_hand():
    # edges a->b and b->a lie on a cycle; b->c does not
    assert flow_hierarchy(nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")])) == pytest.approx(1 / 3)


def test_hierarchy_needs_direction():
    with pytest.raises(ValueError, match="directed"):
        krackhardt_hierarchy(nx.path_graph(3))


# ---------------------------------------------------------------- E-I index and coordination measures


def mixed_graph():
    g = new_graph("mixed")
    add_actor(g, "hub", "hotline_centre", "municipal")
    add_actor(g, "a", "agency", "municipal")
    add_actor(g, "d", "district_government", "district")
    add_actor(g, "g", "grassroots_unit", "grassroots")
    add_actor(g, "p", "external_partner", "external")
    add_tie(g, "hub", "a", "dispatch")  # same tier: internal
    add_tie(g, "hub", "d", "dispatch")  # cross-tier: external
    add_tie(g, "d", "g", "dispatch")  # external
    add_tie(g, "g", "d", "escalation")  # external
    add_tie(g, "hub", "p", "information_sharing")  # an external actor: excluded
    return g


def test_ei_index_by_hand():
    row = ei_index(mixed_graph()).iloc[0]
    assert (row["external_ties"], row["internal_ties"], row["excluded"], row["n"]) == (3, 1, 1, 4)
    assert row["ei_index"] == pytest.approx((3 - 1) / 4)
    only_dispatch = ei_index(mixed_graph(), types=["dispatch"]).iloc[0]
    assert only_dispatch["ei_index"] == pytest.approx((2 - 1) / 3)


def test_ei_index_of_the_archetypes():
    assert ei_index(builders.horizontal(5))["ei_index"].item() == -1.0
    v = builders.vertical(2, 2, 3)
    # municipal-municipal ties: leadership->hub, and per agency: dispatch, two supervisions, two sharing = 1 + 3*5
    # cross-tier: per district: dispatch, two supervisions, two sharing, escalation = 6; per grassroots unit: 3
    internal, external = 1 + 3 * 5, 2 * 6 + 4 * 3
    assert ei_index(v)["ei_index"].item() == pytest.approx((external - internal) / (external + internal))


def test_escalation_depth():
    assert escalation_depth(builders.vertical(2, 2, 2)) == 2
    assert escalation_depth(builders.horizontal(3)) == 0
    assert escalation_depth(builders.mixture("horizontal", escalation_share=1.0, n_agencies=3)) == 1


def test_intake_paths_count_routes():
    g = mixed_graph()
    add_actor(g, "d2", "district_government", "district")
    add_tie(g, "hub", "d2", "dispatch")
    add_tie(g, "d2", "g", "dispatch")
    paths = intake_paths(g).set_index("resolver")
    assert paths.loc["a", "shortest_length"] == 1 and paths.loc["a", "n_paths"] == 1
    assert paths.loc["g", "shortest_length"] == 2
    assert paths.loc["g", "n_shortest_paths"] == 2 and paths.loc["g", "n_paths"] == 2


def test_hub_dependence_by_hand():
    # horizontal, two agencies, no liaisons: pairs among {leadership, a1, a2} connected by a path are
    # (L,a1), (L,a2), (a1,a2), (a2,a1); every one runs through the hub
    h = builders.horizontal(2, liaisons=False)
    assert hub_dependence(h) == 1.0
    # the hub lies on the shortest paths of those 4 ordered pairs, out of (n-1)(n-2) = 6 pairs of others
    assert hub_betweenness(h) == pytest.approx(4 / 6)
    g = new_graph("bypass")
    add_actor(g, "hub", "hotline_centre", "municipal")
    add_actor(g, "L", "leadership", "municipal")
    add_actor(g, "a", "agency", "municipal")
    add_tie(g, "L", "hub", "supervision")
    add_tie(g, "hub", "a", "dispatch")
    add_tie(g, "L", "a", "supervision")
    assert hub_dependence(g) == 0.0  # the one connected pair (L, a) keeps its direct tie


def test_structure_table_side_by_side():
    graphs = {"vertical": builders.vertical(2, 2, 3), "horizontal": builders.horizontal(3)}
    wide = structure_table(graphs, wide=True)
    assert list(wide.columns) == ["vertical", "horizontal"]
    assert list(wide.index) == list(MEASURES)
    assert wide.loc["escalation_depth"].tolist() == [2.0, 0.0]
    assert wide.loc["share_agencies_with_sla"].tolist() == [0.0, 1.0]
    long = structure_table(graphs)
    assert set(long.columns) == {"graph", "measure", "value", "description"}
    assert len(long) == 2 * len(MEASURES)
    single = structure(graphs["horizontal"]).set_index("measure")["value"]
    assert single["n_nodes"] == 2 + 3 + 3
