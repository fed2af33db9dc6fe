"""Figures of the rebuilt index for the chapter, in the book's theme (:mod:`hotlines.viz`).

Each function takes the tidy table the analysis returns and gives back a Figure.
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


def rank_interval_figure(summary: pd.DataFrame, title: str = "Ranks of the rebuilt 4G index under uncertainty"):
    """Median simulated rank with its 5-95% interval per city; the deterministic rank as a diamond.

    ``summary`` is :meth:`MonteCarloResult.summary`.
    """
    viz.use_theme()
    table = summary.sort_values(["mc_median_rank", "mc_mean_rank"], ascending=[False, False]).reset_index(drop=True)
    n_rep = int(table["n_replications"].iloc[0])
    fig, ax = plt.subplots(figsize=(7.6, 0.34 * len(table) + 1.8))
    y = np.arange(len(table))
    ax.hlines(y, table["mc_rank_p05"], table["mc_rank_p95"], color=viz.OKABE_ITO["sky_blue"], linewidth=6,
              label="5–95% of simulated ranks")
    ax.plot(table["mc_median_rank"], y, "o", color=viz.OKABE_ITO["blue"], markersize=7, label="median simulated rank")
    ax.plot(table["deterministic_rank"], y, "D", color=viz.OKABE_ITO["vermillion"], markersize=5,
            label="rank under the report's method (mean imputation, min–max, published weights)")
    ax.set_yticks(y, _name(table["city_id"]))
    n_cities = len(table)
    ax.set_xlim(0.3, n_cities + 0.7)
    ax.set_xticks(range(1, n_cities + 1))
    ax.set_xlabel(f"Rank among the {n_cities} cities (1 = highest total; simulated, {n_rep:,} replications)")
    ax.set_ylabel("City")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
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


def sobol_figure(sobol: pd.DataFrame, title: str = "What drives the rank uncertainty: Sobol indices"):
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
                    xlabel: str | None = None):
    """Cross-table of the report's four clusters (rows) and a rebuilt partition (columns), as a heatmap of counts.

    ``cross`` is :func:`hotlines.index.cluster_cross_table`.
    """
    viz.use_theme()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    values = cross.to_numpy()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(1, values.max()), aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, str(values[i, j]), ha="center", va="center", fontsize=12,
                    color="white" if values[i, j] > values.max() / 2 else "black")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in cross.columns])
    ax.set_yticks(range(values.shape[0]), [str(r).capitalize() for r in cross.index])
    method = str(cross.columns.name or "rebuilt").replace("_cluster", "")
    ax.set_xlabel(xlabel or f"Rebuilt cluster ({'k-means' if method == 'kmeans' else 'Ward'}, k = {values.shape[1]})")
    ax.set_ylabel("Report's cluster (seed 001, L335–373)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.colorbar(image, ax=ax, label="Number of cities")
    ax.set_title(title)
    fig.tight_layout()
    return fig
