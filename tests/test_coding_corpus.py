"""The coded corpus: segments and informants load typed, ids resolve, passages are verbatim, bad rows are named."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotlines import data, paths
from hotlines.coding import corpus
from hotlines.coding.corpus import SeedText, collapse_whitespace

from .conftest import DATA, snapshot



def _edit_csv(path: Path, edit) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _set(path: Path, key: str, column: str, value: str) -> int:
    """Set one cell of the row whose first cell is ``key``; return its 1-based data row."""
    found = {}

    def edit(rows):
        index = rows[0].index(column)
        for number, row in enumerate(rows[1:], start=1):
            if row[0] == key:
                row[index] = value
                found["row"] = number
    _edit_csv(path, edit)
    return found["row"]


def _problems(folder: Path, seeds=None, check_seeds=False):
    before = snapshot(folder)
    report = corpus.validate_corpus(folder, seeds=seeds, check_seeds=check_seeds)
    assert snapshot(folder) == before, "validation rewrote a file"
    return report


# ---------------------------------------------------------------- the shipped corpus


def test_segments_load_typed():
    seg = corpus.segments()
    assert seg.columns.tolist() == ["segment_id", "cities", "source", "line", "line_end", "interview_ids",
                                    "speaker_role", "passage", "origin", "note"]
    assert str(seg["line"].dtype) == "Int64" and str(seg["line_end"].dtype) == "Int64"
    assert str(seg["passage"].dtype) == "string"
    assert len(seg) == 411 and seg["segment_id"].is_unique
    assert seg["origin"].value_counts().to_dict() == {"research": 336, "added": 75}
    assert (seg["line_end"] >= seg["line"]).all()
    assert seg["passage"].str.len().max() <= 400
    # missing stays missing: a segment with no informant has <NA>, not ''
    assert seg["interview_ids"].isna().sum() > 300 and not (seg["interview_ids"] == "").any()
    row = seg.set_index("segment_id").loc["S-BEI-03"]
    assert (row["cities"], row["source"], int(row["line"]), row["interview_ids"]) == (
        "beijing", "000_8b5fa105864a0e27.txt", 157, "BJ005;BJ006")


def test_every_city_id_is_a_city_and_xintai_is_one():
    seg, cities = corpus.segments(), data.cities()
    long = corpus.segment_cities(seg)
    assert set(long["city_id"]) <= set(cities["city_id"])
    assert len(long) == seg["cities"].str.count(";").sum() + len(seg)
    assert long.loc[long.segment_id == "S-MUL-23", "city_id"].tolist() == ["beijing", "new_york"]
    assert (long.loc[long.segment_id == "S-MUL-23", "n_cities"] == 2).all()
    xintai = cities.set_index("city_id").loc["xintai"]
    assert (xintai["name"], xintai["name_local"], xintai["iso3"], bool(xintai["in_4g_2024"])) == ("Xintai", "新泰", "CHN", False)
    assert pd.isna(xintai["hotline_name"]) and "not a hotline" in xintai["note"]
    # the 20 evaluated cities plus Philadelphia, Boston and Xintai are each named by some segment
    named = set(long["city_id"])
    assert set(cities.loc[cities["in_4g_2024"], "city_id"]) <= named
    assert {"philadelphia", "boston", "xintai"} <= named


def test_informants_load_typed_and_every_attribution_resolves():
    people, seg = corpus.interviews(), corpus.segments()
    assert str(people["line"].dtype) == "Int64" and people["informant_id"].is_unique
    assert len(people) == 70
    listed = people.loc[people.entry_type == "individual_listed", "informant_id"].tolist()
    assert listed == [f"BJ{i:03d}" for i in range(1, 10)] + [f"NY{i:03d}" for i in range(1, 6)]
    assert people.set_index("informant_id").loc["NY006", "entry_type"] == "individual_footnote_only"
    attributed = corpus.segment_informants(seg)
    assert set(attributed["informant_id"]) <= set(people["informant_id"])
    # informants with no passage: study pools, NY002 (cited in no footnote), and three speakers quoted on
    # training and hiring, which no code of the codebook is about
    assert set(people["informant_id"]) - set(attributed["informant_id"]) == {
        "G-4GE-01", "G-4GE-02", "G-BEI-01", "G-BOS-01", "G-NYC-01", "G-NYC-03", "G-PHL-02", "G-XIN-02",
        "NY002", "Q-NYC-04", "Q-NYC-13", "Q-PHL-07"}
    # a quoted speaker's role travels with the passage
    s = seg.set_index("segment_id")
    assert s.loc["S-NYC-22", "interview_ids"] == "G-NYC-02;Q-NYC-03"
    assert s.loc["S-NYC-22", "speaker_role"] == "a former NYC311 senior staff person"


def test_shipped_corpus_validates_without_seeds():
    report = corpus.validate_corpus(check_seeds=False)
    assert report.ok, str(report)


def test_absent_seeds_are_said_plainly(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINES_SEEDS", raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "clone")  # no ../shared/seeds beside this 'clone'
    report = corpus.validate_corpus(DATA, seeds=tmp_path / "gone")
    notes = " ".join(report.notes)
    assert report.ok and "NOT run" in notes and "gone" in notes and "411 passages" in notes


# ---------------------------------------------------------------- bad input


def test_unknown_city_and_informant_are_reported_with_row_and_field(data_copy):
    row = _set(data_copy / "segments.csv", "S-NYC-05", "cities", "new_york;atlantis")
    row2 = _set(data_copy / "segments.csv", "S-PHL-06", "interview_ids", "Q-PHL-02;Q-PHL-99")
    report = _problems(data_copy)
    by_rule = {p.rule: p for p in report.problems}
    city = by_rule["city-exists"]
    assert (city.file, city.row, city.field, city.key) == ("segments.csv", row, "cities", "S-NYC-05")
    assert "'atlantis'" in city.message and "cities.csv" in city.message
    person = by_rule["informant-exists"]
    assert (person.file, person.row, person.field, person.key) == ("segments.csv", row2, "interview_ids", "S-PHL-06")
    assert "'Q-PHL-99'" in person.message
    assert len(report.problems) == 2
    # the loaders refuse the folder, naming file and rule
    data.rehash(data_copy)
    with pytest.raises(data.DataValidationError, match=r"segments\.csv, row \d+ \(S-NYC-05\), field 'cities': \[city-exists\]"):
        corpus.segments(data_copy)


def test_lines_out_of_order_are_reported(data_copy):
    row = _set(data_copy / "segments.csv", "S-PHL-11", "line_end", "600")
    [problem] = _problems(data_copy).problems
    assert (problem.row, problem.field, problem.rule, problem.key) == (row, "line_end", "line-order", "S-PHL-11")


def test_a_passage_not_in_its_seed_is_reported_with_row_and_field(data_copy, corpus_seeds):
    seg = pd.read_csv(data_copy / "segments.csv", dtype=str, keep_default_na=False).set_index("segment_id")
    changed = seg.loc["S-BEI-06", "passage"].replace("monthly", "weekly")
    row = _set(data_copy / "segments.csv", "S-BEI-06", "passage", changed)
    row2 = _set(data_copy / "segments.csv", "S-XIN-18", "line", "237")
    row2 = _set(data_copy / "segments.csv", "S-XIN-18", "line_end", "237")
    problems = _problems(data_copy, seeds=corpus_seeds, check_seeds=True).problems
    located = {(p.key, p.row, p.field, p.rule) for p in problems}
    assert located == {("S-BEI-06", row, "passage", "passage-in-seed"), ("S-XIN-18", row2, "passage", "passage-in-seed")}
    assert any("at lines 237-237" in p.message for p in problems)


def test_an_informant_not_at_its_line_is_reported(data_copy, corpus_seeds):
    row = _set(data_copy / "interviews.csv", "BJ003", "line", "380")
    row2 = _set(data_copy / "interviews.csv", "Q-NYC-03", "role", "a former NYC311 junior staff person")
    problems = _problems(data_copy, seeds=corpus_seeds, check_seeds=True).problems
    located = {(p.file, p.key, p.row, p.field, p.rule) for p in problems}
    assert ("interviews.csv", "BJ003", row, "line", "informant-in-seed") in located
    assert ("interviews.csv", "Q-NYC-03", row2, "role", "informant-in-seed") in located


def test_the_schema_checks_origin_source_and_roster_city(data_copy):
    _set(data_copy / "segments.csv", "S-TOK-01", "origin", "invented")
    _set(data_copy / "segments.csv", "S-TOK-02", "source", "999_nowhere.txt")
    _set(data_copy / "interviews.csv", "G-BOS-01", "city_id", "gotham")
    data.rehash(data_copy)
    problems = data.validate(data_copy, check_seeds=False).problems
    located = {(p.file, p.key, p.rule) for p in problems}
    assert ("segments.csv", "S-TOK-01", "constraint-error") in located
    assert ("segments.csv", "S-TOK-02", "foreign-key") in located
    assert ("interviews.csv", "G-BOS-01", "foreign-key") in located
    assert len(problems) == 3


def test_an_edited_file_without_a_new_hash_is_caught(data_copy):
    _set(data_copy / "segments.csv", "S-TOK-01", "note", "edited")
    book = data_copy / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("version: '2.0'", "version: '2.1'"), encoding="utf-8")
    problems = data.validate(data_copy, check_seeds=False).problems
    found = {(p.file, p.rule) for p in problems}
    assert {("segments.csv", "hash-count"), ("codebook.yaml", "hash-count")} <= found
    assert found <= {(f, r) for f in ("segments.csv", "codebook.yaml") for r in ("hash-count", "byte-count")}
    data.rehash(data_copy)
    assert data.validate(data_copy, check_seeds=False).ok


# ---------------------------------------------------------------- seed text


def test_seed_text_joins_lines_and_collapses_whitespace(tmp_path):
    (tmp_path / "s.txt").write_text("A first line that\n\n  wraps after a page break.\tNext\nsentence here.\n", encoding="utf-8")
    text = SeedText(tmp_path)
    assert text.contains("s.txt", 1, 3, "that wraps after a page break. Next")
    assert not text.contains("s.txt", 1, 2, "that wraps")  # the words are on line 3
    assert not text.contains("s.txt", 1, 3, "That wraps")  # verbatim: case matters
    assert text.locate("s.txt", "that wraps") == [(1, 3)]
    assert text.locate("s.txt", "Next sentence") == [(3, 4)]
    assert text.locate("s.txt", "absent") == []
    assert text.span("s.txt", 4, 9) is None and text.lines("other.txt") is None


words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), max_codepoint=0x2FF), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.lists(words, min_size=0, max_size=5).map(" ".join), min_size=1, max_size=12), data_=st.data())
def test_every_substring_is_located_on_a_span_that_contains_it(tmp_path_factory, lines, data_):
    folder = tmp_path_factory.mktemp("seed")
    (folder / "s.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    flat = collapse_whitespace(" ".join(lines))
    if not flat:
        return
    start = data_.draw(st.integers(0, len(flat) - 1))
    stop = data_.draw(st.integers(start + 1, len(flat)))
    quote = collapse_whitespace(flat[start:stop])
    if not quote:
        return
    text = SeedText(folder)
    spans = text.locate("s.txt", quote)
    assert spans, quote
    for first, last in spans:
        assert text.contains("s.txt", first, last, quote)
        assert lines[first - 1].strip() and lines[last - 1].strip()  # a span never starts or ends on a blank line
