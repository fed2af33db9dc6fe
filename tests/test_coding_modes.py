"""The city-mode scoring rule on hand-built evidence: every branch of the procedure."""

from __future__ import annotations

import pandas as pd
import pytest

from hotlines.coding.codebook import Codebook
from hotlines.coding.modes import ModeRule, city_modes, mode_sensitivity, segment_evidence

V_LEAD, H_LEAD = "leadership.top_leader_attention", "leadership.technology_orientation"
V_MECH, H_MECH = "mechanism.cross_level_escalation", "mechanism.contractual_agreement"
V_INST, H_INST = "institution.dedicated_hotline_legislation", "institution.sla_partial_framework"
NEUTRAL = "technology.crm_case_tracking"
MIXED = "mechanism.multilevel_network"


@pytest.fixture(scope="module")
def codebook():
    return Codebook.load()


def corpus(rows):
    """rows: (segment_id, cities, source, interview_ids, [codes], memo)."""
    segments = pd.DataFrame(
        [{"segment_id": s, "cities": c, "source": src, "interview_ids": iv, "line": 1, "line_end": 1,
          "passage": "text", "speaker_role": "", "origin": "test", "note": ""} for s, c, src, iv, _, _ in rows]
    )
    codings = pd.DataFrame(
        [{"segment_id": s, "coder": "A", "code": code, "memo": memo} for s, _, _, _, codes, memo in rows for code in codes]
    )
    return segments, codings


def mode(table, city, dimension):
    return table.set_index(["city_id", "dimension"]).loc[(city, dimension)]


def test_consistent_city_specific_evidence_from_two_sources_is_high_confidence(codebook):
    segments, codings = corpus([
        ("S1", "beijing", "000.txt", "", [V_LEAD], ""),
        ("S2", "beijing", "000.txt", "", [V_LEAD, NEUTRAL], ""),
        ("S3", "beijing", "001.txt", "", [V_LEAD], ""),
    ])
    row = mode(city_modes(codebook, segments, codings, ["beijing"]), "beijing", "leadership")
    assert (row["score"], row["mode"], row["evidence_grade"], row["confidence"]) == (1, "vertical", "A", "high")
    assert row["justifying_segments"] == "S1;S2;S3" and row["contrary_segments"] == ""


def test_one_source_without_interviews_is_medium(codebook):
    segments, codings = corpus([
        ("S1", "new_york", "000.txt", "", [H_MECH], ""),
        ("S2", "new_york", "000.txt", "", [H_MECH], ""),
        ("S3", "new_york", "000.txt", "", [H_MECH], ""),
    ])
    row = mode(city_modes(codebook, segments, codings, ["new_york"]), "new_york", "mechanism")
    assert (row["score"], row["confidence"]) == (-1, "medium")


def test_an_interview_backs_a_single_source(codebook):
    segments, codings = corpus([
        ("S1", "new_york", "000.txt", "NY001", [H_MECH], ""),
        ("S2", "new_york", "000.txt", "", [H_MECH], ""),
        ("S3", "new_york", "000.txt", "", [H_MECH], ""),
    ])
    row = mode(city_modes(codebook, segments, codings, ["new_york"]), "new_york", "mechanism")
    assert (row["score"], row["confidence"]) == (-1, "high")


def test_contested_evidence_is_mixed_with_low_confidence(codebook):
    segments, codings = corpus([
        ("S1", "paris", "001.txt", "", [V_INST], ""),
        ("S2", "paris", "001.txt", "", [V_INST], ""),
        ("S3", "paris", "001.txt", "", [H_INST], ""),
        ("S4", "paris", "002.txt", "", [H_INST], ""),
    ])
    row = mode(city_modes(codebook, segments, codings, ["paris"]), "paris", "institution")
    assert (row["score"], row["mode"], row["confidence"]) == (0, "mixed", "low")
    assert row["justifying_segments"] == "S1;S2;S3;S4"


def test_a_clearly_dominant_pole_wins_and_lists_the_contrary_evidence(codebook):
    rows = [(f"S{i}", "seoul", "001.txt", "", [V_MECH], "") for i in range(1, 7)]
    rows.append(("S9", "seoul", "001.txt", "", [H_MECH], ""))
    segments, codings = corpus(rows)
    row = mode(city_modes(codebook, segments, codings, ["seoul"]), "seoul", "mechanism")
    assert (row["score"], row["confidence"]) == (1, "medium")  # contrary evidence bars "high"
    assert row["contrary_segments"] == "S9"
    # Just below the dominance threshold (2 vs 1 at dominance 3), the same evidence is mixed.
    segments, codings = corpus([
        ("S1", "seoul", "001.txt", "", [V_MECH], ""),
        ("S2", "seoul", "001.txt", "", [V_MECH], ""),
        ("S3", "seoul", "001.txt", "", [H_MECH], ""),
    ])
    assert mode(city_modes(codebook, segments, codings, ["seoul"]), "seoul", "mechanism")["mode"] == "mixed"


def test_multi_city_statements_alone_give_low_confidence_and_vanish_when_left_out(codebook):
    segments, codings = corpus([("S1", "tokyo;london", "001.txt", "", [H_INST], "")])
    table = city_modes(codebook, segments, codings, ["tokyo", "london"])
    row = mode(table, "tokyo", "institution")
    assert (row["score"], row["evidence_grade"], row["confidence"]) == (-1, "B", "low")
    without = city_modes(codebook, segments, codings, ["tokyo", "london"], mode_rule=ModeRule(include_multi_city=False))
    assert mode(without, "tokyo", "institution")["mode"] == "insufficient evidence"
    moved = mode_sensitivity(table, without, "without multi-city statements")
    assert set(zip(moved.city_id, moved.dimension)) == {("tokyo", "institution"), ("london", "institution")}


def test_inferential_evidence_alone_is_insufficient(codebook):
    segments, codings = corpus([("S1", "madrid", "001.txt", "", [V_LEAD], "inferential: indicator score")])
    row = mode(city_modes(codebook, segments, codings, ["madrid"]), "madrid", "leadership")
    assert (row["mode"], row["evidence_grade"]) == ("insufficient evidence", "C")
    assert pd.isna(row["score"])


def test_a_code_treated_as_mixed_scores_zero_and_neutral_codes_score_nothing(codebook):
    segments, codings = corpus([
        ("S1", "chengdu", "001.txt", "", [MIXED], ""),
        ("S2", "chengdu", "001.txt", "", [NEUTRAL], ""),
    ])
    table = city_modes(codebook, segments, codings, ["chengdu"])
    assert mode(table, "chengdu", "mechanism")["mode"] == "mixed"
    assert mode(table, "chengdu", "institution")["mode"] == "insufficient evidence"


def test_overall_mode_needs_two_dimensions_and_follows_their_sum(codebook):
    segments, codings = corpus([
        ("S1", "wuhan", "001.txt", "", [V_LEAD, V_MECH], ""),
        ("S2", "berlin", "001.txt", "", [H_LEAD], ""),
    ])
    table = city_modes(codebook, segments, codings, ["wuhan", "berlin"])
    assert mode(table, "wuhan", "overall")["mode"] == "vertical"
    assert mode(table, "berlin", "overall")["mode"] == "insufficient evidence"


def test_sources_can_be_restricted(codebook):
    segments, codings = corpus([
        ("S1", "new_york", "000.txt", "", [H_LEAD], ""),
        ("S2", "new_york", "002.txt", "", [V_LEAD], ""),
        ("S3", "new_york", "002.txt", "", [V_LEAD], ""),
    ])
    everything = city_modes(codebook, segments, codings, ["new_york"])
    only_000 = city_modes(codebook, segments, codings, ["new_york"], mode_rule=ModeRule(sources=("000.txt",)))
    assert mode(everything, "new_york", "leadership")["mode"] == "mixed"
    assert mode(only_000, "new_york", "leadership")["mode"] == "horizontal"


def test_consensus_of_two_coders_keeps_only_shared_codes(codebook):
    segments = pd.DataFrame([{"segment_id": "S1", "cities": "beijing", "source": "000.txt", "interview_ids": ""}])
    codings = pd.DataFrame([
        {"segment_id": "S1", "coder": "A", "code": V_MECH, "memo": ""},
        {"segment_id": "S1", "coder": "B", "code": V_MECH, "memo": ""},
        {"segment_id": "S1", "coder": "A", "code": H_MECH, "memo": ""},
    ])
    union = segment_evidence(codebook, segments, codings, rule="union")
    consensus = segment_evidence(codebook, segments, codings, rule="consensus")
    assert union.loc[0, "horizontal"] and not consensus.loc[0, "horizontal"]


# ---------------------------------------------------------------- the shipped corpus

SEED_000 = "000_8b5fa105864a0e27.txt"


@pytest.fixture(scope="module")
def shipped():
    from hotlines import data
    from hotlines.coding import corpus

    return corpus.segments(), corpus.codings(), data.cities()


def test_shipped_city_modes_are_what_the_rule_computes(codebook, shipped):
    from hotlines import data

    segments, codings, cities = shipped
    computed = city_modes(codebook, segments, codings, cities["city_id"], coders="reconciled")
    stored = data.load("city_modes")
    columns = ["city_id", "dimension", "mode", "evidence_grade", "confidence", "justifying_segments", "contrary_segments"]
    left = computed[columns].fillna("").astype(str).reset_index(drop=True)
    right = stored[columns].fillna("").astype(str).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


def test_table_1_of_seed_000_comes_out_of_its_own_evidence(codebook, shipped):
    from hotlines.coding.modes import TABLE_1

    segments, codings, _ = shipped
    own = city_modes(codebook, segments, codings, ["beijing", "new_york"], coders="reconciled",
                     mode_rule=ModeRule(sources=(SEED_000,)))
    got = {(r.city_id, r.dimension): r.mode for r in own.itertuples() if r.dimension != "overall"}
    assert got == TABLE_1


def test_all_sources_keep_beijing_vertical_and_new_york_horizontal_overall(codebook, shipped):
    segments, codings, _ = shipped
    table = city_modes(codebook, segments, codings, ["beijing", "new_york"], coders="reconciled")
    assert mode(table, "beijing", "overall")["mode"] == "vertical"
    assert mode(table, "new_york", "overall")["mode"] == "horizontal"
    assert {mode(table, "beijing", d)["confidence"] for d in ("leadership", "institution", "mechanism")} == {"high"}


def test_the_reconciled_coding_is_the_agreement_plus_logged_decisions(shipped):
    from hotlines import data

    _, codings, _ = shipped
    decisions = data.load("reconciliation_decisions")
    sets = {c: set(zip(g.segment_id, g.code)) for c, g in codings[codings.code != "none"].groupby("coder")}
    agreed = sets["coder_a"] & sets["coder_b"]
    applied = set(zip(*decisions.loc[decisions.decision == "apply", ["segment_id", "code"]].T.values))
    refused = set(zip(*decisions.loc[decisions.decision == "do not apply", ["segment_id", "code"]].T.values))
    # every reconciled code was agreed or explicitly applied; every agreed code kept unless explicitly refused
    assert sets["reconciled"] <= agreed | applied
    assert agreed - refused <= sets["reconciled"]
    # every disagreement between the passes has exactly one decision
    disagreed = sets["coder_a"] ^ sets["coder_b"]
    assert disagreed <= applied | refused


def test_a_code_attributed_to_one_city_of_a_contrast_counts_for_that_city_only(codebook):
    segments, codings = corpus([("S1", "beijing;new_york", "000.txt", "", [V_MECH, H_MECH], "")])
    codings["city_id"] = codings["code"].map({V_MECH: "beijing", H_MECH: "new_york"})
    evidence = segment_evidence(codebook, segments, codings)
    by_city = evidence.set_index("city_id")
    assert bool(by_city.loc["beijing", "vertical"]) and not bool(by_city.loc["beijing", "horizontal"])
    assert bool(by_city.loc["new_york", "horizontal"]) and not bool(by_city.loc["new_york", "vertical"])
    # without the attribution the same segment is two-sided evidence for both cities
    both = segment_evidence(codebook, segments, codings.drop(columns="city_id")).set_index("city_id")
    assert bool(both.loc["new_york", "vertical"]) and bool(both.loc["new_york", "horizontal"])


def test_city_counts_respect_the_attribution():
    from hotlines.coding.queries import code_by_city

    segments = pd.DataFrame({"segment_id": ["S1"], "cities": ["beijing;new_york"], "source": ["000.txt"]})
    codings = pd.DataFrame({"segment_id": ["S1", "S1"], "coder": ["a", "a"], "code": [V_MECH, H_MECH],
                            "city_id": ["beijing", "new_york"]})
    counts = code_by_city(segments, codings).set_index(["code", "city_id"])["n_segments"]
    assert counts[(V_MECH, "beijing")] == 1 and counts[(V_MECH, "new_york")] == 0
    assert counts[(H_MECH, "new_york")] == 1 and counts[(H_MECH, "beijing")] == 0
