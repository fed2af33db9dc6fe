"""Figures of the cross-city comparison, in the book's theme (:mod:`hotlines.viz`).

Each function takes the tidy tables the analysis returns and gives back a Figure;
they format and compute nothing the analysis modules do not already return (the
scatter computes its rank correlation with :func:`hotlines.compare.smalln.rank_correlation`
only when no result row is passed).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter
import numpy as np
import pandas as pd

from .. import viz
from .bymode import INSUFFICIENT, MODE_ORDER
from .measures import MEASURES

GRADE_STYLE = {
    "A": {"marker": "o", "color": viz.OKABE_ITO["blue"], "label": "grade A: comparable"},
    "B": {"marker": "s", "color": viz.OKABE_ITO["orange"], "label": "grade B: same concept, instrument/year/bound differ"},
    "C": {"marker": "^", "color": viz.OKABE_ITO["vermillion"], "label": "grade C: other concept, subset or proxy"},
}
UNIT_LABELS = {"days": "calendar days", "working_days": "working days", "percent": "%"}
SCALE_AXIS = {"population": ("Population (millions of residents, log scale)", 1e-6),
              "gdp_usd_billion": ("GDP (USD billion, log scale; converted at sourced annual-average rates)", 1.0)}


def _names() -> dict:
    from .. import data

    return data.cities().set_index("city_id")["name"].astype(str).to_dict()


def _axis_label(measure: str, unit: str) -> str:
    spec = MEASURES.get(measure)
    direction = "" if spec is None else ("; higher is better" if spec.higher_is_better else "; lower is better")
    label = spec.label if spec else measure
    unit_label = UNIT_LABELS.get(unit, unit)
    if unit_label in label:
        return f"{label} ({direction[2:]})" if direction else label
    return f"{label} ({unit_label}{direction})"


def measures_dot_plot(measures: pd.DataFrame, modes: pd.DataFrame, dimension: str = "overall",
                      measure_names=None, title: str = "Resolution and satisfaction as published, by collaboration mode"):
    """The harmonised value of each city per measure, grouped by collaboration mode, marked by grade.

    ``measures`` is :func:`hotlines.compare.measures.harmonised_measures`, ``modes`` a
    :func:`hotlines.compare.bymode.mode_table`. One panel per measure; a range is
    drawn as a bar (the dot is its midpoint), a bound as an arrow pointing to where the
    true value lies.
    """
    viz.use_theme()
    names = _names()
    measure_names = [m for m in (measure_names or MEASURES) if m in set(measures["measure"])]
    mode_of = modes[modes["dimension"] == dimension].set_index("city_id")["mode"]
    group_order = [*MODE_ORDER, INSUFFICIENT]
    panels = []
    for name in measure_names:
        part = measures[measures["measure"] == name].copy()
        part["mode"] = part["city_id"].map(mode_of).fillna(INSUFFICIENT)
        part["_g"] = part["mode"].map({g: i for i, g in enumerate(group_order)})
        panels.append(part.sort_values(["_g", "value"], ascending=[False, True]).reset_index(drop=True))
    heights = [len(p) + 1.2 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9.0, 0.33 * sum(heights) + 1.6),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, part in zip(axes[:, 0], panels):
        y = np.arange(len(part))
        span = float(part["value"].max() - part["value"].min()) or float(part["value"].max()) or 1.0
        for i, rec in part.iterrows():
            style = GRADE_STYLE[rec["grade"]]
            if rec["qualifier"] == "range":
                ax.hlines(i, rec["value_low"], rec["value_high"], color=style["color"], linewidth=5, alpha=0.35)
            elif rec["qualifier"] in ("<", "<=", ">", ">="):
                sign = -1 if rec["qualifier"].startswith("<") else 1
                ax.annotate("", xy=(rec["value"] + sign * 0.12 * span, i), xytext=(rec["value"], i),
                            arrowprops={"arrowstyle": "->", "color": style["color"], "linewidth": 1.5})
            ax.plot(rec["value"], i, linestyle="none", marker=style["marker"], color=style["color"], markersize=8)
        ax.set_yticks(y, [f"{names.get(c, c)}  ({int(yr)})" if not pd.isna(yr) else f"{names.get(c, c)}  (year ?)"
                          for c, yr in zip(part["city_id"], part["year"])])
        starts = [i for i in range(len(part)) if i == 0 or part["mode"].iloc[i] != part["mode"].iloc[i - 1]]
        for k, first in enumerate(starts):
            last = (starts[k + 1] if k + 1 < len(starts) else len(part)) - 1
            if first:
                ax.axhline(first - 0.5, color="#999999", linewidth=0.8)
            ax.text(1.01, (first + last) / 2, part["mode"].iloc[first].replace(" evidence", "\nevidence"),
                    transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8.5, style="italic")
        ax.set_xlabel(_axis_label(part["measure"].iloc[0], part["unit"].iloc[0]))
        ax.set_ylim(-0.7, len(part) - 0.3)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
        highest = max(float(part["value"].max()), float(part["value_high"].max(skipna=True))
                      if part["value_high"].notna().any() else float("-inf"))
        ax.set_xlim(float(part[["value_low", "value"]].min().min()) - 0.15 * span, highest + 0.15 * span)
    axes[0, 0].set_title(f"{title}\n(city modes: {dimension}; year of the value in brackets)")
    handles = [plt.Line2D([], [], linestyle="none", marker=s["marker"], color=s["color"], markersize=8, label=s["label"])
               for s in GRADE_STYLE.values()]
    handles += [plt.Line2D([], [], color="#777777", linewidth=5, alpha=0.35, label="stated range (dot: midpoint)"),
                plt.Line2D([], [], color="#777777", marker=r"$\rightarrow$", linestyle="none", markersize=12,
                           label="stated bound (true value lies beyond)")]
    axes[-1, 0].legend(handles=handles, loc="upper center", bbox_to_anchor=(0.45, -0.35), ncol=2, frameon=False,
                       fontsize=9)
    fig.supylabel("City (year of the value), grouped by collaboration mode")
    fig.tight_layout()
    return fig


def _rho_text(row) -> str:
    if row is None or pd.isna(row["spearman"]):
        n = 0 if row is None else int(row["n"])
        return f"not tested (n = {n})"
    return f"Spearman ρ = {row['spearman']:.2f} (permutation p = {row['p_value']:.2f}, n = {int(row['n'])})"


def scale_scatter(scale: pd.DataFrame, performance: pd.DataFrame, measure: str, results: pd.DataFrame | None = None,
                  scale_variables=("population", "gdp_usd_billion"), rows: str = "all grades",
                  title: str | None = None, seed=0):
    """Population and GDP against one performance measure, one panel each, the rank correlation in each title.

    ``scale`` is :func:`hotlines.compare.scale.scale_table`, ``performance`` a
    performance table; ``results`` (optional) is :func:`hotlines.compare.scale.urban_scale_test`
    output, whose row for (variable, measure, rows) supplies the statistic; without it
    the correlation is computed here (seeded).
    """
    from .smalln import rank_correlation

    viz.use_theme()
    names = _names()
    part = performance[performance["measure"] == measure]
    joined = scale.merge(part[["city_id", "value", "grade", "unit", "label"]], on="city_id")
    fig, axes = plt.subplots(1, len(scale_variables), figsize=(5.2 * len(scale_variables), 4.6), squeeze=False)
    unit = joined["unit"].iloc[0] if len(joined) else ""
    for ax, variable in zip(axes[0], scale_variables):
        pair = joined.dropna(subset=[variable, "value"])
        row = None
        if results is not None:
            hit = results[(results["scale_variable"] == variable) & (results["measure"] == measure)
                          & (results["rows"] == rows)]
            row = hit.iloc[0] if len(hit) else None
        elif len(pair) >= 3:
            r = rank_correlation(pair.astype({variable: float, "value": float}), variable, "value", seed=seed).iloc[0]
            row = {"spearman": r["estimate"], "p_value": r["p_value"], "n": r["n"]}
        label, factor = SCALE_AXIS[variable]
        x = pair[variable].astype(float) * factor
        for grade, group in pair.assign(_x=x).groupby(pair["grade"].fillna("none")):
            style = GRADE_STYLE.get(grade, {"marker": "o", "color": viz.OKABE_ITO["blue"],
                                            "label": "index score (no grade)"})
            ax.plot(group["_x"], group["value"].astype(float), linestyle="none", marker=style["marker"],
                    color=style["color"], markersize=7, label=style["label"])
        for xi, yi, city in zip(x, pair["value"].astype(float), pair["city_id"]):
            ax.annotate(names.get(city, city), (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=8)
        ax.set_xscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
        ax.set_xlabel(label)
        ax.set_ylabel(_axis_label(measure, unit) if measure in MEASURES else
                      f"{part['label'].iloc[0] if len(part) else measure} ({unit})")
        ax.set_title(_rho_text(row), fontsize=10)
        ax.grid(color="#EEEEEE", linewidth=0.8)
        ax.set_axisbelow(True)
    axes[0, 0].legend(loc="best", frameon=False, fontsize=8)
    heading = title or (f"{part['label'].iloc[0] if len(part) else measure} against city size and economy")
    fig.suptitle(heading, fontweight="bold")
    fig.tight_layout()
    return fig
