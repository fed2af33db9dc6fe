"""Figures and display tables of the city modes, and the sensitivity runs behind them.

The scoring itself is :mod:`hotlines.coding.modes`; this module runs it under a set of
alternative choices (:class:`ModeVariant`), counts what moves, counts what each city's
modes rest on, sets the modes beside the 2024 report's typologies, and draws and
tabulates the results in the book's theme (:mod:`hotlines.viz`). Every function takes
tidy tables (the output of :func:`~hotlines.coding.modes.city_modes` or
:func:`~hotlines.coding.modes.segment_evidence`, ``cities.csv``, ``segments.csv``)
and returns a tidy table or a Figure. Nothing here is simulated or resampled.

>>> from hotlines.coding.mode_figures import change_kind
>>> change_kind("vertical", "insufficient evidence")
'to insufficient evidence'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd

from .. import viz
from .modes import DIMENSIONS, INSUFFICIENT, ModeRule, city_modes, mode_sensitivity, segment_evidence

#: Seed 000 (Yan, Zheng & Meng 2025), the source of Table 1.
SEED_000 = "000_8b5fa105864a0e27.txt"
#: Seed 001, the 2024 evaluation report.
REPORT_FILE = "001_212ff069a1d05327.txt"
#: The report's Chapter 5, "Case Studies of City Hotlines around the Globe": its heading is
#: line 807 of the seed and Chapter 6 begins at line 1931.
REPORT_CASE_STUDY_LINES = (807, 1930)
#: The report's typology section, Chapter 3 part III "Characteristic Identification": its heading is
#: line 508 and Chapter 4 begins at line 583. It names the example cities of each type.
REPORT_TYPOLOGY_LINES = (508, 582)

MODE_ORDER = ("vertical", "mixed", "horizontal", INSUFFICIENT)
#: Blue and orange poles with grey between them (Okabe–Ito); insufficient evidence is white and hatched.
MODE_COLORS = {
    "vertical": viz.OKABE_ITO["blue"],
    "mixed": viz.OKABE_ITO["grey"],
    "horizontal": viz.OKABE_ITO["orange"],
    INSUFFICIENT: "#FFFFFF",
}
INSUFFICIENT_HATCH = "///"
CONFIDENCE_LETTERS = {"high": "H", "medium": "M", "low": "L"}
#: Mark of a score that rests on multi-city statements only (grade B).
GRADE_B_MARK = "*"

CHANGE_KINDS = ("pole reversed", "to or from mixed", "to insufficient evidence", "from insufficient evidence")
CHANGE_COLORS = {
    "pole reversed": viz.OKABE_ITO["vermillion"],
    "to or from mixed": viz.OKABE_ITO["reddish_purple"],
    "to insufficient evidence": viz.OKABE_ITO["sky_blue"],
    "from insufficient evidence": viz.OKABE_ITO["bluish_green"],
}

#: Known values of the report's typologies, in the order the book shows them.
TYPOLOGY_VALUES = {
    "cluster": ["integrative", "distinctive", "innovative", "inclusive"],
    "driven_supportive": ["hotline-driven", "supportive"],
    "integrated_distributed": ["integrated", "distributed"],
    "empowerment": ["governance", "service"],
}
TYPOLOGY_NAMES = {
    "cluster": "Cluster",
    "driven_supportive": "Driven / supportive",
    "integrated_distributed": "Integrated / distributed",
    "empowerment": "Empowerment",
}
NOT_STATED = "not stated"


# ---------------------------------------------------------------- cities and groups


def city_groups(cities: pd.DataFrame) -> pd.DataFrame:
    """The cities in the book's order with the group they are shown in.

    Evaluated cities by the report's cluster (then by name), the US comparison cities,
    then coding cases. Columns: city_id, city (name), group (a cluster name,
    ``US comparison`` or ``coding case``), role.

    >>> import pandas as pd
    >>> c = pd.DataFrame({"city_id": ["x", "b", "a"], "name": ["X", "B", "A"],
    ...                   "role": ["coding_case", "evaluated", "evaluated"],
    ...                   "cluster": [None, "inclusive", "integrative"]})
    >>> city_groups(c)[["city_id", "group"]].values.tolist()
    [['a', 'integrative'], ['b', 'inclusive'], ['x', 'coding case']]
    """
    from ..data.evidence import city_order

    by_id = cities.set_index("city_id")
    order = city_order(cities)
    other = by_id["role"].map({"us_comparison": "US comparison", "coding_case": "coding case"})
    group = by_id["cluster"].astype(object).where(by_id["role"] == "evaluated", other).fillna("not clustered")
    return pd.DataFrame(
        {
            "city_id": order,
            "city": [str(by_id.loc[c, "name"]) for c in order],
            "group": [str(group[c]) for c in order],
            "role": [str(by_id.loc[c, "role"]) for c in order],
        }
    )


def _names(cities: pd.DataFrame) -> dict[str, str]:
    return dict(zip(cities["city_id"].astype(str), cities["name"].astype(str)))


def _cell_text(row) -> str:
    """H/M/L for a dimension cell (with * if only grade B); the dimensions scored for overall."""
    if row["dimension"] == "overall":
        return ""
    if row["mode"] == INSUFFICIENT or pd.isna(row["confidence"]):
        return ""
    mark = GRADE_B_MARK if row["evidence_grade"] == "B" else ""
    return CONFIDENCE_LETTERS[str(row["confidence"])] + mark


def dimensions_scored(modes: pd.DataFrame) -> pd.Series:
    """Per city, how many of the three dimensions have a score (not insufficient evidence)."""
    dims = modes[modes["dimension"].isin(DIMENSIONS)]
    return dims.assign(scored=dims["mode"] != INSUFFICIENT).groupby("city_id", sort=False)["scored"].sum().astype(int)


# ---------------------------------------------------------------- the grid of modes


def mode_grid_figure(modes: pd.DataFrame, cities: pd.DataFrame,
                     title: str = "Vertical and horizontal: the mode of every city and dimension"):
    """City × dimension grid coloured by mode, with the confidence of each score.

    ``modes`` is :func:`~hotlines.coding.modes.city_modes` (one row per city and
    dimension, ``overall`` included). Cells print H, M or L (confidence), with ``*``
    when the score rests on multi-city statements only; an overall cell prints how many
    dimensions were scored. Insufficient evidence is white and hatched. Cities are
    grouped as in :func:`city_groups`. Each cell is a Rectangle whose ``gid`` is
    ``"<city_id>|<dimension>"``.
    """
    from matplotlib.patches import Patch, Rectangle

    viz.use_theme()
    groups = city_groups(cities)
    groups = groups[groups["city_id"].isin(set(modes["city_id"].astype(str)))].reset_index(drop=True)
    columns = [*DIMENSIONS, "overall"]
    by_cell = modes.assign(city_id=modes["city_id"].astype(str)).set_index(["city_id", "dimension"])
    scored = dimensions_scored(modes.assign(city_id=modes["city_id"].astype(str)))

    n_rows = len(groups)
    # rows kept short so that the figure and its caption fit one PDF page
    fig, ax = plt.subplots(figsize=(7.8, 0.26 * n_rows + 2.3))
    for i, city in enumerate(groups["city_id"]):
        for j, dimension in enumerate(columns):
            row = {**by_cell.loc[(city, dimension)].to_dict(), "dimension": dimension}
            mode = str(row["mode"])
            insufficient = mode == INSUFFICIENT
            # a gap sets the overall column apart from the three dimensions
            x = j + (0.25 if dimension == "overall" else 0.0)
            ax.add_patch(Rectangle(
                (x - 0.5, i - 0.5), 1, 1, facecolor=MODE_COLORS[mode], edgecolor="white", linewidth=1.5,
                hatch=INSUFFICIENT_HATCH if insufficient else None, hatchcolor="#8C8C8C", gid=f"{city}|{dimension}",
            ))
            if dimension == "overall":
                text = "" if insufficient else f"{int(scored.get(city, 0))}/3"
            else:
                text = _cell_text(row)
            if text:
                ax.text(x, i, text, ha="center", va="center", fontsize=9.5, fontweight="bold",
                        color="white" if mode == "vertical" else "black")
    ax.set_xlim(-0.5, len(columns) - 0.25)
    ax.set_ylim(n_rows - 0.5, -0.5)
    xs = [j + (0.25 if c == "overall" else 0.0) for j, c in enumerate(columns)]
    ax.set_xticks(xs, [c.capitalize() for c in columns])
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("Dimension of collaboration (letter: confidence of the score)")
    ax.set_yticks(range(n_rows), groups["city"].tolist())
    ax.set_ylabel("City (grouped by the 2024 report's cluster)")
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)

    labels = groups["group"].tolist()
    starts = [i for i in range(len(labels)) if i == 0 or labels[i] != labels[i - 1]]
    for k, first in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else len(labels)) - 1
        if first:
            ax.plot([-0.5, len(columns) - 0.25], [first - 0.5, first - 0.5], color="black", linewidth=1.2)
        group = labels[first]
        label = f"{group}\ncluster" if group in TYPOLOGY_VALUES["cluster"] else group
        if last == first:  # a one-row group keeps its label on one line
            label = label.replace("\n", " ")
        else:
            label = label.replace(" ", "\n", 1) if "\n" not in label else label
        ax.text(len(columns) - 0.1, (first + last) / 2, label, ha="left", va="center",
                fontsize=9, style="italic", clip_on=False, linespacing=1.1)
    ax.set_title(title, pad=12)
    handles = [
        Patch(facecolor=MODE_COLORS[m], edgecolor="#8C8C8C", hatch=INSUFFICIENT_HATCH if m == INSUFFICIENT else None,
              label=m)
        for m in MODE_ORDER
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005), ncol=4, frameon=False,
              handlelength=1.6, columnspacing=1.2, alignment="center", title_fontsize=9,
              title="H, M, L: high, medium, low confidence;  * multi-city statements only (grade B);\n"
                    "overall: sign of the summed dimension scores, with the number of dimensions scored")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- tables of modes and evidence


def mode_table(modes: pd.DataFrame, cities: pd.DataFrame, first=("beijing", "new_york")) -> pd.DataFrame:
    """The modes of every city as a short display table (``first`` cities on top, then by group).

    Columns: City, Group, Leadership, Institution, Mechanism, Overall. A dimension cell
    reads ``mode (H/M/L)`` with ``*`` for multi-city statements only; insufficient
    evidence reads ``insufficient``.
    """
    groups = city_groups(cities)
    groups = groups[groups["city_id"].isin(set(modes["city_id"].astype(str)))]
    first = [c for c in first if c in set(groups["city_id"])]
    order = first + [c for c in groups["city_id"] if c not in first]
    groups = groups.set_index("city_id").loc[order]
    by_cell = modes.assign(city_id=modes["city_id"].astype(str)).set_index(["city_id", "dimension"])

    def cell(city, dimension):
        row = by_cell.loc[(city, dimension)]
        if row["mode"] == INSUFFICIENT:
            return "insufficient"
        if dimension == "overall":
            return str(row["mode"])
        mark = GRADE_B_MARK if row["evidence_grade"] == "B" else ""
        return f"{row['mode']} ({CONFIDENCE_LETTERS[str(row['confidence'])]}{mark})"

    return pd.DataFrame(
        {
            "City": groups["city"].tolist(),
            "Group": groups["group"].tolist(),
            **{d.capitalize(): [cell(c, d) for c in order] for d in [*DIMENSIONS, "overall"]},
        }
    )


def _best_grades(evidence: pd.DataFrame) -> pd.DataFrame:
    """One row per (city, segment) with the segment's best grade for the city over the dimensions."""
    rank = {"A": 0, "B": 1, "C": 2}
    return (
        evidence.assign(_rank=evidence["grade"].map(rank))
        .sort_values(["city_id", "segment_id", "_rank"], kind="stable")
        .drop_duplicates(["city_id", "segment_id"])
        .drop(columns="_rank")
    )


def in_report_case_studies(segments: pd.DataFrame) -> pd.Series:
    """True for segments from the report's Chapter 5 case studies (seed 001, lines 807–1930).

    >>> import pandas as pd
    >>> s = pd.DataFrame({"source": [REPORT_FILE, REPORT_FILE, SEED_000], "line": [806, 900, 900]})
    >>> in_report_case_studies(s).tolist()
    [False, True, False]
    """
    first, last = REPORT_CASE_STUDY_LINES
    line = pd.to_numeric(segments["line"], errors="coerce")
    return ((segments["source"].astype(str) == REPORT_FILE) & line.between(first, last)).fillna(False).astype(bool)


def in_report_typology_section(segments: pd.DataFrame) -> pd.Series:
    """True for segments from the report's typology section (seed 001, lines 508–582).

    >>> import pandas as pd
    >>> s = pd.DataFrame({"source": [REPORT_FILE, REPORT_FILE], "line": [550, 583]})
    >>> in_report_typology_section(s).tolist()
    [True, False]
    """
    first, last = REPORT_TYPOLOGY_LINES
    line = pd.to_numeric(segments["line"], errors="coerce")
    return ((segments["source"].astype(str) == REPORT_FILE) & line.between(first, last)).fillna(False).astype(bool)


def evidence_by_city(evidence: pd.DataFrame, segments: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """What each city's modes rest on: segments naming it, and its pole-bearing segments by grade.

    ``evidence`` is :func:`~hotlines.coding.modes.segment_evidence`. A segment counts once
    per city, under its best grade over the three dimensions (A before B before C).
    Columns: city_id, city, group, n_segments (segments naming the city, pole-bearing or
    not), n_pole_bearing, n_grade_a, n_grade_b, n_grade_c, n_report_case_studies
    (pole-bearing segments from the report's Chapter 5), n_sources (seed files among the
    pole-bearing segments), n_interview_backed.
    """
    from .corpus import segment_cities

    groups = city_groups(cities)
    naming = segment_cities(segments).groupby("city_id").size()
    best = _best_grades(evidence)
    case = set(segments.loc[in_report_case_studies(segments), "segment_id"].astype(str))
    best = best.assign(case=best["segment_id"].astype(str).isin(case))
    rows = []
    for city_id, city, group in zip(groups["city_id"], groups["city"], groups["group"]):
        own = best[best["city_id"] == city_id]
        rows.append(
            {
                "city_id": city_id,
                "city": city,
                "group": group,
                "n_segments": int(naming.get(city_id, 0)),
                "n_pole_bearing": len(own),
                "n_grade_a": int((own["grade"] == "A").sum()),
                "n_grade_b": int((own["grade"] == "B").sum()),
                "n_grade_c": int((own["grade"] == "C").sum()),
                "n_report_case_studies": int(own["case"].sum()),
                "n_sources": int(own["source"].nunique()),
                "n_interview_backed": int(own["interview_backed"].sum()),
            }
        )
    return pd.DataFrame(rows)


def evidence_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`evidence_by_city` with the book's column headings."""
    return pd.DataFrame(
        {
            "City": table["city"],
            "Segments naming it": table["n_segments"],
            "Grade A": table["n_grade_a"],
            "Grade B": table["n_grade_b"],
            "Grade C": table["n_grade_c"],
            "From report case studies": table["n_report_case_studies"],
            "Interview-backed": table["n_interview_backed"],
        }
    )


def passage_table(evidence: pd.DataFrame, segments: pd.DataFrame, sources: pd.DataFrame,
                  city: str, dimension: str) -> pd.DataFrame:
    """The pole-bearing passages of one city and dimension, with the pole each was coded for.

    Columns: segment_id, source_id (key of ``sources.csv``), line, informants, grade,
    pole (vertical, horizontal, both or mixed code), codes, passage. Ordered by pole
    (vertical first), then source and line.
    """
    ev = evidence[(evidence["city_id"] == city) & (evidence["dimension"] == dimension)]
    if ev.empty:
        raise ValueError(f"no pole-bearing evidence for city {city!r} and dimension {dimension!r}")
    by_file = dict(zip(sources["seed_file"].astype(str), sources["source_id"].astype(str)))
    seg = segments.assign(segment_id=segments["segment_id"].astype(str)).set_index("segment_id")
    pole = ev.apply(lambda r: "both" if r["vertical"] and r["horizontal"] else "vertical" if r["vertical"]
                    else "horizontal" if r["horizontal"] else "mixed code", axis=1)
    out = pd.DataFrame(
        {
            "segment_id": ev["segment_id"].astype(str).to_numpy(),
            "source_id": [by_file.get(str(s), str(s)) for s in ev["source"]],
            "line": [int(seg.loc[s, "line"]) for s in ev["segment_id"].astype(str)],
            "informants": [("" if pd.isna(seg.loc[s, "interview_ids"]) else str(seg.loc[s, "interview_ids"]))
                           for s in ev["segment_id"].astype(str)],
            "grade": ev["grade"].to_numpy(),
            "pole": pole.to_numpy(),
            "codes": ev["codes"].to_numpy(),
            "passage": [str(seg.loc[s, "passage"]) for s in ev["segment_id"].astype(str)],
        }
    )
    order = {"vertical": 0, "both": 1, "mixed code": 2, "horizontal": 3}
    return (out.assign(_o=out["pole"].map(order)).sort_values(["_o", "source_id", "line", "segment_id"])
            .drop(columns="_o").reset_index(drop=True))


def passage_display(table: pd.DataFrame, codebook=None) -> pd.DataFrame:
    """:func:`passage_table` for the book: the source as a citation with its line; codes by their labels.

    Without a ``codebook`` the codes are shown by id.
    """
    def code_text(codes: str) -> str:
        ids = [c for c in codes.split(";") if c]
        if codebook is None:
            return ", ".join(ids)
        return "; ".join(codebook.codes[c].label if c in codebook.codes else c for c in ids)

    return pd.DataFrame(
        {
            "Segment": table["segment_id"],
            "Source": [f"{{cite:t}}`{s}`, line {n}" + (f" ({i.replace(';', ', ')})" if i else "")
                       for s, n, i in zip(table["source_id"], table["line"], table["informants"])],
            "Pole": table["pole"],
            "Code": [code_text(c) for c in table["codes"]],
            "Passage": table["passage"],
        }
    )


# ---------------------------------------------------------------- the scoring rule as a table


def rule_table(mode_rule: ModeRule = ModeRule()) -> pd.DataFrame:
    """Evidence grades and confidence levels of the scoring rule, with its parameters filled in.

    >>> rule_table().iloc[3]["Level"]
    'High confidence'
    """
    return pd.DataFrame(
        [
            ("Grade A", "A passage naming this city only (including passages the report's case study of the city "
             "attributes to it). Sets the direction whenever the city has any."),
            ("Grade B", "A multi-city statement naming the city (a typology, a comparison). Sets the direction "
             "only when there is no grade A, and then with low confidence."),
            ("Grade C", "Inferential evidence: the coder's memo says 'inferential' (indicator scores, cluster "
             "membership). Never scores: alone it is insufficient evidence."),
            ("High confidence", f"At least {mode_rule.min_high} grade-A segments for the scored pole, from more than "
             "one source or backed by an interview, and no grade-A contrary segment."),
            ("Medium confidence", f"At least {mode_rule.min_medium} grade-A segments for the scored pole."),
            ("Low confidence", "Anything less; every mixed score from contested evidence; grade B only."),
        ],
        columns=["Level", "Definition and effect"],
    )


# ---------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class ModeVariant:
    """One way of scoring the modes: whose coding, which rule, and (optionally) which cities.

    ``cities`` restricts a variant to some cities (e.g. seed 000 only makes sense for
    Beijing and New York, the two cities it studies); ``None`` scores every city.
    ``exclude_lines`` = (seed file, first line, last line) leaves out the segments that
    begin in that stretch of a source.
    """

    name: str
    label: str
    coders: tuple[str, ...] = ("reconciled",)
    mode_rule: ModeRule = field(default_factory=ModeRule)
    cities: tuple[str, ...] | None = None
    exclude_lines: tuple[str, int, int] | None = None

    def segments(self, segments: pd.DataFrame) -> pd.DataFrame:
        """The segments this variant scores from."""
        if self.exclude_lines is None:
            return segments
        source, first, last = self.exclude_lines
        line = pd.to_numeric(segments["line"], errors="coerce")
        inside = ((segments["source"].astype(str) == source) & line.between(first, last)).fillna(False).astype(bool)
        return segments[~inside]


#: The published scoring: the reconciled coding of all sources under the codebook's rule.
BASE = ModeVariant("base", "reconciled coding, all sources (published)")


def standard_variants() -> list[ModeVariant]:
    """The book's sensitivity variants.

    (a) without multi-city statements, (b) each independent coder, (c) dominance 2 and
    4, (d) seed 000 only for Beijing and New York, (e) without the report's typology
    section (:data:`REPORT_TYPOLOGY_LINES`).

    >>> [v.name for v in standard_variants()]
    ['without_multi_city', 'coder_a', 'coder_b', 'dominance_2', 'dominance_4', 'seed_000_only', 'without_typology_section']
    """
    return [
        ModeVariant("without_multi_city", "(a) no multi-city statements",
                    mode_rule=ModeRule(include_multi_city=False)),
        ModeVariant("coder_a", "(b) coder A alone", coders=("coder_a",)),
        ModeVariant("coder_b", "(b) coder B alone", coders=("coder_b",)),
        ModeVariant("dominance_2", "(c) dominance 2, not 3", mode_rule=ModeRule(dominance=2)),
        ModeVariant("dominance_4", "(c) dominance 4, not 3", mode_rule=ModeRule(dominance=4)),
        ModeVariant("seed_000_only", "(d) Yan et al. only (2 cities)",
                    mode_rule=ModeRule(sources=(SEED_000,)), cities=("beijing", "new_york")),
        ModeVariant("without_typology_section", "(e) no report typology section",
                    exclude_lines=(REPORT_FILE, *REPORT_TYPOLOGY_LINES)),
    ]


def run_variants(codebook, segments: pd.DataFrame, codings: pd.DataFrame, cities, variants=None,
                 base: ModeVariant = BASE) -> pd.DataFrame:
    """Score the modes under ``base`` and every variant; one long table.

    ``cities`` is a list of city ids (or ``cities.csv``). Columns: variant,
    variant_label, and those of :func:`~hotlines.coding.modes.city_modes` (city_id,
    dimension, score, mode, evidence_grade, confidence, ...). A variant restricted to
    some cities has rows for those cities only.
    """
    city_ids = [str(c) for c in (cities["city_id"] if isinstance(cities, pd.DataFrame) else cities)]
    runs = []
    for variant in [base, *(standard_variants() if variants is None else variants)]:
        ids = city_ids if variant.cities is None else [c for c in city_ids if c in variant.cities]
        table = city_modes(codebook, variant.segments(segments), codings, ids, coders=list(variant.coders),
                           mode_rule=variant.mode_rule)
        runs.append(table.assign(variant=variant.name, variant_label=variant.label))
    out = pd.concat(runs, ignore_index=True)
    return out[["variant", "variant_label", *[c for c in out.columns if c not in ("variant", "variant_label")]]]


def change_kind(before: str, after: str, confidence_before=None, confidence_after=None) -> str | None:
    """How a cell moves between two scorings; None when neither mode nor confidence changes.

    >>> change_kind("vertical", "horizontal")
    'pole reversed'
    >>> change_kind("mixed", "vertical")
    'to or from mixed'
    >>> change_kind("vertical", "vertical", "low", "medium")
    'confidence only'
    """
    if before == after:
        same = (pd.isna(confidence_before) and pd.isna(confidence_after)) or confidence_before == confidence_after
        return None if same else "confidence only"
    if after == INSUFFICIENT:
        return "to insufficient evidence"
    if before == INSUFFICIENT:
        return "from insufficient evidence"
    if {before, after} == {"vertical", "horizontal"}:
        return "pole reversed"
    return "to or from mixed"


def variant_changes(runs: pd.DataFrame, base: str = "base") -> pd.DataFrame:
    """Every cell whose mode or confidence differs from the base scoring, per variant.

    ``runs`` is :func:`run_variants`. Mode changes are those
    :func:`~hotlines.coding.modes.mode_sensitivity` reports; cells whose mode holds but
    whose confidence changes are added as ``confidence only``. Columns: variant,
    variant_label, city_id, dimension, mode_base, mode_variant, confidence_base,
    confidence_variant, change.
    """
    reference = runs[runs["variant"] == base]
    columns = ["variant", "variant_label", "city_id", "dimension", "mode_base", "mode_variant",
               "confidence_base", "confidence_variant", "change"]
    out = []
    for name, variant in runs[runs["variant"] != base].groupby("variant", sort=False):
        label = variant["variant_label"].iloc[0]
        moved = mode_sensitivity(reference, variant, label)
        merged = reference.merge(variant, on=["city_id", "dimension"], suffixes=("_base", "_variant"))
        same_mode = merged[merged["mode_base"] == merged["mode_variant"]]
        conf_b = same_mode["confidence_base"].astype(object).where(same_mode["confidence_base"].notna(), None)
        conf_v = same_mode["confidence_variant"].astype(object).where(same_mode["confidence_variant"].notna(), None)
        conf_only = same_mode[[b != v for b, v in zip(conf_b, conf_v)]]
        frame = pd.concat(
            [moved.drop(columns="variant"),
             conf_only[["city_id", "dimension", "mode_base", "mode_variant", "confidence_base", "confidence_variant"]]],
            ignore_index=True,
        )
        frame["change"] = [change_kind(b, a, cb, ca) for b, a, cb, ca in zip(
            frame["mode_base"], frame["mode_variant"], frame["confidence_base"], frame["confidence_variant"])]
        out.append(frame.assign(variant=name, variant_label=label))
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns]


def variant_summary(runs: pd.DataFrame, changes: pd.DataFrame, base: str = "base") -> pd.DataFrame:
    """Per variant: how many city-dimension cells and overall modes it scores, and how many move.

    Columns: variant, variant_label, n_cells (city × dimension cells scored),
    n_mode_changed, one column per kind of :data:`CHANGE_KINDS` (``n_`` + the kind with
    underscores), n_confidence_only, n_cities, n_overall_changed.
    """
    rows = []
    for name, variant in runs[runs["variant"] != base].groupby("variant", sort=False):
        moved = changes[changes["variant"] == name]
        dims = moved[moved["dimension"] != "overall"]
        row = {
            "variant": name,
            "variant_label": variant["variant_label"].iloc[0],
            "n_cells": int(variant["dimension"].isin(DIMENSIONS).sum()),
            "n_mode_changed": int((dims["change"] != "confidence only").sum()),
        }
        for kind in CHANGE_KINDS:
            row["n_" + kind.replace(" ", "_")] = int((dims["change"] == kind).sum())
        row["n_confidence_only"] = int((dims["change"] == "confidence only").sum())
        row["n_cities"] = int((variant["dimension"] == "overall").sum())
        row["n_overall_changed"] = int(((moved["dimension"] == "overall") & (moved["change"] != "confidence only")).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def summary_display(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`variant_summary` for the book."""
    return pd.DataFrame(
        {
            "Variant": summary["variant_label"],
            "Cells scored": summary["n_cells"],
            "Modes changed": summary["n_mode_changed"],
            "of which to or from insufficient": summary["n_to_insufficient_evidence"]
            + summary["n_from_insufficient_evidence"],
            "Confidence only": summary["n_confidence_only"],
            "Overall modes changed": [f"{c} of {n}" for c, n in zip(summary["n_overall_changed"], summary["n_cities"])],
        }
    )


def changes_display(changes: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """The mode changes (not confidence-only ones) for the book: variant, city, dimension, from → to."""
    names = _names(cities)
    moved = changes[changes["change"] != "confidence only"]

    def state(mode, confidence):
        if mode == INSUFFICIENT:
            return "insufficient"
        if pd.isna(confidence) or confidence is None:
            return str(mode)
        return f"{mode} ({CONFIDENCE_LETTERS[str(confidence)]})"

    return pd.DataFrame(
        {
            "Variant": moved["variant_label"].to_numpy(),
            "City": [names.get(str(c), str(c)) for c in moved["city_id"]],
            "Dimension": moved["dimension"].to_numpy(),
            "Published": [state(m, c) for m, c in zip(moved["mode_base"], moved["confidence_base"])],
            "Variant's mode": [state(m, c) for m, c in zip(moved["mode_variant"], moved["confidence_variant"])],
        }
    )


def sensitivity_figure(summary: pd.DataFrame,
                       title: str = "How many modes move when one choice changes"):
    """Bars per variant: city-dimension cells whose mode changes, by kind (left); overall modes (right).

    ``summary`` is :func:`variant_summary`. Each bar is labelled with its count and the
    number of cells (or cities) the variant scores.
    """
    viz.use_theme()
    table = summary.iloc[::-1].reset_index(drop=True)  # first variant on top
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 0.55 * len(table) + 2.4), sharey=True,
                                      gridspec_kw={"width_ratios": [2.0, 1]})
    y = range(len(table))
    start = pd.Series(0, index=table.index)
    for kind in CHANGE_KINDS:
        values = table["n_" + kind.replace(" ", "_")]
        left.barh(list(y), values, left=start, color=CHANGE_COLORS[kind], height=0.6,
                  label=f"{kind} ({int(values.sum())})",
                  edgecolor="white", linewidth=0.6)
        start = start + values
    top = max(1, int(table["n_mode_changed"].max()))
    for i, (n, cells) in enumerate(zip(table["n_mode_changed"], table["n_cells"])):
        left.text(n + 0.15, i, f"{n} of {cells}", va="center", fontsize=9.5)
    left.set_xlim(0, top * 1.35 + 1)
    left.set_yticks(list(y), table["variant_label"])
    left.set_xlabel("City-dimension cells whose mode changes (count)")
    left.set_ylabel("Variant of the scoring")
    left.grid(axis="x", color="#E5E5E5", linewidth=0.8)
    left.set_axisbelow(True)
    left.legend(loc="upper center", bbox_to_anchor=(0.55, -0.17), ncol=2, frameon=False, fontsize=9.5,
                title="Kind of change (cells over all variants)", title_fontsize=9.5)

    right.barh(list(y), table["n_overall_changed"], color=viz.OKABE_ITO["black"], height=0.6)
    top_overall = max(1, int(table["n_overall_changed"].max()))
    for i, (n, total) in enumerate(zip(table["n_overall_changed"], table["n_cities"])):
        right.text(n + 0.08, i, f"{n} of {total}", va="center", fontsize=9.5)
    right.set_xlim(0, top_overall * 1.6 + 0.6)
    right.set_xlabel("Cities whose overall\nmode changes (count)")
    right.set_title("Overall mode", fontsize=11)
    left.set_title("Leadership, institution, mechanism", fontsize=11)
    right.grid(axis="x", color="#E5E5E5", linewidth=0.8)
    right.set_axisbelow(True)
    right.tick_params(axis="y", length=0)
    for ax in (left, right):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title, fontweight="bold", fontsize=13)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- the report's typologies


def typology_crosstab(modes: pd.DataFrame, cities: pd.DataFrame, typologies=("driven_supportive", "integrated_distributed"),
                      dimension: str = "overall") -> pd.DataFrame:
    """The evaluated cities counted by a typology of the report and by their mode on ``dimension``.

    Descriptive only. A city whose typology the report does not state is counted under
    ``not stated``. Every combination is listed, zeros included. Columns: typology,
    value, mode, n, cities (names, ``, ``-joined).

    >>> import pandas as pd
    >>> c = pd.DataFrame({"city_id": ["a", "b"], "name": ["A", "B"], "role": ["evaluated"] * 2,
    ...                   "cluster": ["integrative", "inclusive"], "driven_supportive": ["hotline-driven", None]})
    >>> m = pd.DataFrame({"city_id": ["a", "b"], "dimension": ["overall"] * 2, "mode": ["vertical", "horizontal"]})
    >>> t = typology_crosstab(m, c, typologies=("driven_supportive",))
    >>> t[t.n > 0][["value", "mode", "cities"]].values.tolist()
    [['hotline-driven', 'vertical', 'A'], ['not stated', 'horizontal', 'B']]
    """
    if dimension not in (*DIMENSIONS, "overall"):
        raise ValueError(f"dimension must be one of {(*DIMENSIONS, 'overall')}, not {dimension!r}")
    evaluated = cities[cities["role"] == "evaluated"]
    groups = city_groups(evaluated)
    mode_of = modes[modes["dimension"] == dimension].assign(city_id=lambda f: f["city_id"].astype(str)) \
        .set_index("city_id")["mode"]
    missing = [c for c in groups["city_id"] if c not in mode_of.index]
    if missing:
        raise ValueError(f"modes has no {dimension!r} row for evaluated cities {missing}")
    by_id = evaluated.set_index("city_id")
    rows = []
    for typology in typologies:
        if typology not in by_id.columns:
            raise ValueError(f"cities has no typology column {typology!r}")
        stated = by_id[typology].astype(object).where(by_id[typology].notna(), NOT_STATED)
        known = TYPOLOGY_VALUES.get(typology, [])
        values = known + sorted(set(stated) - set(known) - {NOT_STATED})
        if (stated == NOT_STATED).any():
            values.append(NOT_STATED)
        for value in values:
            for mode in MODE_ORDER:
                members = sorted(name for cid, name in zip(groups["city_id"], groups["city"])
                                 if stated[cid] == value and mode_of[cid] == mode)
                rows.append({"typology": typology, "value": value, "mode": mode, "n": len(members),
                             "cities": ", ".join(members)})
    return pd.DataFrame(rows, columns=["typology", "value", "mode", "n", "cities"])


def typology_display(crosstab: pd.DataFrame) -> pd.DataFrame:
    """:func:`typology_crosstab` as a wide table: one row per typology value, one column per mode.

    A cell reads ``n: names`` (``0`` when empty).
    """
    rows = []
    for (typology, value), group in crosstab.groupby(["typology", "value"], sort=False):
        cells = group.set_index("mode")
        name = TYPOLOGY_NAMES.get(typology, typology)
        row = {"Report's type": f"{name.lower()}: {value}" if value == NOT_STATED else value}
        for mode in MODE_ORDER:
            n, names = int(cells.loc[mode, "n"]), cells.loc[mode, "cities"]
            row[mode if mode != INSUFFICIENT else "insufficient"] = f"{n}: {names}" if n else "0"
        rows.append(row)
    return pd.DataFrame(rows)


def scoring_inputs(data_dir=None) -> dict:
    """Everything the chapter scores from: codebook, segments, codings, cities, sources, evidence, modes.

    ``modes`` and ``evidence`` are computed from the reconciled coding (the published
    scoring, equal to ``data/city_modes.csv``, which a test checks).
    """
    from .. import data
    from . import corpus
    from .codebook import Codebook

    codebook = Codebook.load() if data_dir is None else Codebook.load(data_dir)
    segments, codings = corpus.segments(data_dir), corpus.codings(data_dir)
    cities, sources = data.cities(data_dir), data.sources(data_dir)
    return {
        "codebook": codebook,
        "segments": segments,
        "codings": codings,
        "cities": cities,
        "sources": sources,
        "evidence": segment_evidence(codebook, segments, codings, coders=list(BASE.coders), mode_rule=BASE.mode_rule),
        "modes": city_modes(codebook, segments, codings, cities["city_id"], coders=list(BASE.coders),
                            mode_rule=BASE.mode_rule),
    }
