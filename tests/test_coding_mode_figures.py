"""Figures, display tables and sensitivity runs of the city modes: what is drawn and counted matches the scoring."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from hotlines.coding import mode_figures as mf  # noqa: E402
from hotlines.coding.codebook import Codebook  # noqa: E402
from hotlines.coding.modes import INSUFFICIENT, TABLE_1, ModeRule, city_modes, segment_evidence  # noqa: E402

V_LEAD, H_LEAD = "leadership.top_leader_attention", "leadership.technology_orientation"
V_INST, H_INST = "institution.dedicated_hotline_legislation", "institution.sla_partial_framework"
V_MECH, H_MECH = "mechanism.cross_level_escalation", "mechanism.contractual_agreement"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def codebook():
    return Codebook.load()


def corpus(rows):
    """rows: (segment_id, cities, source, line, interview_ids, {coder: [codes]}, memo).

    Coder B codes as the reconciled coding unless a row says otherwise.
    """
    rows = [(*r[:5], {"coder_b": r[5]["reconciled"], **r[5]}, r[6]) for r in rows]
    segments = pd.DataFrame(
        [{"segment_id": s, "cities": c, "source": src, "line": line, "line_end": line, "interview_ids": iv,
          "passage": f"passage of {s}", "speaker_role": "", "origin": "test", "note": ""}
         for s, c, src, line, iv, _, _ in rows]
    )
    codings = pd.DataFrame(
        [{"segment_id": s, "coder": coder, "code": code, "memo": memo}
         for s, _, _, _, _, by_coder, memo in rows for coder, codes in by_coder.items() for code in codes]
    )
    return segments, codings


CITIES = pd.DataFrame(
    {
        "city_id": ["tokyo", "beijing", "xintai", "new_york", "boston", "london"],
        "name": ["Tokyo", "Beijing", "Xintai", "New York City", "Boston", "London"],
        "role": ["evaluated", "evaluated", "coding_case", "evaluated", "us_comparison", "evaluated"],
        "cluster": ["inclusive", "integrative", None, "distinctive", None, "inclusive"],
        "driven_supportive": ["supportive", "hotline-driven", None, "hotline-driven", None, None],
        "integrated_distributed": ["distributed", "integrated", None, "integrated", None, "distributed"],
    }
)
R = "reconciled"
ROWS = [
    # Beijing: three vertical leadership passages from two sources -> vertical, high
    ("S1", "beijing", mf.SEED_000, 10, "", {R: [V_LEAD], "coder_a": [V_LEAD]}, ""),
    ("S2", "beijing", mf.SEED_000, 11, "", {R: [V_LEAD, V_INST], "coder_a": [V_LEAD]}, ""),
    ("S3", "beijing", mf.REPORT_FILE, 900, "", {R: [V_LEAD], "coder_a": [V_LEAD, H_LEAD]}, ""),
    # New York: mechanism 2 vertical vs 1 horizontal -> mixed at dominance 3, vertical at 2
    ("S4", "new_york", mf.SEED_000, 20, "", {R: [V_MECH], "coder_a": [V_MECH]}, ""),
    ("S5", "new_york", mf.SEED_000, 21, "", {R: [V_MECH], "coder_a": [V_MECH]}, ""),
    ("S6", "new_york", mf.SEED_000, 22, "", {R: [H_MECH], "coder_a": [H_MECH]}, ""),
    # Tokyo and London: one multi-city statement (grade B), and one inferential London passage (grade C)
    ("S7", "tokyo;london", mf.REPORT_FILE, 552, "", {R: [H_INST], "coder_a": [H_INST]}, ""),
    ("S8", "london", mf.REPORT_FILE, 1200, "", {R: [H_MECH], "coder_a": [H_MECH]}, "inferential: cluster"),
    # Boston is named but nothing it says bears a pole
    ("S9", "boston", "003_91e7c52a132382fc.txt", 16, "", {R: ["technology.crm_case_tracking"],
                                                           "coder_a": ["technology.crm_case_tracking"]}, ""),
]


@pytest.fixture(scope="module")
def small(codebook):
    segments, codings = corpus(ROWS)
    modes = city_modes(codebook, segments, codings, CITIES["city_id"], coders=R)
    evidence = segment_evidence(codebook, segments, codings, coders=R)
    return segments, codings, modes, evidence


def cell(table, city, dimension, column="mode"):
    return table.set_index(["city_id", "dimension"]).loc[(city, dimension), column]


# ---------------------------------------------------------------- groups and evidence counts


def test_cities_are_grouped_by_cluster_then_comparison_then_coding_case():
    groups = mf.city_groups(CITIES)
    assert groups["city_id"].tolist() == ["beijing", "new_york", "london", "tokyo", "boston", "xintai"]
    assert groups["group"].tolist() == ["integrative", "distinctive", "inclusive", "inclusive", "US comparison",
                                        "coding case"]


def test_report_case_studies_are_lines_807_to_1930_of_the_report_only():
    frame = pd.DataFrame({"source": [mf.REPORT_FILE] * 4 + [mf.SEED_000], "line": [806, 807, 1930, 1931, 900]})
    assert mf.in_report_case_studies(frame).tolist() == [False, True, True, False, False]


def test_evidence_counts_each_segment_once_under_its_best_grade(small):
    segments, _, _, evidence = small
    table = mf.evidence_by_city(evidence, segments, CITIES).set_index("city_id")
    # Beijing: S2 bears leadership and institution (both A) and counts once
    assert table.loc["beijing", ["n_segments", "n_pole_bearing", "n_grade_a", "n_grade_b", "n_grade_c"]].tolist() == \
        [3, 3, 3, 0, 0]
    assert table.loc["beijing", "n_report_case_studies"] == 1 and table.loc["beijing", "n_sources"] == 2
    # London: one B (the shared statement, report line 552) and one C (inferential, line 1200 of the case studies)
    assert table.loc["london", ["n_grade_a", "n_grade_b", "n_grade_c", "n_report_case_studies"]].tolist() == [0, 1, 1, 1]
    # Boston is named by one segment that bears no pole; Xintai by none
    assert table.loc["boston", ["n_segments", "n_pole_bearing"]].tolist() == [1, 0]
    assert table.loc["xintai", ["n_segments", "n_pole_bearing"]].tolist() == [0, 0]
    # the counts agree with the evidence table computed independently
    best = evidence.groupby("city_id")["segment_id"].nunique()
    assert table.loc[best.index, "n_pole_bearing"].tolist() == best.tolist()


# ---------------------------------------------------------------- the grid


def _cells(fig):
    ax = fig.axes[0]
    return {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()}


def test_grid_colours_hatching_and_confidence_letters_match_the_modes(small):
    _, _, modes, _ = small
    fig = mf.mode_grid_figure(modes, CITIES)
    cells = _cells(fig)
    assert len(cells) == len(CITIES) * 4
    for row in modes.itertuples():
        patch = cells[f"{row.city_id}|{row.dimension}"]
        assert mcolors.to_hex(patch.get_facecolor()) == mcolors.to_hex(mf.MODE_COLORS[row.mode])
        assert (patch.get_hatch() == mf.INSUFFICIENT_HATCH) == (row.mode == INSUFFICIENT)
    texts = {(round(t.get_position()[0], 2), round(t.get_position()[1], 2)): t.get_text() for t in fig.axes[0].texts}
    order = mf.city_groups(CITIES)["city_id"].tolist()
    y = {c: i for i, c in enumerate(order)}
    assert texts[(0, y["beijing"])] == "H"  # leadership, 3 A-grade from two sources
    assert texts[(2, y["new_york"])] == "L"  # mechanism, mixed
    assert texts[(1, y["tokyo"])] == "L*"  # institution from the multi-city statement only
    assert texts[(3.25, y["beijing"])] == "2/3"  # overall: leadership and institution scored
    assert (0, y["boston"]) not in texts  # insufficient evidence prints nothing
    # rows follow the groups: the y tick labels are the names in group order
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == mf.city_groups(CITIES)["city"].tolist()


def test_mode_table_puts_the_named_cities_first_and_marks_grade_b(small):
    _, _, modes, _ = small
    table = mf.mode_table(modes, CITIES, first=("new_york", "beijing"))
    assert table["City"].tolist()[:2] == ["New York City", "Beijing"]
    row = table.set_index("City")
    assert row.loc["Beijing", "Leadership"] == "vertical (H)"
    assert row.loc["New York City", "Mechanism"] == "mixed (L)"
    assert row.loc["Tokyo", "Institution"] == "horizontal (L*)"
    assert row.loc["Boston", "Overall"] == "insufficient"


# ---------------------------------------------------------------- sensitivity


def test_change_kinds():
    assert mf.change_kind("vertical", "horizontal") == "pole reversed"
    assert mf.change_kind("horizontal", "mixed") == "to or from mixed"
    assert mf.change_kind("mixed", INSUFFICIENT) == "to insufficient evidence"
    assert mf.change_kind(INSUFFICIENT, "vertical") == "from insufficient evidence"
    assert mf.change_kind("vertical", "vertical", "high", "medium") == "confidence only"
    assert mf.change_kind("vertical", "vertical", None, None) is None
    assert mf.change_kind(INSUFFICIENT, INSUFFICIENT, float("nan"), None) is None


def test_variants_move_exactly_the_cells_their_choice_touches(codebook, small):
    segments, codings, _, _ = small
    runs = mf.run_variants(codebook, segments, codings, CITIES)
    changes = mf.variant_changes(runs)
    moved = {(r.variant, r.city_id, r.dimension): r.change for r in changes.itertuples()}
    # (a) the multi-city statement was Tokyo's and London's only institution evidence
    assert moved[("without_multi_city", "tokyo", "institution")] == "to insufficient evidence"
    assert moved[("without_multi_city", "london", "institution")] == "to insufficient evidence"
    # (e) the typology section (report lines 508-582) held the same statement, S7
    assert moved[("without_typology_section", "tokyo", "institution")] == "to insufficient evidence"
    # (b) coder A also coded S3 horizontal: Beijing leadership 3 vertical vs 1 horizontal stays vertical, with a
    # contrary segment, so high confidence drops to medium
    assert moved[("coder_a", "beijing", "leadership")] == "confidence only"
    # coder A did not code S2 for institution, so Beijing's institution has no evidence
    assert moved[("coder_a", "beijing", "institution")] == "to insufficient evidence"
    # (c) 2 vertical vs 1 horizontal is mixed at dominance 3 and vertical at dominance 2, mixed again at 4
    assert moved[("dominance_2", "new_york", "mechanism")] == "to or from mixed"
    assert not any(k[0] == "dominance_4" for k in moved)
    # (d) seed 000 only scores Beijing and New York; Beijing loses S3 (the report), still 2 vertical -> medium
    restricted = runs[runs["variant"] == "seed_000_only"]
    assert set(restricted["city_id"]) == {"beijing", "new_york"}
    assert moved[("seed_000_only", "beijing", "leadership")] == "confidence only"
    # every mode change agrees with a direct comparison of the two tables
    base = runs[runs["variant"] == "base"].set_index(["city_id", "dimension"])["mode"]
    for name, variant in runs[runs["variant"] != "base"].groupby("variant"):
        other = variant.set_index(["city_id", "dimension"])["mode"]
        direct = {key for key in other.index if other[key] != base[key]}
        listed = {(c, d) for (v, c, d), kind in moved.items() if v == name and kind != "confidence only"}
        assert listed == direct, name


def test_a_variant_leaves_out_the_segments_of_a_stretch_of_lines(codebook, small):
    segments, _, _, _ = small
    variant = mf.ModeVariant("x", "x", exclude_lines=(mf.REPORT_FILE, 552, 900))
    kept = variant.segments(segments)
    assert set(segments["segment_id"]) - set(kept["segment_id"]) == {"S3", "S7"}  # report lines 900 and 552
    typology = [v for v in mf.standard_variants() if v.name == "without_typology_section"][0]
    assert typology.exclude_lines == (mf.REPORT_FILE, 508, 582)
    assert set(typology.segments(segments)["segment_id"]) == set(segments["segment_id"]) - {"S7"}


def test_summary_counts_agree_with_the_changes_and_the_figure_draws_them(codebook, small):
    segments, codings, _, _ = small
    runs = mf.run_variants(codebook, segments, codings, CITIES)
    changes = mf.variant_changes(runs)
    summary = mf.variant_summary(runs, changes).set_index("variant")
    assert summary.loc["without_multi_city", "n_cells"] == 3 * len(CITIES)
    assert summary.loc["seed_000_only", ["n_cells", "n_cities"]].tolist() == [6, 2]
    dims = changes[(changes["dimension"] != "overall") & (changes["change"] != "confidence only")]
    assert summary["n_mode_changed"].to_dict() == dims.groupby("variant").size().reindex(summary.index, fill_value=0).to_dict()
    kinds = summary[["n_" + k.replace(" ", "_") for k in mf.CHANGE_KINDS]].sum(axis=1)
    assert (kinds == summary["n_mode_changed"]).all()
    # Tokyo's and London's overall modes do not move (each had one dimension at most), New York's does not either
    assert summary.loc["without_multi_city", "n_overall_changed"] == 0

    fig = mf.sensitivity_figure(summary.reset_index())
    left, right = fig.axes
    labels = [t.get_text() for t in left.get_yticklabels()]
    widths = {}
    for patch in left.patches:
        row = labels[round(patch.get_y() + patch.get_height() / 2)]
        widths[row] = widths.get(row, 0) + patch.get_width()
    expected = summary.set_index("variant_label")["n_mode_changed"]
    assert {k: round(v) for k, v in widths.items()} == expected.to_dict()
    assert sorted(t.get_text() for t in left.texts) == sorted(
        f"{n} of {c}" for n, c in zip(summary["n_mode_changed"], summary["n_cells"]))
    assert sorted(round(p.get_width()) for p in right.patches) == sorted(summary["n_overall_changed"])


def test_rule_table_states_the_rule_parameters():
    table = mf.rule_table(ModeRule(min_high=4, min_medium=3)).set_index("Level")["Definition and effect"]
    assert table["High confidence"].startswith("At least 4 grade-A")
    assert table["Medium confidence"].startswith("At least 3 grade-A")


# ---------------------------------------------------------------- typologies


def test_typology_crosstab_counts_evaluated_cities_with_zeros_and_not_stated(small):
    _, _, modes, _ = small
    table = mf.typology_crosstab(modes, CITIES)
    driven = table[table["typology"] == "driven_supportive"]
    assert driven["value"].unique().tolist() == ["hotline-driven", "supportive", mf.NOT_STATED]
    assert len(driven) == 3 * len(mf.MODE_ORDER)  # every combination, zeros included
    assert driven["n"].sum() == (CITIES["role"] == "evaluated").sum()  # Boston and Xintai left out
    hit = driven.set_index(["value", "mode"])
    assert hit.loc[("hotline-driven", "vertical"), "cities"] == "Beijing"
    # New York and London have one scored dimension at most: no overall mode
    assert hit.loc[("hotline-driven", INSUFFICIENT), "cities"] == "New York City"
    assert hit.loc[(mf.NOT_STATED, INSUFFICIENT), "cities"] == "London"
    # integrated / distributed: every evaluated city states it, so there is no "not stated" row
    integrated = table[table["typology"] == "integrated_distributed"]
    assert mf.NOT_STATED not in set(integrated["value"])
    wide = mf.typology_display(table).set_index("Report's type")
    assert wide.loc["hotline-driven", "vertical"] == "1: Beijing"
    assert wide.loc["supportive", "horizontal"] == "0"
    assert wide.loc["driven / supportive: not stated", "insufficient"] == "1: London"


def test_typology_crosstab_refuses_a_missing_mode_or_typology(small):
    _, _, modes, _ = small
    with pytest.raises(ValueError, match="new_york"):
        mf.typology_crosstab(modes[modes["city_id"] != "new_york"], CITIES)
    with pytest.raises(ValueError, match="no typology column 'colour'"):
        mf.typology_crosstab(modes, CITIES, typologies=("colour",))
    with pytest.raises(ValueError, match="dimension must be"):
        mf.typology_crosstab(modes, CITIES, dimension="outcome")


# ---------------------------------------------------------------- the shipped corpus


@pytest.fixture(scope="module")
def shipped():
    return mf.scoring_inputs()


def test_scoring_inputs_give_the_published_modes(shipped):
    from hotlines import data

    stored = data.load("city_modes")
    columns = ["city_id", "dimension", "mode", "evidence_grade", "confidence", "justifying_segments", "contrary_segments"]
    pd.testing.assert_frame_equal(shipped["modes"][columns].fillna("").astype(str).reset_index(drop=True),
                                  stored[columns].fillna("").astype(str).reset_index(drop=True))


def test_new_york_leadership_passages_are_the_counted_evidence(shipped):
    modes, evidence = shipped["modes"], shipped["evidence"]
    table = mf.passage_table(evidence, shipped["segments"], shipped["sources"], "new_york", "leadership")
    assert (table["pole"] == "vertical").sum() == cell(modes, "new_york", "leadership", "n_vertical_a")
    assert (table["pole"] == "horizontal").sum() == cell(modes, "new_york", "leadership", "n_horizontal_a")
    assert set(table["segment_id"]) == set(cell(modes, "new_york", "leadership", "justifying_segments").split(";"))
    passages = shipped["segments"].set_index("segment_id")["passage"]
    assert all(passages[s] == p for s, p in zip(table["segment_id"], table["passage"]))
    assert set(table["source_id"]) <= set(shipped["sources"]["source_id"])
    shown = mf.passage_display(table, shipped["codebook"]).set_index("Segment")
    label = shipped["codebook"].codes["leadership.technology_orientation"].label
    assert shown.loc["S-NYC-03", "Code"] == label and shown.loc["S-NYC-03", "Pole"] == "horizontal"
    assert shown.loc["S-NYC-22", "Source"].startswith("{cite:t}`nam2013building`, line 266 (")
    with pytest.raises(ValueError, match="no pole-bearing evidence for city 'chicago'"):
        mf.passage_table(evidence, shipped["segments"], shipped["sources"], "chicago", "leadership")


def test_leaving_out_multi_city_statements_moves_exactly_the_grade_b_cells(shipped):
    runs = mf.run_variants(shipped["codebook"], shipped["segments"], shipped["codings"], shipped["cities"],
                           variants=[v for v in mf.standard_variants() if v.name in ("without_multi_city", "seed_000_only")])
    changes = mf.variant_changes(runs)
    base = shipped["modes"]
    grade_b = set(zip(*base.loc[base["evidence_grade"] == "B", ["city_id", "dimension"]].T.values))
    moved = changes[(changes["variant"] == "without_multi_city") & (changes["dimension"] != "overall")]
    assert set(zip(moved["city_id"], moved["dimension"])) == grade_b
    assert set(moved["change"]) == {"to insufficient evidence"}
    # seed 000 alone gives Table 1 of seed 000
    own = runs[(runs["variant"] == "seed_000_only") & (runs["dimension"] != "overall")]
    assert {(r.city_id, r.dimension): r.mode for r in own.itertuples()} == TABLE_1
