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
