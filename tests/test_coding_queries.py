"""Queries over the coded corpus: counts, co-occurrence and boolean retrieval.

Fixtures are built here (the real coded corpus is curated elsewhere); every count is
checked against an independent computation written plainly in the test.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotlines.coding import queries
from hotlines.coding.codebook import Codebook
from hotlines.coding.queries import (
    CodingDataError,
    ExpressionError,
    applied_codes,
    check_codings,
    code_by_city,
    code_by_role,
    code_by_source,
    coded_segments,
    cooccurrence,
    cooccurrence_matrix,
    parse_expression,
    presence_matrix,
    retrieve,
    segment_roles,
)

CODES = {
    "leadership": [("leadership.top_leader_attention", "vertical"), ("leadership.technology_orientation", "horizontal")],
    "institution": [("institution.dedicated_hotline_legislation", "vertical"), ("institution.sla_partial_framework", "horizontal")],
    "mechanism": [
        ("mechanism.cross_level_escalation", "vertical"),
        ("mechanism.agency_liaison", "horizontal"),
        ("mechanism.dispatch_unspecified", "neutral"),
    ],
}


def make_codebook() -> Codebook:
    return Codebook.from_dict(
        {
            "codebook": {
                "title": "test",
                "version": "0",
                "dimensions": [
                    {"id": dim, "codes": [{"id": cid, "pole": pole, "label": cid} for cid, pole in codes]}
                    for dim, codes in CODES.items()
                ],
            }
        }
    )


LEAD_V, LEAD_H = "leadership.top_leader_attention", "leadership.technology_orientation"
INST_V, INST_H = "institution.dedicated_hotline_legislation", "institution.sla_partial_framework"
ESC, LIAISON, DISPATCH = "mechanism.cross_level_escalation", "mechanism.agency_liaison", "mechanism.dispatch_unspecified"


@pytest.fixture
def codebook() -> Codebook:
    return make_codebook()


def make_segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": ["S-BEI-01", "S-BEI-02", "S-BEI-03", "S-NYC-01", "S-NYC-02", "S-MUL-01", "S-GEN-01", "S-UNC-01"],
            "cities": ["beijing", "beijing", "beijing", "new_york", "new_york", "beijing; new_york;seoul", "", "seoul"],
            "source": ["000.txt", "000.txt", "004.txt", "000.txt", "002.txt", "001.txt", "001.txt", "001.txt"],
            "line": [157, 157, 198, 220, 40, 12, 13, 14],
            "line_end": [157, 157, 198, 220, 41, 12, 13, 14],
            "interview_ids": ["BJ005; BJ006", "", "BJ001", "", "", "", "", ""],
            "speaker_role": ["", "", "", "311 call-taker", "", "", "", ""],
            "passage": [f"passage {i}" for i in range(8)],
            "origin": ["research"] * 8,
            "note": [""] * 8,
        }
    )


@pytest.fixture
def interviews() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "informant_id": ["BJ001", "BJ005", "BJ006"],
            "city_id": ["beijing"] * 3,
            "entry_type": ["individual_listed"] * 3,
            "role": ["subdistrict employee", "12345 call center manager", "12345 call center manager"],
        }
    )


def make_codings() -> pd.DataFrame:
    rows = [
        # S-BEI-01: both escalation; a adds top leader attention
        ("S-BEI-01", "a", ESC), ("S-BEI-01", "a", LEAD_V), ("S-BEI-01", "b", ESC),
        # S-BEI-02: escalation and SLA by a; escalation by b
        ("S-BEI-02", "a", ESC), ("S-BEI-02", "a", INST_H), ("S-BEI-02", "b", ESC),
        # S-BEI-03: legislation by both
        ("S-BEI-03", "a", INST_V), ("S-BEI-03", "b", INST_V), ("S-BEI-03", "b", ESC),
        # S-NYC-01: liaison + SLA by both
        ("S-NYC-01", "a", LIAISON), ("S-NYC-01", "a", INST_H), ("S-NYC-01", "b", LIAISON), ("S-NYC-01", "b", INST_H),
        # S-NYC-02: a says none, b technology orientation
        ("S-NYC-02", "a", "none"), ("S-NYC-02", "b", LEAD_H),
        # S-MUL-01: multi-city; escalation by both
        ("S-MUL-01", "a", ESC), ("S-MUL-01", "b", ESC), ("S-MUL-01", "b", DISPATCH),
        # S-GEN-01: no city; dispatch by a only (b did not code it)
        ("S-GEN-01", "a", DISPATCH),
        # S-UNC-01 is not coded at all
    ]
    frame = pd.DataFrame(rows, columns=["segment_id", "coder", "code"])
    frame["memo"] = [f"memo {i}" for i in range(len(frame))]
    return frame


@pytest.fixture
def segments() -> pd.DataFrame:
    return make_segments()


@pytest.fixture
def codings() -> pd.DataFrame:
    return make_codings()


def code_sets(codings: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for s, c, code in codings[["segment_id", "coder", "code"]].itertuples(index=False):
        out.setdefault((s, c), set())
        if code != "none":
            out[(s, c)].add(code)
    return out


def brute_applied(codings: pd.DataFrame, rule: str) -> dict[str, set[str]]:
    """The applied codes per segment, from the rule's words, by plain set logic."""
    sets = code_sets(codings)
    by_segment: dict[str, list[set[str]]] = {}
    for (s, _), codes in sets.items():
        by_segment.setdefault(s, []).append(codes)
    out = {}
    for s, coder_sets in by_segment.items():
        everything = set().union(*coder_sets)
        k = len(coder_sets)
        out[s] = {
            code
            for code in everything
            if {"union": 1, "majority": k // 2 + 1, "consensus": k}[rule] <= sum(code in cs for cs in coder_sets)
        }
    return out


# --------------------------------------------------------------------------- applied codes


@pytest.mark.parametrize("rule", ["union", "majority", "consensus"])
def test_applied_codes_follow_the_rule_as_documented(codings, rule):
    table = applied_codes(codings, rule=rule)
    got: dict[str, set[str]] = {}
    for s, code in zip(table["segment_id"], table["code"]):
        got.setdefault(s, set()).add(code)
    expected = {s: codes for s, codes in brute_applied(codings, rule).items() if codes}
    assert got == expected


def test_rules_on_three_coders_by_hand():
    frame = pd.DataFrame(
        {
            "segment_id": ["S1"] * 6,
            "coder": ["a", "a", "b", "b", "c", "c"],
            "code": ["x.p", "x.q", "x.p", "x.q", "x.p", "x.r"],
        }
    )
    assert set(applied_codes(frame, rule="union")["code"]) == {"x.p", "x.q", "x.r"}
    assert set(applied_codes(frame, rule="majority")["code"]) == {"x.p", "x.q"}
    assert set(applied_codes(frame, rule="consensus")["code"]) == {"x.p"}
    # two of four is a tie, not a majority
    four = pd.concat([frame, pd.DataFrame({"segment_id": ["S1"], "coder": ["d"], "code": ["none"]})])
    assert set(applied_codes(four, rule="majority")["code"]) == {"x.p"}
    assert applied_codes(four, rule="majority")["n_coders"].tolist() == [4]


def test_one_coder_and_min_coders(codings):
    mine = applied_codes(codings, coders="a")
    assert set(mine.loc[mine.segment_id == "S-BEI-02", "code"]) == {ESC, INST_H}
    assert (mine["n_coders"] == 1).all()
    assert "S-GEN-01" in set(coded_segments(codings)["segment_id"])
    double = coded_segments(codings, min_coders=2)
    assert "S-GEN-01" not in set(double["segment_id"]) and len(double) == 6
    assert "S-GEN-01" not in set(applied_codes(codings, min_coders=2)["segment_id"])
    with pytest.raises(ValueError, match="do not occur in codings"):
        applied_codes(codings, coders=["a", "zz"])
    with pytest.raises(ValueError, match="rule must be one of"):
        applied_codes(codings, rule="any")


# --------------------------------------------------------------------------- counts


def brute_city_counts(segments, codings, rule, include_multi_city):
    applied = brute_applied(codings, rule)
    counts, denominators = {}, {}
    for s, cities in zip(segments.segment_id, segments.cities):
        if s not in applied:
            continue
        ids = [c.strip() for c in cities.split(";") if c.strip()]
        if len(ids) > 1 and not include_multi_city:
            continue
        for city in ids:
            denominators[city] = denominators.get(city, 0) + 1
            for code in applied[s]:
                counts[(code, city)] = counts.get((code, city), 0) + 1
    return counts, denominators


@pytest.mark.parametrize("include_multi_city", [True, False])
@pytest.mark.parametrize("rule", ["union", "consensus"])
def test_code_by_city_matches_a_plain_count(segments, codings, codebook, rule, include_multi_city):
    table = code_by_city(segments, codings, codebook, rule=rule, include_multi_city=include_multi_city)
    counts, denominators = brute_city_counts(segments, codings, rule, include_multi_city)
    named = table[table["city_id"].notna()]
    # complete grid: every codebook code for every city
    assert len(named) == len(codebook.codes) * len(denominators)
    for row in named.itertuples():
        assert row.n_segments == counts.get((row.code, row.city_id), 0)
        assert row.n_city_segments == denominators[row.city_id]
        assert row.share == pytest.approx(row.n_segments / row.n_city_segments)
    assert table["code"].unique().tolist() == list(codebook.codes)


def test_multi_city_segments_count_for_each_city_and_can_be_left_out(segments, codings, codebook):
    with_multi = code_by_city(segments, codings, codebook).set_index(["code", "city_id"])
    assert with_multi.loc[(ESC, "beijing"), "n_segments"] == 4  # BEI-01, 02, 03 (union: b) and MUL-01
    assert with_multi.loc[(ESC, "beijing"), "n_multi_city"] == 1
    assert with_multi.loc[(ESC, "seoul"), "n_segments"] == 1
    assert with_multi.loc[(ESC, "new_york"), "n_segments"] == 1
    without = code_by_city(segments, codings, codebook, include_multi_city=False).set_index(["code", "city_id"])
    assert without.loc[(ESC, "beijing"), "n_segments"] == 3
    assert without.loc[(ESC, "beijing"), "n_multi_city"] == 0
    assert "seoul" not in set(without.index.get_level_values("city_id"))  # seoul's only coded segment is multi-city
    assert without.loc[(ESC, "new_york"), "n_segments"] == 0
    assert without.loc[(ESC, "new_york"), "n_city_segments"] == 2


def test_a_segment_naming_no_city_stays_visible(segments, codings, codebook):
    table = code_by_city(segments, codings, codebook)
    nameless = table[table["city_id"].isna()].set_index("code")
    assert nameless.loc[DISPATCH, "n_segments"] == 1
    assert nameless.loc[DISPATCH, "n_city_segments"] == 1


def test_code_by_city_attributes_and_chosen_coder(segments, codings, codebook):
    table = code_by_city(segments, codings, codebook, coders="b").set_index(["code", "city_id"])
    assert table.loc[(LEAD_V, "beijing"), "n_segments"] == 0  # only coder a gave it
    assert table.loc[(INST_V, "beijing"), ["dimension", "pole"]].tolist() == ["institution", "vertical"]
    no_book = code_by_city(segments, codings)
    assert set(no_book["code"]) == set(codings["code"]) - {"none"}
    assert no_book["pole"].isna().all()


def test_code_by_source(segments, codings, codebook):
    table = code_by_source(segments, codings, codebook, rule="consensus").set_index(["code", "source"])
    assert table.loc[(ESC, "000.txt"), "n_segments"] == 2  # BEI-01, BEI-02
    assert table.loc[(INST_H, "000.txt"), "n_segments"] == 1  # NYC-01 (both); BEI-02 only a
    assert table.loc[(ESC, "004.txt"), "n_segments"] == 0  # BEI-03: only b
    assert table.loc[(ESC, "000.txt"), "n_source_segments"] == 3
    assert table.loc[(DISPATCH, "001.txt"), "n_source_segments"] == 2  # MUL-01 and GEN-01 coded; UNC-01 not


def test_segment_roles_and_code_by_role(segments, codings, interviews, codebook):
    roles = segment_roles(segments, interviews)
    by_segment = roles.groupby("segment_id")["role"].apply(list).to_dict()
    assert by_segment["S-BEI-01"] == ["12345 call center manager"]  # two informants, one role: counted once
    assert by_segment["S-BEI-03"] == ["subdistrict employee"]
    assert roles.set_index("segment_id").loc["S-NYC-01", "role_source"] == "speaker_role"
    assert roles.set_index("segment_id").loc["S-BEI-02", "role_source"] == "unattributed"
    table = code_by_role(segments, codings, interviews, codebook).set_index(["code", "role"])
    assert table.loc[(ESC, "12345 call center manager"), "n_segments"] == 1
    assert table.loc[(ESC, "subdistrict employee"), "n_segments"] == 1
    assert table.loc[(LIAISON, "311 call-taker"), "n_segments"] == 1
    assert table.loc[(LIAISON, "311 call-taker"), "role_source"] == "speaker_role"
    unattributed = table[table["role_source"] == "unattributed"].loc[ESC]
    assert unattributed["n_segments"].item() == 2  # BEI-02 and MUL-01
    assert unattributed["n_role_segments"].item() == 4  # BEI-02, NYC-02, MUL-01, GEN-01


def test_unknown_informant_is_an_error_naming_row_and_field(segments, codings, interviews):
    broken = segments.copy()
    broken.loc[2, "interview_ids"] = "BJ001; BJ999"
    with pytest.raises(CodingDataError) as error:
        code_by_role(broken, codings, interviews)
    message = str(error.value)
    assert "segments.csv, row 3 (S-BEI-03), field 'interview_ids': [foreign-key]" in message
    assert "'BJ999'" in message


def test_bad_codings_are_reported_with_file_row_field_and_rule(segments, codings, codebook):
    broken = codings.copy()
    broken.loc[4, "code"] = "mechanism.cross_level_escalaton"
    broken.loc[7, "coder"] = None
    extra = pd.DataFrame({"segment_id": ["S-NYC-02", "S-XXX-09"], "coder": ["a", "a"], "code": [LEAD_H, ESC], "memo": ["", ""]})
    broken = pd.concat([broken, extra], ignore_index=True)
    with pytest.raises(CodingDataError) as error:
        check_codings(broken, codebook, segments)
    message = str(error.value)
    assert "codings.csv, row 5 (S-BEI-02), field 'code': [known-code]" in message
    assert "did you mean 'mechanism.cross_level_escalation'?" in message
    assert "codings.csv, row 8 (S-BEI-03), field 'coder': [required]" in message
    assert f"codings.csv, row {len(broken)} (S-XXX-09), field 'segment_id': [foreign-key]" in message
    rules = {p["rule"] for p in error.value.problems}
    assert rules == {"known-code", "required", "foreign-key"}
    # none together with a real code, once the other problems are gone
    mixed = pd.concat([codings, extra.iloc[:1]], ignore_index=True)
    with pytest.raises(CodingDataError, match=r"row 14 \(S-NYC-02\), field 'code': \[none-exclusive\]"):
        check_codings(mixed, codebook, segments)
    with pytest.raises(CodingDataError, match=r"\[required-column\] column 'coder' is missing"):
        code_by_city(segments, codings.drop(columns="coder"))


def test_repeated_segment_id_is_an_error(segments, codings):
    broken = segments.copy()
    broken.loc[1, "segment_id"] = "S-BEI-01"
    with pytest.raises(CodingDataError, match=r"segments.csv, row 2 \(S-BEI-01\), field 'segment_id': \[unique\] 'S-BEI-01' repeats row 1"):
        code_by_source(broken, codings[codings.segment_id != "S-BEI-02"])


# --------------------------------------------------------------------------- co-occurrence


@pytest.mark.parametrize("rule", ["union", "consensus"])
def test_cooccurrence_matches_set_counts(codings, codebook, rule):
    table = cooccurrence(codings, codebook, rule=rule)
    applied = brute_applied(codings, rule)
    universe = list(applied)
    used = sorted({c for codes in applied.values() for c in codes})
    assert len(table) == len(used) * (len(used) - 1)
    assert (table["n_segments"] == len(universe)).all()
    for row in table.itertuples():
        n_a = sum(row.code_a in applied[s] for s in universe)
        n_b = sum(row.code_b in applied[s] for s in universe)
        both = sum(row.code_a in applied[s] and row.code_b in applied[s] for s in universe)
        assert (row.n_a, row.n_b, row.n_both) == (n_a, n_b, both)
        assert row.jaccard == pytest.approx(both / len({s for s in universe if applied[s] & {row.code_a, row.code_b}}))
        assert row.p_b_given_a == pytest.approx(both / n_a)


def test_conditional_share_is_directional_and_the_matrix_helper(codings, codebook):
    table = cooccurrence(codings, codebook).set_index(["code_a", "code_b"])
    # union: ESC on BEI-01, BEI-02, BEI-03, MUL-01; LEAD_V on BEI-01 only
    assert table.loc[(LEAD_V, ESC), "p_b_given_a"] == 1.0
    assert table.loc[(ESC, LEAD_V), "p_b_given_a"] == 0.25
    assert table.loc[(ESC, LEAD_V), "jaccard"] == table.loc[(LEAD_V, ESC), "jaccard"] == 0.25
    square = cooccurrence_matrix(cooccurrence(codings, codebook), "p_b_given_a")
    assert list(square.index) == list(square.columns)
    assert square.loc[LEAD_V, ESC] == 1.0 and square.loc[ESC, LEAD_V] == 0.25
    assert (np.diag(square.to_numpy()) == 1.0).all()
    counts = cooccurrence_matrix(cooccurrence(codings, codebook), "n_both")
    assert counts.loc[ESC, ESC] == 4
    assert (counts.to_numpy() == counts.to_numpy().T).all()
    with pytest.raises(ValueError, match="value must be one of"):
        cooccurrence_matrix(cooccurrence(codings, codebook), "lift")


def test_cooccurrence_restricted_to_some_segments(codings, codebook):
    table = cooccurrence(codings, codebook, segment_ids=["S-NYC-01", "S-NYC-02"])
    assert set(table["n_segments"]) == {2}
    row = table.set_index(["code_a", "code_b"]).loc[(INST_H, LIAISON)]
    assert (row["n_both"], row["jaccard"]) == (1, 1.0)


# --------------------------------------------------------------------------- retrieval


def test_retrieve_the_example_of_the_brief(segments, codings, codebook):
    hits = retrieve(
        segments, codings, "mechanism.cross_level_escalation AND NOT institution.sla_partial_framework",
        city="beijing", codebook=codebook,
    )
    # union: BEI-02 carries the SLA code (coder a), so it is excluded
    assert hits["segment_id"].tolist() == ["S-BEI-01", "S-BEI-03", "S-MUL-01"]
    assert list(hits.columns[: len(segments.columns)]) == list(segments.columns)
    assert hits.set_index("segment_id").loc["S-BEI-01", "codes"] == f"{LEAD_V};{ESC}"
    single = retrieve(segments, codings, "mechanism.cross_level_escalation", city="beijing", codebook=codebook, include_multi_city=False)
    assert "S-MUL-01" not in set(single["segment_id"])
    consensus = retrieve(segments, codings, "mechanism.cross_level_escalation", codebook=codebook, rule="consensus")
    assert consensus["segment_id"].tolist() == ["S-BEI-01", "S-BEI-02", "S-MUL-01"]


def test_retrieve_precedence_parentheses_case_and_wildcards(segments, codings, codebook):
    def ids(expression, **kw):
        return retrieve(segments, codings, expression, codebook=codebook, **kw)["segment_id"].tolist()

    # NOT binds tighter than AND, AND tighter than OR
    assert ids(f"{LIAISON} OR {ESC} AND {LEAD_V}") == ids(f"{LIAISON} OR ({ESC} AND {LEAD_V})") == ["S-BEI-01", "S-NYC-01"]
    assert ids(f"({LIAISON} OR {ESC}) AND {LEAD_V}") == ["S-BEI-01"]
    assert ids(f"not {ESC} and not {LIAISON}") == ["S-NYC-02", "S-GEN-01"]
    assert ids(f"NOT NOT {LEAD_H}") == ["S-NYC-02"]
    assert ids("leadership.* AND NOT mechanism.*") == ["S-NYC-02"]
    # NOT never reaches an uncoded segment (S-UNC-01)
    assert "S-UNC-01" not in ids(f"NOT {ESC}")
    assert ids(None, city=["seoul", "new_york"]) == ["S-NYC-01", "S-NYC-02", "S-MUL-01"]
    assert ids(ESC, city="toronto") == []


@pytest.mark.parametrize(
    ("expression", "position", "words"),
    [
        (f"{ESC} AND mechanism.cross_level", len(ESC) + 5, "unknown code 'mechanism.cross_level'; did you mean 'mechanism.cross_level_escalation'?"),
        (f"({ESC} OR {LIAISON}", len(ESC) + len(LIAISON) + 5, "'(' at position 0 is not closed: expected ')' but found the end"),
        (f"{ESC} {LIAISON}", len(ESC) + 1, f"unexpected '{LIAISON}'; expected AND, OR or the end"),
        (f"{ESC})", len(ESC), "unexpected ')' without a matching '('"),
        ("AND " + ESC, 0, "expected a code, NOT or '(' but found 'AND'"),
        (f"{ESC} OR NOT", len(ESC) + 7, "expected a code, NOT or '(' but found the end of the expression"),
        ("   ", 0, "empty expression"),
        ("policy.* OR " + ESC, 0, "unknown dimension 'policy'"),
        (f"{ESC} AND ()", len(ESC) + 6, "expected a code, NOT or '(' but found ')'"),
    ],
)
def test_expression_errors_name_the_position(codebook, expression, position, words):
    with pytest.raises(ExpressionError) as error:
        parse_expression(expression, codebook.codes)
    assert error.value.position == position
    assert words in str(error.value)
    assert f"at position {position}:" in str(error.value)
    caret_line = str(error.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == position


def test_unknown_code_without_codebook_uses_the_codes_in_codings(segments, codings):
    with pytest.raises(ExpressionError, match="unknown code 'institution.dedicated_hotline'"):
        retrieve(segments, codings, "institution.dedicated_hotline")
    with pytest.raises(TypeError):
        parse_expression(42, {"x.y"})


# trees of random expressions, rendered with explicit parentheses, against plain set logic
LEAVES = [LEAD_V, LEAD_H, INST_V, INST_H, ESC, LIAISON, DISPATCH]
trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda children: st.one_of(
        st.tuples(st.just("NOT"), children),
        st.tuples(st.sampled_from(["AND", "OR"]), children, children),
    ),
    max_leaves=8,
)


def render(tree) -> str:
    if isinstance(tree, str):
        return tree
    if tree[0] == "NOT":
        return f"NOT {render(tree[1])}"
    return f"({render(tree[1])} {tree[0]} {render(tree[2])})"


def truth(tree, codes: set[str]) -> bool:
    if isinstance(tree, str):
        return tree in codes
    if tree[0] == "NOT":
        return not truth(tree[1], codes)
    left, right = truth(tree[1], codes), truth(tree[2], codes)
    return left and right if tree[0] == "AND" else left or right


@settings(max_examples=150, deadline=None)
@given(tree=trees, rule=st.sampled_from(["union", "majority", "consensus"]))
def test_retrieval_agrees_with_set_logic(tree, rule):
    segments_ = make_segments()
    codings_ = make_codings()
    hits = retrieve(segments_, codings_, render(tree), codebook=make_codebook(), rule=rule)["segment_id"].tolist()
    applied = brute_applied(codings_, rule)
    expected = [s for s in segments_["segment_id"] if s in applied and truth(tree, applied[s])]
    assert hits == expected




def test_presence_matrix_has_every_coded_segment(codings, codebook):
    matrix = presence_matrix(codings, codebook=codebook)
    assert list(matrix.columns) == list(codebook.codes)
    assert "S-NYC-02" in matrix.index and matrix.loc["S-NYC-02"].sum() == 1
    assert "S-UNC-01" not in matrix.index
    only_a = presence_matrix(codings, coders="a", codebook=codebook)
    assert not only_a.loc["S-NYC-02"].any()


def test_docstring_examples_run():
    result = doctest.testmod(queries, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20 and result.failed == 0
