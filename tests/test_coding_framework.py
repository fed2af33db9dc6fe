"""The framework chapter's helpers: the published Table 1, its rebuild from the codings, the codebook tables, figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hotlines import paths  # noqa: E402
from hotlines.coding import framework as fw  # noqa: E402
from hotlines.coding.codebook import Codebook  # noqa: E402
from hotlines.coding.modes import TABLE_1, ModeRule  # noqa: E402

V_LEAD, H_LEAD = "leadership.top_leader_attention", "leadership.technology_orientation"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def codebook():
    return Codebook.load()


@pytest.fixture(scope="module")
def shipped():
    from hotlines.coding import corpus

    return corpus.segments(), corpus.codings()


@pytest.fixture(scope="module")
def comparison(codebook, shipped):
    segments, codings = shipped
    return fw.table_1_comparison(codebook, segments, codings)


# ---------------------------------------------------------------- the published table


def test_published_table_1_has_the_article_words_and_the_modes_of_the_rule_module():
    table = fw.published_table_1()
    assert len(table) == 6
    assert {(r.city_id, r.dimension): r.published_mode for r in table.itertuples()} == TABLE_1
    words = {(r.city_id, r.dimension): r.published_label for r in table.itertuples()}
    assert words[("beijing", "leadership")] == "Administrative-oriented"
    assert words[("new_york", "mechanism")] == "Contractual cooperation"
    assert table["line"].tolist() == [186, 187, 188, 186, 187, 188]


def _fake_seed_folder(tmp_path, rows):
    lines = ["filler"] * 185 + ["\t".join(r) for r in rows]
    (tmp_path / fw.SEED_000).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_verify_finds_the_words_at_their_lines_in_the_seed(tmp_path):
    folder = paths.seeds_dir()
    if folder is None:  # without the seeds the check must say so, naming where it looked
        with pytest.raises(FileNotFoundError, match="seed documents not found"):
            fw.verify_published_table_1()
        folder = _fake_seed_folder(tmp_path, [row[2:] for row in fw.PUBLISHED_TABLE_1])
    report = fw.verify_published_table_1(folder)
    assert report["matches"].tolist() == [True, True, True]
    assert report["line"].tolist() == [186, 187, 188]


def test_verify_reports_a_changed_cell(tmp_path):
    rows = [list(row[2:]) for row in fw.PUBLISHED_TABLE_1]
    rows[2][2] = "Horizontal cooperation"
    report = fw.verify_published_table_1(_fake_seed_folder(tmp_path, rows))
    assert report["matches"].tolist() == [True, True, False]
    assert report.loc[2, "found"] == "Mechanism\tCross-level cooperation\tHorizontal cooperation"


def test_verify_names_a_missing_seed_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="seed 000 is missing"):
        fw.verify_published_table_1(tmp_path)


# ---------------------------------------------------------------- the rebuild on hand-built evidence


def _corpus(rows):
    """rows: (segment_id, cities, source, [codes])."""
    segments = pd.DataFrame([
        {"segment_id": s, "cities": c, "source": src, "interview_ids": "", "line": 1, "line_end": 1,
         "passage": f"passage {s}", "speaker_role": "", "origin": "test", "note": ""}
        for s, c, src, _ in rows
    ])
    codings = pd.DataFrame([{"segment_id": s, "coder": "reconciled", "code": code, "memo": ""}
                            for s, _, _, codes in rows for code in codes])
    return segments, codings


def test_contested_leadership_differs_from_table_1_and_a_source_scope_restores_it(codebook):
    segments, codings = _corpus([
        ("S1", "new_york", fw.SEED_000, [H_LEAD]),
        ("S2", "new_york", fw.SEED_000, [H_LEAD]),
        ("S3", "new_york", "002.txt", [V_LEAD]),
        ("S4", "new_york", "002.txt", [V_LEAD]),
    ])
    table = fw.table_1_comparison(codebook, segments, codings, cities=["new_york"])
    lead = table.set_index(["scope", "dimension"])
    own, every = lead.loc[("seed 000 only", "leadership")], lead.loc[("all sources", "leadership")]
    assert (own["mode"], bool(own["agrees"]), own["n_horizontal_a"], own["n_justifying"]) == ("horizontal", True, 2, 2)
    assert (every["mode"], bool(every["agrees"]), every["n_vertical_a"], every["n_horizontal_a"]) == ("mixed", False, 2, 2)
    assert every["n_justifying"] == 4 and every["n_contrary"] == 0
    # dimensions without evidence are insufficient, which never agrees with Table 1
    assert lead.loc[("all sources", "institution"), "mode"] == "insufficient evidence"
    assert not bool(lead.loc[("all sources", "institution"), "agrees"])
    shown = fw.table_1_display(table).set_index("Dimension")
    assert shown.loc["Leadership", "All sources"] == "**mixed, low: 2\u00a0V / 2\u00a0H** (differs)"
    assert shown.loc["Leadership", "Seed 000 only"] == "horizontal, medium: 0\u00a0V / 2\u00a0H"
    assert shown.loc["Leadership", "Table 1"] == "Technology-oriented (horizontal)"
    assert shown.loc["Mechanism", "All sources"] == "**insufficient evidence: 0\u00a0V / 0\u00a0H** (differs)"


def test_scopes_must_not_be_empty(codebook):
    segments, codings = _corpus([("S1", "new_york", fw.SEED_000, [H_LEAD])])
    with pytest.raises(ValueError, match="scopes is empty"):
        fw.table_1_comparison(codebook, segments, codings, scopes={})


# ---------------------------------------------------------------- the rebuild on the shipped corpus


def test_seed_000_evidence_reproduces_table_1_and_all_sources_make_new_york_leadership_mixed(comparison):
    by = comparison.set_index(["scope", "city_id", "dimension"])
    own = by.loc["seed 000 only"]
    assert own["agrees"].all() and len(own) == 6
    every = by.loc["all sources"]
    assert every.loc[("new_york", "leadership"), "mode"] == "mixed"
    assert not every.loc[("new_york", "leadership"), "agrees"]
    assert every.drop(index=("new_york", "leadership"))["agrees"].all()


def _independent_a_grade_counts(codebook, segments, codings, source=None):
    """A-grade counts by city and dimension, computed directly with pandas (not through modes.py)."""
    seg = segments[~segments["cities"].str.contains(";")]  # single-city passages are grade A ...
    if source:
        seg = seg[seg["source"] == source]
    codes = pd.DataFrame([{"code": c.id, "dimension": c.dimension, "pole": c.pole} for c in codebook.codes.values()])
    rows = (codings[codings["coder"] == "reconciled"]
            .merge(seg[["segment_id", "cities"]], on="segment_id").merge(codes, on="code"))
    rows = rows[rows["pole"].isin(["vertical", "horizontal"])]
    inferential = rows["memo"].fillna("").str.contains("inferential", case=False)
    # ... unless every pole-bearing code of the dimension is flagged inferential (grade C)
    keep = (~inferential).groupby([rows["segment_id"], rows["dimension"]]).transform("any")
    rows = rows[keep]
    counts = rows.drop_duplicates(["segment_id", "dimension", "pole"]).groupby(["cities", "dimension", "pole"]).size()
    return counts


@pytest.mark.parametrize("scope, source", [("seed 000 only", fw.SEED_000), ("all sources", None)])
def test_counts_match_an_independent_count_of_the_codings(codebook, shipped, comparison, scope, source):
    segments, codings = shipped
    counts = _independent_a_grade_counts(codebook, segments, codings, source)
    part = comparison[comparison["scope"] == scope]
    for r in part.itertuples():
        assert r.n_vertical_a == counts.get((r.city_id, r.dimension, "vertical"), 0), (r.city_id, r.dimension)
        assert r.n_horizontal_a == counts.get((r.city_id, r.dimension, "horizontal"), 0), (r.city_id, r.dimension)


def test_new_york_leadership_evidence_lists_the_justifying_segments(codebook, shipped, comparison):
    segments, codings = shipped
    evidence = fw.dimension_evidence(codebook, segments, codings, "new_york", "leadership")
    row = comparison.set_index(["scope", "city_id", "dimension"]).loc[("all sources", "new_york", "leadership")]
    assert set(evidence["segment_id"]) == set(row["justifying_segments"].split(";"))
    assert (evidence["pole"] == "vertical").sum() == row["n_vertical_a"]
    assert (evidence["pole"] == "horizontal").sum() == row["n_horizontal_a"]
    assert evidence["pole"].tolist() == sorted(evidence["pole"], key=["vertical", "horizontal"].index)
    hammer = evidence.set_index("segment_id").loc["S-NYC-22"]
    assert hammer["seed"] == "002" and "was the hammer" in hammer["passage"]
    own = fw.dimension_evidence(codebook, segments, codings, "new_york", "leadership",
                                mode_rule=ModeRule(sources=(fw.SEED_000,)))
    assert set(own["seed"]) == {"000"} and len(own) == 5


def test_quotes_only_segments_of_the_evidence(codebook, shipped):
    segments, codings = shipped
    evidence = fw.dimension_evidence(codebook, segments, codings, "new_york", "leadership")
    text = fw.quote_markdown(evidence, "S-NYC-37")
    assert text.startswith("> The important fact is that the reporting structure")
    assert "— S-NYC-37: seed 002, lines 930–936; coded Oversight by the central executive" in text
    with pytest.raises(KeyError, match="S-BEI-04"):
        fw.quote_markdown(evidence, "S-BEI-04")
    with pytest.raises(ValueError, match="carries no poles"):
        fw.dimension_evidence(codebook, segments, codings, "new_york", "technology")


def test_evidence_display_keeps_every_segment_in_order(codebook, shipped):
    segments, codings = shipped
    evidence = fw.dimension_evidence(codebook, segments, codings, "new_york", "leadership")
    shown = fw.evidence_display(evidence)
    assert shown["Segment"].tolist() == evidence["segment_id"].tolist()
    row = shown.set_index("Segment").loc["S-NYC-22"]
    assert (row["Seed and lines"], row["Pole"], row["Informants"]) == ("002, lines 266–271", "vertical", "G-NYC-02, Q-NYC-03")
    assert shown.set_index("Segment").loc["S-NYC-03", "Seed and lines"] == "000, line 192"
    assert pd.isna(shown.set_index("Segment").loc["S-NYC-03", "Informants"])


def test_quotes_escape_markdown():
    evidence = pd.DataFrame([{"segment_id": "S", "seed": "002", "line": 3, "line_end": 3, "interview_ids": pd.NA,
                              "speaker_role": pd.NA, "code_labels": "X", "passage": "[CCRs] have *to* train_"}])
    assert fw.quote_markdown(evidence, "S").splitlines()[0] == r"> \[CCRs\] have \*to\* train\_"
    assert fw.quote_markdown(evidence, "S").endswith("— S: seed 002, line 3; coded X")


# ---------------------------------------------------------------- the codebook as tables


def test_codebook_display_covers_every_code_once(codebook):
    parts = [fw.codebook_display(codebook, [d]) for d in ("leadership", "institution", "mechanism")]
    cross = fw.codebook_display(codebook, ["technology", "outcome", "start"])
    assert sum(len(p) for p in parts) + len(cross) == len(codebook.codes)
    assert list(cross.columns) == ["Dimension", "Code", "Label", "Pole", "Definition"]
    assert set(cross["Pole"]) == {"neutral"}
    lead = parts[0].set_index("Code")
    assert lead.loc["`technology_orientation`", "Pole"] == "horizontal"
    assert lead.loc["`technology_orientation`", "Definition"] == codebook.codes["leadership.technology_orientation"].brief_definition
    with pytest.raises(KeyError, match="governance"):
        fw.codebook_display(codebook, ["governance"])


def test_poles_table_gives_both_poles_of_the_three_dimensions(codebook):
    poles = fw.poles_table(codebook).set_index("Dimension")
    assert list(poles.index) == ["Leadership", "Institution", "Mechanism"]
    assert poles.loc["Mechanism", "Vertical pole"] == codebook.dimension("mechanism").vertical_pole
    assert poles.loc["Institution", "Horizontal pole"].startswith("fragmented framework")


def test_changelog_and_clarifications_tables(codebook):
    log = fw.changelog_table(codebook)
    assert len(log) == sum(len(e["changes"]) for e in codebook.meta["changelog"])
    assert log["Version"].iloc[0] == codebook.version
    marked = fw.changelog_table(codebook, markup=True)
    assert (marked["Version"] == log["Version"]).all()
    general_law = marked[log["What"] == "institution.general_law_reliance"].iloc[0]
    assert general_law["What"] == "*Reliance on general-purpose law*"
    assert "moved to *Data-governance rules* and" in general_law["Change"]
    proposed = marked[log["What"].str.startswith("proposed code")].iloc[0]
    assert proposed["What"] == "proposed code `mechanism.coordination_unspecified` (neutral)"
    # text without a code id is left as it is
    assert marked.loc[log["What"] == "all anchors", "Change"].item() == log.loc[log["What"] == "all anchors", "Change"].item()
    clar = fw.clarifications_table(codebook)
    rules = codebook.meta["clarifications"]["rules"]
    assert clar["Id"].tolist() == [r["id"] for r in rules]
    assert clar["Codes"].tolist() == [len(r["codes"]) for r in rules]
    assert clar["Segments"].tolist() == [len(r["motivated_by"]) for r in rules]


# ---------------------------------------------------------------- figures


def test_framework_figure_draws_each_pole_in_its_colour_with_the_table_1_words():
    fig = fw.framework_figure()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    for _, _, _, beijing, new_york in fw.PUBLISHED_TABLE_1:
        assert beijing in texts and new_york in texts
    boxes = {p.get_gid(): mcolors.to_hex(p.get_edgecolor()) for p in ax.patches if p.get_gid()}
    assert len(boxes) == 6
    for gid, colour in boxes.items():
        assert colour == fw.POLE_COLORS[gid.rsplit("-", 1)[1]].lower()
    left, right = ax.get_xlim()
    assert left > 0 > right  # the vertical pole (+1) on the left
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_evidence_figure_bars_are_the_counts(comparison):
    fig = fw.evidence_balance_figure(comparison)
    assert len(fig.axes) == 2
    for ax, scope in zip(fig.axes, ["seed 000 only", "all sources"]):
        part = comparison[comparison["scope"] == scope].set_index(["city_id", "dimension"])
        widths = {p.get_gid(): p.get_width() for p in ax.patches if p.get_gid()}
        for (city, dimension), r in part.iterrows():
            assert widths[f"v-{city}-{dimension}"] == -r["n_vertical_a"]
            assert widths[f"h-{city}-{dimension}"] == r["n_horizontal_a"]
        marked = [t.get_text() for t in ax.texts if "≠ Table 1" in t.get_text()]
        assert len(marked) == int((~part["agrees"].astype(bool)).sum())
