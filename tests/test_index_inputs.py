"""The coded inputs: they validate, every quote is on its seed line, and bad rows are named."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from hotlines import paths

from hotlines.index import InputsError, input_coverage, load_inputs, load_spec, validate_inputs
from hotlines.index.inputs import inputs_path

from .conftest import DATA, snapshot, write_seeds

SHIPPED = inputs_path()


def test_shipped_inputs_validate_without_seeds():
    report = validate_inputs(check_seeds=False)
    assert report.ok, str(report)


def test_inputs_quote_check_says_plainly_when_seeds_are_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINES_DATA", str(DATA))
    monkeypatch.setenv("HOTLINES_SEEDS", str(tmp_path / "nowhere"))
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)  # hides ../shared/seeds
    report = validate_inputs(SHIPPED, spec=load_spec(DATA / "index_4g.yaml"))
    assert report.ok, str(report)
    assert any("were NOT checked" in n for n in report.notes)


def test_coverage_counts_the_filled_cells_by_grade():
    cov = input_coverage()
    assert len(cov) == 24 and (cov["n_cities"] == 20).all()
    assert (cov["n_filled"] == cov["n_A"] + cov["n_B"] + cov["n_C"]).all()
    assert (cov["n_filled"] + cov["n_missing"] == 20).all()
    inputs = load_inputs()
    used = inputs[inputs["used"]]
    assert cov["n_filled"].sum() == len(used)
    # missing stays missing: the survey items have no coded value except Hangzhou's satisfaction
    survey = cov.set_index("indicator").loc[["agent_proficiency", "appeal_professionalism", "appeal_effectiveness",
                                             "hotline_trust", "hotline_satisfaction"], "n_filled"]
    assert survey.tolist() == [0, 0, 0, 0, 1]


def test_every_city_has_data_and_values_fit_their_indicator():
    inputs = load_inputs()
    spec = load_spec()
    used = inputs[inputs["used"]]
    assert used["city_id"].nunique() == 20
    for row in used.itertuples():
        item = spec.item(row.indicator)
        if item.type == "binary":
            assert row.value in (0, 1)
        if item.type == "ordinal":
            assert int(row.value) in item.levels
        assert row.value_as_stated in row.quote


def _write(tmp_path, mutate) -> tuple:
    frame = pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)
    mutate(frame)
    path = tmp_path / "index_4g_inputs.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path, frame


def _row_of(frame, evidence_id) -> int:
    return int(frame.index[frame["evidence_id"] == evidence_id][0]) + 1


@pytest.mark.parametrize("mutate, field, rule, needle", [
    (lambda f: f.loc.__setitem__((0, "city_id"), "atlantis"), "city_id", "known-city", "'atlantis'"),
    (lambda f: f.loc.__setitem__((0, "indicator"), "call_speed"), "indicator", "known-indicator", "'call_speed'"),
    (lambda f: f.loc.__setitem__((f.index[f["indicator"] == "dispatch_manual"][0], "value"), "2"), "value",
     "value-fits-indicator", "binary indicator 'dispatch_manual'"),
    (lambda f: f.loc.__setitem__((f.index[f["indicator"] == "data_openness"][0], "value"), "7"), "value",
     "value-fits-indicator", "not a level of 'data_openness'"),
    (lambda f: f.loc.__setitem__((0, "value_as_stated"), "99.9%"), "value_as_stated", "value-in-quote", "'99.9%'"),
    (lambda f: f.loc.__setitem__((0, "source_id"), "nobody2024"), "source_id", "known-source", "'nobody2024'"),
    (lambda f: f.loc.__setitem__((f.index[f["used"] == "false"][0], "note"), "set aside"), "note", "unused-says-why", "Not used"),
    (lambda f: f.loc.__setitem__((0, "locator"), "002_e179c3d4c178ea1d.txt:L460"), "locator", "seed-locator", "is not"),
    (lambda f: f.loc.__setitem__((f.index[f["indicators_row"] != ""][0], "quote"), "edited"), "quote",
     "matches-indicators-row", "differs from indicators.csv row"),
    (lambda f: f.loc.__setitem__((0, "evidence_grade"), "D"), "evidence_grade", "constraint-error", ""),
])
def test_each_bad_row_is_named_with_file_row_field_and_rule(tmp_path, mutate, field, rule, needle):
    path, frame = _write(tmp_path, mutate)
    before = snapshot(tmp_path)
    report = validate_inputs(path, check_seeds=False)
    assert not report.ok
    hits = [p for p in report.problems if p.field == field and p.rule == rule]
    assert hits, str(report)
    assert hits[0].file == "index_4g_inputs.csv" and hits[0].row is not None
    assert needle in hits[0].message
    assert snapshot(tmp_path) == before  # validation never writes


def test_two_used_rows_for_one_cell_are_named(tmp_path):
    def duplicate(frame):
        extra = frame[frame["used"] == "true"].iloc[[0]].copy()
        extra["evidence_id"] = "X999"
        frame.loc[len(frame)] = extra.iloc[0]
    path, frame = _write(tmp_path, duplicate)
    report = validate_inputs(path, check_seeds=False)
    hits = [p for p in report.problems if p.rule == "one-value-per-cell"]
    assert hits and "at most one" in hits[0].message


def test_a_quote_moved_to_another_line_is_caught(tmp_path):
    shipped = pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)
    located = shipped["locator"].str.extract(r"^(?P<file>\d{3}_\w+\.txt):L(?P<line>\d+)$").dropna()
    seeds = write_seeds(tmp_path / "seeds", [(r.file, r.line, r.line, shipped.loc[i, "quote"]) for i, r in located.iterrows()])

    def move(frame):
        i = frame.index[frame["locator"] == "001_212ff069a1d05327.txt:L460"][0]
        frame.loc[i, "locator"] = "001_212ff069a1d05327.txt:L461"
    path, frame = _write(tmp_path, move)
    assert validate_inputs(SHIPPED, seeds=seeds).ok  # the shipped quotes are all found in these seeds
    report = validate_inputs(path, seeds=seeds)
    hits = [p for p in report.problems if p.rule == "quote-in-seed"]
    assert hits and "at line 461" in hits[0].message


def test_load_inputs_raises_on_a_bad_file(tmp_path):
    path, _ = _write(tmp_path, lambda f: f.loc.__setitem__((0, "indicator"), "call_speed"))
    with pytest.raises(InputsError, match=r"index_4g_inputs.csv, row 1 \(X001\), field 'indicator': \[known-indicator\]"):
        load_inputs(path)


def test_shipped_file_is_not_rewritten_by_loading():
    before = SHIPPED.read_bytes()
    load_inputs()
    validate_inputs(check_seeds=False)
    assert SHIPPED.read_bytes() == before
    assert (DATA / "index_4g_inputs.csv").is_file()
