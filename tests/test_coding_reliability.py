"""Inter-coder reliability: published worked examples, hand computations, the coded-corpus
units of analysis, degenerate cases, the bootstrap and the disagreement table."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotlines.coding import reliability as rel
from hotlines.coding.codebook import Codebook
from hotlines.coding.reliability import (
    agreement,
    bootstrap_replicates,
    dimension_ratings,
    disagreements,
    presence_ratings,
    reliability,
    reliability_design,
)

nan = np.nan

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania (repository.upenn.edu/asc_papers/43), section C:
# four observers, twelve units, values 1-5, missing data.
KRIPPENDORFF_2011_C = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    }
)

# Section A of the same paper: binary data, two observers, ten units, no missing data.
KRIPPENDORFF_2011_A = pd.DataFrame({"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]})

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin 76(5), 378-382, Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (as in
# R irr::diagnoses and statsmodels' test suite).
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)

# The worked example of Wikipedia's "Fleiss' kappa" article (also in statsmodels' tests):
# 10 subjects, 14 raters, 5 categories, given as counts per category; kappa = 0.210.
WIKIPEDIA_FLEISS_COUNTS = np.array(
    [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
)


def one(table: pd.DataFrame, measure: str, **where) -> pd.Series:
    rows = table[table["measure"] == measure]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --------------------------------------------------------------------------- published examples


def test_krippendorff_2011_section_c_all_levels():
    published = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
    for level, value in published.items():
        table = agreement(KRIPPENDORFF_2011_C, level=level, measures=["krippendorff_alpha"], n_boot=0)
        row = one(table, "krippendorff_alpha")
        assert round(row.estimate, 3) == value, level
        assert row.level == level
        assert row.n_units == 11  # unit 12 has one value: not pairable
        assert row.n_coders == 4


def test_krippendorff_2011_nominal_from_the_coincidence_matrix():
    """The paper's coincidence matrix for section C (values 1..5) gives alpha by hand:
    n = 40 pairable values, off-diagonal sum 8, sum of n_c^2 = 9^2 + 13^2 + 10^2 + 5^2 + 3^2.
    """
    o = np.array(
        [
            [7, 4 / 3, 1 / 3, 1 / 3, 0],
            [4 / 3, 10, 4 / 3, 1 / 3, 0],
            [1 / 3, 4 / 3, 8, 1 / 3, 0],
            [1 / 3, 1 / 3, 1 / 3, 4, 0],
            [0, 0, 0, 0, 3],
        ]
    )
    n_c = o.sum(axis=1)
    n = n_c.sum()
    assert n == pytest.approx(40)
    by_hand = 1 - (n - 1) * (n - np.trace(o)) / (n**2 - (n_c**2).sum())
    assert by_hand == pytest.approx(1 - 312 / 1216)
    row = one(agreement(KRIPPENDORFF_2011_C, n_boot=0), "krippendorff_alpha")
    assert row.estimate == pytest.approx(by_hand, abs=1e-12)


def test_krippendorff_2011_section_a_binary_two_observers():
    """n_0 = 14, n_1 = 6, o_01 = 4: alpha = 1 - (n - 1) o_01 / (n_0 n_1) = 1 - 19 * 4 / 84 = 0.095."""
    table = agreement(KRIPPENDORFF_2011_A, n_boot=0)
    alpha = one(table, "krippendorff_alpha")
    assert round(alpha.estimate, 3) == 0.095
    assert alpha.estimate == pytest.approx(1 - 19 * 4 / 84, abs=1e-12)
    assert alpha.n_units == 10
    assert one(table, "percent_agreement").estimate == pytest.approx(0.6)
    assert alpha.prevalence == pytest.approx(6 / 20) and alpha.prevalence_of == "1"


def test_fleiss_1971_diagnoses():
    ratings = pd.DataFrame(FLEISS_1971, columns=[f"rater{i}" for i in range(1, 7)])
    table = agreement(ratings, n_boot=0)
    fleiss = one(table, "fleiss_kappa")
    assert round(fleiss.estimate, 2) == 0.43  # Fleiss (1971); irr::kappam.fleiss(diagnoses) prints 0.43
    assert fleiss.n_units == 30 and fleiss.n_coders == 6
    # independent computation of Fleiss' formulas: P-bar and P-bar_e from the category counts
    counts = np.stack([(FLEISS_1971 == k).sum(axis=1) for k in range(1, 6)], axis=1)
    m = 6
    p_i = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    kappa = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert fleiss.estimate == pytest.approx(kappa, abs=1e-12)
    assert one(table, "percent_agreement").estimate == pytest.approx(p_i.mean(), abs=1e-12)
    cohen = one(table, "cohen_kappa")
    assert math.isnan(cohen.estimate) and "exactly two coders (6 here)" in cohen.reason


def test_fleiss_wikipedia_example():
    # expand category counts into 14 ratings per subject (Fleiss' kappa ignores who rated what)
    ratings = pd.DataFrame([np.repeat(np.arange(1, 6), row) for row in WIKIPEDIA_FLEISS_COUNTS])
    fleiss = one(agreement(ratings, n_boot=0), "fleiss_kappa")
    assert round(fleiss.estimate, 3) == 0.210


def test_cohen_kappa_two_by_two_by_hand():
    """Two readers, 50 proposals: both yes 20, A yes B no 5, A no B yes 10, both no 15."""
    table = np.array([[20, 5], [10, 15]])
    pairs = [(1, 1)] * 20 + [(1, 0)] * 5 + [(0, 1)] * 10 + [(0, 0)] * 15
    ratings = pd.DataFrame(pairs, columns=["A", "B"])
    n = table.sum()
    p_o = np.trace(table) / n
    p_e = (table.sum(axis=1) * table.sum(axis=0)).sum() / n**2
    expected = (p_o - p_e) / (1 - p_e)
    assert (p_o, p_e, expected) == pytest.approx((0.7, 0.5, 0.4))
    result = agreement(ratings, n_boot=0)
    assert one(result, "cohen_kappa").estimate == pytest.approx(expected, abs=1e-12)
    assert one(result, "percent_agreement").estimate == pytest.approx(p_o)
    # with two coders Fleiss' kappa is Scott's pi: expected agreement from the pooled margins
    pooled = (table.sum(axis=1) + table.sum(axis=0)) / (2 * n)
    pi = (p_o - (pooled**2).sum()) / (1 - (pooled**2).sum())
    assert one(result, "fleiss_kappa").estimate == pytest.approx(pi, abs=1e-12)


def test_string_values_and_value_domain():
    labels = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    words = KRIPPENDORFF_2011_C.apply(lambda col: col.map(labels))
    ordered = list(labels.values())
    row = one(agreement(words, level="ordinal", value_domain=ordered, measures=["krippendorff_alpha"], n_boot=0), "krippendorff_alpha")
    assert round(row.estimate, 3) == 0.815
    with pytest.raises(ValueError, match="needs numeric ratings"):
        agreement(words, level="interval", n_boot=0)
    with pytest.raises(ValueError, match="outside value_domain"):
        agreement(words, value_domain=ordered[:3], n_boot=0)
    with pytest.raises(ValueError, match="unknown measure"):
        agreement(words, measures=["scotts_pi"])


# --------------------------------------------------------------------------- the bootstrap


def test_bootstrap_interval_is_the_documented_percentile_bootstrap():
    """Re-derive Cohen's kappa interval by hand: same seed, same draws, plain formula."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2, 60)
    b = np.where(rng.random(60) < 0.8, a, 1 - a)
    ratings = pd.DataFrame({"a": a, "b": b})
    table = agreement(ratings, n_boot=400, seed=11, ci=0.9)
    draws = np.random.default_rng(11).integers(0, 60, size=(400, 60))
    kappas = []
    for index in draws:
        x, y = a[index], b[index]
        p_o = np.mean(x == y)
        p_e = np.mean(x) * np.mean(y) + np.mean(1 - x) * np.mean(1 - y)
        kappas.append((p_o - p_e) / (1 - p_e))
    low, high = np.quantile(kappas, [0.05, 0.95])
    row = one(table, "cohen_kappa")
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert row.ci_level == 0.9 and row.n_boot == 400 and row.n_boot_valid == 400
    assert row.ci_method == "percentile bootstrap: 400 resamples of units with replacement, seed 11"


def test_fast_nominal_replicates_equal_the_engines():
    """The vectorised nominal bootstrap and the per-resample engine calls agree, missing data included."""
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, size=(40, 4))
    codes[rng.random(codes.shape) < 0.2] = -1
    clusters = np.repeat(np.arange(20), 2)
    data = rel._Reliability(codes, clusters, 20, np.array(["x", "y", "z"], dtype=object), "nominal")
    boot = np.random.default_rng(5).integers(0, 20, size=(60, 20))
    for measure in ("krippendorff_alpha", "fleiss_kappa", "percent_agreement"):
        fast, slow = data.replicates(measure, boot), data.replicates_engine(measure, boot)
        assert np.array_equal(np.isnan(fast), np.isnan(slow)), measure
        assert np.allclose(fast, slow, rtol=0, atol=1e-12, equal_nan=True), measure
    pair = rel._Reliability(codes[:, :2].clip(0), clusters, 20, np.array(["x", "y", "z"], dtype=object), "nominal")
    assert np.allclose(pair.replicates("cohen_kappa", boot), pair.replicates_engine("cohen_kappa", boot), atol=1e-12, equal_nan=True)


@st.composite
def rating_tables(draw, min_coders=2, max_coders=4):
    n_units = draw(st.integers(3, 25))
    n_coders = draw(st.integers(min_coders, max_coders))
    n_values = draw(st.integers(2, 4))
    cells = draw(st.lists(st.integers(0, n_values - 1), min_size=n_units * n_coders, max_size=n_units * n_coders))
    return pd.DataFrame(np.array(cells).reshape(n_units, n_coders), columns=[f"c{i}" for i in range(n_coders)])


@settings(max_examples=60, deadline=None)
@given(ratings=rating_tables(), seed=st.integers(0, 2**32 - 1))
def test_bootstrap_is_reproducible_with_a_seed_and_moves_with_another(ratings, seed):
    first = agreement(ratings, n_boot=50, seed=seed)
    pd.testing.assert_frame_equal(first, agreement(ratings, n_boot=50, seed=seed))
    replicates = bootstrap_replicates(ratings, n_boot=50, seed=seed)
    pd.testing.assert_frame_equal(replicates, bootstrap_replicates(ratings, n_boot=50, seed=seed))
    other = bootstrap_replicates(ratings, n_boot=50, seed=seed + 1)
    for measure, group in replicates.groupby("measure"):
        values = group["estimate"].to_numpy()
        row = one(first, measure)
        valid = values[~np.isnan(values)]
        if row.n_boot_valid:
            # the interval is the percentile interval of exactly these resamples
            assert row.n_boot_valid == len(valid)
            assert (row.ci_low, row.ci_high) == pytest.approx(tuple(np.quantile(valid, [0.025, 0.975])), abs=1e-12)
        if len(valid) and np.ptp(valid) > 1e-9:
            # another seed draws other resamples (an interval of a few-valued distribution may still coincide)
            moved = other.loc[other.measure == measure, "estimate"].to_numpy()
            assert not np.array_equal(values, moved, equal_nan=True)


def test_a_generator_can_be_passed_as_seed():
    ratings = KRIPPENDORFF_2011_A
    a = agreement(ratings, n_boot=100, seed=np.random.default_rng(1))
    b = agreement(ratings, n_boot=100, seed=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, b)
    assert a["ci_method"].str.contains("a numpy Generator").all()


# --------------------------------------------------------------------------- properties


@settings(max_examples=80, deadline=None)
@given(ratings=rating_tables())
def test_percent_agreement_is_a_proportion_and_coefficients_at_most_one(ratings):
    table = agreement(ratings, n_boot=0).set_index("measure")
    assert 0 <= table.loc["percent_agreement", "estimate"] <= 1
    for measure in ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa"):
        value = table.loc[measure, "estimate"]
        assert math.isnan(value) or value <= 1 + 1e-12
    assert 0 <= table.loc["percent_agreement", "prevalence"] <= 1


@settings(max_examples=80, deadline=None)
@given(ratings=rating_tables())
def test_identical_coders_agree_perfectly(ratings):
    first = ratings.iloc[:, [0]]
    copies = pd.concat([first.rename(columns={first.columns[0]: f"c{i}"}) for i in range(ratings.shape[1])], axis=1)
    table = agreement(copies, n_boot=0).set_index("measure")
    assert table.loc["percent_agreement", "estimate"] == 1.0
    if first.iloc[:, 0].nunique() >= 2:
        for measure in ("krippendorff_alpha", "fleiss_kappa"):
            assert table.loc[measure, "estimate"] == pytest.approx(1.0, abs=1e-12)
        if copies.shape[1] == 2:
            assert table.loc["cohen_kappa", "estimate"] == pytest.approx(1.0, abs=1e-12)
    else:
        for measure in ("krippendorff_alpha", "fleiss_kappa"):
            assert math.isnan(table.loc[measure, "estimate"])
            assert table.loc[measure, "reason"].startswith("no variation")


@settings(max_examples=60, deadline=None)
@given(ratings=rating_tables())
def test_nominal_alpha_and_fleiss_kappa_are_related_by_the_small_sample_factor(ratings):
    """With complete data, alpha = 1 - (1 - kappa_Fleiss)(n - 1)/n, n = units x coders
    (both rest on the same observed agreement; alpha's expected disagreement is taken
    without replacement)."""
    table = agreement(ratings, n_boot=0).set_index("measure")
    alpha, kappa = table.loc["krippendorff_alpha", "estimate"], table.loc["fleiss_kappa", "estimate"]
    n = ratings.size
    if math.isnan(kappa):
        assert math.isnan(alpha)
    else:
        assert alpha == pytest.approx(1 - (1 - kappa) * (n - 1) / n, abs=1e-9)


# --------------------------------------------------------------------------- the coded corpus


def make_codebook() -> Codebook:
    spec = {
        "leadership": [("leadership.top_leader_attention", "vertical"), ("leadership.technology_orientation", "horizontal")],
        "mechanism": [
            ("mechanism.cross_level_escalation", "vertical"),
            ("mechanism.agency_liaison", "horizontal"),
            ("mechanism.dispatch_unspecified", "neutral"),
            ("mechanism.external_partnership", "neutral"),
        ],
    }
    return Codebook.from_dict(
        {"codebook": {"title": "t", "version": "0", "dimensions": [{"id": d, "codes": [{"id": c, "pole": p} for c, p in codes]} for d, codes in spec.items()]}}
    )


LEAD_V, LEAD_H = "leadership.top_leader_attention", "leadership.technology_orientation"
ESC, LIAISON, DISPATCH, PARTNER = (
    "mechanism.cross_level_escalation",
    "mechanism.agency_liaison",
    "mechanism.dispatch_unspecified",
    "mechanism.external_partnership",
)

TWO_CODERS = [
    ("S1", "a", ESC), ("S1", "a", LEAD_V), ("S1", "b", ESC),
    ("S2", "a", ESC), ("S2", "b", ESC), ("S2", "b", LEAD_V),
    ("S3", "a", LIAISON), ("S3", "b", LIAISON), ("S3", "b", DISPATCH),
    ("S4", "a", "none"), ("S4", "b", LEAD_H),
    ("S5", "a", LEAD_H), ("S5", "a", LIAISON), ("S5", "b", LEAD_H), ("S5", "b", LIAISON),
    ("S6", "a", DISPATCH), ("S6", "b", ESC),
    ("S7", "a", ESC), ("S7", "a", LIAISON), ("S7", "b", ESC), ("S7", "b", LIAISON),
    ("S8", "a", LEAD_V),  # coded by a only: excluded and counted
]


@pytest.fixture
def codebook() -> Codebook:
    return make_codebook()


@pytest.fixture
def codings() -> pd.DataFrame:
    frame = pd.DataFrame(TWO_CODERS, columns=["segment_id", "coder", "code"])
    frame["memo"] = [f"{c} on {s}: {code.split('.')[-1]}" for s, c, code in TWO_CODERS]
    return frame


def test_reliability_design_counts_excluded_segments(codings):
    design = reliability_design(codings)
    assert design["included"].sum() == 7
    excluded = design[~design["included"]]
    assert excluded["segment_id"].tolist() == ["S8"]
    assert excluded["reason"].item() == "coded by 1 of 2 coders (a); not by b"


def test_presence_units_are_every_segment_times_every_code(codings, codebook):
    wide = presence_ratings(codings, codebook)
    assert wide.shape == (7 * 6, 2)
    assert wide.loc[("S1", LEAD_V)].tolist() == [1, 0]
    assert wide.loc[("S4", LEAD_H)].tolist() == [0, 1]
    assert wide.loc[("S4", ESC)].tolist() == [0, 0]  # 'none' is absence of every code
    assert "S8" not in wide.index.get_level_values("segment_id")


def test_per_code_kappa_by_hand(codings, codebook):
    table = reliability(codings, codebook, scopes=["code"], n_boot=0)
    wide = presence_ratings(codings, codebook)
    for code in codebook.codes:
        a = wide.xs(code, level="code")["a"].to_numpy()
        b = wide.xs(code, level="code")["b"].to_numpy()
        p_o = np.mean(a == b)
        p_e = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
        row = one(table, "cohen_kappa", scope_id=code)
        if p_e == 1:
            assert math.isnan(row.estimate)
        else:
            assert row.estimate == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-12), code
        assert one(table, "percent_agreement", scope_id=code).estimate == pytest.approx(p_o)
        assert row.prevalence == pytest.approx((a.sum() + b.sum()) / 14)
        assert row.n_units == 7 and row.n_segments == 7 and row.n_segments_excluded == 1
    # escalation: a = 1,1,0,0,0,0,1  b = 1,1,0,0,0,1,1 -> p_o = 6/7
    assert one(table, "percent_agreement", scope_id=ESC).estimate == pytest.approx(6 / 7)


def test_a_code_nobody_applied_is_nan_with_a_reason_not_a_crash(codings, codebook):
    table = reliability(codings, codebook, scopes=["code"], n_boot=200, seed=1)
    for measure in ("krippendorff_alpha", "cohen_kappa", "fleiss_kappa"):
        row = one(table, measure, scope_id=PARTNER)
        assert math.isnan(row.estimate) and math.isnan(row.ci_low)
        assert row.reason.startswith("no variation: every rating has the same value (0)")
        assert row.prevalence == 0 and row.prevalence_of == "applied"
    assert one(table, "percent_agreement", scope_id=PARTNER).estimate == 1.0


def test_pooled_scopes(codings, codebook):
    table = reliability(codings, codebook, scopes=["overall", "dimension"], n_boot=0)
    wide = presence_ratings(codings, codebook)
    overall = one(table, "krippendorff_alpha", scope="overall")
    assert overall.n_units == 42 and overall.scope_id == "all"
    assert overall.prevalence == pytest.approx(wide.to_numpy().sum() / wide.size)
    direct = one(agreement(wide, n_boot=0), "krippendorff_alpha")
    assert overall.estimate == pytest.approx(direct.estimate, abs=1e-12)
    mechanism = wide[wide.index.get_level_values("code").str.startswith("mechanism.")]
    row = one(table, "cohen_kappa", scope="dimension", scope_id="mechanism")
    assert row.n_units == 28
    assert row.estimate == pytest.approx(one(agreement(mechanism, n_boot=0), "cohen_kappa").estimate, abs=1e-12)


def test_pooled_interval_resamples_segments_not_units(codings, codebook):
    """Cluster bootstrap: a resampled segment brings all its (segment, code) units."""
    table = reliability(codings, codebook, scopes=["overall"], measures=["percent_agreement"], n_boot=300, seed=4)
    wide = presence_ratings(codings, codebook)
    segments = wide.index.get_level_values("segment_id").unique().tolist()
    agree = (wide["a"] == wide["b"]).groupby(level="segment_id").sum()
    size = wide.groupby(level="segment_id").size()
    draws = np.random.default_rng(4).integers(0, len(segments), size=(300, len(segments)))
    shares = [agree[[segments[i] for i in d]].sum() / size[[segments[i] for i in d]].sum() for d in draws]
    low, high = np.quantile(shares, [0.025, 0.975])
    row = one(table, "percent_agreement")
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert row.ci_method == "percentile bootstrap: 300 resamples of segments with replacement, seed 4"


def test_rare_code_intervals_say_how_many_resamples_were_undefined(codings, codebook):
    table = reliability(codings, codebook, scopes=["code"], measures=["krippendorff_alpha"], n_boot=500, seed=2)
    row = one(table, "krippendorff_alpha", scope_id=DISPATCH)  # applied on 2 of 14 ratings
    assert not math.isnan(row.estimate)
    assert 0 < row.n_boot_valid < 500
    assert row.reason == f"{500 - row.n_boot_valid} of 500 bootstrap resamples had no variation (measure undefined) and are left out of the interval"


def test_reliability_is_reproducible_bit_for_bit(codings, codebook):
    first = reliability(codings, codebook, n_boot=200, seed=9)
    pd.testing.assert_frame_equal(first, reliability(codings, codebook, n_boot=200, seed=9))
    other = reliability(codings, codebook, n_boot=200, seed=10)
    assert not first["ci_low"].equals(other["ci_low"])


def test_single_coder_and_no_overlap(codings, codebook):
    alone = reliability(codings, codebook, coders="a", n_boot=100)
    assert alone["estimate"].isna().all()
    assert (alone["reason"] == "fewer than two coders").all()
    assert (alone["n_coders"] == 1).all() and (alone["n_segments"] == 0).all()
    assert (alone["n_segments_excluded"] == 8).all()
    apart = pd.DataFrame({"segment_id": ["S1", "S2"], "coder": ["a", "b"], "code": [ESC, ESC]})
    table = reliability(apart, codebook, n_boot=100)
    assert table["estimate"].isna().all()
    assert (table["reason"] == "no segment coded by every selected coder (2 coded by only some)").all()


def test_three_coders(codebook):
    rows = [(s, c, code) for s, c, code in TWO_CODERS if s != "S8"]
    rows += [(s, "c", code) for s, c, code in TWO_CODERS if c == "a" and s != "S8"]
    codings = pd.DataFrame(rows, columns=["segment_id", "coder", "code"])
    table = reliability(codings, codebook, scopes=["overall"], n_boot=0)
    assert math.isnan(one(table, "cohen_kappa").estimate)
    fleiss = one(table, "fleiss_kappa")
    assert fleiss.n_coders == 3 and not math.isnan(fleiss.estimate)
    # c copies a: pairwise agreement on each unit is 1 (all agree) or 1/3 (one pair of three agrees)
    wide = presence_ratings(codings, codebook)
    all_agree = (wide.nunique(axis=1) == 1).mean()
    assert one(table, "percent_agreement").estimate == pytest.approx(all_agree + (1 - all_agree) / 3)


def test_pole_variable(codings, codebook):
    wide = dimension_ratings(codings, codebook, variable="pole")
    assert wide.loc[("S1", "leadership")].tolist() == ["vertical", "absent"]
    assert wide.loc[("S3", "mechanism")].tolist() == ["horizontal", "horizontal"]  # the neutral code aside
    assert wide.loc[("S6", "mechanism")].tolist() == ["neutral", "vertical"]
    assert wide.loc[("S7", "mechanism")].tolist() == ["mixed", "mixed"]
    assert wide.loc[("S4", "mechanism")].tolist() == ["absent", "absent"]
    table = reliability(codings, codebook, variable="pole", n_boot=0)
    assert set(table["scope"]) == {"overall", "dimension"}
    row = one(table, "krippendorff_alpha", scope="dimension", scope_id="mechanism")
    direct = agreement(wide.xs("mechanism", level="dimension"), value_domain=list(rel.POLE_VALUES), n_boot=0)
    assert row.estimate == pytest.approx(one(direct, "krippendorff_alpha").estimate, abs=1e-12)
    assert row.prevalence_of in rel.POLE_VALUES
    sets = dimension_ratings(codings, codebook, variable="code_set")
    assert sets.loc[("S3", "mechanism")].tolist() == [LIAISON, f"{LIAISON};{DISPATCH}"]
    with pytest.raises(ValueError, match="do not apply to variable 'pole'"):
        reliability(codings, codebook, variable="pole", scopes=["code"])


def test_disagreement_table(codings, codebook):
    segments = pd.DataFrame(
        {
            "segment_id": [f"S{i}" for i in range(1, 9)],
            "cities": ["beijing", "beijing", "new_york", "new_york", "new_york; boston", "xintai", "beijing", "seoul"],
            "source": ["000.txt"] * 8,
            "line": list(range(101, 109)),
            "passage": ["word " * 80] + [f"passage {i}" for i in range(2, 9)],
        }
    )
    table = disagreements(codings, segments, codebook, passage_chars=50)
    pairs = list(zip(table["code"], table["segment_id"]))
    # every differing (segment, code), sorted by codebook order, then segment
    assert pairs == [(LEAD_V, "S1"), (LEAD_V, "S2"), (LEAD_H, "S4"), (ESC, "S6"), (DISPATCH, "S3"), (DISPATCH, "S6")]
    first = table.iloc[0]
    assert (first.applied_by, first.not_applied_by, first.n_applied, first.n_coders) == ("a", "b", 1, 2)
    assert first.instead == "b: none"
    assert first.memos == f"a [{LEAD_V}]: a on S1: top_leader_attention"
    assert len(first.passage) == 50 and first.passage.endswith("…")
    s6 = table[(table.code == ESC)].iloc[0]
    assert s6.applied_by == "b" and s6.instead == f"a: {DISPATCH}"
    assert s6.memos == f"b [{ESC}]: b on S6: cross_level_escalation | a [{DISPATCH}]: a on S6: dispatch_unspecified"
    s4 = table[table.segment_id == "S4"].iloc[0]
    assert s4.instead == "a: none" and s4.memos == f"b [{LEAD_H}]: b on S4: technology_orientation | a [none]: a on S4: none"
    assert s4.cities == "new_york" and s4.line == 104
    assert "S8" not in set(table["segment_id"])  # one coder: nothing to disagree with


def test_docstring_examples_run():
    result = doctest.testmod(rel, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 15 and result.failed == 0


def test_memo_similarity_ignores_shared_quotations_but_sees_copied_reasoning():
    from hotlines.coding.reliability import memo_similarity

    codings = pd.DataFrame({
        "segment_id": ["S1", "S1", "S2", "S2"],
        "coder": ["a", "b", "a", "b"],
        "code": ["x.y", "x.y", "x.z", "x.z"],
        "memo": [
            "'the municipal government sends the demands of the public directly down': dispatch by authority",
            "'the municipal government sends the demands of the public directly down': a hierarchy at work",
            "'agencies sign agreements': contract between peers (dispatch rule)",
            "'agencies sign agreements': contract between peers (dispatch rule)",
        ],
    })
    table = memo_similarity(codings, "a", "b").set_index("segment_id")
    # Same quotation, different reasoning: alike with the quote, much less alike without it.
    assert table.loc["S1", "similarity"] > 0.7 > table.loc["S1", "similarity_without_quotes"]
    # Copied reasoning stays identical once the quote is removed.
    assert table.loc["S2", "similarity_without_quotes"] == 1.0
