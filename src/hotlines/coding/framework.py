"""The leadership–institution–mechanism framework: Table 1 of seed 000 and its rebuild from the codings.

Yan, Zheng & Meng (2025, seed ``000``) reduce Ansell & Gash's (2008) model of
collaborative governance to three dimensions and classify Beijing 12345 and NYC311 on
each (their Table 1, seed lines 186-188). This module holds what the framework chapter
needs beyond the codebook itself:

- :data:`PUBLISHED_TABLE_1` and :func:`published_table_1`: the published classification,
  word for word, with its seed lines; :func:`verify_published_table_1` checks the words
  against the seed document;
- :func:`table_1_comparison`: the city-mode rule (:mod:`hotlines.coding.modes`) applied
  under several scopes of evidence, next to the published classification, as one tidy
  table; :func:`table_1_display` makes the short table a chapter shows;
- :func:`dimension_evidence` and :func:`quote_markdown`: the pole-bearing segments
  behind one city's score on one dimension, and a citable quotation of one of them;
- :func:`codebook_display`, :func:`changelog_table`, :func:`clarifications_table`:
  the codebook as tables a reader can take in;
- :func:`framework_figure` and :func:`evidence_balance_figure`: the framework diagram
  and the segment counts behind the rebuilt Table 1.

Nothing here decides a mode: the scores come from :func:`hotlines.coding.modes.city_modes`.

>>> table = published_table_1()
>>> table.loc[(table.city_id == "new_york") & (table.dimension == "institution"), "published_label"].item()
'Fragmented framework'
"""

from __future__ import annotations

import os
import re
from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from .. import paths, viz
from .codebook import Codebook
from .modes import DIMENSIONS, TABLE_1, ModeRule, city_modes, segment_evidence

SEED_000 = "000_8b5fa105864a0e27.txt"
CITIES = ("beijing", "new_york")
CITY_NAMES = {"beijing": "Beijing", "new_york": "New York"}

#: Table 1 of seed 000, "A comparative analysis of Beijing12345 and NYC311": the row as
#: the seed writes it (cells separated by a tab), its line, and the two cells.
PUBLISHED_TABLE_1 = (
    # dimension, line, row label, Beijing 12345, New York City 311
    ("leadership", 186, "Leadership", "Administrative-oriented", "Technology-oriented"),
    ("institution", 187, "Institution", "Comprehensive framework", "Fragmented framework"),
    ("mechanism", 188, "Mechanism", "Cross-level cooperation", "Contractual cooperation"),
)

#: Where each dimension comes from in Ansell & Gash's model, as seed 000 (lines 115-129)
#: reviews it: institutional design -> institution, leadership -> leadership, the
#: collaborative process ("the organizational mechanisms that enable collaboration",
#: line 127) -> mechanism; the starting conditions are set aside (line 129).
ANSELL_GASH_ORIGIN = {
    "leadership": "leadership",
    "institution": "institutional design",
    "mechanism": "collaborative process",
    "start": "starting conditions",
}

#: Short glosses of each pole for the framework diagram, paraphrasing seed 000's
#: section 4 (lines 190-236); the Table 1 words themselves come from PUBLISHED_TABLE_1.
POLE_GLOSSES = {
    ("leadership", "vertical"): "centralized, strong leadership\ndriving administrative reform",
    ("leadership", "horizontal"): "leadership's focus on\ndigital technology",
    ("institution", "vertical"): "a regulation and policies\ncovering the whole process",
    ("institution", "horizontal"): "SLAs, CAPA and City Charter,\neach in its own scope",
    ("mechanism", "vertical"): "grassroots governments call\non upper levels for support",
    ("mechanism", "horizontal"): "service level agreements\nbetween peer agencies",
}

POLE_COLORS = {"vertical": viz.OKABE_ITO["blue"], "horizontal": viz.OKABE_ITO["orange"]}
POLE_FILLS = {"vertical": "#DCEBF5", "horizontal": "#FBEBC8"}
SCOPES_DEFAULT = {"seed 000 only": ModeRule(sources=(SEED_000,)), "all sources": ModeRule()}


# ---------------------------------------------------------------- the published table


def published_table_1() -> pd.DataFrame:
    """Table 1 of seed 000 in long form: one row per (city, dimension).

    Columns: city_id, dimension, published_label (the cell's words), published_mode
    (vertical for Beijing, horizontal for New York, as the article names the two
    modes), source (seed file) and line.

    >>> published_table_1()[["city_id", "dimension", "published_label"]].head(2).values.tolist()
    [['beijing', 'leadership', 'Administrative-oriented'], ['beijing', 'institution', 'Comprehensive framework']]
    """
    rows = []
    for column, city in enumerate(CITIES):
        for dimension, line, _, *cells in PUBLISHED_TABLE_1:
            rows.append({
                "city_id": city,
                "dimension": dimension,
                "published_label": cells[column],
                "published_mode": TABLE_1[(city, dimension)],
                "source": SEED_000,
                "line": line,
            })
    frame = pd.DataFrame(rows, columns=["city_id", "dimension", "published_label", "published_mode", "source", "line"])
    return frame.astype({"line": "Int64"})


def verify_published_table_1(seeds: str | os.PathLike | None = None) -> pd.DataFrame:
    """Check the words of :data:`PUBLISHED_TABLE_1` against seed 000, line by line.

    Returns one row per table row: dimension, line, expected (the row as
    :data:`PUBLISHED_TABLE_1` writes it), found (the seed's line) and ``matches``; a
    cell counts when the seed line, read as tab-separated cells with white space
    collapsed, equals the expected cells. Raises ``FileNotFoundError`` naming where
    it looked when the seed documents or seed 000 are absent.
    """
    from ..data.seeds import SeedText, collapse_whitespace

    folder = paths.seeds_dir(seeds)
    if folder is None:
        looked = ", ".join(paths.seeds_search_paths(seeds))
        raise FileNotFoundError(f"seed documents not found (looked in: {looked}); Table 1 cannot be checked")
    lines = SeedText(folder).lines(SEED_000)
    if lines is None:
        raise FileNotFoundError(f"{folder / SEED_000}: seed 000 is missing; Table 1 cannot be checked")
    rows = []
    for dimension, line, *cells in PUBLISHED_TABLE_1:
        found = lines[line - 1] if line <= len(lines) else ""
        found_cells = [collapse_whitespace(c) for c in found.split("\t")]
        rows.append({"dimension": dimension, "line": line, "expected": "\t".join(cells), "found": found,
                     "matches": found_cells == [collapse_whitespace(c) for c in cells]})
    return pd.DataFrame(rows, columns=["dimension", "line", "expected", "found", "matches"])


# ---------------------------------------------------------------- the rebuilt table


def table_1_comparison(
    codebook: Codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    coders="reconciled",
    scopes: Mapping[str, ModeRule] | None = None,
    cities=CITIES,
) -> pd.DataFrame:
    """The mode rule under each scope of evidence, next to Table 1 of seed 000.

    ``scopes`` maps a label to a :class:`~hotlines.coding.modes.ModeRule`; the default
    is seed 000's own evidence (``ModeRule(sources=(SEED_000,))``) and all sources.
    Returns one row per (scope, city, dimension) with columns scope, city_id,
    dimension, published_label, published_mode, mode, agrees (the rule's mode equals
    the published one), confidence, evidence_grade, n_vertical_a, n_horizontal_a,
    n_vertical_b, n_horizontal_b, n_justifying, n_contrary, justifying_segments,
    contrary_segments, rule. For a mixed score the justifying segments are those of
    both poles (see :func:`hotlines.coding.modes.city_modes`).

    >>> # tests/test_coding_framework.py runs it on the shipped corpus
    """
    scopes = dict(SCOPES_DEFAULT if scopes is None else scopes)
    if not scopes:
        raise ValueError("table_1_comparison: scopes is empty; give at least one label -> ModeRule")
    published = published_table_1()
    frames = []
    for label, rule in scopes.items():
        modes = city_modes(codebook, segments, codings, list(cities), coders=coders, mode_rule=rule)
        modes = modes[modes["dimension"].isin(DIMENSIONS)].assign(scope=label)
        frames.append(modes)
    merged = pd.concat(frames, ignore_index=True).merge(
        published[["city_id", "dimension", "published_label", "published_mode"]],
        on=["city_id", "dimension"], how="left", validate="many_to_one",
    )

    def count(ids) -> int:
        return len([i for i in str(ids or "").split(";") if i])

    merged["n_justifying"] = merged["justifying_segments"].map(count).astype("Int64")
    merged["n_contrary"] = merged["contrary_segments"].map(count).astype("Int64")
    merged["agrees"] = (merged["mode"] == merged["published_mode"]).astype("boolean")
    merged.loc[merged["published_mode"].isna(), "agrees"] = pd.NA
    columns = ["scope", "city_id", "dimension", "published_label", "published_mode", "mode", "agrees",
               "confidence", "evidence_grade", "n_vertical_a", "n_horizontal_a", "n_vertical_b", "n_horizontal_b",
               "n_justifying", "n_contrary", "justifying_segments", "contrary_segments", "rule"]
    return merged[columns]


def _mode_cell(row) -> str:
    confidence = "" if pd.isna(row["confidence"]) else f", {row['confidence']}"
    # no-break spaces keep a count with its pole letter when the cell wraps
    cell = f"{row['mode']}{confidence}: {row['n_vertical_a']}\u00a0V / {row['n_horizontal_a']}\u00a0H"
    if pd.notna(row["agrees"]) and not row["agrees"]:
        cell = f"**{cell}** (differs)"
    return cell


def table_1_display(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a reader's table: one row per city and dimension, one column per scope.

    Columns: City, Dimension, Table 1 (the published words and pole), then one column
    per scope holding "mode, confidence: n V / n H" (no-break spaces before V and H), the counts being the A-grade
    (city-specific) segments with vertical and with horizontal codes. A cell whose mode
    differs from the published one is set in bold and marked "(differs)".

    >>> row = {"scope": "s", "city_id": "new_york", "dimension": "leadership", "published_label": "Technology-oriented",
    ...        "published_mode": "horizontal", "mode": "mixed", "agrees": False, "confidence": "low",
    ...        "n_vertical_a": 6, "n_horizontal_a": 4}
    >>> table_1_display(pd.DataFrame([row])).iloc[0].tolist()
    ['New York', 'Leadership', 'Technology-oriented (horizontal)', '**mixed, low: 6\xa0V / 4\xa0H** (differs)']
    """
    frame = comparison.copy()
    frame["cell"] = frame.apply(_mode_cell, axis=1)
    scopes = list(dict.fromkeys(frame["scope"]))
    wide = frame.pivot_table(index=["city_id", "dimension"], columns="scope", values="cell", aggfunc="first")
    published = frame.drop_duplicates(["city_id", "dimension"]).set_index(["city_id", "dimension"])
    order = [(c, d) for c in dict.fromkeys(frame["city_id"]) for d in DIMENSIONS if (c, d) in wide.index]
    rows = []
    for city, dimension in order:
        pub = published.loc[(city, dimension)]
        row = {
            "City": CITY_NAMES.get(city, city),
            "Dimension": dimension.capitalize(),
            "Table 1": f"{pub['published_label']} ({pub['published_mode']})",
        }
        row.update({scope.capitalize() if scope[:1].islower() else scope: wide.loc[(city, dimension), scope]
                    for scope in scopes})
        rows.append(row)
    return pd.DataFrame(rows).astype("string")


def dimension_evidence(
    codebook: Codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    city_id: str,
    dimension: str,
    coders="reconciled",
    mode_rule: ModeRule = ModeRule(),
) -> pd.DataFrame:
    """Every pole-bearing segment behind one city's score on one dimension, with its passage.

    Columns: segment_id, pole (vertical, horizontal, or both), grade (A/B/C), seed (the
    seed's three-digit number), line, line_end, interview_ids, speaker_role, codes (the
    pole-bearing code ids, ``;``-separated), code_labels, passage. Ordered by pole
    (vertical first), seed and line. These are the segments
    :func:`hotlines.coding.modes.city_modes` counts, under the same rule.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension {dimension!r} carries no poles; choose one of {', '.join(DIMENSIONS)}")
    evidence = segment_evidence(codebook, segments, codings, coders=coders, mode_rule=mode_rule)
    evidence = evidence[(evidence["city_id"] == city_id) & (evidence["dimension"] == dimension)]
    passages = segments.set_index("segment_id")
    labels = {cid: code.label for cid, code in codebook.codes.items()}
    rows = []
    for r in evidence.itertuples(index=False):
        record = passages.loc[r.segment_id]
        pole = "both" if (r.vertical and r.horizontal) else "vertical" if r.vertical else "horizontal" if r.horizontal else "mixed"
        codes = [c for c in r.codes.split(";") if c]
        rows.append({
            "segment_id": r.segment_id,
            "pole": pole,
            "grade": r.grade,
            "seed": str(r.source)[:3],
            "line": record["line"],
            "line_end": record["line_end"],
            "interview_ids": record["interview_ids"],
            "speaker_role": record["speaker_role"],
            "codes": ";".join(codes),
            "code_labels": "; ".join(labels.get(c, c) for c in codes),
            "passage": record["passage"],
        })
    columns = ["segment_id", "pole", "grade", "seed", "line", "line_end", "interview_ids", "speaker_role",
               "codes", "code_labels", "passage"]
    frame = pd.DataFrame(rows, columns=columns)
    order = {"vertical": 0, "both": 1, "horizontal": 2, "mixed": 3}
    frame = frame.sort_values(["pole", "seed", "line"], key=lambda s: s.map(order) if s.name == "pole" else s,
                              kind="stable").reset_index(drop=True)
    return frame.astype({"line": "Int64", "line_end": "Int64"})


def evidence_display(evidence: pd.DataFrame) -> pd.DataFrame:
    """The segments of :func:`dimension_evidence` as a short table: Segment, Seed and lines, Pole, Code, Informants.

    >>> ev = pd.DataFrame([{"segment_id": "S-X-01", "pole": "vertical", "seed": "002", "line": 266, "line_end": 271,
    ...                     "interview_ids": "G-NYC-02;Q-NYC-03", "code_labels": "Oversight"}])
    >>> evidence_display(ev).iloc[0].tolist()
    ['S-X-01', '002, lines 266–271', 'vertical', 'Oversight', 'G-NYC-02, Q-NYC-03']
    """
    def lines(r) -> str:
        if pd.isna(r["line_end"]) or r["line_end"] == r["line"]:
            return f"{r['seed']}, line {r['line']}"
        return f"{r['seed']}, lines {r['line']}–{r['line_end']}"

    frame = pd.DataFrame({
        "Segment": evidence["segment_id"],
        "Seed and lines": evidence.apply(lines, axis=1) if len(evidence) else pd.Series(dtype="string"),
        "Pole": evidence["pole"],
        "Code": evidence["code_labels"],
        "Informants": evidence["interview_ids"].map(lambda v: pd.NA if pd.isna(v) or not str(v) else str(v).replace(";", ", ")),
    })
    return frame.astype("string").reset_index(drop=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def quote_markdown(evidence: pd.DataFrame, segment_id: str) -> str:
    """One segment of :func:`dimension_evidence` as a Markdown block quote with its locator.

    Raises ``KeyError`` when the segment is not among the evidence, so that a chapter
    can quote only segments that count for the score it discusses.

    >>> ev = pd.DataFrame([{"segment_id": "S-X-01", "seed": "002", "line": 266, "line_end": 271,
    ...                     "interview_ids": "Q-NYC-03", "speaker_role": "a senior staff person",
    ...                     "code_labels": "Oversight", "passage": "MOO was the *hammer*."}])
    >>> print(quote_markdown(ev, "S-X-01"))
    > MOO was the \\*hammer\\*.
    >
    > — S-X-01: seed 002, lines 266–271; informant Q-NYC-03 (a senior staff person); coded Oversight
    """
    match = evidence[evidence["segment_id"] == segment_id]
    if match.empty:
        raise KeyError(f"segment {segment_id!r} is not among the evidence given ({len(evidence)} segments)")
    r = match.iloc[0]
    lines = f"line {r['line']}" if pd.isna(r["line_end"]) or r["line_end"] == r["line"] else f"lines {r['line']}–{r['line_end']}"
    where = f"{segment_id}: seed {r['seed']}, {lines}"
    informants = [i for i in str("" if pd.isna(r["interview_ids"]) else r["interview_ids"]).split(";") if i]
    if informants:
        who = ("informant " if len(informants) == 1 else "informants ") + ", ".join(informants)
        if not pd.isna(r["speaker_role"]) and str(r["speaker_role"]).strip():
            who += f" ({r['speaker_role']})"
        where += f"; {who}"
    where += f"; coded {r['code_labels']}"
    return f"> {_escape_markdown(r['passage'])}\n>\n> — {_escape_markdown(where)}"


# ---------------------------------------------------------------- the codebook as tables


def codebook_display(codebook: Codebook, dimensions=None) -> pd.DataFrame:
    """The codes of some dimensions as a reader's table, in codebook order.

    Columns: Code (the name after ``<dimension>.``, as inline code), Label, Pole,
    Definition (the brief definition); with several dimensions a leading Dimension
    column.

    >>> t = codebook_display(Codebook.load(), ["leadership"])
    >>> t.columns.tolist(), t.iloc[0]["Code"]
    (['Code', 'Label', 'Pole', 'Definition'], '`centralized_party_leadership`')
    """
    wanted = [d.id for d in codebook.dimensions] if dimensions is None else list(dimensions)
    unknown = [d for d in wanted if d not in {dim.id for dim in codebook.dimensions}]
    if unknown:
        raise KeyError(f"codebook has no dimension {', '.join(map(repr, unknown))}")
    rows = []
    for dim in codebook.dimensions:
        if dim.id not in wanted:
            continue
        for code in dim.codes:
            rows.append({
                "Dimension": dim.label.split(" (")[0],
                "Code": f"`{code.id.partition('.')[2]}`",
                "Label": code.label,
                "Pole": code.pole,
                "Definition": code.brief_definition,
            })
    frame = pd.DataFrame(rows, columns=["Dimension", "Code", "Label", "Pole", "Definition"])
    if len(wanted) == 1:
        frame = frame.drop(columns="Dimension")
    return frame.astype("string")


def poles_table(codebook: Codebook) -> pd.DataFrame:
    """The vertical and horizontal pole of every pole-bearing dimension, as the codebook defines them.

    Columns: Dimension, Vertical pole, Horizontal pole (dimensions without poles are left out).

    >>> poles_table(Codebook.load())["Dimension"].tolist()
    ['Leadership', 'Institution', 'Mechanism']
    """
    rows = [{"Dimension": dim.label, "Vertical pole": dim.vertical_pole, "Horizontal pole": dim.horizontal_pole}
            for dim in codebook.dimensions if dim.vertical_pole or dim.horizontal_pole]
    return pd.DataFrame(rows, columns=["Dimension", "Vertical pole", "Horizontal pole"]).astype("string")


_CODE_ID = re.compile(r"(?<![`\w.])((?:leadership|institution|mechanism|technology|outcome|start)\.[a-z][a-z0-9_]*)")


def changelog_table(codebook: Codebook, markup: bool = False) -> pd.DataFrame:
    """Every change of the codebook's changelog: Version, From, What, Change (newest version first, as filed).

    With ``markup=True`` every code id in What and Change that names a code of the
    codebook is replaced by the code's label in italics (a long id cannot wrap in a
    narrow PDF column, a label can); an id the codebook does not hold (a code proposed
    but not adopted) is set as inline code.

    >>> from hotlines.coding.codebook import Code, Dimension
    >>> code = Code(id="mechanism.dispatch_binding", label="Binding top-down dispatch", dimension="mechanism",
    ...             pole="vertical", brief_definition="...")
    >>> book = Codebook(title="t", version="2", dimensions=[Dimension("mechanism", "Mechanism", "...", codes=(code,))],
    ...                 meta={"changelog": [{"version": "2", "from": "1", "changes": [
    ...                     {"what": "mechanism.dispatch_binding", "change": "see mechanism.new_code"}]}]})
    >>> changelog_table(book, markup=True)[["What", "Change"]].values.tolist()
    [['*Binding top-down dispatch*', 'see `mechanism.new_code`']]
    """
    labels = {cid: code.label for cid, code in codebook.codes.items()}

    def name(match) -> str:
        cid = match.group(1)
        return f"*{labels[cid]}*" if cid in labels else f"`{cid}`"

    def cell(text) -> str:
        text = str(text or "")
        return _CODE_ID.sub(name, text) if markup else text

    rows = []
    for entry in codebook.meta.get("changelog") or []:
        for change in entry.get("changes") or []:
            rows.append({"Version": str(entry.get("version", "")), "From": str(entry.get("from", "")),
                         "What": cell(change.get("what")), "Change": cell(change.get("change"))})
    return pd.DataFrame(rows, columns=["Version", "From", "What", "Change"]).astype("string")


def clarifications_table(codebook: Codebook) -> pd.DataFrame:
    """The decision-rule clarifications of the codebook: Id, Clarification (its title), Codes, Segments.

    Codes counts the codes a clarification concerns; Segments the segments whose
    coding disagreements motivated it.
    """
    section = codebook.meta.get("clarifications") or {}
    rows = [
        {"Id": str(rule.get("id", "")), "Clarification": str(rule.get("title", "")),
         "Codes": len(rule.get("codes") or []), "Segments": len(rule.get("motivated_by") or [])}
        for rule in (section.get("rules") or [] if isinstance(section, dict) else [])
    ]
    frame = pd.DataFrame(rows, columns=["Id", "Clarification", "Codes", "Segments"])
    return frame.astype({"Id": "string", "Clarification": "string", "Codes": "Int64", "Segments": "Int64"})


# ---------------------------------------------------------------- figures


def framework_figure(title: str = "The leadership–institution–mechanism framework and its poles"):
    """Diagram of the framework: three dimensions, each between its vertical and horizontal pole.

    Rows are the dimensions, labelled with the variable of Ansell & Gash's model they
    come from; the starting conditions, which the article sets aside, are a grey row.
    The horizontal axis is the scale of the city-mode rule (+1 vertical, 0 mixed, −1
    horizontal), drawn with the vertical pole on the left. The pole boxes carry Table 1's
    words (:data:`PUBLISHED_TABLE_1`) and a short gloss (:data:`POLE_GLOSSES`).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(8.8, 5.2))
    rows = {"leadership": 3, "institution": 2, "mechanism": 1, "start": 0}
    labels = {dimension: cells for dimension, _, _, *cells in PUBLISHED_TABLE_1}
    half_width, half_height = 0.68, 0.37
    for dimension, y in rows.items():
        if dimension == "start":
            ax.plot([1 + half_width, -1 - half_width], [y, y], color="#BBBBBB", linewidth=1.5,
                    linestyle=(0, (4, 3)), zorder=1)
            ax.text(0, y, "set aside: similar in the two cities\n(kept in the codebook as neutral context codes)",
                    ha="center", va="center", fontsize=9.5, color="#555555", style="italic",
                    bbox=dict(boxstyle="round,pad=0.4", facecolor="#F2F2F2", edgecolor="#BBBBBB"), zorder=3)
            continue
        ax.annotate("", xy=(-1 + half_width + 0.02, y), xytext=(1 - half_width - 0.02, y), zorder=1,
                    arrowprops=dict(arrowstyle="<|-|>", color="#777777", linewidth=1.4, mutation_scale=14))
        ax.plot([0], [y], marker="o", markersize=6, color="#777777", zorder=2)
        ax.text(0, y + 0.08, "mixed", ha="center", va="bottom", fontsize=9, color="#555555")
        for pole, x, cell in (("vertical", 1, labels[dimension][0]), ("horizontal", -1, labels[dimension][1])):
            box = FancyBboxPatch((x - half_width, y - half_height), 2 * half_width, 2 * half_height,
                                 boxstyle="round,pad=0,rounding_size=0.06", facecolor=POLE_FILLS[pole],
                                 edgecolor=POLE_COLORS[pole], linewidth=1.8, zorder=3, gid=f"pole-{dimension}-{pole}")
            ax.add_patch(box)
            ax.text(x, y + 0.17, cell, ha="center", va="center", fontsize=10, fontweight="bold", zorder=4)
            ax.text(x, y - 0.1, POLE_GLOSSES[(dimension, pole)], ha="center", va="center", fontsize=9,
                    linespacing=1.2, color="#222222", zorder=4)
    ax.set_xlim(1.75, -1.75)  # vertical (+1) on the left, as Table 1 puts Beijing first
    ax.set_ylim(-0.6, 3.6)
    ax.set_yticks(list(rows.values()), [
        f"{d.capitalize() if d != 'start' else 'Starting conditions'}\nfrom A&G: {ANSELL_GASH_ORIGIN[d]}"
        if d != "start" else "Starting conditions\n(A&G variable)"
        for d in rows
    ])
    ax.set_xticks([1, 0, -1], ["+1 vertical\n(Beijing 12345)", "0 mixed", "−1 horizontal\n(New York 311)"])
    ax.set_xlabel("Position on the dimension: score of the city-mode rule (no unit)")
    ax.set_ylabel("Dimension")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_title(title, pad=10)
    handles = [
        Line2D([], [], marker="s", linestyle="", markersize=11, markerfacecolor=POLE_FILLS[p],
               markeredgecolor=POLE_COLORS[p], markeredgewidth=1.8,
               label=f"{p} pole (Table 1, {city})")
        for p, city in (("vertical", "Beijing"), ("horizontal", "New York"))
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def evidence_balance_figure(comparison: pd.DataFrame,
                            title: str = "Coded segments behind each cell of the rebuilt Table 1"):
    """Diverging bars: for every city and dimension, A-grade segments with vertical codes (left)
    and with horizontal codes (right), one panel per scope of :func:`table_1_comparison`.

    The rule's mode and confidence are printed at the end of each row, marked when they
    differ from Table 1. Vertical bars are solid blue, horizontal bars hatched orange,
    so the poles differ without colour too.
    """
    scopes = list(dict.fromkeys(comparison["scope"]))
    order = [(c, d) for c in dict.fromkeys(comparison["city_id"]) for d in DIMENSIONS]
    fig, axes = plt.subplots(1, len(scopes), figsize=(4.3 * len(scopes), 0.5 * len(order) + 2.2),
                             sharey=True, squeeze=False)
    axes = axes[0]
    largest = int(pd.concat([comparison["n_vertical_a"], comparison["n_horizontal_a"]]).max())
    limit = largest + 6  # room for the count printed beyond the longest bar
    for ax, scope in zip(axes, scopes):
        part = comparison[comparison["scope"] == scope].set_index(["city_id", "dimension"])
        ys = list(range(len(order)))[::-1]
        for y, key in zip(ys, order):
            if key not in part.index:
                continue
            r = part.loc[key]
            nv, nh = int(r["n_vertical_a"]), int(r["n_horizontal_a"])
            ax.barh(y, -nv, color=POLE_COLORS["vertical"], edgecolor="white", height=0.62, gid=f"v-{key[0]}-{key[1]}")
            ax.barh(y, nh, color=POLE_COLORS["horizontal"], hatch="///", edgecolor="white", height=0.62,
                    gid=f"h-{key[0]}-{key[1]}")
            for n, x, ha in ((nv, -nv - 0.4, "right"), (nh, nh + 0.4, "left")):
                ax.text(x, y, str(n), ha=ha, va="center", fontsize=9.5)
            differs = pd.notna(r["agrees"]) and not r["agrees"]
            label = f"{r['mode']}, {r['confidence']}\n≠ Table 1" if differs else f"{r['mode']},\n{r['confidence']}"
            ax.text(limit + 0.6, y, label,
                    ha="left", va="center", fontsize=9.5, fontweight="bold" if differs else "normal", clip_on=False)
        ax.text(limit + 0.6, len(order) - 0.45, "rule's mode,\nconfidence", ha="left", va="bottom", fontsize=9.5,
                style="italic", color="#555555", clip_on=False)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(-limit, limit)
        step = 10 if limit > 12 else 5
        ticks = list(range(-(limit // step) * step, limit + 1, step))
        ax.set_xticks(ticks, [str(abs(t)) for t in ticks])
        ax.set_xlabel("A-grade segments (count)\n← vertical | horizontal →")
        ax.set_title(scope[:1].upper() + scope[1:], fontsize=11.5)
        ax.set_yticks(ys, [f"{CITY_NAMES.get(c, c)} · {d}" for c, d in order])
        for boundary in range(len(DIMENSIONS), len(order), len(DIMENSIONS)):  # between cities
            ax.axhline(len(order) - boundary - 0.5, color="#999999", linewidth=0.8, linestyle=":")
    axes[0].set_ylabel("City · dimension")
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout()
    fig.subplots_adjust(wspace=0.6)
    return fig

