"""Figures and display tables of the coding chapter: what is drawn and shown matches the data.

Small fixtures check each function against counts written out by hand; the shipped
corpus checks the tables the chapter shows against independent computations from
``codings.csv`` and ``reconciliation_decisions.csv``.
"""

from __future__ import annotations

import doctest
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hotlines import data  # noqa: E402
from hotlines.coding import corpus, figures, queries, refi, reliability  # noqa: E402
from hotlines.coding.codebook import Codebook  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_codebook() -> Codebook:
    return Codebook.from_dict({"codebook": {"title": "t", "version": "0", "dimensions": [
        {"id": "leadership", "label": "Leadership", "color": "#0072B2", "codes": [
            {"id": "leadership.v1", "pole": "vertical", "label": "v1"},
            {"id": "leadership.h1", "pole": "horizontal", "label": "h1"},
            {"id": "leadership.n1", "pole": "neutral", "label": "n1"}]},
        {"id": "outcome", "label": "Outcome / responsiveness", "color": "#CC79A7", "codes": [
            {"id": "outcome.v2", "pole": "vertical", "label": "v2"},
            {"id": "outcome.h2", "pole": "horizontal", "label": "h2"}]},
    ]}})


CITIES = pd.DataFrame({
    "city_id": ["nyc", "bj", "phl", "xt", "chi"],
    "name": ["New York", "Beijing", "Philadelphia", "Xintai", "Chicago"],
    "role": ["evaluated", "evaluated", "us_comparison", "coding_case", "us_comparison"],
    "cluster": ["distinctive", "integrative", None, None, None],
})

SEGMENTS = pd.DataFrame({
    "segment_id": ["S1", "S2", "S3", "S4", "S5"],
    "cities": ["bj", "bj;nyc", "nyc", "phl", "xt"],
    "source": ["000_a.txt", "000_a.txt", "002_b.txt", "002_b.txt", "004_c.txt"],
    "passage": ["p one", "p two", "p three", "p four", "p five"],
})


def codings_ab() -> pd.DataFrame:
    rows = [
        ("S1", "coder_a", "leadership.v1", "'the secretary leads the reform process personally': leader acts"),
        ("S1", "coder_b", "leadership.v1", "'the secretary leads': attention"),
        ("S2", "coder_a", "leadership.h1", "tech first"),
        ("S2", "coder_b", "leadership.n1", "champion only"),
        ("S3", "coder_a", "outcome.h2", "faster"),
        ("S3", "coder_b", "outcome.h2", "faster too"),
        ("S4", "coder_a", "none", "nothing fits"),
        ("S4", "coder_b", "outcome.v2", "binding"),
        ("S5", "coder_a", "leadership.v1", "leader"),
        ("S5", "coder_b", "leadership.v1", "leader"),
    ]
    return pd.DataFrame(rows, columns=["segment_id", "coder", "code", "memo"])


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ---------------------------------------------------------------- doctests and helpers


def test_doctests_of_the_module_pass():
    result = doctest.testmod(figures, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_city_groups_put_clusters_first_then_comparison_then_coding_case():
    groups = figures.city_groups(CITIES)
    assert groups["city_id"].tolist() == ["bj", "nyc", "chi", "phl", "xt"]
    assert groups["group"].tolist() == ["integrative cluster", "distinctive cluster", "US comparison", "US comparison", "coding case"]


def test_shorten_memo_cuts_long_quotations_and_keeps_the_reason():
    memo = "'" + "word " * 30 + "': the coder's reason (dispatch rule)"
    short = figures.shorten_memo(memo, quote_chars=20, limit=200)
    assert short.startswith("'word word word word…'")
    assert short.endswith(": the coder's reason (dispatch rule)")
    assert len(figures.shorten_memo(memo, quote_chars=500, limit=40)) == 40
    assert figures.shorten_memo(None) == "" and figures.shorten_memo(float("nan")) == ""


def test_source_labels_name_the_seed_and_leave_other_names_alone():
    assert figures.source_label("004_77f2a58f42eb1672.txt").startswith("004 Liu")
    assert figures.source_label("interview.txt") == "interview.txt"


# ---------------------------------------------------------------- coverage


def test_segment_coverage_counts_every_city_a_segment_names():
    cov = figures.segment_coverage(SEGMENTS, CITIES)
    by = cov.set_index(["city_id", "source"])
    assert by.loc[("bj", "000_a.txt"), "n_segments"] == 2 and by.loc[("bj", "000_a.txt"), "n_multi_city"] == 1
    assert by.loc[("nyc", "000_a.txt"), "n_segments"] == 1 and by.loc[("nyc", "002_b.txt"), "n_segments"] == 1
    assert by.loc[("nyc", "002_b.txt"), "n_multi_city"] == 0
    # a city without segments keeps its rows, all zero
    assert cov.loc[cov.city_id == "chi", "n_segments"].tolist() == [0, 0, 0]
    totals = cov.drop_duplicates("city_id").set_index("city_id")["n_city_segments"].to_dict()
    assert totals == {"bj": 2, "nyc": 2, "chi": 0, "phl": 1, "xt": 1}
    # one row per city and source, cities in display order
    assert len(cov) == 5 * 3 and list(dict.fromkeys(cov.city_id)) == ["bj", "nyc", "chi", "phl", "xt"]


def test_segment_coverage_refuses_a_city_that_is_not_in_the_cities_table():
    bad = SEGMENTS.assign(cities=["bj", "bj;atlantis", "nyc", "phl", "xt"])
    with pytest.raises(ValueError, match=r"row 2 \(S2\), field 'cities'.*'atlantis'"):
        figures.segment_coverage(bad, CITIES)


def test_coverage_figure_bars_add_up_to_the_city_totals():
    cov = figures.segment_coverage(SEGMENTS, CITIES)
    fig = figures.coverage_figure(cov)
    ax = fig.axes[0]
    width = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        width[y] = width.get(y, 0) + patch.get_width()
    order = list(dict.fromkeys(cov.city_id))
    totals = cov.drop_duplicates("city_id").set_index("city_id")["n_city_segments"]
    assert [width.get(i, 0) for i in range(len(order))] == [totals[c] for c in order]
    assert "no segment" in texts(ax) and "2 (1 multi-city)" in texts(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [figures.source_label(s) for s in ("000_a.txt", "002_b.txt", "004_c.txt")]


# ---------------------------------------------------------------- code x city


def test_heatmap_cells_print_the_counts_and_rows_carry_their_pole():
    book = small_codebook()
    cod = codings_ab()
    counts = queries.code_by_city(SEGMENTS, cod, book, coders="coder_b")
    fig = figures.code_city_heatmap(counts, book, CITIES, dimensions=["leadership"])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["v1", "h1", "n1"]  # vertical, horizontal, neutral
    image = ax.images[0].get_array()
    # coder_b: v1 on S1 (bj) and S5 (xt); n1 on S2 (bj and nyc)
    columns = figures.city_groups(CITIES)["city_id"].tolist()
    expected = np.zeros((3, len(columns)))
    expected[0, columns.index("bj")] = 1
    expected[0, columns.index("xt")] = 1
    expected[2, columns.index("bj")] = 1
    expected[2, columns.index("nyc")] = 1
    assert np.array_equal(np.nan_to_num(np.ma.filled(image, np.nan)), expected)
    letters = [t.get_text() for t in ax.texts if t.get_text() in ("V", "H", "·")]
    assert letters == ["V", "H", "·"]
    assert [t.get_text() for t in ax.get_xticklabels()][columns.index("chi")] == "Chicago (0)"


def test_heatmap_leaves_out_rare_codes_and_says_which():
    book = small_codebook()
    counts = queries.code_by_city(SEGMENTS, codings_ab(), book, coders="coder_b")
    fig = figures.code_city_heatmap(counts, book, CITIES, min_segments=2)
    # coder_b: v1 twice (S1, S5); n1 twice (S2 counted for bj and nyc); h2 once; v2 once; h1 never
    assert fig.codes_left_out == ["leadership.h1", "outcome.v2", "outcome.h2"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["v1", "n1"]
    with pytest.raises(ValueError, match="not dimensions"):
        figures.code_city_heatmap(counts, book, CITIES, dimensions=["mechanism"])


# ---------------------------------------------------------------- co-occurrence


def test_pole_blocks_match_a_count_over_segments():
    book = small_codebook()
    cod = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S2", "S3", "S3"], "coder": ["a"] * 6,
                        "code": ["leadership.v1", "outcome.v2", "leadership.v1", "leadership.h1", "leadership.h1", "outcome.h2"]})
    table = queries.cooccurrence(cod, book)
    summary = figures.pole_block_summary(table, book).set_index("poles")
    # vertical pairs: (v1, v2) meet in S1; cross pairs: (v1,h1) in S2, (v1,h2), (v2,h1), (v2,h2) never; (h1,h2) in S3
    assert summary.loc["vertical–vertical", ["n_pairs", "n_pairs_meeting", "n_segment_pairs"]].tolist() == [1, 1, 1]
    assert summary.loc["vertical–horizontal", ["n_pairs", "n_pairs_meeting", "n_segment_pairs"]].tolist() == [4, 1, 1]
    assert summary.loc["horizontal–horizontal", ["n_pairs", "n_pairs_meeting"]].tolist() == [1, 1]
    # v1 in S1, S2; h1 in S2, S3: Jaccard 1/3
    assert summary.loc["vertical–horizontal", "mean_jaccard"] == pytest.approx((1 / 3) / 4)


def test_cooccurrence_heatmap_prints_jaccard_below_the_diagonal_and_sizes_on_it():
    book = small_codebook()
    cod = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S2", "S3"], "coder": ["a"] * 5,
                        "code": ["leadership.v1", "leadership.h1", "leadership.v1", "leadership.h1", "leadership.v1"]})
    table = queries.cooccurrence(cod, book)
    ax = figures.cooccurrence_heatmap(table, book).axes[0]
    # each code is named beside its diagonal cell, vertical codes first
    names = [t for t in ax.texts if t.get_text() in ("v1 [V]", "h1 [H]")]
    assert [(t.get_text(), t.get_position()[1]) for t in names] == [("v1 [V]", 0), ("h1 [H]", 1)]
    # v1 in 3 segments, h1 in 2, both in 2: Jaccard 2/3
    assert ".67" in texts(ax) and "3" in texts(ax) and "2" in texts(ax)
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert np.isnan(shown[0, 1]) and shown[1, 0] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- the shipped corpus


@pytest.fixture(scope="module")
def shipped():
    book = Codebook.load()
    segments, codings = corpus.segments(), corpus.codings()
    decisions = data.load("reconciliation_decisions")
    return book, segments, codings, decisions


@pytest.fixture(scope="module")
def presence(shipped):
    book, _, codings, _ = shipped
    return reliability.reliability(codings, book, coders=["coder_a", "coder_b"], n_boot=50, seed=3)


def code_sets(codings: pd.DataFrame, coder: str) -> set[tuple[str, str]]:
    rows = codings[(codings.coder == coder) & (codings.code != "none")]
    return set(zip(rows.segment_id, rows.code))


def test_forest_is_sorted_and_counts_what_the_coders_applied(shipped, presence):
    book, _, codings, _ = shipped
    fig = figures.reliability_forest(presence, book)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(book.codes)
    code_rows = presence[(presence.scope == "code") & (presence.measure == "krippendorff_alpha")].set_index("scope_id")
    by_label = {figures.short_code(c): c for c in book.codes}
    estimates = [code_rows.loc[by_label[label], "estimate"] for label in labels]
    assert estimates == sorted(estimates, reverse=True)
    # the right margin: applications by both coders, counted here straight from codings.csv
    applied = {c: 0 for c in book.codes}
    for coder in ("coder_a", "coder_b"):
        for _, code in code_sets(codings, coder):
            applied[code] += 1
    margin = [t.get_text() for t in ax.texts if re.fullmatch(r"\d+", t.get_text())]
    assert margin == [str(applied[by_label[label]]) for label in labels]
    # the dimension colours of the codebook, one legend entry per dimension plus two lines
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:6] == ["Leadership", "Institution", "Mechanism", "Technology", "Outcome", "Starting conditions"]
    assert legend[6].startswith("all codes pooled") and legend[7].startswith("codebook's revision threshold")


def test_dimension_table_shows_the_estimates_and_independent_counts(shipped, presence):
    book, _, codings, _ = shipped
    pole = reliability.reliability(codings, book, coders=["coder_a", "coder_b"], variable="pole", n_boot=20, seed=3)
    table = figures.dimension_reliability_table(presence, pole, book).set_index("Dimension")
    overall = presence[(presence.scope == "overall") & (presence.measure == "krippendorff_alpha")].iloc[0]
    assert table.loc["All dimensions", "α, code presence [95% CI]"] == (
        f"{overall.estimate:.2f} [{overall.ci_low:.2f}, {overall.ci_high:.2f}]")
    n_applied = len(code_sets(codings, "coder_a")) + len(code_sets(codings, "coder_b"))
    assert table.loc["All dimensions", "Applied (A + B)"] == n_applied
    mechanism = [c for c in book.codes if c.startswith("mechanism.")]
    expected = sum(1 for coder in ("coder_a", "coder_b") for _, c in code_sets(codings, coder) if c in mechanism)
    assert table.loc["Mechanism", "Applied (A + B)"] == expected
    assert table.loc["Mechanism", "Codes"] == len(mechanism)


def test_disagreement_counts_add_up_to_the_symmetric_difference(shipped):
    book, segments, codings, decisions = shipped
    dis = reliability.disagreements(codings, segments, book, coders=["coder_a", "coder_b"])
    a, b = code_sets(codings, "coder_a"), code_sets(codings, "coder_b")
    table = figures.disagreement_counts(dis, decisions, book, min_count=2)
    total = table.iloc[-1]
    assert total["Disagreements"] == len(a ^ b)
    assert total["Applied by A only"] == len(a - b) and total["Applied by B only"] == len(b - a)
    assert total["Settled: apply"] + total["Settled: not"] == len(a ^ b)
    body = table.iloc[:-1]
    assert body["Disagreements"].sum() == len(a ^ b)
    # the shown codes are those with two or more, most first
    shown = body[~body.Code.str.contains("other codes")]
    assert (shown["Disagreements"] >= 2).all() and shown["Disagreements"].is_monotonic_decreasing
    per_code = pd.Series([code for _, code in a ^ b]).value_counts()
    assert len(shown) == int((per_code >= 2).sum())


def test_a_disagreement_without_decision_is_an_error(shipped):
    book, segments, codings, decisions = shipped
    dis = reliability.disagreements(codings, segments, book, coders=["coder_a", "coder_b"])
    with pytest.raises(ValueError, match=r"no decision for the disagreement \(S-"):
        figures.disagreement_counts(dis, decisions.iloc[1:], book)


def test_reconciliation_summary_agrees_with_the_reconciled_coding(shipped):
    book, segments, codings, decisions = shipped
    dis = reliability.disagreements(codings, segments, book, coders=["coder_a", "coder_b"])
    summary = figures.reconciliation_summary(dis, decisions, codings).iloc[0]
    a, b, r = code_sets(codings, "coder_a"), code_sets(codings, "coder_b"), code_sets(codings, "reconciled")
    assert summary["n_disagreements"] == len(a ^ b)
    assert summary["n_segments"] == len({s for s, _ in a ^ b})
    # a decision sides with A when the reconciled coding keeps exactly A's reading of that (segment, code)
    sided_a = sum(1 for key in a ^ b if (key in r) == (key in a))
    assert summary["n_sided_with_a"] == sided_a and summary["n_sided_with_b"] == len(a ^ b) - sided_a
    assert summary["n_apply"] == len((a ^ b) & r)
    assert summary["n_agreed_removed"] == len((a & b) - r)
    assert summary["n_added"] == len(r - (a | b))
    assert summary["n_decisions"] == len(decisions)


def test_disagreement_examples_show_each_coders_own_memo(shipped):
    book, segments, codings, decisions = shipped
    table = figures.disagreement_examples(codings, segments, decisions, [("S-LON-08", "mechanism.referral_routing")], book)
    row = table.iloc[0]
    memo_a = codings[(codings.segment_id == "S-LON-08") & (codings.coder == "coder_a") & (codings.code == "mechanism.referral_routing")].memo.item()
    # the reason after the quotation is coder A's own words
    assert figures.shorten_memo(memo_a, limit=150) == row["Coder A"]
    assert row["Coder B"].startswith("*instead dispatch unspecified*")
    decision = decisions[(decisions.segment_id == "S-LON-08") & (decisions.code == "mechanism.referral_routing")].iloc[0]
    assert row["Decision"].startswith(decision["decision"]) and "C1" in row["Decision"]
    with pytest.raises(ValueError, match="is not a disagreement"):
        figures.disagreement_examples(codings, segments, decisions, [("S-BEI-01", "mechanism.dispatch_binding")], book)


def test_clarification_table_lists_the_codebooks_rules(shipped):
    book = shipped[0]
    table = figures.clarification_table(book)
    rules = book.meta["clarifications"]["rules"]
    assert table["Id"].tolist() == [r["id"] for r in rules] == [f"C{i}" for i in range(1, 16)]
    assert table["Segments"].tolist() == [len(r["motivated_by"]) for r in rules]
    assert figures.clarification_table(small_codebook()).empty


def test_clarifications_cited_reads_ids_once_in_order():
    assert figures.clarifications_cited("C5 ... clarification C12; again C5") == "C5;C12"
    assert figures.clarifications_cited("no rule") == "" and figures.clarifications_cited(None) == ""


# ---------------------------------------------------------------- exchange and retrieval


def test_exchange_table_reports_a_real_round_trip_and_what_was_not_carried(tmp_path):
    book = Codebook.load()
    segments = pd.DataFrame({"segment_id": ["S-1", "S-2"], "cities": ["beijing", "beijing;new_york"],
                             "source": ["000_8b5fa105864a0e27.txt"] * 2, "line": ["198", "200"], "line_end": ["198", "201"],
                             "interview_ids": [None, None], "speaker_role": [None, None],
                             "passage": ["接诉即办", "Unlike Beijing, NYC"], "origin": ["added", "added"], "note": [None, None]})
    codings = pd.DataFrame({"segment_id": ["S-1", "S-2"], "coder": ["A", "A"],
                            "code": ["mechanism.cross_level_escalation", "mechanism.cross_level_escalation"],
                            "city_id": [None, "beijing"], "memo": ["备忘", None]})
    coders = pd.DataFrame({"coder": ["A"], "kind": ["llm-agent"], "description": ["pass A"], "procedure": [None], "date": [None]})
    repository = {"segments": segments, "codings": codings, "coders": coders}
    exported = {**repository, "codings": codings.drop(columns="city_id")}
    path = refi.export_project(book, exported["segments"], exported["codings"], exported["coders"], tmp_path / "c.qdpx")
    project = refi.import_project(path)
    table = figures.exchange_table(book, repository, exported, project).set_index("What")
    assert table.loc["segments", ["In the repository", "Exported", "Imported back", "Identical"]].tolist() == [2, 2, 2, "yes"]
    assert table.loc["codings", "Identical"] == "yes" and table.loc["coders", "Identical"] == "yes"
    assert table.loc["codebook: dimensions / codes", "Identical"] == "yes"
    assert table.loc["codings.city_id (filled cells)"].tolist() == [1, 0, 0, "not carried"]
    # a changed memo is seen as a difference
    changed = project.codings.copy()
    changed.loc[0, "memo"] = "edited"
    project.codings = changed
    assert figures.exchange_table(book, repository, exported, project).set_index("What").loc["codings", "Identical"] == "no"


def test_passage_table_cuts_passages_and_names_cities():
    retrieved = pd.DataFrame({"segment_id": ["S1"], "cities": ["bj;nyc"], "passage": ["x" * 300],
                              "codes": ["leadership.v1;outcome.h2"]})
    table = figures.passage_table(retrieved, CITIES, passage_chars=50)
    row = table.iloc[0]
    assert row["Cities"] == "Beijing, New York" and len(row["Passage"]) == 50 and row["Passage"].endswith("…")
    assert row["Codes"] == "v1; h2"
