"""Structural measures of coordination graphs, one function per measure, and tidy tables.

Centralization follows Freeman (1979): for a node centrality :math:`C`, the graph's
centralization is

.. math:: C_X = \\frac{\\sum_i [C(v^*) - C(v_i)]}{\\max \\sum_i [C(v^*) - C(v_i)]}

where :math:`v^*` is the most central node and the maximum runs over all graphs with
the same number of nodes; it is 1 for a star and 0 when every node is equally central
(cycle, complete graph). The maxima used (raw centralities, :math:`n` nodes):

===============================  =========================================  ===========
measure                          maximum of the sum                         attained by
===============================  =========================================  ===========
degree, undirected               :math:`(n-1)(n-2)`                         star
in- or out-degree, directed      :math:`(n-1)^2`                            in/out-star
betweenness, undirected          :math:`(n-1)^2 (n-2) / 2`                  star
betweenness, directed            :math:`(n-1)^2 (n-2)`                      mutual star
closeness, undirected            :math:`(n-1)(n-2) / (2n-3)` (standardised  star
                                 closeness :math:`(n-1)/\\sum_j d_{ij}`)
===============================  =========================================  ===========

(Freeman 1979; Wasserman and Faust 1994, section 5.2). The test suite checks each
maximum by enumerating every graph on 4 and 5 nodes. networkx has no centralization
functions; the node centralities come from networkx.

Measures are computed on :func:`~.model.collapse` (one simple directed edge per ordered
pair that has any tie of the chosen types, self-loops dropped); "undirected" measures on
its undirected projection.

>>> import networkx as nx
>>> g = nx.star_graph(4)                  # a hub and four leaves
>>> [round(f(g), 12) for f in (degree_centralization, betweenness_centralization, closeness_centralization)]
[1.0, 1.0, 1.0]
>>> round(degree_centralization(nx.path_graph(4)), 4)
0.3333
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import networkx as nx
import pandas as pd

from .model import ROUTING_TYPES, TIER_LEVEL, collapse, hub, resolvers, subgraph_of


def _simple(graph: nx.Graph, types: Iterable[str] | None = None) -> nx.Graph:
    """A simple graph to measure: coordination graphs are collapsed, plain graphs kept."""
    if isinstance(graph, nx.MultiDiGraph) and any("type" in d for _, d in graph.nodes(data=True)):
        return collapse(graph, types)
    if graph.is_multigraph():
        simple = nx.DiGraph(graph) if graph.is_directed() else nx.Graph(graph)
    else:
        simple = graph.copy()
    simple.remove_edges_from(list(nx.selfloop_edges(simple)))
    return simple


def _centralization(values: Iterable[float], maximum: float) -> float:
    values = list(values)
    if maximum <= 0 or not values:
        return math.nan
    top = max(values)
    return float(sum(top - v for v in values) / maximum)


def degree_centralization(graph: nx.Graph, direction: str = "all", types: Iterable[str] | None = None) -> float:
    """Freeman degree centralization.

    ``direction``: ``"all"`` (undirected projection; maximum :math:`(n-1)(n-2)`), ``"in"``
    or ``"out"`` (directed; maximum :math:`(n-1)^2`). NaN for fewer than 3 nodes
    (undirected) or 2 nodes (directed), where the maximum is 0.

    >>> import networkx as nx
    >>> degree_centralization(nx.cycle_graph(5))
    0.0
    """
    g = _simple(graph, types)
    n = g.number_of_nodes()
    if direction == "all":
        u = g.to_undirected(as_view=False) if g.is_directed() else g
        return _centralization((d for _, d in u.degree()), (n - 1) * (n - 2))
    if not g.is_directed():
        raise ValueError("in- or out-degree centralization needs a directed graph")
    if direction == "in":
        return _centralization((d for _, d in g.in_degree()), (n - 1) ** 2)
    if direction == "out":
        return _centralization((d for _, d in g.out_degree()), (n - 1) ** 2)
    raise ValueError(f"direction must be 'all', 'in' or 'out', got {direction!r}")


def betweenness_centralization(graph: nx.Graph, directed: bool = True, types: Iterable[str] | None = None) -> float:
    """Freeman betweenness centralization (raw betweenness from networkx).

    Directed graphs: ordered pairs, maximum :math:`(n-1)^2(n-2)`; undirected (or
    ``directed=False``): unordered pairs, maximum :math:`(n-1)^2(n-2)/2`. NaN below 3 nodes.

    >>> import networkx as nx
    >>> round(betweenness_centralization(nx.path_graph(4)), 4)   # (2+2) / 9
    0.4444
    """
    g = _simple(graph, types)
    if not directed and g.is_directed():
        g = g.to_undirected(as_view=False)
    n = g.number_of_nodes()
    raw = nx.betweenness_centrality(g, normalized=False)
    maximum = (n - 1) ** 2 * (n - 2) if g.is_directed() else (n - 1) ** 2 * (n - 2) / 2
    return _centralization(raw.values(), maximum)


def closeness_centralization(graph: nx.Graph, types: Iterable[str] | None = None) -> float:
    """Freeman closeness centralization on the undirected projection.

    Closeness is :math:`(n-1)/\\sum_j d_{ij}`; maximum :math:`(n-1)(n-2)/(2n-3)`. Closeness
    is undefined on a disconnected graph: NaN then (and below 3 nodes).

    >>> import networkx as nx
    >>> round(closeness_centralization(nx.path_graph(4)), 4)    # 0.5 / 1.2
    0.4167
    """
    g = _simple(graph, types)
    u = g.to_undirected(as_view=False) if g.is_directed() else g
    n = u.number_of_nodes()
    if n < 3 or not nx.is_connected(u):
        return math.nan
    closeness = nx.closeness_centrality(u)
    return _centralization(closeness.values(), (n - 1) * (n - 2) / (2 * n - 3))


def krackhardt_hierarchy(graph: nx.Graph, types: Iterable[str] | None = None) -> float:
    """Krackhardt's (1994) hierarchy: the share of reachable ordered pairs not reciprocated.

    :math:`H = 1 - V / \\max V`, where :math:`\\max V` is the number of ordered pairs
    (i, j) with j reachable from i and :math:`V` the number of those whose reverse is
    reachable too. 1 for an out-tree, 0 when all reachability is mutual; NaN without
    any reachable pair.

    >>> import networkx as nx
    >>> krackhardt_hierarchy(nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")]))
    0.5
    """
    g = _simple(graph, types)
    if not g.is_directed():
        raise ValueError("Krackhardt hierarchy needs a directed graph")
    reach = {node: nx.descendants(g, node) for node in g}
    reachable = sum(len(r) for r in reach.values())
    if reachable == 0:
        return math.nan
    mutual = sum(1 for i, r in reach.items() for j in r if i in reach[j])
    return 1.0 - mutual / reachable


def flow_hierarchy(graph: nx.Graph, types: Iterable[str] | None = None) -> float:
    """networkx :func:`~networkx.algorithms.hierarchy.flow_hierarchy`: the share of edges
    not on a cycle (Luo and Magee 2011), on the collapsed graph."""
    g = _simple(graph, types)
    if g.number_of_edges() == 0:
        return math.nan
    return float(nx.flow_hierarchy(g))


def ei_index(graph: nx.MultiDiGraph, types: Iterable[str] | None = None) -> pd.DataFrame:
    """Krackhardt and Stern's (1988) E–I index of cross-tier against same-tier ties.

    :math:`EI = (E - I)/(E + I)`, with E the ties between actors of different government
    tiers (vertical ties) and I the ties within a tier (horizontal ties): +1 when every
    tie is vertical, -1 when every tie is horizontal. Each typed tie counts once (a pair
    with dispatch and supervision counts twice); ties touching an ``external`` actor are
    neither and are counted in ``excluded``; self-loops (ties among a collective's
    members) are internal.

    Returns one row: ``external_ties``, ``internal_ties``, ``excluded``, ``n``, ``ei_index``.

    >>> from hotlines.networks.builders import horizontal
    >>> ei_index(horizontal(3))["ei_index"].item()
    -1.0
    """
    wanted = None if types is None else set(types)
    external = internal = excluded = 0
    for u, v, key in graph.edges(keys=True):
        if wanted is not None and key not in wanted:
            continue
        lu, lv = TIER_LEVEL.get(graph.nodes[u].get("tier")), TIER_LEVEL.get(graph.nodes[v].get("tier"))
        if lu is None or lv is None:
            excluded += 1
        elif lu == lv:
            internal += 1
        else:
            external += 1
    n = external + internal
    value = (external - internal) / n if n else math.nan
    return pd.DataFrame([{"external_ties": external, "internal_ties": internal, "excluded": excluded, "n": n, "ei_index": value}])


def escalation_depth(graph: nx.MultiDiGraph) -> int:
    """The longest chain of escalation ties (in ties); 0 when there is no escalation.

    >>> from hotlines.networks.builders import vertical
    >>> escalation_depth(vertical(2, 2, 2))   # grassroots -> district -> leadership
    2
    """
    sub = subgraph_of(graph, "escalation")
    sub.remove_edges_from(list(nx.selfloop_edges(sub)))
    if sub.number_of_edges() == 0:
        return 0
    return int(nx.dag_longest_path_length(sub))


def intake_paths(graph: nx.MultiDiGraph, cutoff: int | None = 8) -> pd.DataFrame:
    """Routing paths (dispatch and referral ties) from the hotline centre to each resolver.

    One row per resolver: ``resolver``, ``type``, ``tier``, ``reachable``,
    ``shortest_length`` (ties; missing when unreachable), ``n_shortest_paths``,
    ``n_paths`` (simple paths of at most ``cutoff`` ties).
    """
    centre = hub(graph)
    routing = subgraph_of(graph, ROUTING_TYPES)
    routing.remove_edges_from(list(nx.selfloop_edges(routing)))
    lengths = nx.single_source_shortest_path_length(routing, centre)
    rows = []
    for node in resolvers(graph):
        reachable = node in lengths and node != centre
        rows.append(
            {
                "resolver": node,
                "type": graph.nodes[node].get("type"),
                "tier": graph.nodes[node].get("tier"),
                "reachable": reachable,
                "shortest_length": lengths[node] if reachable else pd.NA,
                "n_shortest_paths": sum(1 for _ in nx.all_shortest_paths(routing, centre, node)) if reachable else 0,
                "n_paths": sum(1 for _ in nx.all_simple_paths(routing, centre, node, cutoff=cutoff)) if reachable else 0,
            }
        )
    frame = pd.DataFrame(rows, columns=["resolver", "type", "tier", "reachable", "shortest_length", "n_shortest_paths", "n_paths"])
    frame["shortest_length"] = frame["shortest_length"].astype("Int64")
    return frame


def hub_betweenness(graph: nx.MultiDiGraph, types: Iterable[str] | None = None) -> float:
    """Normalised betweenness of the hotline centre in the collapsed directed graph:
    the share of shortest paths between other actors that pass through it."""
    g = _simple(graph, types)
    return float(nx.betweenness_centrality(g, normalized=True)[hub(graph)])


def hub_dependence(graph: nx.MultiDiGraph, types: Iterable[str] | None = None) -> float:
    """The share of ordered pairs of other actors, connected by a directed path, that lose
    every path when the hotline centre is removed: how much coordination depends on the
    hub as a broker. 0 when the hub brokers nothing alone, 1 when it brokers everything."""
    g = _simple(graph, types)
    centre = hub(graph)
    others = [n for n in g if n != centre]
    before = {n: nx.descendants(g, n) - {centre} for n in others}
    connected = sum(len(r) for r in before.values())
    if connected == 0:
        return math.nan
    without = g.subgraph(others)
    lost = sum(len(before[n] - nx.descendants(without, n)) for n in others)
    return lost / connected


#: Ties that run one way by nature. Information sharing is two-way in every archetype
#: and would make any graph look non-hierarchical, so the hierarchy measures of
#: :func:`structure` leave it out. Escalation stays in: it is an upward channel, and
#: Krackhardt's measure rightly sees that it makes levels mutually reachable.
FLOW_TYPES: tuple[str, ...] = ("dispatch", "referral", "escalation", "supervision", "service_level_contract")

#: The measures of :func:`structure_table`, with their meaning.
MEASURES: dict[str, str] = {
    "n_nodes": "actors",
    "n_ties": "typed ties",
    "degree_centralization": "Freeman degree centralization, undirected projection of all ties",
    "betweenness_centralization": "Freeman betweenness centralization, directed, all ties",
    "closeness_centralization": "Freeman closeness centralization, undirected projection",
    "krackhardt_hierarchy": "share of reachable ordered pairs not reciprocated (Krackhardt 1994), directed ties (all but information sharing)",
    "flow_hierarchy": "share of ties not on a cycle (networkx flow_hierarchy), directed ties (all but information sharing)",
    "ei_index": "E-I index of cross-tier (+1) vs same-tier (-1) ties (Krackhardt and Stern 1988)",
    "escalation_depth": "longest chain of escalation ties",
    "mean_intake_path_length": "mean shortest routing path from the hub to a resolver, in ties",
    "share_resolvers_reachable": "share of resolvers a routing path from the hub reaches",
    "hub_betweenness": "normalised betweenness of the hub",
    "hub_dependence": "share of connected pairs that lose every path without the hub",
    "share_agencies_with_sla": "share of agencies with a service-level contract from the hub",
}


def structure(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """Every measure of :data:`MEASURES` for one graph: columns ``measure``, ``value``, ``description``.

    >>> from hotlines.networks.builders import vertical
    >>> t = structure(vertical(2, 2, 2))
    >>> float(t.set_index("measure").loc["escalation_depth", "value"])
    2.0
    """
    paths = intake_paths(graph)
    centre = hub(graph)
    agencies = [n for n, t in graph.nodes(data="type") if t == "agency"]
    with_sla = [a for a in agencies if graph.has_edge(centre, a, key="service_level_contract")]
    values = {
        "n_nodes": graph.number_of_nodes(),
        "n_ties": graph.number_of_edges(),
        "degree_centralization": degree_centralization(graph),
        "betweenness_centralization": betweenness_centralization(graph),
        "closeness_centralization": closeness_centralization(graph),
        "krackhardt_hierarchy": krackhardt_hierarchy(graph, FLOW_TYPES),
        "flow_hierarchy": flow_hierarchy(graph, FLOW_TYPES),
        "ei_index": ei_index(graph)["ei_index"].item(),
        "escalation_depth": escalation_depth(graph),
        "mean_intake_path_length": float(paths["shortest_length"].astype("Float64").mean()) if paths["reachable"].any() else math.nan,
        "share_resolvers_reachable": float(paths["reachable"].mean()) if len(paths) else math.nan,
        "hub_betweenness": hub_betweenness(graph),
        "hub_dependence": hub_dependence(graph),
        "share_agencies_with_sla": len(with_sla) / len(agencies) if agencies else math.nan,
    }
    return pd.DataFrame(
        [{"measure": k, "value": float(v), "description": MEASURES[k]} for k, v in values.items()],
        columns=["measure", "value", "description"],
    )


def structure_table(graphs: Mapping[str, nx.MultiDiGraph], wide: bool = False) -> pd.DataFrame:
    """Measures of several graphs side by side.

    Long form (default): ``graph``, ``measure``, ``value``, ``description``. With
    ``wide``: one row per measure, one column per graph (in the order given).

    >>> from hotlines.networks.builders import vertical, horizontal
    >>> t = structure_table({"vertical": vertical(2, 2, 3), "horizontal": horizontal(3)}, wide=True)
    >>> float(t.loc["ei_index", "horizontal"])
    -1.0
    """
    frames = [structure(g).assign(graph=name) for name, g in graphs.items()]
    long = pd.concat(frames, ignore_index=True)[["graph", "measure", "value", "description"]]
    if not wide:
        return long
    table = long.pivot(index="measure", columns="graph", values="value")
    return table.loc[list(MEASURES), list(graphs)]
