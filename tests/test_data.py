"""Loaders and validation of the evidence base, including every kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hotlines import data
from hotlines.cli import app
from hotlines.data.validate import SOURCED_ATTRIBUTES, bibtex_keys, check_seed_quotes

from .conftest import DATA, SEEDS, snapshot

runner = CliRunner()


# ---------------------------------------------------------------- the shipped data


def test_shipped_data_validates_without_seeds():
    report = data.validate(check_seeds=False)
    assert report.ok, str(report)


def test_loaders_type_columns_and_keep_missing_missing():
    cities = data.cities()
    assert cities["in_4g_2024"].dtype == "boolean"
    assert cities["population"].dtype == "Float64"
    assert cities["launch_year"].dtype == "Int64"
    # Missing stays missing: a city with no sourced launch year has <NA>, not 0.
    assert cities["launch_year"].isna().any()
    assert not (cities["launch_year"] == 0).any()
    assert cities.loc[cities.city_id == "madrid", "launch_year"].isna().item()
    ind = data.indicators()
    assert ind["value"].dtype == "Float64"
    assert ind["family"].notna().all()


def test_the_twenty_cities_and_their_clusters_match_the_report():
    cities = data.cities()
    evaluated = cities[cities["in_4g_2024"]]
    assert len(evaluated) == 20
    assert set(cities.loc[cities["role"] == "us_comparison", "city_id"]) == {"philadelphia", "boston", "chicago"}
    assert set(cities.loc[cities["role"] == "coding_case", "city_id"]) == {"xintai"}
    assert (cities["in_4g_2024"] == (cities["role"] == "evaluated")).all()
    # Seed 001, lines 337-373: integrative 5, distinctive 6, innovative 6, inclusive 3.
    assert evaluated["cluster"].value_counts().to_dict() == {
        "distinctive": 6, "innovative": 6, "integrative": 5, "inclusive": 3
    }
    # Seed 001, lines 251-257: North America 3, Europe 4, Asia 12, South America 1.
    assert evaluated["region"].value_counts().to_dict() == {
        "Asia": 12, "Europe": 4, "North America": 3, "South America": 1
    }
    beijing = cities.set_index("city_id").loc["beijing"]
    assert beijing["hotline_number"] == "12345" and beijing["cluster"] == "integrative"


def test_headline_values_of_the_seeds_are_in_the_indicators():
    ind = data.indicators()
    beijing = ind[(ind.city_id == "beijing") & (ind.family == "resolution") & (ind.kind == "measured")]
    assert ((beijing.qualifier == "<") & (beijing.value == 5) & (beijing.unit == "days")).any()
    nyc = ind[(ind.city_id == "new_york") & (ind.family == "resolution") & (ind.kind == "measured")]
    assert ((nyc.qualifier == ">") & (nyc.value == 10) & (nyc.unit == "days")).any()
    sat = ind[(ind.city_id == "new_york") & (ind.family == "satisfaction")]
    assert ((sat.qualifier == "range") & (sat.value == 20) & (sat.value_high == 40)).any()


def test_targets_are_never_labelled_measured():
    ind = data.indicators()
    targets = ind[ind.kind == "target"]
    assert len(targets) > 0
    words = r"within|target|pledge|commitment|deadline|must|no more than|never|at least|≥|objetivo|compromiso"
    measured_with_target_words = ind[(ind.kind == "measured") & ind.definition.fillna("").str.contains(r"\btarget\b", case=False)]
    assert measured_with_target_words.empty, measured_with_target_words[["indicator_id", "definition"]]
    assert targets["quote"].str.contains(words, case=False).mean() > 0.5


def test_every_value_traces_to_a_source_and_a_quote():
    ind = data.indicators()
    sources = data.sources()
    assert ind["source_id"].isin(sources["source_id"]).all()
    assert ind["quote"].str.len().min() > 0
    for _, row in ind.iterrows():
        assert row["value_as_stated"] in row["quote"], row["indicator_id"]


def test_every_source_has_a_bibtex_entry_and_back():
    keys = set(bibtex_keys(DATA.parent / "chapters" / "references.bib"))
    ids = set(data.sources()["source_id"])
    assert ids == keys  # the Sources appendix lists every work the book cites


def test_curation_log_accounts_for_every_research_row():
    log = data.curation_log()
    counts = log.groupby("input")["input_row"].agg(["count", "min", "max", "nunique"])
    # seed_facts.csv has 473 data rows, published_figures.csv 263: each has one line.
    assert counts.loc["seed_facts"].tolist() == [473, 1, 473, 473]
    assert counts.loc["published_figures"].tolist() == [263, 1, 263, 263]
    became = log.loc[log.decision == "indicator", "indicator_id"]
    assert set(became) == set(data.indicators()["indicator_id"])


def test_coverage_is_complete_and_consistent_with_the_rows():
    ind, cities = data.indicators(), data.cities()
    cov = data.coverage(ind, cities)
    assert len(cov) == len(cities) * len(data.evidence.FAMILY_ORDER) == len(cities) * 7
    # Every "measured" cell is backed by a measured, non-proxy row of that city and family.
    for _, cell in cov[cov.status == "measured"].iterrows():
        rows = ind[(ind.city_id == cell.city_id) & (ind.family == cell.family) & (ind.kind == "measured")]
        assert (rows.flag.fillna("") != "PROXY").any()
    # and a "missing" cell has no row at all.
    for _, cell in cov[cov.status == "missing"].iterrows():
        assert ind[(ind.city_id == cell.city_id) & (ind.family == cell.family)].empty


def test_format_value_reads_like_the_source():
    row = lambda q, v, u, hi=pd.NA: pd.Series({"qualifier": q, "value": v, "value_high": hi, "unit": u})
    assert data.evidence.format_value(row("<", 5.0, "days")) == "< 5 days"
    assert data.evidence.format_value(row("range", 20.0, "percent", 40.0)) == "20–40%"
    assert data.evidence.format_value(row("=", 97.3, "percent")) == "97.3%"
    assert data.evidence.format_value(row("~", 21438000.0, "count")) == "≈ 21,438,000"
    assert data.evidence.format_value(row("<=", 1.0, "days")) == "≤ 1 day"
    assert data.evidence.format_value(row("range", 2.0, "working_days", 7.0)) == "2–7 working days"


# ---------------------------------------------------------------- bad input


def _edit_csv(path: Path, edit) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _rehash_only(folder: Path, name: str) -> None:
    """Record the new hash of an edited file, so that the test sees the other rule fire."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        if res["path"] == name:
            res["hash"] = "sha256:" + data.sha256_of(folder / name)
            res["bytes"] = (folder / name).stat().st_size
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False), encoding="utf-8")


def _column(rows, name):
    return rows[0].index(name)


def _validate_cli(folder: Path):
    before = snapshot(folder)
    result = runner.invoke(app, ["data", "validate", "--data", str(folder), "--no-seeds"], terminal_width=400)
    assert snapshot(folder) == before, "validation rewrote a file"
    return result


def _only(report, rule):
    found = [p for p in report.problems if p.rule == rule]
    assert found, str(report)
    return found


def test_wrong_column_is_named(data_copy):
    _edit_csv(data_copy / "indicators.csv", lambda rows: rows[0].__setitem__(_column(rows, "value"), "valeur"))
    _rehash_only(data_copy, "indicators.csv")
    report = data.validate(data_copy, check_seeds=False)
    problem = _only(report, "incorrect-label")[0]
    assert problem.file == "indicators.csv" and problem.field == "value"
    assert "valeur" in problem.message
    result = _validate_cli(data_copy)
    assert result.exit_code == 1
    assert "indicators.csv" in result.output and "incorrect-label" in result.output and "valeur" in result.output


def test_non_numeric_value_names_file_row_field_and_rule(data_copy):
    def edit(rows):
        rows[7][_column(rows, "value")] = "about five"
    _edit_csv(data_copy / "indicators.csv", edit)
    _rehash_only(data_copy, "indicators.csv")
    report = data.validate(data_copy, check_seeds=False)
    problem = _only(report, "type-error")[0]
    assert (problem.file, problem.row, problem.field) == ("indicators.csv", 7, "value")
    assert problem.key == "I0007"
    result = _validate_cli(data_copy)
    assert result.exit_code == 1
    for word in ("indicators.csv", "type-error", "value", "I0007"):
        assert word in result.output


def test_unknown_city_is_a_foreign_key_error(data_copy):
    def edit(rows):
        column = _column(rows, "city_id")
        target = next(i for i, r in enumerate(rows[1:], start=1) if r[column])
        rows[target][column] = "atlantis"
        edit.row = target
    _edit_csv(data_copy / "indicators.csv", edit)
    _rehash_only(data_copy, "indicators.csv")
    report = data.validate(data_copy, check_seeds=False)
    problem = _only(report, "foreign-key")[0]
    assert (problem.file, problem.row, problem.field) == ("indicators.csv", edit.row, "city_id")
    assert "atlantis" in problem.message
    assert _validate_cli(data_copy).exit_code == 1


def test_duplicate_key_is_a_primary_key_error(data_copy):
    def edit(rows):
        rows[3][_column(rows, "city_id")] = rows[2][_column(rows, "city_id")]
    _edit_csv(data_copy / "cities.csv", edit)
    _rehash_only(data_copy, "cities.csv")
    report = data.validate(data_copy, check_seeds=False)
    rules = {p.rule for p in report.problems if p.file == "cities.csv" and p.row == 3}
    assert "primary-key" in rules or "unique-error" in rules, str(report)
    assert _validate_cli(data_copy).exit_code == 1


def test_changed_file_is_a_hash_error(data_copy):
    path = data_copy / "sources.csv"
    path.write_bytes(path.read_bytes().replace(b"Springer", b"Springer-Verlag", 1))
    report = data.validate(data_copy, check_seeds=False)
    problem = _only(report, "hash-count")[0]
    assert problem.file == "sources.csv"
    result = _validate_cli(data_copy)
    assert result.exit_code == 1 and "hash-count" in result.output


def test_value_missing_from_its_quote_is_caught(data_copy):
    def edit(rows):
        rows[1][_column(rows, "value_as_stated")] = "123456789"
    _edit_csv(data_copy / "indicators.csv", edit)
    _rehash_only(data_copy, "indicators.csv")
    problem = _only(data.validate(data_copy, check_seeds=False), "value-in-quote")[0]
    assert (problem.row, problem.field) == (1, "value_as_stated")


def test_loaders_refuse_invalid_data(data_copy):
    (data_copy / "cities.csv").write_bytes((data_copy / "cities.csv").read_bytes() + b"\n")
    with pytest.raises(data.DataValidationError, match="cities.csv"):
        data.cities(data_copy)


def test_hash_command_records_a_deliberate_edit(data_copy):
    path = data_copy / "sources.csv"
    path.write_bytes(path.read_bytes().replace(b"Springer", b"Springer-Verlag", 1))
    result = runner.invoke(app, ["data", "hash", "--data", str(data_copy)])
    assert result.exit_code == 0 and "sources" in result.output
    assert data.validate(data_copy, check_seeds=False).ok


# ---------------------------------------------------------------- the seed quote check


def test_absent_seeds_are_said_plainly(tmp_path):
    # a folder given explicitly is used alone: a wrong path is reported, never replaced by ../shared/seeds
    report = data.validate(seeds=tmp_path / "no-such-folder")
    notes = " ".join(report.notes)
    assert "NOT run" in notes and "no-such-folder" in notes


def test_quote_check_finds_a_moved_or_changed_quote(tmp_path):
    seed = "000_8b5fa105864a0e27.txt"
    (tmp_path / seed).write_text("first line\nthe average resolution time is under five days\nthird\n", encoding="utf-8")
    tables = {
        "sources": pd.DataFrame({"source_id": ["s"], "kind": ["seed"], "seed_file": [seed]}),
        "indicators": pd.DataFrame({
            "indicator_id": ["I0001", "I0002", "I0003", "I0004"],
            "source_id": ["s"] * 4,
            "locator": [f"{seed}:L2", f"{seed}:L3", f"{seed}:L9", "page 3"],
            "quote": ["under five days"] * 4,
        }),
        "cities": pd.DataFrame(columns=[f"{a}_{p}" for a in SOURCED_ATTRIBUTES
                                        for p in ("source_id", "locator", "quote")] + ["city_id"]),
    }
    problems = check_seed_quotes(tables, tmp_path)
    by_key = {p.key: p.rule for p in problems}
    assert "I0001" not in by_key
    assert by_key == {"I0002": "quote-in-seed", "I0003": "quote-in-seed", "I0004": "seed-locator"}


def test_indicator_labels_keep_their_meaning():
    from hotlines.data.evidence import indicator_label

    assert indicator_label("satisfaction_score_0_100") == "satisfaction score (0–100)"
    assert indicator_label("average_resolution_time_working_days") == "average resolution time (working days)"
    assert indicator_label("resolution_rate") == "resolution rate"


N_INDICATOR_ROWS = len(pd.read_csv(DATA / "indicators.csv"))


@settings(max_examples=10, deadline=None)
@given(
    row=st.integers(min_value=1, max_value=N_INDICATOR_ROWS),
    junk=st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8).filter(
        lambda text: text.lower() not in {"nan", "inf", "infinity"}  # numbers to a float parser
    ),
)
def test_any_non_numeric_value_is_reported_at_its_row(tmp_path_factory, row, junk):
    folder = tmp_path_factory.mktemp("data")
    for file in DATA.iterdir():
        if file.is_file():
            (folder / file.name).write_bytes(file.read_bytes())

    def edit(rows):
        rows[row][_column(rows, "value")] = junk

    _edit_csv(folder / "indicators.csv", edit)
    _rehash_only(folder, "indicators.csv")
    before = snapshot(folder)
    report = data.validate(folder, check_seeds=False)
    assert snapshot(folder) == before
    located = {(p.file, p.row, p.field) for p in report.problems if p.rule == "type-error"}
    assert located == {("indicators.csv", row, "value")}


# ---------------------------------------------------------------- the whole data folder in one check


def test_validate_all_covers_codebook_corpus_and_index_inputs(data_copy):
    assert data.validate_all(data_copy, check_seeds=False).ok
    text = (data_copy / "codebook.yaml").read_text(encoding="utf-8")
    (data_copy / "codebook.yaml").write_text(text.replace("pole: vertical", "pole: upward", 1), encoding="utf-8")
    _rehash_only(data_copy, "codebook.yaml")
    report = data.validate_all(data_copy, check_seeds=False)
    # the broken pole, and the pole counts it no longer matches; nothing else
    assert {p.rule for p in report.problems} == {"pole-value", "code-count"}, str(report)
    assert any(p.field == "leadership.centralized_party_leadership.pole" for p in report.problems)
    result = runner.invoke(app, ["data", "validate", "--data", str(data_copy), "--no-seeds"], terminal_width=400)
    assert result.exit_code == 1 and "upward" in result.output


def test_validate_all_says_plainly_when_the_seeds_are_absent(tmp_path):
    report = data.validate_all(DATA, seeds=tmp_path / "nowhere")
    notes = " ".join(report.notes)
    assert report.ok
    for part in ("quote check", "anchor", "Passages", "Index inputs"):
        assert part.lower() in notes.lower(), part
    assert "not run" in notes.lower() or "NOT run" in notes


def test_every_quote_of_the_data_folder_is_at_its_seed_line():
    """The one test that reads the seed documents; without them it checks that the report says so plainly."""
    report = data.validate_all(seeds=SEEDS)
    assert report.ok, str(report)
    notes = " ".join(report.notes)
    if SEEDS is None:
        assert "NOT checked" in notes or "not checked" in notes, notes
        assert "0 not found" not in notes, "a quote check claims to have run without the seeds"
        return
    assert "0 not found" in notes and "not run" not in notes.lower()
    checked = re.search(r"^Seed quotes: (\d+) checked against .*, 0 not found\.$", report.notes[0])
    assert checked and int(checked.group(1)) > 100, report.notes  # indicators.csv and cities.csv
    assert any(re.fullmatch(r"Codebook: Anchors: 158 checked against .*, 0 not found\.", n) for n in report.notes), report.notes
    assert any(re.match(r"Coded corpus: Passages: 411 checked against .*, 0 not found; informant lines: 70 checked, 0 not found\.$", n)
               for n in report.notes), report.notes
    inputs = next(n for n in report.notes if n.startswith("Index inputs: Seed quotes:"))
    assert "0 not found" in inputs and int(inputs.split()[4]) > 140, inputs
    spec = re.search(r"Index spec: (\d+) quotes checked, 0 not found\.", notes)
    assert spec and int(spec.group(1)) >= 40, notes


def test_validation_is_remembered_only_for_valid_content(data_copy, tmp_path, monkeypatch):
    from hotlines.data import _digest, _validated

    monkeypatch.setenv("HOTLINES_CACHE", str(tmp_path / "cache"))
    _validated.cache_clear()
    data.cities(data_copy)
    markers = list((tmp_path / "cache" / "valid").iterdir())
    assert [m.name for m in markers] == [_digest(data_copy)]
    # one changed byte is a new digest: validated again, refused, and never marked valid
    path = data_copy / "cities.csv"
    path.write_bytes(path.read_bytes().replace(b"Beijing", b"Peking", 1))
    _validated.cache_clear()
    with pytest.raises(data.DataValidationError, match="hash"):
        data.cities(data_copy)
    assert [m.name for m in (tmp_path / "cache" / "valid").iterdir()] == [markers[0].name]
