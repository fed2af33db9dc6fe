"""One plotting theme and the figure and table functions the chapters share.

The palette is Okabe and Ito's (2008) colour-blind-safe set; fonts are sized to be
read on a slide and in print. Figures are exported to ``figures/`` as SVG and PNG
with fixed metadata, so a rebuild gives the same files.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd

from . import paths

#: Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
    "grey": "#BBBBBB",
}
PALETTE = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion", "sky_blue", "reddish_purple", "yellow", "black")]

#: One colour per kind of number, used wherever kinds appear side by side.
KIND_COLORS = {
    "measured": OKABE_ITO["blue"],
    "survey": OKABE_ITO["sky_blue"],
    "score": OKABE_ITO["reddish_purple"],
    "target": OKABE_ITO["orange"],
    "proxy": OKABE_ITO["yellow"],
    "missing": "#F2F2F2",
}

THEME = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "svg.hashsalt": "hotlines",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}


def use_theme() -> None:
    """Apply the book's theme; in a notebook, also emit SVG (HTML) and PDF (LaTeX) outputs."""
    mpl.rcParams.update(THEME)
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # outside IPython
        return
    set_matplotlib_formats("svg", "pdf")


def save(fig: mpl.figure.Figure, name: str, folder: str | Path | None = None) -> None:
    """Export ``fig`` as ``<name>.svg`` and ``<name>.png`` to ``figures/`` (or ``folder``).

    Returns nothing, so that a chapter cell ending with it shows only the figure.
    """
    out = Path(folder) if folder else paths.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    for ext, metadata in (("svg", {"Date": None, "Creator": "hotlines"}), ("png", {"Software": "hotlines"})):
        fig.savefig(out / f"{name}.{ext}", format=ext, metadata=metadata)


COVERAGE_LABELS = {
    "measured": "measured",
    "survey": "survey estimate",
    "score": "index score only",
    "target": "target only",
    "proxy": "proxy only (other line or area)",
    "missing": "nothing published found",
}


def coverage_figure(cov: pd.DataFrame, title: str = "What the evidence base holds, city by city"):
    """City × indicator-family grid coloured by the strongest kind of number available.

    ``cov`` is the output of :func:`hotlines.data.coverage`. Each cell prints the
    number of values behind it; a line separates the 20 evaluated cities from the
    US comparison cities.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from .data.evidence import CLUSTER_ORDER, COVERAGE_ORDER, FAMILY_ORDER

    cities = list(dict.fromkeys(cov["city"]))
    codes = {status: i for i, status in enumerate(COVERAGE_ORDER)}
    grid = (
        cov.assign(code=cov["status"].map(codes))
        .pivot(index="city", columns="family", values="code")
        .loc[cities, FAMILY_ORDER]
    )
    counts = cov.pivot(index="city", columns="family", values="n_values").loc[cities, FAMILY_ORDER]
    cmap = ListedColormap([KIND_COLORS[s] for s in COVERAGE_ORDER])

    fig, ax = plt.subplots(figsize=(8.2, 0.36 * len(cities) + 2.2))
    ax.imshow(grid.to_numpy(dtype=float), cmap=cmap, vmin=-0.5, vmax=len(COVERAGE_ORDER) - 0.5, aspect="auto")
    dark = {"measured", "score"}
    for i, city in enumerate(cities):
        for j, family in enumerate(FAMILY_ORDER):
            n = int(counts.loc[city, family])
            if n:
                status = COVERAGE_ORDER[int(grid.loc[city, family])]
                ax.text(j, i, str(n), ha="center", va="center", fontsize=9,
                        color="white" if status in dark else "black")
    ax.set_xticks(range(len(FAMILY_ORDER)), [f.capitalize() for f in FAMILY_ORDER])
    ax.set_yticks(range(len(cities)), cities)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("Indicator family (cell number: count of sourced values)")
    ax.set_ylabel("City (grouped by the 2024 report's cluster)")
    ax.set_xticks([x - 0.5 for x in range(1, len(FAMILY_ORDER))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(cities))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    groups = cov.drop_duplicates("city").set_index("city").loc[cities, "group"].tolist()
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    for k, first in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else len(groups)) - 1
        if first:
            clustered = groups[first] in CLUSTER_ORDER
            ax.axhline(first - 0.5, color="black", linewidth=1.2 if clustered else 2.2)
        label = f"{groups[first]} cluster" if groups[first] in CLUSTER_ORDER else groups[first]
        ax.text(len(FAMILY_ORDER) - 0.35, (first + last) / 2, label, rotation=-90, ha="left", va="center",
                fontsize=9, style="italic", clip_on=False)
    ax.set_title(title, pad=12)
    handles = [Patch(facecolor=KIND_COLORS[s], edgecolor="#666666", label=COVERAGE_LABELS[s]) for s in COVERAGE_ORDER]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def _cell(value, missing: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return missing
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if text else missing


def md_table(
    frame: pd.DataFrame,
    caption: str,
    name: str,
    missing: str = "—",
    widths: list[int] | None = None,
    align: str = "left",
    long_rows: int = 12,
):
    """A numbered, cross-referenceable MyST table (shown in HTML and PDF alike).

    A DataFrame's HTML does not reach the PDF; a MyST ``{table}`` does. Cells may
    hold MyST roles such as ``{cite:p}`key```. Missing values print as ``missing``.
    Tables of more than ``long_rows`` rows may break across PDF pages (longtable).
    """
    from IPython.display import Markdown

    header = "| " + " | ".join(_cell(c, missing) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v, missing) for v in row) + " |" for row in frame.itertuples(index=False)]
    options = [f":name: {name}", f":align: {align}"]
    if len(frame) > long_rows:
        options.append(":class: longtable")
    if widths:
        options.append(":widths: " + " ".join(str(w) for w in widths))
    text = "\n".join([f":::{{table}} {caption}", *options, "", header, rule, *body, ":::"])
    return Markdown(text)


def glue_text(name: str, text: str) -> None:
    """Glue a string for ``{glue:md}`name``` in the chapter text (no quotes around it)."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def and_join(items) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
