"""Figures and display tables of the coordination-network chapters, in the book's theme.

Each figure function takes a graph or the tidy table an analysis function returns and
gives back a matplotlib Figure (:mod:`hotlines.viz` theme, Okabe–Ito colours); each
display function turns an analysis table into the short, rounded table a chapter shows.
Nothing here computes a result: the numbers come from :mod:`.simulate`,
:mod:`.experiments` and :mod:`hotlines.requests.survival`.

- :func:`tier_layout`, :func:`draw_graph`, :func:`graphs_figure`: coordination graphs
  with tiers top to bottom, tie types by colour *and* line style, node types by marker;
- :func:`resolution_curves_figure`: Kaplan–Meier curves of (simulated) resolution time;
- :func:`scenario_figure`, :func:`measure_sweep_figure`: counterfactuals and sweeps;
- :func:`parameter_provenance`: every simulation parameter with its value, unit and
  whether a source states it or the model assumes it.

>>> from hotlines.networks.builders import vertical
>>> pos = tier_layout(vertical(2, 2, 2))
>>> pos["leadership"][1] > pos["hub"][1] > pos["agency_01"][1] > pos["district_01"][1] > pos["grassroots_01_01"][1]
True
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .. import viz

C = viz.OKABE_ITO

#: How each tie type is drawn: colour, line style, width, curvature (so that ties of
#: several types between one pair stay apart), arrowheads, and the legend text.
EDGE_STYLES: dict[str, dict] = {
    "dispatch": dict(color=C["blue"], style="solid", width=1.7, rad=0.0, arrows=True, label="dispatch (routes requests)"),
    "referral": dict(color=C["bluish_green"], style="solid", width=1.7, rad=0.08, arrows=True, label="referral (routes requests)"),
    "escalation": dict(color=C["vermillion"], style="dashed", width=1.9, rad=0.22, arrows=True, label="escalation / report-in"),
    "supervision": dict(color=C["black"], style="dotted", width=1.4, rad=0.14, arrows=True, label="supervision, evaluation"),
    "service_level_contract": dict(color=C["orange"], style="dashdot", width=1.7, rad=-0.14, arrows=True, label="service-level contract"),
    "information_sharing": dict(color=C["sky_blue"], style="solid", width=0.9, rad=-0.28, arrows=False, label="information sharing (both ways)"),
}

#: How each actor type is drawn: marker, fill colour, size (points^2) and legend text.
NODE_STYLES: dict[str, dict] = {
    "leadership": dict(marker="s", color=C["reddish_purple"], size=300, label="leadership"),
    "hotline_centre": dict(marker="D", color=C["yellow"], size=300, label="hotline centre (hub)"),
    "agency": dict(marker="o", color=C["sky_blue"], size=240, label="agency"),
    "agency_liaison": dict(marker="^", color="#FFFFFF", size=200, label="agency liaison"),
    "district_government": dict(marker="h", color=C["bluish_green"], size=300, label="district government"),
    "grassroots_unit": dict(marker="o", color="#DDDDDD", size=130, label="grassroots unit"),
    "external_partner": dict(marker="v", color="#FFFFFF", size=200, label="external partner"),
}

#: The height of each row of actors. Government tiers run top to bottom (municipal,
#: district, grassroots); inside the municipal tier, leadership above the hub above
#: liaisons above agencies, so that routing runs downwards.
ROW_HEIGHT: dict[tuple[str, str], float] = {
    ("municipal", "leadership"): 6.3,
    ("municipal", "hotline_centre"): 5.0,
    ("municipal", "agency_liaison"): 4.0,
    ("municipal", "agency"): 3.1,
    ("district", "leadership"): 1.6,
    ("district", "hotline_centre"): 1.6,
    ("district", "agency_liaison"): 1.6,
    ("district", "agency"): 1.6,
    ("district", "district_government"): 1.6,
    ("grassroots", "grassroots_unit"): 0.0,
    ("external", "external_partner"): -1.6,
}

#: Horizontal bands behind the rows: tier, lower and upper edge.
TIER_BANDS: tuple[tuple[str, float, float], ...] = (
    ("municipal", 2.55, 6.85),
    ("district", 0.95, 2.25),
    ("grassroots", -0.65, 0.65),
    ("external", -2.25, -0.95),
)

#: Short node labels by type (a prefix and the node's number).
SHORT_LABEL = {"agency": "A", "district_government": "D", "external_partner": "X"}


def _short_label(node, data: Mapping) -> str:
    kind = data.get("type")
    if kind in ("leadership", "hotline_centre", "grassroots_unit", "agency_liaison"):
        return ""
    digits = "".join(ch for ch in str(node).rsplit("_", 1)[-1] if ch.isdigit())
    prefix = SHORT_LABEL.get(kind, "")
    if data.get("collective"):
        return prefix + "*"
    return f"{prefix}{int(digits)}" if digits else prefix


def _parent(graph: nx.MultiDiGraph, node) -> str | None:
    """The district a grassroots unit belongs to: the district that dispatches to or supervises it."""
    for u, _, key in graph.in_edges(node, keys=True):
        if key in ("dispatch", "supervision") and graph.nodes[u].get("type") == "district_government":
            return u
    return None


def tier_layout(graph: nx.MultiDiGraph, width: float | None = None) -> dict:
    """Positions ``{node: (x, y)}``: tiers top to bottom, actors of a row spread evenly.

    Rows follow :data:`ROW_HEIGHT`. Grassroots units are ordered by their district and
    each district sits above the middle of its units. Every row spans the same width
    (``width``; default the length of the longest row), so that short rows do not
    bunch in the middle.

    >>> from hotlines.networks.builders import horizontal
    >>> pos = tier_layout(horizontal(3, liaisons=False))
    >>> sorted(round(pos[a][0], 2) for a in ("agency_01", "agency_02", "agency_03"))
    [-1.0, 0.0, 1.0]
    """
    rows: dict[float, list] = {}
    for node, data in graph.nodes(data=True):
        key = (data.get("tier"), data.get("type"))
        if key not in ROW_HEIGHT:
            raise ValueError(f"node {node!r}: no row for type {key[1]!r} at tier {key[0]!r} (see ROW_HEIGHT)")
        rows.setdefault(ROW_HEIGHT[key], []).append(node)
    longest = max(len(nodes) for nodes in rows.values())
    span = float(width) if width is not None else max(longest - 1, 1)
    pos: dict = {}
    districts = [n for n, t in graph.nodes(data="type") if t == "district_government"]
    grassroots = [n for n, t in graph.nodes(data="type") if t == "grassroots_unit"]
    order = {d: i for i, d in enumerate(districts)}
    grassroots_sorted = sorted(grassroots, key=lambda n: (order.get(_parent(graph, n), len(order)), grassroots.index(n)))
    for y, nodes in rows.items():
        if nodes and graph.nodes[nodes[0]].get("type") == "grassroots_unit":
            nodes = grassroots_sorted
        k = len(nodes)
        xs = [0.0] if k == 1 else list(np.linspace(-span / 2, span / 2, k))
        for node, x in zip(nodes, xs):
            pos[node] = (float(x), y)
    # a lone leadership actor sits left of the hub, so that ties escalating to it do not
    # pass through the hub below it
    leaders = rows.get(ROW_HEIGHT[("municipal", "leadership")], [])
    if len(leaders) == 1:
        pos[leaders[0]] = (-span / 4, pos[leaders[0]][1])
    # districts above the middle of their grassroots units, when they have any
    children: dict[str, list[float]] = {}
    for unit in grassroots:
        parent = _parent(graph, unit)
        if parent is not None:
            children.setdefault(parent, []).append(pos[unit][0])
    for district, xs in children.items():
        pos[district] = (float(np.mean(xs)), pos[district][1])
    return pos


def draw_graph(
    graph: nx.MultiDiGraph,
    ax=None,
    *,
    title: str | None = None,
    types: Iterable[str] | None = None,
    bands: Sequence[str] = ("municipal", "district", "grassroots"),
    width: float | None = None,
):
    """Draw a coordination graph on ``ax``: tier bands, typed ties, typed actors, short labels.

    Ties of ``types`` (default: every type) are drawn in the style of
    :data:`EDGE_STYLES`; information sharing, which runs both ways in the archetypes,
    is drawn once per pair without arrowheads. Dotted and dashed ties get solid
    arrowheads, drawn as separate patches with gid ``"arrowhead"``. Empty tier bands are labelled "no
    actors", which is the point for a graph without lower levels. Returns ``ax``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    wanted = list(EDGE_STYLES) if types is None else [t for t in EDGE_STYLES if t in set(types)]
    pos = tier_layout(graph, width)
    xs = [x for x, _ in pos.values()]
    left, right = min(xs) - 0.9, max(xs) + 0.6
    present_tiers = {data.get("tier") for _, data in graph.nodes(data=True)}
    shown = list(bands) + (["external"] if "external" in present_tiers and "external" not in bands else [])
    for tier, low, high in TIER_BANDS:
        if tier not in shown:
            continue
        ax.axhspan(low, high, color="#F4F4F4", zorder=0, linewidth=0)
        ax.text(left - 0.15, (low + high) / 2, tier, rotation=90, ha="right", va="center", fontsize=10.5, style="italic", color="#444444")
        if tier not in present_tiers:
            ax.text((left + right) / 2, (low + high) / 2, "no actors at this level", ha="center", va="center", fontsize=10, color="#777777")
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.nodes)
    for kind in wanted:
        style = EDGE_STYLES[kind]
        edges = []
        for u, v, key in graph.edges(keys=True):
            if key != kind or u == v:
                continue
            if not style["arrows"] and (v, u) in edges:
                continue
            edges.append((u, v))
        if not edges:
            continue
        common = dict(edgelist=edges, ax=ax, edge_color=style["color"], arrows=True, arrowsize=11,
                      connectionstyle=f"arc3,rad={style['rad']}", node_size=300, min_source_margin=7, min_target_margin=9)
        broken = style["style"] != "solid"
        nx.draw_networkx_edges(simple, pos, style=style["style"], width=style["width"],
                               arrowstyle="-|>" if style["arrows"] and not broken else "-", **common)
        if style["arrows"] and broken:
            # a dotted or dashed arrowhead is a smudge: draw the heads again, solid, on an invisible line
            heads = nx.draw_networkx_edges(simple, pos, style="solid", width=0.01, arrowstyle="-|>", **common)
            for head in heads:
                head.set_gid("arrowhead")
    for kind, style in NODE_STYLES.items():
        nodes = [n for n, t in graph.nodes(data="type") if t == kind]
        if nodes:
            nx.draw_networkx_nodes(graph, pos, nodelist=nodes, ax=ax, node_shape=style["marker"], node_color=style["color"],
                                   node_size=style["size"], edgecolors="#333333", linewidths=0.9)
    labels = {n: _short_label(n, d) for n, d in graph.nodes(data=True)}
    labels = {n: text for n, text in labels.items() if text}
    nx.draw_networkx_labels(graph, pos, labels=labels, ax=ax, font_size=9)
    # the two single actors at the top are named beside their marker, where there is room
    for node, data in graph.nodes(data=True):
        if data.get("type") in ("leadership", "hotline_centre"):
            x, y = pos[node]
            ax.annotate(NODE_STYLES[data["type"]]["label"], (x, y), xytext=(13, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=10, bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    ax.set_xlim(left - 0.25, right)
    low = min(lo for tier, lo, _ in TIER_BANDS if tier in shown)
    ax.set_ylim(low - 0.05, 6.9)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def legend_handles(graphs: Iterable[nx.MultiDiGraph], columns: int | None = None, after_ties: Iterable = ()) -> list:
    """Legend entries for the tie and actor types present (``after_ties``: more entries
    between the two). With ``columns`` = 2, blank entries pad the ties to the first
    column and the actors to the second (matplotlib fills legends column by column)."""
    graphs = list(graphs)
    edge_kinds = {key for g in graphs for *_, key in g.edges(keys=True)}
    node_kinds = {t for g in graphs for _, t in g.nodes(data="type")}
    handles = [
        Line2D([], [], color=s["color"], linestyle=s["style"], linewidth=max(s["width"], 1.4) + 0.4, label=s["label"])
        for kind, s in EDGE_STYLES.items() if kind in edge_kinds
    ] + list(after_ties)
    nodes = [
        Line2D([], [], linestyle="", marker=s["marker"], markersize=math.sqrt(s["size"]) * 0.62, markerfacecolor=s["color"],
               markeredgecolor="#333333", label=s["label"])
        for kind, s in NODE_STYLES.items() if kind in node_kinds
    ]
    if columns == 2:
        rows = max(len(handles), len(nodes))
        blank = lambda: Line2D([], [], linestyle="", label=" ")  # noqa: E731
        return handles + [blank() for _ in range(rows - len(handles))] + nodes + [blank() for _ in range(rows - len(nodes))]
    return handles + nodes


def graphs_figure(graphs: Mapping[str, nx.MultiDiGraph], title: str = "Coordination graphs", *, panel_width: float = 3.9):
    """Several coordination graphs side by side, on the same tier bands, with one legend below.

    ``graphs`` maps panel titles to graphs. Rows are stretched to a common width so the
    panels compare.
    """
    viz.use_theme()
    n = len(graphs)
    fig, axes = plt.subplots(1, n, figsize=(panel_width * n, 6.2), squeeze=False)
    span = max(max(len(nodes) for nodes in _rows(g).values()) - 1 for g in graphs.values())
    for ax, (name, graph) in zip(axes[0], graphs.items()):
        draw_graph(graph, ax, title=name, width=span)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.legend(handles=legend_handles(graphs.values(), columns=2), loc="lower center", ncol=2, frameon=False, fontsize=10,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.22, 1, 0.97))
    return fig


def _rows(graph: nx.MultiDiGraph) -> dict[float, list]:
    rows: dict[float, list] = {}
    for node, data in graph.nodes(data=True):
        rows.setdefault(ROW_HEIGHT.get((data.get("tier"), data.get("type")), 0.0), []).append(node)
    return rows


# ------------------------------------------------------------------ resolution time


#: Kaplan–Meier tables longer than this are drawn at a resolution of :data:`STEP_RESOLUTION`.
MAX_STEPS = 2000
STEP_RESOLUTION = 0.001


def _thin_steps(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of a long Kaplan–Meier table where the curve (rounded to
    :data:`STEP_RESOLUTION`) moves, plus the first and last: tens of thousands of steps
    otherwise make a figure file of megabytes with no visible difference."""
    if len(part) <= MAX_STEPS:
        return part
    rounded = (part["survival"] / STEP_RESOLUTION).round()
    keep = rounded.ne(rounded.shift())
    keep.iloc[[0, -1]] = True
    return part[keep.to_numpy()]


def resolution_curves_figure(
    km: pd.DataFrame,
    group: str = "city",
    panel: str = "complex",
    *,
    labels: Mapping | None = None,
    panel_titles: Mapping | None = None,
    max_days: float | None = None,
    title: str = "SIMULATED resolution times",
):
    """Kaplan–Meier curves, one panel per value of ``panel``, one colour and line style per value of ``group``.

    ``km`` is :func:`hotlines.requests.survival.kaplan_meier` with ``by=[group, panel]``
    (columns ``time_days``, ``survival``, ``ci_low``, ``ci_high``). The y axis is the
    share of requests still open; a dotted line marks one half, where a curve crosses
    it is the median. Curves of more than :data:`MAX_STEPS` steps are drawn where they
    move by :data:`STEP_RESOLUTION` (a share of 0.001), which no eye can tell from the full
    curve. Groups named in ``labels`` come first, in its order (their colours
    are :data:`hotlines.viz.PALETTE` in that order). ``max_days`` defaults to the first time by which every curve has
    fallen to 1%, rounded up.
    """
    viz.use_theme()
    for column in (group, panel, "time_days", "survival", "ci_low", "ci_high"):
        if column not in km.columns:
            raise KeyError(f"resolution_curves_figure: the Kaplan–Meier table has no column {column!r}")
    labels = dict(labels or {})
    panel_titles = dict(panel_titles or {})
    present = list(dict.fromkeys(km[group]))
    # groups named in ``labels`` come first, in its order, so a chapter fixes colours by naming them
    groups = [g for g in labels if g in present] + [g for g in present if g not in labels]
    panels = list(dict.fromkeys(km[panel]))
    if max_days is None:
        ends = []
        for _, part in km.groupby([group, panel], observed=True, sort=False):
            low = part.loc[part["survival"] <= 0.01, "time_days"]
            ends.append(low.min() if len(low) else part["time_days"].max())
        max_days = float(math.ceil(max(ends)))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 0.6, 4.0), sharey=True, squeeze=False)
    for ax, value in zip(axes[0], panels):
        for k, name in enumerate(groups):
            part = _thin_steps(km[(km[group] == name) & (km[panel] == value)].sort_values("time_days"))
            if part.empty:
                continue
            color = viz.PALETTE[k % len(viz.PALETTE)]
            ax.fill_between(part["time_days"], part["ci_low"], part["ci_high"], step="post", color=color, alpha=0.25, linewidth=0)
            ax.step(part["time_days"], part["survival"], where="post", color=color, linewidth=2.0,
                    linestyle=("solid", "dashed", "dashdot", "dotted")[k % 4], label=str(labels.get(name, name)))
        ax.axhline(0.5, color="#777777", linewidth=0.9, linestyle=":")
        ax.set_xlim(0, max_days)
        ax.set_ylim(0, 1.02)
        ax.set_title(str(panel_titles.get(value, f"{panel} = {value}")), fontsize=12)
        ax.set_xlabel("Days since the request was created")
        ax.grid(color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
    axes[0][0].set_ylabel("Share of requests still open\n(Kaplan–Meier, 95% band)")
    axes[0][0].text(max_days * 0.98, 0.515, "half closed", ha="right", va="bottom", fontsize=9, color="#555555")
    axes[0][-1].legend(loc="upper right", frameon=False)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ counterfactuals and sweeps


def scenario_figure(
    table: pd.DataFrame,
    *,
    title: str = "SIMULATED median resolution time under counterfactual structures",
    base_colors: Mapping[str, str] | None = None,
):
    """Median resolution time of simple and complex requests per scenario, one row each.

    ``table`` is :func:`hotlines.networks.experiments.run_scenarios` (columns
    ``scenario``, ``base``, ``median_days_simple``, ``median_days_complex``). The
    colour is the archetype a scenario starts from; a filled circle is the complex
    requests' median, an open square the simple requests'; a thin vertical line marks
    each archetype's own complex median, for reference.
    """
    viz.use_theme()
    for column in ("scenario", "base", "median_days_simple", "median_days_complex"):
        if column not in table.columns:
            raise KeyError(f"scenario_figure: the scenario table has no column {column!r}")
    colors = dict(base_colors or {"vertical": C["blue"], "horizontal": C["orange"]})
    rows = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8.0, 0.48 * len(rows) + 1.9))
    y = np.arange(len(rows))[::-1]
    for base, color in colors.items():
        own = rows[rows["scenario"] == base]
        if len(own):
            ax.axvline(float(own["median_days_complex"].iloc[0]), color=color, linewidth=1.0, alpha=0.6, zorder=0)
    for i, row in rows.iterrows():
        color = colors.get(row["base"], C["black"])
        ax.plot([row["median_days_simple"], row["median_days_complex"]], [y[i], y[i]], color=color, linewidth=1.2, alpha=0.6)
        ax.plot(row["median_days_simple"], y[i], "s", markerfacecolor="white", markeredgecolor=color, markersize=8, markeredgewidth=1.8)
        ax.plot(row["median_days_complex"], y[i], "o", color=color, markersize=9)
    ax.set_yticks(y, rows["scenario"])
    for tick, scenario in zip(ax.get_yticklabels(), rows["scenario"]):
        if scenario in colors:
            tick.set_fontweight("bold")
    ax.set_xlim(0, None)
    ax.set_xlabel("Median resolution time (days, Kaplan–Meier, simulated)")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="o", linestyle="", color="#444444", markersize=9, label="complex requests"),
               Line2D([], [], marker="s", linestyle="", markerfacecolor="white", markeredgecolor="#444444", markeredgewidth=1.8,
                      markersize=8, label="simple requests")]
    handles += [Line2D([], [], color=color, linewidth=6, label=f"starts from the {base} archetype") for base, color in colors.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.4, -0.14), ncol=2, frameon=False)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout()
    return fig


#: Axis labels of the structural measures.
MEASURE_LABELS = {
    "degree_centralization": "Degree centralization (0–1)",
    "betweenness_centralization": "Betweenness centralization (0–1)",
    "krackhardt_hierarchy": "Krackhardt hierarchy (0–1)",
    "ei_index": "E–I index\n(−1 same tier, +1 across tiers)",
    "escalation_depth": "Escalation depth\n(longest chain, in ties)",
    "hub_dependence": "Hub dependence\n(share of connected pairs)",
    "share_agencies_with_sla": "Share of agencies with an SLA",
}


def measure_sweep_figure(
    table: pd.DataFrame,
    measures: Sequence[str] = ("escalation_depth", "hub_dependence", "ei_index"),
    outcome: str = "median_days_complex",
    *,
    hue: str = "base",
    colors: Mapping[str, str] | None = None,
    hue_labels: Mapping[str, str] | None = None,
    outcome_label: str = "Median resolution time,\ncomplex requests (days)",
    title: str = "SIMULATED: structural measures against resolution time",
):
    """One panel per structural measure: each row of ``table`` (a sweep point or a
    scenario) as a dot at (measure, ``outcome``), coloured by ``hue``.

    ``table`` has the columns of :func:`hotlines.networks.experiments.sweep` or
    :func:`~hotlines.networks.experiments.run_scenarios`. Dots with equal values are
    spread sideways a little (a deterministic offset, not random jitter) so that they stay
    visible. ``colors`` maps levels of ``hue`` to colours (default: vertical blue,
    horizontal orange, others from the palette); ``hue_labels`` renames them in the legend.
    """
    viz.use_theme()
    colors = dict(colors or {"vertical": C["blue"], "horizontal": C["orange"]})
    hue_labels = dict(hue_labels or {})
    for column in (*measures, outcome, hue):
        if column not in table.columns:
            raise KeyError(f"measure_sweep_figure: the table has no column {column!r}")
    levels = list(dict.fromkeys(table[hue]))
    fig, axes = plt.subplots(1, len(measures), figsize=(2.3 * len(measures) + 0.9, 4.0), sharey=True, squeeze=False)
    for ax, measure in zip(axes[0], measures):
        values = table[measure].to_numpy(float)
        spread = (np.nanmax(values) - np.nanmin(values)) or 1.0
        rounded = pd.Series(np.round(values, 6))
        rank = rounded.groupby([rounded, table[outcome].round(2).to_numpy()]).cumcount().to_numpy()
        offset = rank * 0.012 * spread
        for k, level in enumerate(levels):
            mask = (table[hue] == level).to_numpy()
            ax.plot(values[mask] + offset[mask], table[outcome].to_numpy(float)[mask], linestyle="", marker="os^D"[k % 4],
                    color=colors.get(level, viz.PALETTE[(k + 2) % len(viz.PALETTE)]), markersize=7.5, alpha=0.85,
                    label=str(hue_labels.get(level, level)))
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure))
        if np.all(np.isnan(values) | (values == np.round(values))):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
        pad = 0.08 * spread
        ax.set_xlim(np.nanmin(values) - pad, np.nanmax(values) + pad)
    axes[0][0].set_ylabel(outcome_label)
    axes[0][0].set_ylim(0, None)
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=min(len(levels), 3), frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


# ------------------------------------------------------------------ display tables

#: Where each default of :class:`~.simulate.SimulationParameters` and of the archetype
#: builders comes from. ``sourced`` names the source (indicator row or coded segment);
#: everything else is an assumption of the model.
PARAMETER_PROVENANCE: dict[str, tuple[str, str]] = {
    "deadline_days": ("sourced", "Beijing's seven-day deadline for government responses (2021 regulation; data/indicators.csv I0029, seed 000 line 210), applied to the vertical archetype's dispatch ties; the model counts calendar days"),
    "n_agencies (horizontal)": ("sourced", "21 city-level agencies signed service-level agreements with NYC311 (data/segments.csv S-NYC-19, seed 000 line 226)"),
    "sla_target_days (horizontal)": ("assumption", "set equal to the vertical deadline so that the archetypes do not differ by the length of their targets; New York's agreements set targets by request type"),
    "n_districts, n_grassroots_per_district, n_agencies (vertical)": ("assumption", "a stylised city, not Beijing's number of districts or subdistricts"),
    "arrival_rates": ("assumption", "a stylised load, not any city's request volume"),
    "arrival_days": ("design", "length of the simulated intake window"),
    "horizon_days": ("design", "snapshot: requests open then are censored"),
    "complex_share": ("assumption", "share of requests needing several agencies; no source gives it"),
    "extra_agencies": ("assumption", "helper agencies a complex request needs"),
    "handling_days": ("assumption", "mean work on a simple request"),
    "assessment_days": ("assumption", "mean first look at a complex request"),
    "helper_days": ("assumption", "mean work of one helper agency"),
    "closing_days": ("assumption", "mean closing work on a complex request"),
    "work_cv": ("assumption", "spread of work times (lognormal)"),
    "dispatch_days_per_hop": ("assumption", "mean transit per routing tie"),
    "report_in_deadline_days": ("assumption", "summoned agencies report in within this; the source says only 'within a specified deadline' (seed 000 line 224)"),
    "negotiation_days": ("assumption", "mean length of one voluntary negotiation; the source says only that negotiation 'may slow down' coordination (seed 000 line 222)"),
    "staffing": ("design", "servers set from the drawn work, so both archetypes run at equal load"),
    "utilisation": ("assumption", "nominal utilisation every resolver is staffed to"),
}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "–".join(_fmt(v) for v in value)
    if isinstance(value, Mapping):
        rates = set(value.values())
        if len(rates) == 1:
            return f"{_fmt(next(iter(rates)))} per category × {len(value)}"
        return "; ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)


def parameter_provenance(params, graphs: Mapping[str, nx.MultiDiGraph] | None = None) -> pd.DataFrame:
    """Every simulation parameter with its value, unit and provenance, as a tidy table.

    Columns ``parameter``, ``value`` (as text), ``unit``, ``status`` (``sourced``,
    ``assumption`` or ``design``: a choice of the run, not a claim about a city) and
    ``basis``. ``params`` is a :class:`~.simulate.SimulationParameters`; ``graphs``
    (``{"vertical": ..., "horizontal": ...}``) adds the archetypes' sizes and targets.
    Raises ``KeyError`` naming a parameter that has no provenance entry, so a new
    parameter cannot slip into a chapter undocumented.

    >>> from hotlines.networks.simulate import SimulationParameters
    >>> t = parameter_provenance(SimulationParameters()).set_index("parameter")
    >>> t.loc["deadline_days", ["value", "unit", "status"]].tolist()
    ['7', 'days', 'sourced']
    """
    table = params.table()
    rows = []
    for _, row in table.iterrows():
        name = row["parameter"]
        if name in ("origin", "city"):
            continue  # labels of the output, not parameters of the model
        if name not in PARAMETER_PROVENANCE:
            raise KeyError(f"parameter {name!r} has no entry in PARAMETER_PROVENANCE: say whether it is sourced or assumed")
        status, basis = PARAMETER_PROVENANCE[name]
        rows.append({"parameter": name, "value": _fmt(getattr(params, name)), "unit": row["unit"], "status": status, "basis": basis})
    for name, graph in (graphs or {}).items():
        mode = graph.graph.get("mode", name)
        agencies = sum(1 for _, t in graph.nodes(data="type") if t == "agency")
        if mode == "vertical":
            districts = sum(1 for _, t in graph.nodes(data="type") if t == "district_government")
            units = sum(1 for _, t in graph.nodes(data="type") if t == "grassroots_unit")
            key = "n_districts, n_grassroots_per_district, n_agencies (vertical)"
            value = f"{districts} districts, {units // max(districts, 1)} units each, {agencies} agencies"
            rows.append({"parameter": key, "value": value, "unit": "actors", "status": PARAMETER_PROVENANCE[key][0], "basis": PARAMETER_PROVENANCE[key][1]})
        elif mode == "horizontal":
            key = "n_agencies (horizontal)"
            rows.append({"parameter": key, "value": str(agencies), "unit": "agencies", "status": PARAMETER_PROVENANCE[key][0], "basis": PARAMETER_PROVENANCE[key][1]})
            targets = sorted({d.get("target_days") for *_, k, d in graph.edges(keys=True, data=True) if k == "service_level_contract"} - {None})
            if targets:
                key = "sla_target_days (horizontal)"
                rows.append({"parameter": key, "value": "; ".join(_fmt(float(t)) for t in targets), "unit": "days", "status": PARAMETER_PROVENANCE[key][0], "basis": PARAMETER_PROVENANCE[key][1]})
    return pd.DataFrame(rows, columns=["parameter", "value", "unit", "status", "basis"])


def _days(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "not reached"
    return f"{value:.1f}"


def scenario_display(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of a scenario table a reader needs, rounded: scenario, three structural
    measures, and the medians (all requests with 95% interval, simple, complex) in days."""
    return pd.DataFrame(
        {
            "scenario": table["scenario"],
            "escalation depth": table["escalation_depth"].map(lambda v: f"{v:.0f}"),
            "hub dependence": table["hub_dependence"].map(lambda v: f"{v:.2f}"),
            "E–I index": table["ei_index"].map(lambda v: f"{v:.2f}"),
            "median, all (95% CI)": [f"{_days(m)} ({_days(lo)}–{_days(hi)})" for m, lo, hi in zip(table["median_days"], table["median_ci_low"], table["median_ci_high"])],
            "median, simple": table["median_days_simple"].map(_days),
            "median, complex": table["median_days_complex"].map(_days),
        }
    ).reset_index(drop=True)


def summary_display(summary: pd.DataFrame, group: str = "city", labels: Mapping | None = None) -> pd.DataFrame:
    """A :func:`~.simulate.resolution_summary` by ``[group, "complex"]`` for a reader:
    requests, share open at the snapshot, Kaplan–Meier median with its 95% interval,
    restricted mean, and the naive mean of closed requests, in days. Models named in
    ``labels`` come first, in its order."""
    labels = dict(labels or {})
    rank = {name: i for i, name in enumerate(labels)}
    summary = summary.sort_values(group, key=lambda col: col.map(lambda v: rank.get(v, len(rank))), kind="stable")
    return pd.DataFrame(
        {
            "model": summary[group].map(lambda v: labels.get(v, v)),
            "requests": summary["complex"].map({False: "simple", True: "complex"}),
            "n": summary["n"].map(lambda v: f"{int(v):,}"),
            "open at snapshot": summary["share_censored"].map(lambda v: f"{100 * v:.1f}%"),
            "median (95% CI)": [f"{_days(m)} ({_days(lo)}–{_days(hi)})" for m, lo, hi in zip(summary["median_days"], summary["median_ci_low"], summary["median_ci_high"])],
            "restricted mean": summary["restricted_mean_days"].map(_days),
            "naive mean, closed only": summary["mean_days_closed_only"].map(_days),
        }
    ).reset_index(drop=True)


def calibration_display(calibrations: Mapping, aggregates: pd.DataFrame, city_of: Mapping[str, str]) -> pd.DataFrame:
    """One row per calibrated model: the published aggregate it was aimed at (as the
    source bounds it), the target chosen inside that bound, the scale factor found, the
    simulated restricted mean reached, and the number of simulation runs it took.

    ``calibrations`` maps a model name to a :class:`~.simulate.Calibration`;
    ``aggregates`` is :func:`~.simulate.published_resolution_aggregates`; ``city_of``
    maps a model name to the ``city_id`` whose aggregate it targets. Raises ``KeyError``
    naming a model whose city has no published aggregate.
    """
    published = aggregates.set_index("city_id")
    rows = []
    for name, calibration in calibrations.items():
        city = city_of[name]
        if city not in published.index:
            raise KeyError(f"calibration {name!r}: no published aggregate for city {city!r} in the indicators")
        source = published.loc[city]
        last = calibration.log.iloc[-1]
        rows.append(
            {
                "model": name,
                "published (source's bound)": f"{source['qualifier']} {float(source['value']):g} {source['unit']} ({source['indicator_id']})",
                "target chosen (days)": f"{float(last['target_mean_days']):g}",
                "scale factor": f"{calibration.scale:.2f}",
                "simulated mean (days)": f"{float(last['restricted_mean_days']):.2f}",
                "runs": str(len(calibration.log)),
            }
        )
    return pd.DataFrame(rows)


def records_display(records: pd.DataFrame, by: Sequence[str] = ("city", "complex"), per_group: int = 1, labels: Mapping | None = None) -> pd.DataFrame:
    """The first ``per_group`` records of each group, in the columns a reader checks:
    request id, created and closed (UTC, to the minute), primary resolver, complexity,
    coordination and routing path (``>`` a routing tie, ``+`` a helper agency)."""
    labels = dict(labels or {})
    chosen = records.groupby(list(by), sort=False, observed=True).head(per_group)

    def stamp(value) -> str:
        return "—" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")

    return pd.DataFrame(
        {
            "request_id": chosen["request_id"].map(lambda v: labels.get(v, v)),
            "created": chosen["created"].map(stamp),
            "closed": chosen["closed"].map(stamp),
            "agency": chosen["agency"],
            "coordination": chosen["coordination"].astype(str),
            "path": chosen["path"].astype(str).str.replace(">", " > ", regex=False).str.replace("+", " + ", regex=False),
        }
    ).reset_index(drop=True)


def association_display(associations: pd.DataFrame) -> pd.DataFrame:
    """:func:`~hotlines.networks.experiments.measure_associations` for a reader: the
    measure (in words), its range across the rows, Spearman's rho and the OLS slope
    (days of the outcome per unit of the measure); missing when the measure does not vary."""

    def number(value: float, digits: int) -> str:
        return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"

    return pd.DataFrame(
        {
            "measure": associations["measure"].map(lambda m: MEASURE_LABELS.get(m, m).replace("\n", " ")),
            "rows": associations["n"].map(str),
            "range": [f"{number(lo, 2)} to {number(hi, 2)}" for lo, hi in zip(associations["measure_min"], associations["measure_max"])],
            "Spearman's rho": associations["spearman_rho"].map(lambda v: number(v, 2)),
            "slope (days per unit)": associations["slope"].map(lambda v: number(v, 2)),
        }
    )
