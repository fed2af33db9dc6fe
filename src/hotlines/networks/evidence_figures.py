"""Figures and display tables of the chapter on coordination networks built from coded evidence.

Graphs derived from coded evidence (:func:`~.builders.from_codings`) are *role-level*:
a handful of collective actors ("the municipal agencies", "the grassroots units"), with
several typed ties between the same two actors. :func:`.figures.draw_graph` lays
actors out in rows, one row per type, which puts every role of such a graph on one
vertical line. This module draws them on fixed role positions instead, one lane per
tie type, each tie labelled with the number of coded passages behind it.

- :func:`role_layout`, :func:`tie_lanes`, :func:`draw_evidence_graph`,
  :func:`evidence_graphs_figure`: role-level graphs side by side, with evidence counts;
- :func:`city_graphs`: every city's graph, or the reason its evidence supports none;
- :func:`measure_sweep`, :func:`sweep_figure`: how the structural measures of the
  archetypes respond when one builder parameter changes (no simulation);
- :func:`city_measures_figure`: measures of every city's graph, grouped by its coded mode;
- display tables: :func:`rules_display`, :func:`tie_evidence_display`,
  :func:`measures_display`, :func:`city_measures_display`, :func:`city_status_display`.

The structural measures themselves come from :mod:`.measures`; nothing here computes
a measure of its own.

>>> from hotlines.networks.model import add_actor, add_tie, new_graph
>>> g = new_graph("toy")
>>> add_actor(g, "hotline_centre", "hotline_centre", "municipal")
>>> add_actor(g, "municipal_agencies", "agency", "municipal", collective=True)
>>> add_tie(g, "hotline_centre", "municipal_agencies", "dispatch", evidence=["S-1", "S-2"])
>>> add_tie(g, "hotline_centre", "municipal_agencies", "supervision", evidence=["S-3"])
>>> [(lane.type, lane.n_evidence, lane.index, lane.n_lanes) for lane in tie_lanes(g)]
[('dispatch', 2, 0, 2), ('supervision', 1, 1, 2)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch

from .. import viz
from . import builders, measures
from .figures import EDGE_STYLES, NODE_STYLES, TIER_BANDS
from .figures import legend_handles as network_legend_handles
from .model import problems, resolvers

C = viz.OKABE_ITO

# ------------------------------------------------------------------ role-level layout

#: Fixed positions of the roles of :data:`~.builders.ROLES` (data units, equal aspect).
#: Tiers run top to bottom as in :data:`.figures.TIER_BANDS`; inside a tier the roles are
#: set apart sideways so that no straight tie between two roles passes over a third
#: (the test suite checks the clearance).
ROLE_POSITIONS: dict[str, tuple[float, float]] = {
    "municipal_leadership": (0.0, 6.3),
    "hotline_centre": (-2.1, 5.0),
    "agency_liaisons": (2.9, 4.75),
    "municipal_agencies": (2.0, 3.1),
    "district_governments": (-0.5, 1.6),
    "grassroots_units": (1.0, 0.0),
    "external_partners": (-2.9, -1.6),
}

#: How each role is named in figures and tables, and on which side of its marker the
#: name is written (dx, dy in data units; horizontal alignment).
ROLE_NAMES: dict[str, str] = {
    "municipal_leadership": "municipal leadership",
    "hotline_centre": "hotline centre (hub)",
    "agency_liaisons": "agency liaisons",
    "municipal_agencies": "municipal agencies",
    "district_governments": "district governments",
    "grassroots_units": "grassroots units",
    "external_partners": "external partners",
}
ROLE_LABEL_PLACE: dict[str, tuple[float, float, str]] = {
    "municipal_leadership": (0.38, 0.0, "left"),
    "hotline_centre": (-0.2, 0.46, "right"),
    "agency_liaisons": (0.0, 0.42, "center"),
    "municipal_agencies": (0.38, 0.22, "left"),
    "district_governments": (-0.38, -0.32, "right"),
    "grassroots_units": (0.38, 0.0, "left"),
    "external_partners": (0.38, 0.0, "left"),
}
#: Short role names for tables.
ROLE_SHORT: dict[str, str] = {
    "municipal_leadership": "leadership",
    "hotline_centre": "hub",
    "agency_liaisons": "liaisons",
    "municipal_agencies": "agencies",
    "district_governments": "districts",
    "grassroots_units": "grassroots units",
    "external_partners": "external partners",
}
#: Where a self-loop (ties among the members of a collective role) is drawn: centre
#: offset from the role's marker, in data units.
LOOP_OFFSET = (0.55, -0.42)
LOOP_RADIUS = 0.3
#: Distance between the parallel lanes of one pair of roles (data units).
LANE_GAP = 0.27
X_LIMITS = (-5.6, 5.9)
Y_LIMITS = (-2.3, 6.95)

TYPE_WORDS = {
    "dispatch": "dispatch",
    "referral": "referral",
    "escalation": "escalation",
    "supervision": "supervision",
    "service_level_contract": "service-level contract",
    "information_sharing": "information sharing",
}


def role_layout(graph: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Positions of the role-level actors of ``graph`` from :data:`ROLE_POSITIONS`.

    Raises ``ValueError`` naming an actor that is not a role of
    :data:`~.builders.ROLES` (archetypes and expanded graphs are drawn with
    :func:`.figures.draw_graph`).

    >>> from hotlines.networks.builders import horizontal
    >>> role_layout(horizontal(2))
    Traceback (most recent call last):
    ...
    ValueError: node 'leadership' is not a role of a graph derived from coded evidence (known roles: municipal_leadership, hotline_centre, agency_liaisons, municipal_agencies, district_governments, grassroots_units, external_partners); draw archetypes with figures.draw_graph
    """
    for node in graph.nodes:
        if node not in ROLE_POSITIONS:
            raise ValueError(
                f"node {node!r} is not a role of a graph derived from coded evidence (known roles: {', '.join(ROLE_POSITIONS)}); "
                "draw archetypes with figures.draw_graph"
            )
    return {node: ROLE_POSITIONS[node] for node in graph.nodes}


@dataclass(frozen=True)
class Lane:
    """One drawn tie: ``source`` to ``target`` (``directed`` False: information sharing,
    drawn once per pair), its ``type``, the union of its ``evidence``, and its lane
    ``index`` among the ``n_lanes`` lanes of the pair."""

    source: str
    target: str
    type: str
    directed: bool
    evidence: tuple[str, ...]
    index: int
    n_lanes: int

    @property
    def n_evidence(self) -> int:
        return len(self.evidence)


def tie_lanes(graph: nx.MultiDiGraph) -> list[Lane]:
    """The ties of ``graph`` as drawn lanes between two different actors.

    Information-sharing ties are drawn once per pair without arrowheads (they run both
    ways in every rule that creates them); their evidence is the union over both
    directions and ``directed`` is False unless only one direction exists. Every other
    tie is its own lane. Lanes of a pair are ordered by tie type as in
    :data:`.figures.EDGE_STYLES`, then by direction. Self-loops are not lanes (see
    :func:`draw_evidence_graph`).
    """
    order = {t: i for i, t in enumerate(EDGE_STYLES)}
    pairs: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        if u == v:
            continue
        pair = tuple(sorted((str(u), str(v))))
        lanes = pairs.setdefault(pair, {})
        evidence = list(data.get("evidence", []))
        if key == "information_sharing":
            slot = lanes.setdefault((key, ""), {"source": u, "target": v, "evidence": [], "directions": set()})
            slot["evidence"] += [s for s in evidence if s not in slot["evidence"]]
            slot["directions"].add((u, v))
        else:
            lanes[(key, str(u))] = {"source": u, "target": v, "evidence": evidence, "directions": {(u, v)}}
    found: list[Lane] = []
    for pair in sorted(pairs):
        keys = sorted(pairs[pair], key=lambda k: (order.get(k[0], 99), k[1]))
        for index, (kind, _) in enumerate(keys):
            slot = pairs[pair][(kind, _)]
            directed = kind != "information_sharing" or len(slot["directions"]) == 1
            found.append(Lane(slot["source"], slot["target"], kind, directed, tuple(slot["evidence"]), index, len(keys)))
    return found


def _lane_points(lane: Lane, pos: Mapping[str, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    a, b = sorted((str(lane.source), str(lane.target)))
    pa, pb = np.asarray(pos[a], float), np.asarray(pos[b], float)
    direction = (pb - pa) / np.linalg.norm(pb - pa)
    normal = np.array([-direction[1], direction[0]])
    offset = (lane.index - (lane.n_lanes - 1) / 2) * LANE_GAP * normal
    return np.asarray(pos[lane.source], float) + offset, np.asarray(pos[lane.target], float) + offset


def _distance_to_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(point - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab)))


#: Where along a lane its count may go (share of the way from the lane's first role,
#: in the pair's canonical order), in order of preference; and the clearance wanted
#: from other lanes, other counts and markers (data units).
LABEL_STEPS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73)
LABEL_CLEARANCE = 0.45


def label_positions(lanes: Sequence[Lane], pos: Mapping[str, tuple[float, float]]) -> dict[Lane, tuple[float, float]]:
    """Where each lane's evidence count is written: on the lane, at the first place along
    it (:data:`LABEL_STEPS`, staggered for parallel lanes) that keeps
    :data:`LABEL_CLEARANCE` from every lane of another pair, from the counts already
    placed and from the actors' markers; failing that, the place with most room.

    >>> from hotlines.networks.model import add_actor, add_tie, new_graph
    >>> g = new_graph("toy")
    >>> add_actor(g, "hotline_centre", "hotline_centre", "municipal")
    >>> add_actor(g, "municipal_agencies", "agency", "municipal", collective=True)
    >>> add_tie(g, "hotline_centre", "municipal_agencies", "dispatch", evidence=["S-1"])
    >>> [round(c, 3) for c in label_positions(tie_lanes(g), role_layout(g))[tie_lanes(g)[0]]]
    [-0.05, 4.05]
    """
    segments = {lane: _lane_points(lane, pos) for lane in lanes}
    markers = [np.asarray(p, float) for p in pos.values()]
    placed: dict[Lane, tuple[float, float]] = {}
    for lane in lanes:
        start, end = segments[lane]
        pair = frozenset((lane.source, lane.target))
        canonical = str(lane.source) == sorted((str(lane.source), str(lane.target)))[0]
        shift = (lane.index - (lane.n_lanes - 1) / 2) * 0.16
        best, best_room = None, -1.0
        for step in LABEL_STEPS:
            t = min(max(step + shift, 0.2), 0.8)
            t = t if canonical else 1.0 - t
            point = start + t * (end - start)
            room = min(
                [_distance_to_segment(point, *segments[other]) for other in lanes if frozenset((other.source, other.target)) != pair]
                + [float(np.linalg.norm(point - np.asarray(p))) for p in placed.values()]
                + [float(np.linalg.norm(point - m)) - 0.15 for m in markers]
                + [np.inf]
            )
            if room >= LABEL_CLEARANCE:
                best = point
                break
            if room > best_room:
                best, best_room = point, room
        placed[lane] = (float(best[0]), float(best[1]))
    return placed


def draw_evidence_graph(graph: nx.MultiDiGraph, ax=None, *, title: str | None = None, show_counts: bool = True):
    """Draw a role-level coordination graph on ``ax`` with the evidence count on every tie.

    Tiers are grey bands (an empty tier says "no actors at this level"); each tie type
    has its colour and line style (:data:`.figures.EDGE_STYLES`); ties between the same
    two roles run in parallel lanes; the number in the box on a lane is the number of
    coded passages (segment ids) behind the tie. Ties among the members of a collective
    role (a self-loop) are a small circle beside it. Returns ``ax``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    pos = role_layout(graph)
    present = {data.get("tier") for _, data in graph.nodes(data=True)}
    for tier, low, high in TIER_BANDS:
        if tier == "external" and tier not in present:
            continue
        ax.axhspan(low, high, color="#F4F4F4", zorder=0, linewidth=0)
        ax.text(X_LIMITS[0] + 0.12, high - 0.1, tier, ha="left", va="top", fontsize=10, style="italic", color="#444444")
        if tier not in present:
            ax.text(0.2, (low + high) / 2, "no actors at this level", ha="center", va="center", fontsize=9.5, color="#777777")
    lanes = tie_lanes(graph)
    counts_at = label_positions(lanes, pos)
    for lane in lanes:
        style = EDGE_STYLES[lane.type]
        start, end = _lane_points(lane, pos)
        arrow = FancyArrowPatch(
            tuple(start), tuple(end), arrowstyle="-|>" if lane.directed else "-", mutation_scale=13,
            shrinkA=12, shrinkB=14, color=style["color"], linewidth=style["width"] + 0.3, linestyle=style["style"], zorder=2,
        )
        arrow.set_gid(f"tie:{lane.source}->{lane.target}:{lane.type}")
        ax.add_patch(arrow)
        if show_counts:
            x, y = counts_at[lane]
            ax.text(x, y, str(lane.n_evidence), ha="center", va="center", fontsize=9.5, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor=style["color"], linewidth=1.1),
                    gid=f"count:{lane.source}->{lane.target}:{lane.type}")
    for u, v, key, data in graph.edges(keys=True, data=True):
        if u != v:
            continue
        style = EDGE_STYLES[key]
        cx, cy = pos[u][0] + LOOP_OFFSET[0], pos[u][1] + LOOP_OFFSET[1]
        loop = Circle((cx, cy), LOOP_RADIUS, fill=False, edgecolor=style["color"], linewidth=style["width"] + 0.3,
                      linestyle=style["style"], zorder=2)
        loop.set_gid(f"loop:{u}:{key}")
        ax.add_patch(loop)
        if show_counts:
            ax.text(cx + LOOP_RADIUS * 0.75, cy - LOOP_RADIUS * 0.75, str(len(data.get("evidence", []))), ha="center", va="center",
                    fontsize=9.5, zorder=4, gid=f"count:{u}->{v}:{key}",
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor=style["color"], linewidth=1.1))
    for node, data in graph.nodes(data=True):
        style = NODE_STYLES[data["type"]]
        x, y = pos[node]
        ax.scatter([x], [y], marker=style["marker"], s=style["size"] * 1.3, c=[style["color"]], edgecolors="#333333",
                   linewidths=1.0, zorder=3)
        dx, dy, ha = ROLE_LABEL_PLACE[node]
        ax.text(x + dx, y + dy, ROLE_NAMES[node], ha=ha, va="center", fontsize=10.5, zorder=5,
                bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none", alpha=0.85))
    ax.set_xlim(*X_LIMITS)
    ax.set_ylim(*Y_LIMITS)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def _legend_handles(graphs: Iterable[nx.MultiDiGraph]) -> list:
    count = Line2D([], [], linestyle="", marker="s", markersize=11, markerfacecolor="white", markeredgecolor="#555555",
                   label="n: coded passages behind the tie")
    return network_legend_handles(graphs, after_ties=[count])


def evidence_graphs_figure(
    graphs: Mapping[str, nx.MultiDiGraph],
    title: str = "Coordination graphs derived from coded evidence",
    *,
    panel_size: float = 5.2,
):
    """Role-level graphs side by side (:func:`draw_evidence_graph`), one legend below.

    ``graphs`` maps panel titles to graphs derived with :func:`~.builders.from_codings`.
    """
    viz.use_theme()
    n = len(graphs)
    fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size * 0.8 + 1.5), squeeze=False)
    for ax, (name, graph) in zip(axes[0], graphs.items()):
        draw_evidence_graph(graph, ax, title=name)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.legend(handles=_legend_handles(graphs.values()), loc="lower center", ncol=3, frameon=False, fontsize=9.5,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.15, 1, 0.97))
    return fig


# ------------------------------------------------------------------ every city's graph


@dataclass
class CityGraphs:
    """The graphs a corpus supports and, for every city, whether and why not.

    ``graphs`` maps city ids to valid graphs; ``status`` has one row per city asked
    for: ``city_id``, ``status`` (``built``, ``fails validation``, ``too thin``),
    ``n_segments`` (passages naming the city), ``n_coded_segments`` (of those, with a
    code attributed to the city), ``n_actors``, ``n_ties``, ``reason`` (empty when built).
    """

    graphs: dict[str, nx.MultiDiGraph] = field(default_factory=dict)
    status: pd.DataFrame = field(default_factory=pd.DataFrame)


def city_graphs(
    cities: Iterable[str],
    codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    min_actors: int = 3,
    **options,
) -> CityGraphs:
    """Derive every city's graph (:func:`~.builders.from_codings`) and sort the cities
    into those whose evidence supports a graph and those whose evidence does not.

    A city's graph is *built* when it passes :func:`~.model.validate`, has at least
    ``min_actors`` actors (Freeman centralization needs three: its maximum is 0 below)
    and a routing path from the hub reaches a resolver. Otherwise the city is listed
    with the reason: *fails validation* (every problem the validator names) or *too
    thin* (no coded passage, no code that implies a tie, too few actors, or no actor
    that resolves requests). ``options`` go to :func:`~.builders.from_codings`
    (``coders``, ``min_coders``).

    >>> segs = pd.DataFrame({"segment_id": ["S-1", "S-2", "S-3"], "cities": ["a", "a", "b"]})
    >>> cods = pd.DataFrame({"segment_id": ["S-1", "S-2", "S-3"], "coder": ["x"] * 3,
    ...     "code": ["mechanism.dispatch_binding", "leadership.top_leader_attention", "mechanism.dispatch_binding"]})
    >>> found = city_graphs(["a", "b"], ["mechanism.dispatch_binding", "leadership.top_leader_attention"], segs, cods)
    >>> found.status[["city_id", "status", "n_actors"]].values.tolist()
    [['a', 'built', 3], ['b', 'too thin', 2]]
    """
    if min_actors < 1:
        raise ValueError(f"min_actors must be at least 1, got {min_actors}")
    cities_of = segments["cities"].map(_city_set)
    coder_options = {k: v for k, v in options.items() if k in ("coders", "min_coders")}
    result = CityGraphs()
    rows = []
    for city in cities:
        in_city = segments.loc[cities_of.map(lambda s: city in s), "segment_id"].astype(str)
        # only the city's codings: from_codings checks every row it is given, row by row,
        # and the corpus loader has checked the whole table already
        own = codings[codings["segment_id"].astype(str).isin(set(in_city))]
        applied = builders.city_codes(city, codebook, segments, own, **coder_options)
        graph = builders.from_codings(city, codebook, segments, own, check=False, **options)
        found = problems(graph)
        n_actors, n_ties = graph.number_of_nodes(), graph.number_of_edges()
        reached = _reached_resolvers(graph)
        if found:
            status = "fails validation"
            reason = "; ".join(f"[{p.rule}] {p.element}: {p.message}" for p in found)
        elif applied.empty:
            status, reason = "too thin", "no passage naming the city carries a code attributed to it"
        elif n_ties == 0:
            status, reason = "too thin", f"none of its {applied['code'].nunique()} codes implies a tie"
        elif n_actors < min_actors:
            names = ", ".join(ROLE_SHORT.get(n, str(n)) for n in graph.nodes)
            status, reason = "too thin", f"only {n_actors} actors ({names}); centralization needs at least {min_actors}"
        elif not reached:
            status, reason = "too thin", "no actor that resolves requests is reached by a routing tie"
        else:
            status, reason = "built", ""
            result.graphs[city] = graph
        rows.append(
            {
                "city_id": city,
                "status": status,
                "n_segments": len(in_city),
                "n_coded_segments": applied["segment_id"].nunique(),
                "n_actors": n_actors,
                "n_ties": n_ties,
                "reason": reason,
            }
        )
    result.status = pd.DataFrame(rows, columns=["city_id", "status", "n_segments", "n_coded_segments", "n_actors", "n_ties", "reason"])
    return result


def _city_set(cell) -> set[str]:
    if cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)):
        return set()
    return {part.strip() for part in str(cell).split(";") if part.strip()}


def _reached_resolvers(graph: nx.MultiDiGraph) -> list[str]:
    hubs = [n for n, t in graph.nodes(data="type") if t == "hotline_centre"]
    if len(hubs) != 1:
        return []
    routing = nx.DiGraph()
    routing.add_nodes_from(graph.nodes)
    routing.add_edges_from((u, v) for u, v, t in graph.edges(keys=True) if t in ("dispatch", "referral") and u != v)
    reachable = nx.descendants(routing, hubs[0])
    return [n for n in resolvers(graph) if n in reachable]


# ------------------------------------------------------------------ archetype sweeps


def measure_sweep(
    builder: Callable[..., nx.MultiDiGraph],
    parameter: str,
    values: Sequence,
    *,
    sweep: str | None = None,
    **fixed,
) -> pd.DataFrame:
    """Structural measures (:func:`.measures.structure`) of ``builder(parameter=value, **fixed)``
    for each value: one row per (value, measure).

    Columns: ``sweep`` (default: the builder's name, its fixed options and the
    parameter), ``parameter``, ``parameter_value``, ``measure``, ``value``. Nothing is
    simulated: these are properties of the graphs the builders make.

    >>> from hotlines.networks.builders import horizontal
    >>> t = measure_sweep(horizontal, "n_agencies", [2, 4], liaisons=False)
    >>> t.query("measure == 'n_nodes'")["value"].tolist()
    [4.0, 6.0]
    """
    if not len(values):
        raise ValueError("measure_sweep needs at least one value")
    name = sweep or ", ".join([getattr(builder, "__name__", "builder"), *[f"{k}={v}" for k, v in fixed.items()], f"varying {parameter}"])
    frames = []
    for value in values:
        table = measures.structure(builder(**{parameter: value}, **fixed))
        frames.append(table.assign(sweep=name, parameter=parameter, parameter_value=float(value)))
    out = pd.concat(frames, ignore_index=True)
    return out[["sweep", "parameter", "parameter_value", "measure", "value"]]


#: How each measure is drawn in :func:`sweep_figure`: label, colour, line style, marker.
SWEEP_STYLES: dict[str, dict] = {
    "degree_centralization": dict(label="degree centralization", color=C["blue"], style="solid", marker="o", size=6, filled=True),
    "krackhardt_hierarchy": dict(label="Krackhardt hierarchy", color=C["vermillion"], style="dashed", marker="s", size=9, filled=False),
    "hub_dependence": dict(label="hub dependence", color=C["black"], style="dotted", marker="x", size=7, filled=True),
    "ei_index": dict(label="E–I index", color=C["bluish_green"], style="dashdot", marker="^", size=8, filled=False),
    "share_agencies_with_sla": dict(label="share of agencies with an SLA", color=C["orange"], style=(0, (5, 1.5, 1, 1.5, 1, 1.5)), marker="D", size=5, filled=True),
}


def sweep_figure(
    table: pd.DataFrame,
    measures_shown: Sequence[str] = tuple(SWEEP_STYLES),
    *,
    axis_labels: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    title: str = "How the structural measures of the archetypes respond",
):
    """One panel per sweep of :func:`measure_sweep` (in order of appearance), one line per
    measure; every measure shown lies between −1 and 1, so the panels share the y axis.

    ``axis_labels`` maps a sweep to its x-axis label (with units), ``titles`` to its
    panel title.
    """
    viz.use_theme()
    for column in ("sweep", "parameter", "parameter_value", "measure", "value"):
        if column not in table.columns:
            raise KeyError(f"sweep_figure: the sweep table has no column {column!r}")
    unknown = [m for m in measures_shown if m not in SWEEP_STYLES]
    if unknown:
        raise KeyError(f"sweep_figure: no style for measure(s) {unknown} (see SWEEP_STYLES)")
    axis_labels, titles = dict(axis_labels or {}), dict(titles or {})
    sweeps = list(dict.fromkeys(table["sweep"]))
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.3 * len(sweeps) + 0.4, 4.6), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], sweeps):
        part = table[table["sweep"] == name]
        for k, measure in enumerate(measures_shown):
            style = SWEEP_STYLES[measure]
            line = part[part["measure"] == measure].sort_values("parameter_value")
            # two measures with equal values must both stay visible: hollow, larger markers over small filled ones
            ax.plot(line["parameter_value"], line["value"], color=style["color"], linestyle=style["style"], linewidth=1.8,
                    marker=style["marker"], markersize=style["size"], markerfacecolor=style["color"] if style["filled"] else "none",
                    markeredgewidth=1.5, label=style["label"], gid=f"sweep:{name}:{measure}", zorder=3 + k)
        ax.axhline(0, color="#999999", linewidth=0.8, zorder=0)
        ticks = sorted(part["parameter_value"].unique())
        if len(ticks) <= 7:
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlabel(axis_labels.get(name, str(part["parameter"].iloc[0])))
        ax.set_title(titles.get(name, name), fontsize=11.5)
        ax.grid(color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
    axes[0][0].set_ylim(-1.08, 1.08)
    axes[0][0].set_ylabel("Value of the measure (unitless)")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    return fig


# ------------------------------------------------------------------ cities by mode

#: Colours and order of the coded modes (data/city_modes.csv, dimension "overall").
MODE_COLORS: dict[str, str] = {
    "vertical": C["blue"],
    "mixed": C["bluish_green"],
    "horizontal": C["orange"],
    "insufficient evidence": "#888888",
}
MODE_MARKERS = {"vertical": "o", "mixed": "D", "horizontal": "s", "insufficient evidence": "^"}

#: Axis labels (with their range) of the measures in :func:`city_measures_figure`.
CITY_MEASURE_LABELS: dict[str, str] = {
    "escalation_depth": "Escalation depth\n(longest chain, in ties)",
    "krackhardt_hierarchy": "Krackhardt hierarchy\n(0 to 1)",
    "ei_index": "E–I index\n(−1 same tier, +1 across tiers)",
    "hub_dependence": "Hub dependence\n(share of connected pairs)",
    "degree_centralization": "Degree centralization\n(0 to 1)",
}


def _mode_order(frame: pd.DataFrame, mode_column: str, name_column: str) -> pd.DataFrame:
    rank = {m: i for i, m in enumerate(MODE_COLORS)}
    return frame.assign(_rank=frame[mode_column].map(lambda m: rank.get(m, len(rank)))).sort_values(
        ["_rank", name_column], kind="stable").drop(columns="_rank")


def city_measures_figure(
    wide: pd.DataFrame,
    modes: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    measures_shown: Sequence[str] = ("escalation_depth", "krackhardt_hierarchy", "ei_index", "hub_dependence"),
    *,
    title: str = "Structure of each city's graph, by its coded mode",
):
    """A dot plot: one row per city (grouped by coded mode), one panel per measure.

    ``wide`` is :func:`.measures.structure_table` with ``wide=True`` (measures by city
    columns); ``modes`` maps city ids to their coded mode; ``names`` to display names.
    """
    viz.use_theme()
    names = dict(names or {})
    frame = wide.T.reset_index().rename(columns={"graph": "city_id", "index": "city_id"})
    frame["mode"] = frame["city_id"].map(lambda c: modes.get(c, "insufficient evidence"))
    frame["name"] = frame["city_id"].map(lambda c: names.get(c, c))
    frame = _mode_order(frame, "mode", "name").reset_index(drop=True)
    y = np.arange(len(frame))[::-1]
    fig, axes = plt.subplots(1, len(measures_shown), figsize=(2.5 * len(measures_shown) + 1.6, 0.34 * len(frame) + 2.2),
                             sharey=True, squeeze=False)
    for ax, measure in zip(axes[0], measures_shown):
        values = frame[measure].astype(float).to_numpy()
        for mode, color in MODE_COLORS.items():
            mask = (frame["mode"] == mode).to_numpy()
            if mask.any():
                ax.plot(values[mask], y[mask], linestyle="", marker=MODE_MARKERS[mode], color=color, markersize=8,
                        markeredgecolor="#333333", markeredgewidth=0.6, label=mode, gid=f"cities:{measure}:{mode}")
        low, high = (-1.0, 1.0) if measure == "ei_index" else (0.0, max(1.0, float(np.nanmax(values))) if len(values) else 1.0)
        pad = 0.08 * (high - low)
        ax.set_xlim(low - pad, high + pad)
        if measure == "escalation_depth":
            ax.set_xticks(range(int(high) + 1))
        ax.set_xlabel(CITY_MEASURE_LABELS.get(measure, measure))
        ax.grid(color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
        # thin lines between the mode groups
        for k in range(1, len(frame)):
            if frame.loc[k, "mode"] != frame.loc[k - 1, "mode"]:
                ax.axhline(y[k] + 0.5, color="#999999", linewidth=0.8)
    axes[0][0].set_yticks(y, frame["name"])
    axes[0][0].set_ylim(-0.7, len(frame) - 0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    ordered = [m for m in MODE_COLORS if m in seen]
    fig.legend([seen[m] for m in ordered], [f"coded mode: {m}" for m in ordered], loc="lower center",
               ncol=len(ordered), frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


# ------------------------------------------------------------------ display tables


def _number(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    return f"{float(value):.{digits}f}"


def rules_display(rules: pd.DataFrame, codebook=None) -> pd.DataFrame:
    """:func:`~.builders.evidence_rules` for a reader: one row per code, in codebook order
    when ``codebook`` (a :class:`~hotlines.coding.codebook.Codebook`) is given.

    Columns: ``dimension``, ``code`` (its label from the codebook, else its id),
    ``ties implied`` (``source → target (type)``; ``↔`` for a pair of rules both ways;
    ``†`` marks a rule that applies only when the city's evidence establishes
    lower-level governments; "none" for a code that implies no tie) and ``why``.
    """
    labels, order = {}, list(dict.fromkeys(rules["code"]))
    if codebook is not None:
        labels = {cid: code.label for cid, code in codebook.codes.items()}
        order = [c for c in codebook.codes if c in set(rules["code"])] + [c for c in order if c not in codebook.codes]
    rows = []
    for code in order:
        part = rules[rules["code"] == code]
        ties = part[part["type"].astype(str) != ""]
        implied, whys, done = [], [], set()
        for r in ties.itertuples(index=False):
            if (r.source, r.target, r.type) in done:
                continue
            both = ((ties["source"] == r.target) & (ties["target"] == r.source) & (ties["type"] == r.type)).any() and r.source != r.target
            arrow = "↔" if both else "→"
            mark = "†" if r.condition else ""
            if r.source == r.target:
                implied.append(f"among {ROLE_SHORT.get(r.source, r.source)}{mark} ({TYPE_WORDS.get(r.type, r.type)})")
            else:
                implied.append(f"{ROLE_SHORT.get(r.source, r.source)} {arrow} {ROLE_SHORT.get(r.target, r.target)}{mark} ({TYPE_WORDS.get(r.type, r.type)})")
            done |= {(r.source, r.target, r.type), (r.target, r.source, r.type)} if both else {(r.source, r.target, r.type)}
            if r.why and r.why not in whys:
                whys.append(r.why)
        if ties.empty:
            whys = [w for w in part["why"] if w]
        rows.append(
            {
                "dimension": code.split(".", 1)[0],
                "code": labels.get(code, code),
                "ties implied": "; ".join(implied) if implied else "none",
                "why": "; ".join(whys),
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "code", "ties implied", "why"])


def tie_evidence_display(graphs: Mapping[str, nx.MultiDiGraph]) -> pd.DataFrame:
    """Every tie of the graphs (as drawn by :func:`tie_lanes`, plus ties among a role's
    members) with the number of coded passages behind it in each graph; "—" where a
    graph has no such tie. Columns: ``tie``, ``type``, then one per graph."""
    order = {t: i for i, t in enumerate(EDGE_STYLES)}
    rank = {r: i for i, r in enumerate(ROLE_POSITIONS)}
    found: dict[tuple, dict[str, int]] = {}
    for name, graph in graphs.items():
        for lane in tie_lanes(graph):
            a, b = (lane.source, lane.target) if lane.directed else tuple(sorted((lane.source, lane.target), key=lambda r: rank.get(r, 99)))
            key = (a, b, lane.type, lane.directed)
            found.setdefault(key, {})[name] = lane.n_evidence
        for u, v, kind, data in graph.edges(keys=True, data=True):
            if u == v:
                found.setdefault((u, u, kind, False), {})[name] = len(data.get("evidence", []))
    rows = []
    for (a, b, kind, directed), counts in sorted(found.items(), key=lambda kv: (order.get(kv[0][2], 99), rank.get(kv[0][0], 99), rank.get(kv[0][1], 99))):
        if a == b:
            tie = f"among {ROLE_SHORT.get(a, a)}"
        else:
            tie = f"{ROLE_SHORT.get(a, a)} {'→' if directed else '↔'} {ROLE_SHORT.get(b, b)}"
        rows.append({"tie": tie, "type": TYPE_WORDS.get(kind, kind), **{name: str(counts[name]) if name in counts else "—" for name in graphs}})
    return pd.DataFrame(rows, columns=["tie", "type", *graphs])


#: What each measure of :data:`.measures.MEASURES` says, in a sentence, and where its
#: formula comes from (a bibliography key, or the module that defines it: shown as "package").
MEASURE_MEANINGS: dict[str, tuple[str, str, str]] = {
    "n_nodes": ("actors", "Actors in the graph: roles, for a graph derived from coded evidence.", ""),
    "n_ties": ("typed ties", "Ties counted by type: one pair of actors may carry several.", ""),
    "degree_centralization": ("degree centralization", "How far the best-connected actor outdoes all others: 1 for a star, 0 when all are alike.", "freeman1979centrality"),
    "betweenness_centralization": ("betweenness centralization", "How far one actor lies on more shortest paths between others than the rest do.", "freeman1979centrality"),
    "closeness_centralization": ("closeness centralization", "How far one actor is closer to everyone than the others are.", "freeman1979centrality"),
    "krackhardt_hierarchy": ("Krackhardt hierarchy", "Share of connected pairs connected one way only (routing, escalation, supervision and contract ties): 1 for a top-down tree, 0 when all reach each other back.", "krackhardt1994graph"),
    "flow_hierarchy": ("flow hierarchy", "Share of the same ties that lie on no cycle.", "luo2011detecting"),
    "ei_index": ("E–I index", "Cross-tier minus same-tier ties, over all ties: +1 when every tie is vertical, −1 when every tie is horizontal.", "krackhardt1988informal"),
    "escalation_depth": ("escalation depth", "Longest chain of escalation ties.", "networks.measures"),
    "mean_intake_path_length": ("mean intake path", "Mean number of routing ties from the hub to a resolver.", "networks.measures"),
    "share_resolvers_reachable": ("resolvers reached", "Share of resolvers a routing path from the hub reaches (1 in a valid graph).", "networks.measures"),
    "hub_betweenness": ("hub betweenness", "Share of shortest paths between other actors that pass through the hub.", "networks.measures"),
    "hub_dependence": ("hub dependence", "Share of connected pairs of other actors that lose every path when the hub is removed.", "networks.measures"),
    "share_agencies_with_sla": ("agencies with a service-level contract", "Share of agency nodes holding a service-level contract with the hub.", "networks.measures"),
}

INTEGER_MEASURES = ("n_nodes", "n_ties", "escalation_depth")


def _reference(source: str) -> str:
    if not source:
        return ""
    if "." in source:
        return "package"
    return f"{{cite:t}}`{source}`"


def measures_display(wide: pd.DataFrame, *, meanings: bool = True) -> pd.DataFrame:
    """:func:`.measures.structure_table` (``wide=True``) for a reader: the measure in words,
    one column per graph (integers for counts, two decimals otherwise, "—" when
    undefined) and, with ``meanings``, what the measure says and where its formula
    comes from (a citation, or "package" for the measures :mod:`.measures` defines)."""
    rows = []
    for measure in wide.index:
        label, meaning, source = MEASURE_MEANINGS.get(measure, (measure, "", ""))
        row = {"measure": label}
        for graph in wide.columns:
            value = wide.loc[measure, graph]
            row[str(graph)] = _number(value, 0) if measure in INTEGER_MEASURES else _number(value)
        if meanings:
            row["what it says"] = meaning
            row["formula"] = _reference(source)
        rows.append(row)
    return pd.DataFrame(rows)


def city_measures_display(
    wide: pd.DataFrame,
    modes: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    measures_shown: Sequence[str] = ("krackhardt_hierarchy", "ei_index", "escalation_depth", "hub_dependence"),
) -> pd.DataFrame:
    """One row per city graph (columns of ``wide``), grouped by coded mode: city, mode,
    actors / ties, and the chosen measures, rounded."""
    names = dict(names or {})
    rows = []
    for city in wide.columns:
        row = {
            "city": names.get(city, city),
            "coded mode": modes.get(city, "insufficient evidence"),
            "actors / ties": f"{int(wide.loc['n_nodes', city])} / {int(wide.loc['n_ties', city])}",
        }
        for measure in measures_shown:
            value = wide.loc[measure, city]
            row[MEASURE_MEANINGS[measure][0]] = _number(value, 0) if measure in INTEGER_MEASURES else _number(value)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return _mode_order(frame, "coded mode", "city").reset_index(drop=True)


def city_status_display(status: pd.DataFrame, modes: Mapping[str, str], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cities of a :class:`CityGraphs` whose evidence supports no graph, with the reason."""
    names = dict(names or {})
    failed = status[status["status"] != "built"]
    return pd.DataFrame(
        {
            "city": failed["city_id"].map(lambda c: names.get(c, c)),
            "coded mode": failed["city_id"].map(lambda c: modes.get(c, "insufficient evidence")),
            "passages (coded)": [f"{a} ({b})" for a, b in zip(failed["n_segments"], failed["n_coded_segments"])],
            "status": failed["status"],
            "reason": failed["reason"],
        }
    ).reset_index(drop=True)


def node_types_display() -> pd.DataFrame:
    """The actor types of the model (:data:`.model.NODE_TYPES`): what each is, the tiers
    it may sit at, and whether it resolves requests unless told otherwise."""
    from .model import ALLOWED_TIERS, NODE_TYPES, RESOLVES_BY_DEFAULT

    return pd.DataFrame(
        {
            "actor type": [t.replace("_", " ") for t in NODE_TYPES],
            "what it is": list(NODE_TYPES.values()),
            "tiers": [", ".join(ALLOWED_TIERS[t]) for t in NODE_TYPES],
            "resolves requests": ["yes" if RESOLVES_BY_DEFAULT[t] else "no" for t in NODE_TYPES],
        }
    )


def edge_types_display() -> pd.DataFrame:
    """The tie types of the model (:data:`.model.EDGE_TYPES`): what a tie from u to v
    means, whether it routes requests, and whether the model forbids its cycles."""
    from .model import ACYCLIC_TYPES, EDGE_TYPES, ROUTING_TYPES, SELF_LOOP_TYPES

    return pd.DataFrame(
        {
            "tie type": [TYPE_WORDS[t] for t in EDGE_TYPES],
            "a tie from u to v means": list(EDGE_TYPES.values()),
            "routes requests": ["yes" if t in ROUTING_TYPES else "no" for t in EDGE_TYPES],
            "cycles": ["forbidden" if t in ACYCLIC_TYPES else "allowed" for t in EDGE_TYPES],
            "among a role's members": ["allowed" if t in SELF_LOOP_TYPES else "no" for t in EDGE_TYPES],
        }
    )


def intake_paths_display(graphs: Mapping[str, nx.MultiDiGraph]) -> pd.DataFrame:
    """:func:`.measures.intake_paths` of several graphs, one row per resolver: graph,
    resolver (role name), tier, shortest routing path from the hub (ties) and the number
    of routing paths (all simple paths, and the shortest ones)."""
    rows = []
    for name, graph in graphs.items():
        for r in measures.intake_paths(graph).itertuples(index=False):
            rows.append(
                {
                    "graph": name,
                    "resolver": ROLE_NAMES.get(r.resolver, str(r.resolver)),
                    "tier": r.tier,
                    "shortest path (ties)": "unreachable" if not r.reachable else str(int(r.shortest_length)),
                    "routing paths (shortest)": f"{r.n_paths} ({r.n_shortest_paths})",
                }
            )
    return pd.DataFrame(rows, columns=["graph", "resolver", "tier", "shortest path (ties)", "routing paths (shortest)"])
