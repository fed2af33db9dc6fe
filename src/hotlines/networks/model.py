"""The coordination-graph model: typed actors, typed ties, and a validator.

A coordination graph is a :class:`networkx.MultiDiGraph` (a subclass of
:class:`networkx.DiGraph`) whose edge *key is the tie type*, so an ordered pair of
actors carries at most one tie of each type (the hotline centre can both dispatch to an
agency and hold a service-level contract with it).

Nodes carry

- ``type``: one of :data:`NODE_TYPES`;
- ``tier``: one of :data:`TIERS`: ``municipal`` (level 0), ``district`` (level 1),
  ``grassroots`` (level 2: subdistrict, street, township, community), or ``external``
  for actors outside the government hierarchy (vendors, NGOs, researchers), which have
  no level. :data:`TIER_LEVEL` maps the government tiers to 0/1/2;
- ``resolves`` (bool): the actor resolves requests itself; defaults per type in
  :data:`RESOLVES_BY_DEFAULT`;
- optional ``label``, ``categories`` (list of request categories the resolver handles;
  ``["*"]`` means all), ``servers`` (int, for the simulation), ``evidence`` (list of
  segment ids), ``collective`` (bool: the node stands for a class of actors, e.g. "the
  municipal agencies", as graphs derived from coded evidence do).

Edges carry

- ``type``: one of :data:`EDGE_TYPES` (equal to the edge key);
- ``evidence``: list of segment ids of the coded corpus (``data/segments.csv``) behind
  the tie, empty for archetypes and counterfactual additions;
- optional ``deadline_days`` (a dispatch with a deadline), ``target_days`` (a
  service-level contract's target), ``codes`` (codebook codes that implied the tie),
  ``counterfactual`` (bool: added or changed by an experiment, not observed).

Tie types and their direction (``u -> v``):

==========================  ===============================================================
``dispatch``                u assigns requests to v (the routing channel; obligations may
                            attach: ``deadline_days``)
``referral``                u forwards requests or citizens to v, which handles them under
                            its own rules (also a routing channel)
``escalation``              u (a lower or same-level unit) summons v, which must report in
                            (吹哨报到); never points downwards
``supervision``             u supervises and evaluates v (leadership reviews, performance
                            evaluation)
``service_level_contract``  u (the hub) holds a service-level agreement with v
``information_sharing``     u shares case data or meets with v (peer coordination)
==========================  ===============================================================

Routing edges (:data:`ROUTING_TYPES`: dispatch and referral) carry requests; a resolver
that no routing path from the hotline centre reaches is an error. Cycles are forbidden
in the dispatch, escalation and supervision subgraphs (:data:`ACYCLIC_TYPES`).

>>> g = new_graph("toy")
>>> add_actor(g, "hub", "hotline_centre", "municipal")
>>> add_actor(g, "dsny", "agency", "municipal")
>>> add_tie(g, "hub", "dsny", "dispatch", evidence=["S-NYC-01"])
>>> validate(g)
>>> g.edges["hub", "dsny", "dispatch"]["evidence"]
['S-NYC-01']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import networkx as nx

NODE_TYPES: dict[str, str] = {
    "hotline_centre": "the hotline's intake and dispatch centre (the hub)",
    "leadership": "municipal (or district) leadership: party committee, mayor's office",
    "agency": "a line agency or department (municipal, or a district bureau)",
    "district_government": "a district government",
    "grassroots_unit": "a subdistrict, street, township or community government",
    "agency_liaison": "a liaison officer or desk linking the hub and an agency",
    "external_partner": "a non-governmental partner: vendor, NGO, researcher, contractor",
}

EDGE_TYPES: dict[str, str] = {
    "dispatch": "u assigns requests to v (obligations may attach: deadline_days)",
    "referral": "u forwards requests to v, which handles them under its own rules",
    "escalation": "u summons v, which must report in (cross-level escalation, 吹哨报到)",
    "supervision": "u supervises and evaluates v",
    "service_level_contract": "u holds a service-level agreement with v (target_days)",
    "information_sharing": "u shares data with or meets v (peer coordination)",
}

TIERS: tuple[str, ...] = ("municipal", "district", "grassroots", "external")
#: Levels of the government tiers (0 is the top); ``external`` has no level.
TIER_LEVEL: dict[str, int] = {"municipal": 0, "district": 1, "grassroots": 2}

ALLOWED_TIERS: dict[str, tuple[str, ...]] = {
    "hotline_centre": ("municipal", "district"),
    "leadership": ("municipal", "district"),
    "agency": ("municipal", "district"),
    "district_government": ("district",),
    "grassroots_unit": ("grassroots",),
    "agency_liaison": ("municipal", "district"),
    "external_partner": ("external",),
}

RESOLVES_BY_DEFAULT: dict[str, bool] = {
    "hotline_centre": False,
    "leadership": False,
    "agency": True,
    "district_government": False,
    "grassroots_unit": True,
    "agency_liaison": False,
    "external_partner": False,
}

ROUTING_TYPES: tuple[str, ...] = ("dispatch", "referral")
ACYCLIC_TYPES: tuple[str, ...] = ("dispatch", "escalation", "supervision")
#: Tie types that may form a self-loop on a collective node ("ties among the agencies").
SELF_LOOP_TYPES: tuple[str, ...] = ("information_sharing", "referral")
#: Node and edge attributes that hold lists (encoded as ``;``-joined strings in GraphML).
LIST_ATTRIBUTES: tuple[str, ...] = ("evidence", "codes", "categories")


class GraphValidationError(ValueError):
    """A coordination graph breaks a rule of the model; ``problems`` lists every breach."""

    def __init__(self, problems: Sequence["Problem"], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"{where}{len(self.problems)} problem(s) in the coordination graph:"]
        lines += [f"  - [{p.rule}] {p.element}: {p.message}" for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Problem:
    """One breach of the model: the rule, the node or edge, and what is wrong."""

    rule: str
    element: str
    message: str


def new_graph(name: str, **attributes) -> nx.MultiDiGraph:
    """An empty coordination graph named ``name`` (graph attributes as keywords)."""
    graph = nx.MultiDiGraph(name=name)
    graph.graph.update(attributes)
    return graph


def add_actor(
    graph: nx.MultiDiGraph,
    node: str,
    type: str,
    tier: str,
    *,
    resolves: bool | None = None,
    label: str | None = None,
    evidence: Iterable[str] = (),
    **attributes,
) -> None:
    """Add (or update) an actor; ``resolves`` defaults to :data:`RESOLVES_BY_DEFAULT`."""
    if type not in NODE_TYPES:
        raise ValueError(f"node {node!r}: unknown node type {type!r} (known: {', '.join(NODE_TYPES)})")
    data = {
        "type": type,
        "tier": tier,
        "resolves": RESOLVES_BY_DEFAULT[type] if resolves is None else bool(resolves),
        "label": label or node,
        "evidence": list(evidence),
    }
    data.update(attributes)
    if graph.has_node(node):
        old = graph.nodes[node]
        merged = _merge_lists(old.get("evidence", []), data["evidence"])
        old.update(data)
        old["evidence"] = merged
    else:
        graph.add_node(node, **data)


def add_tie(graph: nx.MultiDiGraph, u: str, v: str, type: str, *, evidence: Iterable[str] = (), **attributes) -> None:
    """Add a tie of ``type`` from ``u`` to ``v``, or merge evidence into the existing one.

    Both actors must exist already (so that each carries its type and tier).
    """
    if type not in EDGE_TYPES:
        raise ValueError(f"edge ({u!r}, {v!r}): unknown edge type {type!r} (known: {', '.join(EDGE_TYPES)})")
    for node in (u, v):
        if not graph.has_node(node):
            raise ValueError(f"edge ({u!r}, {v!r}, {type!r}): actor {node!r} is not in the graph; add it first")
    if graph.has_edge(u, v, key=type):
        data = graph.edges[u, v, type]
        data["evidence"] = _merge_lists(data.get("evidence", []), evidence)
        for name, value in attributes.items():
            if name in LIST_ATTRIBUTES:
                data[name] = _merge_lists(data.get(name, []), value)
            else:
                data[name] = value
    else:
        graph.add_edge(u, v, key=type, type=type, evidence=list(evidence), **attributes)


def _merge_lists(old: Iterable[str], new: Iterable[str]) -> list[str]:
    merged = list(old)
    merged += [item for item in new if item not in merged]
    return merged


def hub(graph: nx.MultiDiGraph) -> str:
    """The hotline centre; raises unless there is exactly one."""
    hubs = [n for n, t in graph.nodes(data="type") if t == "hotline_centre"]
    if len(hubs) != 1:
        raise GraphValidationError([Problem("one_hub", "graph", f"needs exactly one hotline_centre node, found {len(hubs)}: {hubs}")])
    return hubs[0]


def resolvers(graph: nx.MultiDiGraph) -> list[str]:
    """Nodes that resolve requests, in graph order."""
    return [n for n, r in graph.nodes(data="resolves") if r]


def subgraph_of(graph: nx.MultiDiGraph, types: Iterable[str] | str) -> nx.DiGraph:
    """A simple :class:`~networkx.DiGraph` of the ties of the given type(s), on all nodes."""
    wanted = {types} if isinstance(types, str) else set(types)
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.nodes(data=True))
    simple.add_edges_from((u, v) for u, v, t in graph.edges(keys=True) if t in wanted)
    return simple


def collapse(graph: nx.MultiDiGraph, types: Iterable[str] | None = None, self_loops: bool = False) -> nx.DiGraph:
    """The simple directed graph of all ties (or those of ``types``): one edge per ordered pair.

    Self-loops (ties among the members of a collective node) are dropped unless asked for,
    since the centralization and hierarchy measures are defined on loop-free graphs.
    """
    wanted = set(EDGE_TYPES) if types is None else set(types)
    simple = nx.DiGraph(name=graph.graph.get("name", ""))
    simple.add_nodes_from(graph.nodes(data=True))
    for u, v, t in graph.edges(keys=True):
        if t in wanted and (self_loops or u != v):
            simple.add_edge(u, v)
    return simple


def _edge(u, v, t) -> str:
    return f"edge ({u!r}, {v!r}, {t!r})"


def problems(graph: nx.Graph) -> list[Problem]:
    """Every breach of the model in ``graph`` (an empty list when it is valid)."""
    found: list[Problem] = []
    if not isinstance(graph, nx.MultiDiGraph):
        return [Problem("graph_class", "graph", f"a coordination graph is a networkx MultiDiGraph keyed by tie type, got {type(graph).__name__}")]
    for node, data in graph.nodes(data=True):
        where = f"node {node!r}"
        node_type = data.get("type")
        if node_type is None:
            found.append(Problem("node_type", where, "has no type"))
        elif node_type not in NODE_TYPES:
            found.append(Problem("node_type", where, f"unknown node type {node_type!r} (known: {', '.join(NODE_TYPES)})"))
        tier = data.get("tier")
        if tier is None or (isinstance(tier, str) and not tier.strip()):
            found.append(Problem("tier", where, "has no tier (one of: " + ", ".join(TIERS) + ")"))
        elif tier not in TIERS:
            found.append(Problem("tier", where, f"unknown tier {tier!r} (known: {', '.join(TIERS)})"))
        elif node_type in ALLOWED_TIERS and tier not in ALLOWED_TIERS[node_type]:
            found.append(Problem("tier", where, f"a {node_type} cannot sit at tier {tier!r} (allowed: {', '.join(ALLOWED_TIERS[node_type])})"))
        if "resolves" in data and not isinstance(data["resolves"], bool):
            found.append(Problem("resolves", where, f"resolves must be true or false, got {data['resolves']!r}"))
        for name in LIST_ATTRIBUTES:
            if name in data and not isinstance(data[name], list):
                found.append(Problem("list_attribute", where, f"{name} must be a list, got {type(data[name]).__name__}"))
    for u, v, key, data in graph.edges(keys=True, data=True):
        where = _edge(u, v, key)
        edge_type = data.get("type", key)
        if edge_type not in EDGE_TYPES:
            found.append(Problem("edge_type", where, f"unknown edge type {edge_type!r} (known: {', '.join(EDGE_TYPES)})"))
            continue
        if key != edge_type:
            found.append(Problem("edge_key", where, f"the edge key must equal its type {edge_type!r}"))
        if "evidence" not in data:
            found.append(Problem("evidence", where, "has no evidence attribute (an empty list for archetype ties)"))
        elif not isinstance(data["evidence"], list):
            found.append(Problem("evidence", where, f"evidence must be a list of segment ids, got {type(data['evidence']).__name__}"))
        if u == v and (edge_type not in SELF_LOOP_TYPES or not graph.nodes[u].get("collective", False)):
            found.append(Problem("self_loop", where, f"only a collective node may carry a self-loop, and only of type {' or '.join(SELF_LOOP_TYPES)}"))
        if edge_type == "escalation":
            lu, lv = TIER_LEVEL.get(graph.nodes[u].get("tier")), TIER_LEVEL.get(graph.nodes[v].get("tier"))
            if lu is not None and lv is not None and lv > lu:
                found.append(Problem("escalation_direction", where, f"escalation points downwards ({graph.nodes[u]['tier']} -> {graph.nodes[v]['tier']}); it goes up or across"))
    hubs = [n for n, t in graph.nodes(data="type") if t == "hotline_centre"]
    if len(hubs) != 1:
        found.append(Problem("one_hub", "graph", f"needs exactly one hotline_centre node, found {len(hubs)}: {hubs}"))
    for edge_type in ACYCLIC_TYPES:
        sub = subgraph_of(graph, edge_type)
        sub.remove_edges_from(nx.selfloop_edges(sub))
        try:
            cycle = nx.find_cycle(sub)
        except nx.NetworkXNoCycle:
            continue
        edges = ", ".join(_edge(a, b, edge_type) for a, b in cycle)
        found.append(Problem("cycle", edges, f"the {edge_type} ties form a cycle, which the model forbids"))
    if len(hubs) == 1:
        reachable = nx.descendants(subgraph_of(graph, ROUTING_TYPES), hubs[0])
        for node in resolvers(graph):
            if node != hubs[0] and node not in reachable:
                found.append(Problem("unreachable_resolver", f"node {node!r}", f"resolves requests but no dispatch or referral path from the hub {hubs[0]!r} reaches it"))
    return found


def validate(graph: nx.Graph, source: str | None = None) -> None:
    """Raise :class:`GraphValidationError` naming every bad node or edge; return None when valid.

    ``source`` (a file name) is put in front of the message.
    """
    found = problems(graph)
    if found:
        raise GraphValidationError(found, source)
