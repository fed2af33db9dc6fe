"""Figures and display tables of the rebuilt index for the chapter, in the book's theme (:mod:`hotlines.viz`).

Each figure function takes the tidy table the analysis returns and gives back a
Figure; each ``*_table`` function turns an analysis result into the short, labelled
DataFrame the book prints with :func:`hotlines.viz.md_table`. They format; they
compute nothing that the analysis modules do not already return.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import viz


def _name(city_ids) -> list[str]:
    from .. import data

    names = data.cities().set_index("city_id")["name"]
    return [str(names.get(c, c)) for c in city_ids]


def rank_interval_figure(summary: pd.DataFrame, title: str = "Simulated ranks of the rebuilt 4G index"):
    """Median simulated rank with its 5-95% interval per city; the deterministic rank as a diamond.

    ``summary`` is :meth:`MonteCarloResult.summary`.
    """
    viz.use_theme()
    table = summary.sort_values(["mc_median_rank", "mc_mean_rank"], ascending=[False, False]).reset_index(drop=True)
    n_rep = int(table["n_replications"].iloc[0])
    fig, ax = plt.subplots(figsize=(7.6, 0.27 * len(table) + 1.9))
    y = np.arange(len(table))
    ax.hlines(y, table["mc_rank_p05"], table["mc_rank_p95"], color=viz.OKABE_ITO["sky_blue"], linewidth=6,
              label="5–95% of simulated ranks")
    ax.plot(table["mc_median_rank"], y, "o", color=viz.OKABE_ITO["blue"], markersize=7, label="median simulated rank")
    ax.plot(table["deterministic_rank"], y, "D", color=viz.OKABE_ITO["vermillion"], markersize=5,
            label="rank of the rebuild under the report's method (not simulated)")
    ax.set_yticks(y, _name(table["city_id"]))
    n_cities = len(table)
    ax.set_xlim(0.3, n_cities + 0.7)
    ax.set_xticks(range(1, n_cities + 1))
    ax.set_xlabel(f"Rank among the {n_cities} cities (1 = highest total; simulated, {n_rep:,} replications)")
    ax.set_ylabel("City")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.42, -0.085), ncol=1, frameon=False)
    fig.tight_layout()
    return fig


FACTOR_LABELS = {
    "weights: first level": "weights, first level",
    "weights: second level": "weights, second level",
    "weights: third level": "weights, third level",
    "normalisation": "normalisation",
    "imputation": "imputation of missing values",
    "aggregation": "aggregation",
    "lower_bounds": "values stated as bounds",
}


def sobol_figure(sobol: pd.DataFrame, title: str = "What moves the ranks: Sobol indices (simulated)"):
    """Mean first-order and total Sobol index of the cities' ranks per factor group, with each city's total index as a dot.

    ``sobol`` is :func:`hotlines.index.sobol_indices`.
    """
    viz.use_theme()
    order = list(dict.fromkeys(sobol["factor"]))
    means = sobol.groupby("factor")[["S1", "ST"]].mean().loc[order]
    order_sorted = means.sort_values("ST").index.tolist()
    means = means.loc[order_sorted]
    fig, ax = plt.subplots(figsize=(7.6, 0.55 * len(order) + 1.6))
    y = np.arange(len(order_sorted))
    ax.barh(y + 0.2, means["ST"], height=0.38, color=viz.OKABE_ITO["orange"], label="total index (mean over cities)")
    ax.barh(y - 0.2, means["S1"].clip(lower=0), height=0.38, color=viz.OKABE_ITO["blue"],
            label="first-order index (mean over cities)")
    for i, factor in enumerate(order_sorted):
        st = sobol.loc[sobol["factor"] == factor, "ST"].dropna()
        ax.plot(st, np.full(st.size, i + 0.2), "|", color="black", markersize=9, alpha=0.6)
    ax.plot([], [], "|", color="black", markersize=9, label="total index of each city")
    ax.set_yticks(y, [FACTOR_LABELS.get(f, f) for f in order_sorted])
    ax.set_xlim(0, max(1.0, float(sobol["ST"].max()) * 1.05))
    ax.set_xlabel("Sobol index of a city's rank (share of its rank variance, 0–1; simulated)")
    ax.set_ylabel("Uncertain input (factor group)")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def cluster_heatmap(cross: pd.DataFrame, title: str = "The report's clusters and the rebuilt clusters",
                    xlabel: str | None = None, members: pd.DataFrame | None = None):
    """Cross-table of the report's four clusters (rows) and a rebuilt partition (columns), as a heatmap of counts.

    ``cross`` is :func:`hotlines.index.cluster_cross_table`. With ``members`` (the table of
    :func:`hotlines.index.cluster_cities` the cross-table was made from), each cell also
    lists its cities in small type under the count.

    >>> from hotlines.index import CompositeIndex, cluster_cities, cluster_cross_table
    >>> table = cluster_cities(CompositeIndex(), n_init=5)
    >>> fig = cluster_heatmap(cluster_cross_table(table), members=table)
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> sum(int(t) for t in texts if t.isdigit()), sum(len(t.split("\\n")) for t in texts if not t.isdigit())
    (20, 20)
    >>> plt.close(fig)
    """
    viz.use_theme()
    values = cross.to_numpy()
    method = str(cross.columns.name or "rebuilt").replace("_cluster", "")
    names = None
    if members is not None:
        city_names = dict(zip(members["city_id"], _name(members["city_id"])))
        names = [[sorted(city_names[c] for c in members.loc[(members["report_cluster"] == r) & (members[method] == k), "city_id"])
                  for k in cross.columns] for r in cross.index]
    tallest = max((len(cell) for row in names for cell in row), default=0) if names else 0
    fig, ax = plt.subplots(figsize=(6.4, 4.2) if not names else (7.6, 1.6 + values.shape[0] * (0.45 + 0.17 * tallest)))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(1, values.max()), aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            colour = "white" if values[i, j] > values.max() / 2 else "black"
            if names and names[i][j]:
                ax.text(j, i - 0.08, str(values[i, j]), ha="center", va="bottom", fontsize=12, fontweight="bold", color=colour)
                ax.text(j, i - 0.04, "\n".join(names[i][j]), ha="center", va="top", fontsize=8.5, color=colour,
                        linespacing=1.15)
            else:
                ax.text(j, i, str(values[i, j]), ha="center", va="center", fontsize=12, color=colour)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in cross.columns])
    ax.set_yticks(range(values.shape[0]), [str(r).capitalize() for r in cross.index])
    ax.set_xlabel(xlabel or f"Rebuilt cluster ({'k-means' if method == 'kmeans' else 'Ward'}, k = {values.shape[1]})")
    ax.set_ylabel("Report's cluster (seed 001, L335–373)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.colorbar(image, ax=ax, label="Number of cities")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- the coded inputs

#: Evidence grades of the coded inputs (see :mod:`hotlines.index.inputs`), strongest first.
GRADE_LABELS = {
    "A": "A: a statement about this city alone",
    "B": "B: a statement naming this city among others",
    "C": "C: an inference",
    "missing": "not coded (missing)",
}
GRADE_COLORS = {"A": viz.OKABE_ITO["blue"], "B": viz.OKABE_ITO["sky_blue"], "C": viz.OKABE_ITO["yellow"],
                "missing": "#F2F2F2"}


def _evaluated_in_cluster_order() -> list[str]:
    from .. import data
    from ..data.evidence import city_order

    table = data.cities()
    return city_order(table[table["in_4g_2024"].fillna(False)])


def input_cells(inputs: pd.DataFrame, spec=None, cities: list[str] | None = None) -> pd.DataFrame:
    """The city × third-level indicator cells of the inputs, one row each, missing cells included.

    Columns: ``indicator``, ``first_level``, ``include``, ``city_id``, ``grade`` (A, B, C or
    ``missing``), ``value``, ``qualifier`` and ``label`` (the value as the grid prints it,
    with ``≥`` or ``>`` for a value stated as a bound). Only rows with ``used`` true count.

    >>> from hotlines.index import load_inputs, load_spec
    >>> cells = input_cells(load_inputs(), load_spec())
    >>> len(cells), int((cells["grade"] != "missing").sum()) == int(load_inputs()["used"].sum())
    (480, True)
    """
    from .spec import load_spec

    spec = spec or load_spec()
    cities = list(cities) if cities is not None else _evaluated_in_cluster_order()
    used = inputs[inputs["used"].fillna(False).astype(bool) & inputs["city_id"].isin(cities)]
    keyed = used.set_index(["indicator", "city_id"])
    rows = []
    for item in spec.third_level:
        for city in cities:
            row = {"indicator": item.id, "first_level": spec.first_of(item.id), "include": item.include, "city_id": city,
                   "grade": "missing", "value": np.nan, "qualifier": None, "label": ""}
            if (item.id, city) in keyed.index:
                r = keyed.loc[(item.id, city)]
                value = float(r["value"])
                mark = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}.get(str(r["qualifier"]), "")
                row.update(grade=str(r["evidence_grade"]), value=value, qualifier=str(r["qualifier"]),
                           label=f"{mark}{value:g}")
            rows.append(row)
    return pd.DataFrame(rows)


def inputs_grid_figure(cells: pd.DataFrame, spec=None,
                       title: str = "The coded inputs: value and evidence grade of each cell"):
    """Third-level indicators (rows, grouped by first level) × cities (columns, by the report's cluster).

    Each coded cell is coloured by its evidence grade and prints its value (``≥`` marks a
    value stated as a lower bound); empty cells are missing; indicators the rebuild
    excludes are hatched. ``cells`` is :func:`input_cells`.

    >>> from hotlines.index import load_inputs, load_spec
    >>> cells = input_cells(load_inputs(), load_spec())
    >>> fig = inputs_grid_figure(cells)
    >>> ax = fig.axes[0]
    >>> len(ax.get_yticklabels()), len(ax.get_xticklabels())
    (24, 20)
    >>> printed = [t.get_text() for t in ax.texts][:-8]  # the last 8: first-level and cluster labels
    >>> sorted(printed) == sorted(cells.loc[cells["grade"] != "missing", "label"])
    True
    >>> plt.close(fig)
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    from .. import data
    from ..data.evidence import CLUSTER_ORDER
    from .spec import load_spec

    viz.use_theme()
    spec = spec or load_spec()
    indicators = list(dict.fromkeys(cells["indicator"]))
    cities = list(dict.fromkeys(cells["city_id"]))
    order = list(GRADE_COLORS)
    grid = (cells.assign(code=cells["grade"].map({g: i for i, g in enumerate(order)}))
            .pivot(index="indicator", columns="city_id", values="code").loc[indicators, cities])
    labels = cells.pivot(index="indicator", columns="city_id", values="label").loc[indicators, cities]
    include = cells.drop_duplicates("indicator").set_index("indicator").loc[indicators, "include"]

    fig, ax = plt.subplots(figsize=(8.4, 0.25 * len(indicators) + 3.0))
    ax.imshow(grid.to_numpy(dtype=float), cmap=ListedColormap([GRADE_COLORS[g] for g in order]),
              vmin=-0.5, vmax=len(order) - 0.5, aspect="auto")
    for i, ind in enumerate(indicators):
        if not include[ind]:
            ax.add_patch(Rectangle((-0.5, i - 0.5), len(cities), 1, facecolor="none", edgecolor="#999999",
                                   hatch="////", linewidth=0))
        for j, city in enumerate(cities):
            text = labels.loc[ind, city]
            if text:
                ax.text(j, i, text, ha="center", va="center", fontsize=7.5 if len(text) <= 3 else 6.5 if len(text) == 4 else 5.5,
                        color="white" if order[int(grid.loc[ind, city])] == "A" else "black")
    ax.set_yticks(range(len(indicators)),
                  [spec.item(k).name + ("" if include[k] else " (excluded)") for k in indicators])
    for tick, ind in zip(ax.get_yticklabels(), indicators):
        if not include[ind]:
            tick.set_color("#555555")
            tick.set_fontstyle("italic")
    ax.set_xticks(range(len(cities)), _name(cities), rotation=60, ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.set_xticks([x - 0.5 for x in range(1, len(cities))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(indicators))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(axis="both", which="major", labelsize=9, length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    firsts = [spec.first_of(k) for k in indicators]
    starts = [i for i in range(len(firsts)) if i == 0 or firsts[i] != firsts[i - 1]]
    for k, first in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else len(firsts)) - 1
        if first:
            ax.axhline(first - 0.5, color="black", linewidth=1.2)
        ax.text(len(cities) - 0.3, (first + last) / 2, spec.item(firsts[first]).name.replace(" ", "\n", 1), rotation=-90,
                ha="left", va="center", fontsize=9, style="italic", clip_on=False)
    clusters = data.cities().set_index("city_id").loc[cities, "cluster"].tolist()
    starts = [j for j in range(len(clusters)) if j == 0 or clusters[j] != clusters[j - 1]]
    for k, first in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else len(clusters)) - 1
        if first:
            ax.axvline(first - 0.5, color="black", linewidth=1.2)
        label = str(clusters[first]).capitalize() if clusters[first] in CLUSTER_ORDER else str(clusters[first])
        ax.text((first + last) / 2, len(indicators) - 0.2, label, ha="center", va="top", fontsize=9, style="italic")
    ax.set_xlabel("City, grouped by the report's cluster (cell: coded value; ≥ or > marks a lower bound)", labelpad=22)
    ax.set_ylabel("Third-level indicator of the 4G spec")
    ax.set_title(title, pad=10)
    handles = [Patch(facecolor=GRADE_COLORS[g], edgecolor="#666666", label=GRADE_LABELS[g]) for g in order]
    handles.append(Patch(facecolor="white", edgecolor="#999999", hatch="////", label="indicator excluded from the rebuild"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- tables


def _points(value: float) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def structure_table(index) -> pd.DataFrame:
    """The spec's tree with declared and in-use weights, what is assumed, and what the rebuild leaves out.

    One row per indicator of every level, first levels in bold and second levels in
    italics. ``Declared weight``: the spec's (published for levels 1-2, assumed at level
    3); ``Weight in the rebuild``: after the weight of excluded indicators has gone to
    their siblings (``—``: excluded); ``Assumed``: which parts of an indicator the spec
    had to assume (weight, scoring levels, direction). ``index`` is a
    :class:`~hotlines.index.CompositeIndex`.

    >>> from hotlines.index import CompositeIndex
    >>> t = structure_table(CompositeIndex())
    >>> len(t), t.iloc[0]["Indicator"], t.iloc[0]["Declared weight"]
    (38, '**Process Governance**', '20')
    """
    spec = index.spec
    used = index.weights.set_index("id")["weight"]
    rows = []

    def add(item, shown: str):
        assumed = []
        if item.weight_info.assumed:
            assumed.append("weight")
        if item.level == 3:
            if item.levels_assumed:
                assumed.append("levels")
            if item.direction_assumed:
                assumed.append("direction")
        rows.append({"Indicator": shown, "Level": item.level, "Type": item.type or "",
                     "Declared weight": _points(item.weight), "Weight in the rebuild": _points(used.get(item.id)),
                     "Assumed": ", ".join(assumed) or "nothing"})

    for first in spec.first_level:
        add(first, f"**{first.name}**")
        for second_id in first.children:
            second = spec.item(second_id)
            add(second, f"*{second.name}*")
            for third_id in second.children:
                add(spec.item(third_id), spec.item(third_id).name)
    return pd.DataFrame(rows)


def scores_table(index) -> pd.DataFrame:
    """Rank, city, the four first-level scores and the total of a :class:`~hotlines.index.CompositeIndex`.

    Column headers carry each level's maximum in the rebuild; first-level scores are
    rounded to one decimal, totals to two (close totals stay distinguishable); rows are
    sorted by rank (tied totals share the best rank).

    >>> from hotlines.index import CompositeIndex
    >>> t = scores_table(CompositeIndex())
    >>> list(t.columns)[:2], len(t)
    (['Rank', 'City'], 20)
    """
    first = index.level_scores(1)
    w = index.weights.set_index("id")["weight"]
    totals = index.totals.set_index("city_id").loc[index.cities]
    out = pd.DataFrame({"Rank": totals["rank"].astype(int).to_numpy(), "City": _name(index.cities)})
    for f in index.spec.first_level:
        out[f"{f.name.split()[0]} ({_points(w[f.id])})"] = first[f.id].round(1).to_numpy()
    out[f"Total ({_points(float(totals['max_total'].iloc[0]))})"] = totals["total"].round(2).to_numpy()
    return out.sort_values(["Rank", "City"]).reset_index(drop=True)


def ranks_by_option_table(index, setting: str, options) -> pd.DataFrame:
    """Each city's rank when one setting of the index takes each of ``options`` (deterministic, not simulated).

    Rows in the order of the first option's ranks; one column per option.

    >>> from hotlines.index import CompositeIndex
    >>> t = ranks_by_option_table(CompositeIndex(), "imputation", ["mean", "worst"])
    >>> list(t.columns), int(t["mean"].iloc[0])
    (['City', 'mean', 'worst'], 1)
    """
    ranks = {option: index.variant(**{setting: option}).totals.set_index("city_id").loc[index.cities, "rank"].astype(int)
             for option in options}
    out = pd.DataFrame({"City": _name(index.cities), **{o: r.to_numpy() for o, r in ranks.items()}})
    return out.sort_values([options[0], "City"]).reset_index(drop=True)


def validation_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`hotlines.index.compare_with_report` as the book prints it (addressable rows).

    Columns: Statistic (with its unit), Reported (the report's words where short, else
    the number), Rebuilt, Difference (rebuilt - reported), Observed cells (of all cells
    behind the statistic), Explanation.

    >>> from hotlines.index import CompositeIndex, compare_with_report
    >>> t = validation_table(compare_with_report(CompositeIndex()))
    >>> list(t.columns)
    ['Statistic', 'Reported', 'Rebuilt', 'Difference', 'Observed cells', 'Explanation']
    """
    part = table[table["addressable"]]
    reported = [str(s) if len(str(s)) <= 12 else f"{r:g}" for s, r in zip(part["reported_as_stated"], part["reported"])]
    return pd.DataFrame({
        "Statistic": [f"{s} ({u})" for s, u in zip(part["statistic"], part["unit"])],
        "Reported": reported,
        "Rebuilt": [f"{v:.1f}" for v in part["rebuilt"]],
        "Difference": ["0" if abs(v) < 1e-9 else f"{v:+.1f}" for v in part["difference"]],
        "Observed cells": [f"{o} of {c}" for o, c in zip(part["cells_observed"], part["cells"])],
        "Explanation": part["explanation"].to_numpy(),
    })
