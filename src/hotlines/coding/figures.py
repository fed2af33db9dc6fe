"""Figures and display tables of the chapter "Coding the evidence", in the book's theme.

Each figure function takes the tidy table a query or reliability function returns and
gives back a matplotlib Figure (:mod:`hotlines.viz` theme; dimension colours from the
codebook, which are Okabe–Ito colours). Each table function turns an analysis table into
the short table a chapter shows. Nothing here estimates anything: counts come from
:mod:`.queries`, agreement from :mod:`.reliability`, the exchange from :mod:`.refi`.

- :func:`segment_coverage`, :func:`coverage_figure`: evidence units by city and source;
- :func:`code_city_heatmap`: codes (grouped by dimension, pole marked) × cities (grouped
  by the 2024 report's cluster, then the comparison cities and the coding case);
- :func:`cooccurrence_heatmap`, :func:`pole_block_summary`: which pole-bearing codes
  meet in one segment (Jaccard);
- :func:`reliability_forest`, :func:`dimension_reliability_table`: agreement per code and
  per dimension with bootstrap intervals;
- :func:`disagreement_counts`, :func:`disagreement_examples`, :func:`reconciliation_summary`,
  :func:`clarification_table`: the disagreements and how the reconciliation settled them;
- :func:`exchange_table`, :func:`passage_table`: the REFI-QDA round trip and retrieved passages.

>>> short_code("mechanism.cross_level_escalation")
'cross level escalation'
>>> shorten_memo('"the municipal government sends the demands of the public directly": dispatch rule', quote_chars=20)
'"the municipal…": dispatch rule'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D

from .. import viz
from ..data.evidence import CLUSTER_ORDER, city_order
from .codebook import Codebook
from .queries import NONE_CODE, split_ids

C = viz.OKABE_ITO

#: Short labels of the five seed documents, keyed by the seed file's number.
SOURCE_LABELS = {
    "000": "000 Yan, Zheng & Meng (2025)",
    "001": "001 Evaluation report (2024)",
    "002": "002 Nam & Pardo (2013)",
    "003": "003 Hartmann et al. (2017)",
    "004": "004 Liu (2013), Xintai",
}
SOURCE_COLORS = {"000": C["blue"], "001": C["orange"], "002": C["bluish_green"], "003": C["yellow"], "004": C["reddish_purple"]}

#: How a pole is marked beside a code: letter and colour (the letter carries it without colour).
POLE_MARKS = {"vertical": ("V", C["vermillion"]), "horizontal": ("H", C["blue"]), "neutral": ("·", "#BBBBBB")}
POLE_ORDER = ("vertical", "horizontal", "neutral")

#: Column groups of the city axes: the report's clusters, then the other roles.
ROLE_GROUPS = {"us_comparison": "US comparison", "coding_case": "coding case"}

#: A white-to-blue ramp (one hue, so it reads the same under colour-vision deficiencies).
COUNT_CMAP = LinearSegmentedColormap.from_list("hotlines_counts", ["#FFFFFF", C["sky_blue"], C["blue"], "#023858"])

_CLARIFICATION = re.compile(r"\bC(\d{1,2})\b")


# ---------------------------------------------------------------- small helpers


def short_code(code: str) -> str:
    """A code id without its dimension, underscores as spaces (``none`` stays ``none``)."""
    return str(code).split(".", 1)[-1].replace("_", " ")


def source_key(source: str) -> str:
    """The seed's number (``000``..``004``) of a seed file name; other names are returned unchanged."""
    match = re.match(r"^(\d{3})_", str(source))
    return match.group(1) if match else str(source)


def source_label(source: str) -> str:
    """A short readable label of a seed file (``001 Evaluation report (2024)``); unknown names unchanged."""
    return SOURCE_LABELS.get(source_key(source), str(source))


def _truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_QUOTE = re.compile(r"\"[^\"]+\"|“[^”]+”|'[^']+'")


def shorten_memo(memo, quote_chars: int = 45, limit: int = 170) -> str:
    """A memo for a table: quotations longer than ``quote_chars`` cut with an ellipsis, then the
    whole cut to ``limit`` characters. The coder's own words after the quotation are kept
    as far as the limit allows; an empty memo gives ``""``.

    >>> shorten_memo("'a very long quotation from the passage': my reason", quote_chars=12)
    "'a very long…': my reason"
    """
    if memo is None or (not isinstance(memo, str) and pd.isna(memo)):
        return ""

    def cut(match: re.Match) -> str:
        quoted = match.group(0)
        if len(quoted) - 2 <= quote_chars:
            return quoted
        inner = quoted[1:-1]
        body = inner[:quote_chars]
        if inner[quote_chars] != " " and " " in body:  # end on a whole word
            body = body[: body.rindex(" ")]
        body = body.rstrip(" ,.;:")
        return f"{quoted[0]}{body}…{quoted[-1]}"

    return _truncate(_QUOTE.sub(cut, " ".join(str(memo).split())), limit)


def city_groups(cities: pd.DataFrame) -> pd.DataFrame:
    """The cities in display order with their group: ``city_id``, ``name``, ``group``.

    Evaluated cities come by the 2024 report's cluster (``integrative cluster``, ...), then
    the US comparison cities, then the coding case (:func:`hotlines.data.evidence.city_order`).

    >>> frame = pd.DataFrame({"city_id": ["x", "b", "a"], "name": ["X", "B", "A"],
    ...                       "role": ["coding_case", "evaluated", "evaluated"], "cluster": [None, "inclusive", "integrative"]})
    >>> city_groups(frame).values.tolist()
    [['a', 'A', 'integrative cluster'], ['b', 'B', 'inclusive cluster'], ['x', 'X', 'coding case']]
    """
    order = city_order(cities)
    table = cities.set_index("city_id").loc[order]
    groups = [
        f"{cluster} cluster" if role == "evaluated" and isinstance(cluster, str) and cluster in CLUSTER_ORDER
        else ROLE_GROUPS.get(str(role), str(role))
        for role, cluster in zip(table["role"], table["cluster"].astype(object).where(table["cluster"].notna(), None))
    ]
    return pd.DataFrame({"city_id": order, "name": table["name"].astype(str).tolist(), "group": groups})


def _group_spans(groups: Sequence[str]) -> list[tuple[str, int, int]]:
    """(label, first, last) of each run of equal labels."""
    spans, start = [], 0
    for i in range(1, len(groups) + 1):
        if i == len(groups) or groups[i] != groups[start]:
            spans.append((groups[start], start, i - 1))
            start = i
    return spans


# ---------------------------------------------------------------- coverage


def segment_coverage(segments: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Evidence units per city and source, zeros included: one row per (city, source).

    Columns: ``city_id``, ``name``, ``group`` (see :func:`city_groups`), ``source`` (seed
    file), ``n_segments`` (segments from the source naming the city; a multi-city
    statement counts for every city it names), ``n_multi_city`` (how many of those name
    other cities too) and ``n_city_segments`` (the city's total over sources). Every city
    of ``cities`` appears, also one without any segment. A segment naming a city that is
    not in ``cities`` is an error, so that no segment is dropped silently.

    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2"], "cities": ["a", "a;b"], "source": ["000_x.txt", "001_y.txt"]})
    >>> cit = pd.DataFrame({"city_id": ["a", "b"], "name": ["A", "B"], "role": ["evaluated"] * 2, "cluster": ["integrative"] * 2})
    >>> t = segment_coverage(seg, cit)
    >>> t[t.n_segments > 0][["city_id", "source", "n_segments", "n_multi_city"]].values.tolist()
    [['a', '000_x.txt', 1, 0], ['a', '001_y.txt', 1, 1], ['b', '001_y.txt', 1, 1]]
    """
    rows = []
    for position, (segment_id, named, source) in enumerate(zip(segments["segment_id"], segments["cities"], segments["source"]), start=1):
        ids = list(dict.fromkeys(split_ids(named)))
        for city in ids:
            rows.append({"segment_id": str(segment_id), "city_id": city, "source": str(source), "multi": len(ids) > 1, "row": position})
    long = pd.DataFrame(rows, columns=["segment_id", "city_id", "source", "multi", "row"])
    order = city_groups(cities)
    unknown = long[~long["city_id"].isin(order["city_id"])]
    if len(unknown):
        first = unknown.iloc[0]
        raise ValueError(f"segments.csv, row {first['row']} ({first['segment_id']}), field 'cities': "
                         f"[city-exists] {first['city_id']!r} is not a city of the cities table")
    sources = sorted(set(segments["source"].astype(str)))
    counts = long.groupby(["city_id", "source"]).agg(n_segments=("segment_id", "nunique"), n_multi_city=("multi", "sum"))
    grid = pd.MultiIndex.from_product([order["city_id"], sources], names=["city_id", "source"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    out = order.merge(out, on="city_id", how="right")
    out["n_segments"] = out["n_segments"].astype(int)
    out["n_multi_city"] = out["n_multi_city"].astype(int)
    out["n_city_segments"] = out.groupby("city_id")["n_segments"].transform("sum").astype(int)
    return out[["city_id", "name", "group", "source", "n_segments", "n_multi_city", "n_city_segments"]]


def coverage_figure(coverage: pd.DataFrame, title: str = "Evidence units by city and source"):
    """Horizontal bars, one per city (grouped as in :func:`city_groups`), stacked by source.

    Each bar prints its total and, in brackets, how many of its segments are multi-city
    statements. ``coverage`` is :func:`segment_coverage`.
    """
    viz.use_theme()
    cities = list(dict.fromkeys(coverage["city_id"]))
    table = coverage.pivot(index="city_id", columns="source", values="n_segments").loc[cities]
    sources = [s for s in table.columns if table[s].sum() > 0]
    info = coverage.drop_duplicates("city_id").set_index("city_id").loc[cities]
    multi = coverage.groupby("city_id")["n_multi_city"].sum().loc[cities]
    y = np.arange(len(cities))
    fig, ax = plt.subplots(figsize=(8.6, 0.3 * len(cities) + 2.0))
    left = np.zeros(len(cities))
    for source in sources:
        values = table[source].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=SOURCE_COLORS.get(source_key(source), C["grey"]),
                edgecolor="white", linewidth=0.6, label=source_label(source), height=0.72)
        left += values
    top = float(left.max()) if len(left) else 1.0
    for i, city in enumerate(cities):
        total, m = int(left[i]), int(multi.loc[city])
        label = "no segment" if total == 0 else (f"{total} ({m} multi-city)" if m else f"{total}")
        ax.text(left[i] + top * 0.01, i, label, va="center", fontsize=9)
    ax.set_yticks(y, info["name"].tolist())
    ax.set_ylim(len(cities) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.28)
    ax.set_xlabel("Evidence units naming the city (count; a multi-city statement counts for each city)")
    ax.set_ylabel("City (grouped by the 2024 report's cluster)")
    for label, first, last in _group_spans(info["group"].tolist()):
        if first:
            ax.axhline(first - 0.5, color="#555555", linewidth=0.8)
        ax.text(top * 1.27, (first + last) / 2, label, ha="right", va="center", fontsize=9, style="italic", color="#333333")
    ax.set_title(title)
    ax.legend(title="Seed document", loc="upper center", bbox_to_anchor=(0.42, -0.09), ncol=2, frameon=False, fontsize=9,
              title_fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- code x city


def _dimension_name(codebook: Codebook, dimension: str, wrap: int | None = None) -> str:
    """A dimension's label without its parenthesis or second name ('Outcome / responsiveness' -> 'Outcome')."""
    import textwrap

    name = codebook.dimension(dimension).label.split(" (")[0].split(" / ")[0]
    return "\n".join(textwrap.wrap(name, wrap)) if wrap else name


def _codes_in_order(codebook: Codebook, dimensions: Iterable[str] | None, poles: Iterable[str] = POLE_ORDER) -> list[str]:
    """Codes of the chosen dimensions: dimension by dimension, vertical then horizontal then neutral."""
    wanted = [d.id for d in codebook.dimensions] if dimensions is None else list(dimensions)
    unknown = [d for d in wanted if d not in {x.id for x in codebook.dimensions}]
    if unknown:
        raise ValueError(f"dimensions {unknown} are not dimensions of the codebook ({[d.id for d in codebook.dimensions]})")
    poles = list(poles)
    codes = []
    for dim in codebook.dimensions:
        if dim.id in wanted:
            codes += sorted((c.id for c in dim.codes if c.pole in poles), key=lambda c: poles.index(codebook.codes[c].pole))
    return codes


def code_city_heatmap(
    counts: pd.DataFrame,
    codebook: Codebook,
    cities: pd.DataFrame,
    *,
    dimensions: Iterable[str] | None = None,
    min_segments: int = 0,
    title: str = "Where each code was applied",
):
    """Codes (rows, grouped by dimension, pole marked V/H) × cities (columns, grouped).

    ``counts`` is :func:`hotlines.coding.queries.code_by_city` (one coder or one rule);
    each cell prints ``n_segments``, the number of segments naming the city that carry
    the code. Codes applied to fewer than ``min_segments`` segments in all are left out
    (and the returned figure's ``codes_left_out`` attribute lists them); cities of
    ``cities`` without any segment keep an empty column. Column labels give each city's
    number of coded segments.
    """
    viz.use_theme()
    groups = city_groups(cities)
    codes = _codes_in_order(codebook, dimensions)
    matrix = counts.pivot_table(index="code", columns="city_id", values="n_segments", aggfunc="sum").reindex(
        index=codes, columns=groups["city_id"]).fillna(0).astype(int)
    totals = counts.groupby("code")["n_segments"].sum().reindex(codes).fillna(0)
    left_out = [c for c in codes if totals[c] < min_segments]
    codes = [c for c in codes if c not in left_out]
    matrix = matrix.loc[codes]
    city_n = counts.drop_duplicates("city_id").set_index("city_id")["n_city_segments"].reindex(groups["city_id"]).fillna(0).astype(int)
    n_rows, n_cols = matrix.shape
    fig, ax = plt.subplots(figsize=(2.6 + 0.24 * n_cols, 2.0 + 0.2 * n_rows))
    values = matrix.to_numpy(dtype=float)
    vmax = max(1.0, float(values.max()))
    ax.imshow(np.where(values > 0, values, np.nan), cmap=COUNT_CMAP, vmin=0, vmax=vmax, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            if values[i, j] > 0:
                ax.text(j, i, str(int(values[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] > 0.55 * vmax else "black")
    ax.set_xticks(range(n_cols), [f"{n} ({k})" for n, k in zip(groups["name"], city_n)], rotation=90, fontsize=8.5)
    ax.set_yticks(range(n_rows), [short_code(c) for c in codes], fontsize=8.5)
    ax.tick_params(axis="y", pad=14, length=0)
    for i, code in enumerate(codes):
        letter, colour = POLE_MARKS[codebook.codes[code].pole]
        ax.text(-0.9, i, letter, ha="center", va="center", fontsize=8, fontweight="bold", color=colour, clip_on=False)
    ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
    ax.grid(which="minor", color="#E6E6E6", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    for label, first, last in _group_spans(groups["group"].tolist()):
        if first:
            ax.axvline(first - 0.5, color="black", linewidth=1.1)
        narrow = last == first  # a one-column group: its label starts at the column and runs right
        short = {"US comparison": "US\ncities"}.get(label, label.replace(" cluster", "").replace(" ", "\n"))
        ax.text(first - 0.45 if narrow else (first + last) / 2, -0.8, short,
                ha="left" if narrow else "center", va="bottom", fontsize=7.5, style="italic", clip_on=False)
    dims = [codebook.codes[c].dimension for c in codes]
    for dim, first, last in _group_spans(dims):
        if first:
            ax.axhline(first - 0.5, color="black", linewidth=1.1)
        ax.text(n_cols - 0.3, (first + last) / 2, _dimension_name(codebook, dim, wrap=11),
                ha="left", va="center", fontsize=9, fontweight="bold", color=codebook.dimension(dim).color, clip_on=False)
    ax.set_xlabel("City (number of coded segments naming it); grouped by the 2024 report's cluster")
    ax.set_ylabel("Code (V vertical pole, H horizontal pole, · neutral)")
    ax.set_title(title, pad=34)
    fig.tight_layout()
    fig.codes_left_out = left_out
    return fig


# ---------------------------------------------------------------- co-occurrence


def _pole_codes(table: pd.DataFrame, codebook: Codebook, poles: Sequence[str]) -> list[str]:
    present = set(table["code_a"]) | set(table["code_b"])
    ordered = []
    for pole in poles:
        ordered += [c for c, code in codebook.codes.items() if code.pole == pole and c in present]
    return ordered


def pole_block_summary(table: pd.DataFrame, codebook: Codebook, poles: Sequence[str] = ("vertical", "horizontal")) -> pd.DataFrame:
    """How often codes of each pair of poles meet in one segment.

    ``table`` is :func:`hotlines.coding.queries.cooccurrence`. One row per unordered pair
    of poles (``vertical``–``vertical``, ``vertical``–``horizontal``, ...): ``n_pairs``
    (distinct code pairs, each code applied somewhere), ``n_pairs_meeting`` (pairs that
    share at least one segment), ``n_segment_pairs`` (sum of ``n_both`` over the pairs)
    and ``mean_jaccard``.

    >>> from hotlines.coding.codebook import Codebook
    >>> book = Codebook.from_dict({"codebook": {"dimensions": [{"id": "x", "codes": [
    ...     {"id": "x.v", "pole": "vertical"}, {"id": "x.w", "pole": "vertical"}, {"id": "x.h", "pole": "horizontal"}]}]}})
    >>> t = pd.DataFrame({"code_a": ["x.v", "x.w", "x.v", "x.h", "x.w", "x.h"], "code_b": ["x.w", "x.v", "x.h", "x.v", "x.h", "x.w"],
    ...                   "n_both": [1, 1, 0, 0, 0, 0], "jaccard": [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]})
    >>> pole_block_summary(t, book)[["poles", "n_pairs", "n_pairs_meeting"]].values.tolist()
    [['vertical–vertical', 1, 1], ['vertical–horizontal', 2, 0], ['horizontal–horizontal', 0, 0]]
    """
    pole_of = {c: codebook.codes[c].pole for c in codebook.codes}
    frame = table[table["code_a"] < table["code_b"]].copy()  # each unordered pair once
    frame["pole_a"] = frame["code_a"].map(pole_of)
    frame["pole_b"] = frame["code_b"].map(pole_of)
    rows = []
    for i, first in enumerate(poles):
        for second in poles[i:]:
            block = frame[((frame.pole_a == first) & (frame.pole_b == second)) | ((frame.pole_a == second) & (frame.pole_b == first))]
            rows.append({
                "poles": f"{first}–{second}",
                "n_pairs": len(block),
                "n_pairs_meeting": int((block["n_both"] > 0).sum()),
                "n_segment_pairs": int(block["n_both"].sum()),
                "mean_jaccard": float(block["jaccard"].mean()) if len(block) else np.nan,
            })
    return pd.DataFrame(rows)


def cooccurrence_heatmap(
    table: pd.DataFrame,
    codebook: Codebook,
    *,
    poles: Sequence[str] = ("vertical", "horizontal"),
    title: str = "Which pole-bearing codes meet in one segment",
):
    """Lower triangle of the Jaccard index between codes of the chosen poles.

    ``table`` is :func:`hotlines.coding.queries.cooccurrence`. Codes are grouped by pole
    (vertical, then horizontal); a cell prints the Jaccard index (segments carrying both
    codes over segments carrying either) where it is above zero. Each code's name stands
    beside its diagonal cell, which prints its number of segments: a cell's row is named
    at the right end of the row, its column at the top of the column.
    """
    viz.use_theme()
    codes = _pole_codes(table, codebook, poles)
    square = table.pivot(index="code_a", columns="code_b", values="jaccard").reindex(index=codes, columns=codes)
    sizes = table.drop_duplicates("code_a").set_index("code_a")["n_a"]
    n = len(codes)
    values = square.to_numpy(dtype=float)
    lower = np.tril(np.ones((n, n), dtype=bool), k=-1)
    shown = np.where(lower & (values > 0), values, np.nan)
    vmax = max(0.05, float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.05)
    labels = [f"{short_code(c)} [{POLE_MARKS[codebook.codes[c].pole][0]}]" for c in codes]
    cell = 0.27  # inches per cell
    char = 0.068  # inches per character of a 9-point label, a generous estimate
    right = max(i + 0.7 + len(label) * char / cell for i, label in enumerate(labels)) if n else 0.0
    width_cells = max(n - 0.5, right) + 0.5
    fig, ax = plt.subplots(figsize=(0.6 + cell * width_cells, 1.3 + cell * n))
    image = ax.imshow(shown, cmap=COUNT_CMAP, vmin=0, vmax=vmax, aspect="auto")
    diagonal = np.where(np.eye(n, dtype=bool), 1.0, np.nan)
    ax.imshow(diagonal, cmap=LinearSegmentedColormap.from_list("diag", ["#EEEEEE", "#EEEEEE"]), aspect="auto")
    for i in range(n):
        ax.text(i, i, str(int(sizes[codes[i]])), ha="center", va="center", fontsize=8, color="#333333", style="italic")
        ax.text(i + 0.7, i, labels[i], ha="left", va="center", fontsize=9)
        for j in range(i):
            if lower[i, j] and values[i, j] > 0:
                ax.text(j, i, f"{values[i, j]:.2f}".lstrip("0"), ha="center", va="center", fontsize=7.5,
                        color="white" if values[i, j] > 0.6 * vmax else "black")
    # a faint grid on the lower triangle only: one line per row and column, stopping at the diagonal
    grid = [[(-0.5, k - 0.5), (k - 0.5, k - 0.5)] for k in range(1, n + 1)] + [[(k - 0.5, k - 0.5), (k - 0.5, n - 0.5)] for k in range(n)]
    ax.add_collection(LineCollection(grid, colors="#E6E6E6", linewidths=0.5))
    pole_of = [codebook.codes[c].pole for c in codes]
    for pole, first, last in _group_spans(pole_of):
        if first:
            ax.plot([first - 0.5, first - 0.5], [first - 0.5, n - 0.5], color="black", linewidth=1.1)
            ax.plot([-0.5, first - 0.5], [first - 0.5, first - 0.5], color="black", linewidth=1.1)
    ax.set_xlim(-0.5, width_cells - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title)
    inset = ax.inset_axes([0.66, 0.9, 0.3, 0.025])
    bar = fig.colorbar(image, cax=inset, orientation="horizontal")
    bar.set_label("Jaccard index (segments with both codes / with either)", fontsize=8.5)
    bar.ax.tick_params(labelsize=8)
    ax.text(0.66, 0.8, "diagonal (grey): segments carrying the code\n[V] vertical pole, [H] horizontal pole",
            transform=ax.transAxes, fontsize=8.5, va="top", ha="left")
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.1 / height, top=1 - 0.55 / height)
    return fig


# ---------------------------------------------------------------- reliability


def _interval(row) -> str:
    if pd.isna(row["estimate"]):
        return "undefined"
    if pd.isna(row["ci_low"]):
        return f"{row['estimate']:.2f}"
    return f"{row['estimate']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def _applications(row) -> int:
    """Positive ratings over coders, from the binary presence table's prevalence."""
    return int(round(row["prevalence"] * row["n_units"] * row["n_coders"]))


def reliability_forest(
    table: pd.DataFrame,
    codebook: Codebook,
    *,
    measure: str = "krippendorff_alpha",
    threshold: float | None = 0.70,
    threshold_label: str = "codebook's revision threshold",
    title: str = "Agreement per code between the two independent passes",
):
    """Per-code estimate with its bootstrap interval, sorted, coloured by dimension.

    ``table`` is :func:`hotlines.coding.reliability.reliability` with ``variable="presence"``
    (its ``code`` rows are drawn; an ``overall`` row, if present, is drawn as a dashed
    line). Codes whose estimate is undefined are listed at the bottom. The right margin
    prints how often the coders applied each code (sum over coders).
    """
    viz.use_theme()
    rows = table[(table["scope"] == "code") & (table["measure"] == measure)].copy()
    if rows.empty:
        raise ValueError(f"the table has no code-level rows of measure {measure!r}")
    dim_order = {d.id: i for i, d in enumerate(codebook.dimensions)}
    rows["dimension"] = rows["scope_id"].map(lambda c: codebook.codes[c].dimension)
    rows["_dim"] = rows["dimension"].map(dim_order)
    rows["_undefined"] = rows["estimate"].isna()
    rows = rows.sort_values(["_undefined", "estimate", "ci_low", "_dim", "scope_id"], ascending=[True, False, False, True, True],
                            kind="stable").reset_index(drop=True)
    n = len(rows)
    fig, ax = plt.subplots(figsize=(7.0, 0.155 * n + 1.9))
    y = np.arange(n)
    lows = rows["ci_low"].to_numpy(dtype=float)
    for i, row in rows.iterrows():
        colour = codebook.dimension(row["dimension"]).color
        if not row["_undefined"]:
            if not np.isnan(row["ci_low"]):
                ax.plot([row["ci_low"], row["ci_high"]], [i, i], color=colour, linewidth=1.8, solid_capstyle="butt")
            ax.plot(row["estimate"], i, "o", color=colour, markersize=5, markeredgecolor="black", markeredgewidth=0.4)
    finite = np.concatenate([lows[np.isfinite(lows)], rows["estimate"].dropna().to_numpy(dtype=float)])
    floor = min([float(finite.min())] if len(finite) else [0.0]) - 0.05
    if threshold is not None:
        floor = min(floor, threshold - 0.05)
    xmin = max(-1.0, float(np.floor(floor * 10) / 10))
    for i, row in rows.iterrows():
        if row["_undefined"]:
            ax.text(xmin + 0.01, i, "undefined (no variation)", va="center", fontsize=8, style="italic")
        ax.text(1.03, i, str(_applications(row)), va="center", ha="left", fontsize=8, transform=ax.get_yaxis_transform())
    ax.text(1.03, -0.7, "applied\n(A + B)", va="bottom", ha="left", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, [short_code(c) for c in rows["scope_id"]], fontsize=8.5)
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xlim(xmin, 1.02)
    handles = [Line2D([], [], color=codebook.dimension(d).color, marker="o", linewidth=1.8, markeredgecolor="black",
                      markeredgewidth=0.4, label=_dimension_name(codebook, d))
               for d in dict.fromkeys(rows.sort_values("_dim")["dimension"])]
    overall = table[(table["scope"] == "overall") & (table["measure"] == measure)]
    if len(overall) and pd.notna(overall["estimate"].iloc[0]):
        value = float(overall["estimate"].iloc[0])
        ax.axvline(value, color="#444444", linestyle="--", linewidth=0.9)
        handles.append(Line2D([], [], color="#444444", linestyle="--", label=f"all codes pooled ({value:.2f})"))
    if threshold is not None:
        ax.axvline(threshold, color=C["vermillion"], linestyle=":", linewidth=1.3)
        handles.append(Line2D([], [], color=C["vermillion"], linestyle=":", label=f"{threshold_label} ({threshold:.2f})"))
    n_boot = int(rows["n_boot"].max()) if "n_boot" in rows and rows["n_boot"].notna().any() else 0
    level = float(rows["ci_level"].dropna().iloc[0]) if "ci_level" in rows and rows["ci_level"].notna().any() else 0.95
    name = {"krippendorff_alpha": "Krippendorff's α (nominal)", "cohen_kappa": "Cohen's κ", "fleiss_kappa": "Fleiss' κ",
            "percent_agreement": "Percent agreement (share of segments)"}.get(measure, measure)
    ax.set_xlabel(f"{name} on code presence (unitless; 1 = perfect agreement)\n"
                  f"bars: {level:.0%} percentile bootstrap intervals, {n_boot:,} resamples of segments")
    ax.set_ylabel("Code (sorted by estimate)")
    ax.set_title(title, pad=22)
    ax.legend(handles=handles, loc="upper left", frameon=True, framealpha=0.95, fontsize=8.5)
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.6)
    fig.tight_layout()
    return fig


def dimension_reliability_table(presence: pd.DataFrame, pole: pd.DataFrame, codebook: Codebook,
                                measure: str = "krippendorff_alpha") -> pd.DataFrame:
    """Agreement overall and per dimension, for display: code presence and pole side by side.

    ``presence`` and ``pole`` are :func:`hotlines.coding.reliability.reliability` with
    ``variable="presence"`` and ``variable="pole"``. Columns: ``Dimension``, ``Codes``,
    ``Applied (A + B)``, the estimate with its interval for both variables, and the
    percent agreement on the pole.
    """
    def pick(frame, scope, scope_id, what=measure):
        row = frame[(frame["scope"] == scope) & (frame["scope_id"] == scope_id) & (frame["measure"] == what)]
        if row.empty:
            raise ValueError(f"no {what} row for {scope} {scope_id!r}")
        return row.iloc[0]

    name = {"krippendorff_alpha": "α", "cohen_kappa": "Cohen's κ", "fleiss_kappa": "Fleiss' κ"}.get(measure, measure)
    rows = []
    for scope, scope_id, label, n_codes in [("overall", "all", "All dimensions", len(codebook.codes))] + [
        ("dimension", d.id, _dimension_name(codebook, d.id), len(d.codes)) for d in codebook.dimensions
    ]:
        p = pick(presence, scope, scope_id)
        q = pick(pole, scope, scope_id)
        agree = pick(pole, scope, scope_id, "percent_agreement")
        rows.append({
            "Dimension": label,
            "Codes": n_codes,
            "Applied (A + B)": _applications(p),
            f"{name}, code presence [95% CI]": _interval(p),
            f"{name}, pole [95% CI]": _interval(q),
            "Same pole (%)": f"{100 * agree['estimate']:.1f}",
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- disagreements and reconciliation


def _decided(disagreements: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    keys = ["segment_id", "code"]
    merged = disagreements.merge(decisions[[*keys, "decision", "reason"]], on=keys, how="left", validate="one_to_one")
    missing = merged[merged["decision"].isna()]
    if len(missing):
        first = missing.iloc[0]
        raise ValueError(f"reconciliation_decisions.csv: no decision for the disagreement ({first['segment_id']}, {first['code']}); "
                         f"{len(missing)} disagreement(s) undecided")
    return merged


def disagreement_counts(disagreements: pd.DataFrame, decisions: pd.DataFrame, codebook: Codebook,
                        coders: tuple[str, str] = ("coder_a", "coder_b"), min_count: int = 2) -> pd.DataFrame:
    """Disagreements per code and how the reconciliation settled them, for display.

    ``disagreements`` is :func:`hotlines.coding.reliability.disagreements` for the two
    ``coders``; ``decisions`` is ``reconciliation_decisions.csv``. One row per code with
    at least ``min_count`` disagreements (most first), then one row for the other codes
    together and a total row. Columns: ``Code``, ``Dimension``, ``Disagreements``,
    ``Applied by A only``, ``Applied by B only``, ``Settled: apply``, ``Settled: not``.
    A disagreement without a decision is an error.
    """
    merged = _decided(disagreements, decisions)
    a, b = coders
    merged["by_a"] = merged["applied_by"] == a
    merged["by_b"] = merged["applied_by"] == b
    per_code = merged.groupby("code").agg(
        n=("segment_id", "size"), by_a=("by_a", "sum"), by_b=("by_b", "sum"),
        apply=("decision", lambda s: int((s == "apply").sum())), refuse=("decision", lambda s: int((s == "do not apply").sum())),
    )
    order = {c: i for i, c in enumerate(codebook.codes)}
    per_code = per_code.assign(_order=per_code.index.map(order)).sort_values(["n", "_order"], ascending=[False, True])
    shown, rest = per_code[per_code["n"] >= min_count], per_code[per_code["n"] < min_count]

    def row(label, dimension, frame):
        return {"Code": label, "Dimension": dimension, "Disagreements": int(frame["n"].sum()),
                "Applied by A only": int(frame["by_a"].sum()), "Applied by B only": int(frame["by_b"].sum()),
                "Settled: apply": int(frame["apply"].sum()), "Settled: not": int(frame["refuse"].sum())}

    rows = [row(short_code(c), codebook.codes[c].dimension, per_code.loc[[c]]) for c in shown.index]
    if len(rest):
        rows.append(row(f"{len(rest)} other codes (fewer than {min_count} each)", "", rest))
    rows.append(row("**All codes**", "", per_code))
    return pd.DataFrame(rows)


def reconciliation_summary(disagreements: pd.DataFrame, decisions: pd.DataFrame, codings: pd.DataFrame,
                           coders: tuple[str, str] = ("coder_a", "coder_b")) -> pd.DataFrame:
    """One row counting how the reconciliation settled the two passes.

    Columns: ``n_disagreements``, ``n_segments`` (segments with at least one),
    ``n_apply``, ``n_do_not_apply``, ``n_sided_with_a`` / ``n_sided_with_b`` (the decision
    agrees with that coder's reading), ``n_agreed_removed`` (decisions removing a code
    both coders applied), ``n_added`` (decisions applying a code neither applied) and
    ``n_decisions`` (rows of ``decisions``).

    >>> dis = pd.DataFrame({"segment_id": ["S1", "S2"], "code": ["x.p", "x.q"], "applied_by": ["a", "b"]})
    >>> dec = pd.DataFrame({"segment_id": ["S1", "S2"], "code": ["x.p", "x.q"], "decision": ["apply", "apply"], "reason": ["", ""]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S2"], "coder": ["a", "b"], "code": ["x.p", "x.q"]})
    >>> reconciliation_summary(dis, dec, cod, coders=("a", "b"))[["n_sided_with_a", "n_sided_with_b"]].values.tolist()
    [[1, 1]]
    """
    merged = _decided(disagreements, decisions)
    a, b = coders
    applied = merged["decision"] == "apply"
    with_a = (applied & (merged["applied_by"] == a)) | (~applied & (merged["applied_by"] == b))
    keys = set(zip(merged["segment_id"], merged["code"]))
    extra = decisions[[(s, c) not in keys for s, c in zip(decisions["segment_id"], decisions["code"])]]
    given = {coder: set(zip(g["segment_id"], g["code"])) for coder, g in codings[codings["code"] != NONE_CODE].groupby("coder")}
    both = given.get(a, set()) & given.get(b, set())
    either = given.get(a, set()) | given.get(b, set())
    extra_keys = list(zip(extra["segment_id"], extra["code"]))
    return pd.DataFrame([{
        "n_disagreements": len(merged),
        "n_segments": int(merged["segment_id"].nunique()),
        "n_apply": int(applied.sum()),
        "n_do_not_apply": int((~applied).sum()),
        "n_sided_with_a": int(with_a.sum()),
        "n_sided_with_b": int((~with_a).sum()),
        "n_agreed_removed": sum(1 for k, d in zip(extra_keys, extra["decision"]) if d == "do not apply" and k in both),
        "n_added": sum(1 for k, d in zip(extra_keys, extra["decision"]) if d == "apply" and k not in either),
        "n_decisions": len(decisions),
    }])


def clarifications_cited(reason) -> str:
    """The clarification ids a decision's reason cites, in order, ``;``-joined (``C1;C4``).

    >>> clarifications_cited("bare routing verbs are dispatch_unspecified (clarification C1; C12)")
    'C1;C12'
    """
    if reason is None or (not isinstance(reason, str) and pd.isna(reason)):
        return ""
    return ";".join(dict.fromkeys(f"C{m}" for m in _CLARIFICATION.findall(str(reason))))


def _coder_view(rows: pd.DataFrame, coder: str, code: str, dimension_of, memo_chars: int) -> str:
    mine = rows[rows["coder"] == coder]
    if code in set(mine["code"]):
        return shorten_memo(mine.loc[mine["code"] == code, "memo"].iloc[0], limit=memo_chars)
    dimension = dimension_of(code)
    instead = mine[mine["code"].map(lambda c: c != NONE_CODE and dimension_of(c) == dimension)]
    if instead.empty:
        memo = mine.loc[mine["code"] == NONE_CODE, "memo"]
        return "(no code of this dimension)" + (f" {shorten_memo(memo.iloc[0], limit=memo_chars)}" if len(memo) else "")
    first = instead.iloc[0]
    return f"*instead {short_code(first['code'])}*: {shorten_memo(first['memo'], limit=memo_chars)}"


def disagreement_examples(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    decisions: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    codebook: Codebook,
    *,
    coders: tuple[str, str] = ("coder_a", "coder_b"),
    passage_chars: int = 110,
    memo_chars: int = 150,
) -> pd.DataFrame:
    """Chosen disagreements with the passage, both coders' memos (shortened) and the decision.

    ``pairs`` are (segment_id, code). For a coder who did not apply the code, the memo on
    the code it gave instead in the same dimension is shown (marked *instead*), or that it
    gave none. Columns: ``Segment, code``, ``Passage``, ``Coder A``, ``Coder B``,
    ``Decision``. A pair that is not a disagreement between the two coders is an error.
    """
    dimension_of = lambda c: codebook.codes[c].dimension  # noqa: E731
    passages = segments.assign(segment_id=segments["segment_id"].astype(str)).set_index("segment_id")["passage"]
    decided = decisions.set_index(["segment_id", "code"])
    a, b = coders
    rows = []
    for segment_id, code in pairs:
        here = codings[(codings["segment_id"].astype(str) == segment_id) & codings["coder"].isin(coders)]
        applied = {c for c in coders if code in set(here.loc[here["coder"] == c, "code"])}
        if len(applied) != 1:
            raise ValueError(f"({segment_id}, {code}) is not a disagreement between {a} and {b}")
        if (segment_id, code) not in decided.index:
            raise ValueError(f"reconciliation_decisions.csv: no decision for ({segment_id}, {code})")
        decision = decided.loc[(segment_id, code)]
        cited = clarifications_cited(decision["reason"])
        rows.append({
            "Segment, code": f"{segment_id}: {short_code(code)}",
            "Passage": _truncate(passages[segment_id], passage_chars),
            "Coder A": _coder_view(here, a, code, dimension_of, memo_chars),
            "Coder B": _coder_view(here, b, code, dimension_of, memo_chars),
            "Decision": decision["decision"] + (f" ({cited.replace(';', ', ')})" if cited else ""),
        })
    return pd.DataFrame(rows)


def clarification_table(codebook: Codebook) -> pd.DataFrame:
    """The decision-rule clarifications of the codebook, one row each.

    Columns: ``Id``, ``Clarification`` (its title), ``Codes`` (how many codes it
    concerns), ``Segments`` (how many segments motivated it). Empty when the codebook
    has none.
    """
    rules = ((codebook.meta.get("clarifications") or {}).get("rules")) or []
    return pd.DataFrame(
        [{"Id": r.get("id", ""), "Clarification": r.get("title", ""), "Codes": len(r.get("codes") or []),
          "Segments": len(r.get("motivated_by") or [])} for r in rules],
        columns=["Id", "Clarification", "Codes", "Segments"],
    )


# ---------------------------------------------------------------- exchange and retrieval


def _same_rows(before: pd.DataFrame, after: pd.DataFrame, key: list[str]) -> bool:
    """Same columns and, sorted by ``key``, the same cells (missing equals missing)."""
    if list(before.columns) != list(after.columns) or len(before) != len(after):
        return False

    def norm(frame):
        text = frame.astype(object).where(frame.notna(), "").astype(str)
        return text.sort_values(key, kind="stable").reset_index(drop=True)

    return norm(before).equals(norm(after))


def exchange_table(codebook: Codebook, repository: dict, exported: dict, project) -> pd.DataFrame:
    """What went out to REFI-QDA and what came back, table by table.

    ``repository``: the corpus tables as read (``segments``, ``codings``, ``coders``);
    ``exported``: the tables handed to :func:`hotlines.coding.refi.export_project`;
    ``project``: :func:`hotlines.coding.refi.import_project` of the file written. Columns:
    ``What``, ``In the repository``, ``Exported``, ``Imported back``, ``Identical``
    (imported rows equal the exported rows, order aside). A column the exchange has no
    place for (``codings.city_id``) gets its own row, so that its loss is shown.
    """
    rows = [{
        "What": "codebook: dimensions / codes",
        "In the repository": f"{len(codebook.dimensions)} / {len(codebook.codes)}",
        "Exported": f"{len(codebook.dimensions)} / {len(codebook.codes)}",
        "Imported back": f"{len(project.codebook.dimensions)} / {len(project.codebook.codes)}",
        "Identical": "yes" if project.codebook == codebook else "no",
    }]
    keys = {"segments": ["segment_id"], "codings": ["segment_id", "coder", "code"], "coders": ["coder"]}
    for name, key in keys.items():
        back = getattr(project, name)
        rows.append({
            "What": name, "In the repository": len(repository[name]), "Exported": len(exported[name]),
            "Imported back": len(back), "Identical": "yes" if _same_rows(exported[name], back, key) else "no",
        })
    for name, frame in repository.items():
        for column in frame.columns:
            if column not in exported[name].columns:
                rows.append({
                    "What": f"{name}.{column} (filled cells)", "In the repository": int(frame[column].notna().sum()),
                    "Exported": 0, "Imported back": 0, "Identical": "not carried",
                })
    return pd.DataFrame(rows)


def passage_table(retrieved: pd.DataFrame, cities: pd.DataFrame | None = None, passage_chars: int = 170,
                  limit: int | None = None) -> pd.DataFrame:
    """Retrieved segments for display: ``Segment``, ``Cities``, ``Passage`` (cut), ``Codes`` (short names).

    ``retrieved`` is :func:`hotlines.coding.queries.retrieve`; city ids become names when
    ``cities`` is given; ``limit`` keeps the first rows.
    """
    names = dict(zip(cities["city_id"], cities["name"])) if cities is not None else {}
    frame = retrieved if limit is None else retrieved.head(limit)
    return pd.DataFrame({
        "Segment": frame["segment_id"].astype(str).tolist(),
        "Cities": [", ".join(str(names.get(c, c)) for c in split_ids(v)) for v in frame["cities"]],
        "Passage": [_truncate(p, passage_chars) for p in frame["passage"]],
        "Codes": ["; ".join(short_code(c) for c in split_ids(v)) for v in frame["codes"]],
    })
