"""The codebook: the shipped file, each validation rule on a broken copy, the YAML round trip, tables."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest
import yaml

from hotlines import paths
from hotlines.coding import codebook as cb
from hotlines.coding.codebook import Codebook, codebook_table

from .conftest import DATA

SHIPPED = DATA / "codebook.yaml"


@pytest.fixture(scope="module")
def book() -> Codebook:
    return Codebook.load()


def _rules(report) -> set[tuple[str, str]]:
    return {(p.rule, p.field) for p in report}


def _broken(book: Codebook, edit) -> Codebook:
    document = copy.deepcopy(book.to_dict())
    edit(document["codebook"])
    return Codebook.from_dict(document)


def _code(body: dict, code_id: str) -> dict:
    return next(c for d in body["dimensions"] for c in d["codes"] if c["id"] == code_id)


# ---------------------------------------------------------------- the shipped codebook


def test_shipped_codebook_validates_and_has_the_curated_shape(book):
    report = book.validate(check_seeds=False)
    assert report.ok, str(report)
    assert book.version == "2.1"
    frame = book.to_frame()
    assert len(frame) == 52
    assert frame["pole"].value_counts().to_dict() == {"neutral": 29, "vertical": 12, "horizontal": 11}
    assert frame.groupby("dimension", sort=False).size().to_dict() == {
        "leadership": 8, "institution": 13, "mechanism": 15, "technology": 7, "outcome": 4, "start": 5}
    colors = {d.id: d.color for d in book.dimensions}
    assert colors == {"leadership": "#0072B2", "institution": "#E69F00", "mechanism": "#009E73",
                      "technology": "#56B4E9", "outcome": "#CC79A7", "start": "#D55E00"}
    # the draft's rules are kept, the changelog records the changes from draft 1.0
    assert len(book.meta["coding_rules"]) == 13 and "city_scoring_rules" in book.meta
    log = {entry["version"]: {change["what"] for change in entry["changes"]} for entry in book.meta["changelog"]}
    assert {"institution.external_oversight", "institution.strategic_planning"} <= log["2.0"]
    assert "clarifications C1-C15" in log["2.1"]
    assert book.codes["institution.strategic_planning"].pole == "neutral"


def test_module_validate_reads_the_file_and_reports_an_unreadable_one(tmp_path):
    assert cb.validate(SHIPPED, check_seeds=False).ok
    broken = tmp_path / "codebook.yaml"
    broken.write_text("codebook: [unclosed\n", encoding="utf-8")
    report = cb.validate(broken, check_seeds=False)
    assert [p.rule for p in report] == ["readable"] and report[0].file == "codebook.yaml"
    broken.write_text("title: no codebook key\n", encoding="utf-8")
    assert [p.rule for p in cb.validate(broken, check_seeds=False)] == ["readable"]


# ---------------------------------------------------------------- each rule on a broken copy

CODE = "leadership.top_leader_attention"


def _duplicate(body):
    body["dimensions"][0]["codes"].append(copy.deepcopy(_code(body, CODE)))


def _wrong_prefix(body):
    _code(body, "institution.strategic_planning")["id"] = "leadership.strategic_planning"


def _wrong_dimension(body):
    _code(body, CODE)["dimension"] = "mechanism"


def _unknown_pole(body):
    _code(body, CODE)["pole"] = "diagonal"


def _unknown_related(body):
    _code(body, CODE)["related_codes"].append("mechanism.telepathy")


def _missing_definition(body):
    del _code(body, CODE)["brief_definition"]


def _no_anchor(body):
    _code(body, CODE)["anchors"] = []


def _pole_in_neutral_dimension(body):
    _code(body, "technology.open_data")["pole"] = "horizontal"


def _reserved(body):
    body["dimensions"][0]["codes"][0]["id"] = "leadership.none"
    body["dimensions"][0]["codes"][0]["related_codes"] = []


def _shared_colour(body):
    body["dimensions"][1]["color"] = body["dimensions"][0]["color"]


def _stale_count(body):
    body["code_count"] = 51


def _bad_locator(body):
    _code(body, CODE)["anchors"][0]["line_end"] = _code(body, CODE)["anchors"][0]["line"] - 1


@pytest.mark.parametrize(
    "edit, rule, field, named",
    [
        (_duplicate, "unique-code-id", f"{CODE}.id", CODE),
        (_wrong_prefix, "code-id-form", "leadership.strategic_planning.id", "leadership.strategic_planning"),
        (_wrong_dimension, "dimension-matches-parent", f"{CODE}.dimension", CODE),
        (_unknown_pole, "pole-value", f"{CODE}.pole", CODE),
        (_unknown_related, "related-code-exists", f"{CODE}.related_codes", "mechanism.telepathy"),
        (_missing_definition, "required-field", f"{CODE}.brief_definition", CODE),
        (_no_anchor, "required-field", f"{CODE}.anchors", CODE),
        (_pole_in_neutral_dimension, "pole-in-dimension", "technology.open_data.pole", "technology.open_data"),
        (_reserved, "reserved-id", "leadership.none.id", "leadership.none"),
        (_shared_colour, "dimension-color", "institution.color", "institution"),
        (_stale_count, "code-count", "code_count", "52 codes"),
        (_bad_locator, "anchor-locator", f"{CODE}.anchors[1]", CODE),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_each_rule_fires_on_a_broken_copy_and_names_code_and_rule(book, edit, rule, field, named):
    report = _broken(book, edit).validate(check_seeds=False)
    hits = [p for p in report if p.rule == rule and p.field == field]
    assert hits, f"expected ({rule}, {field}) in {_rules(report)}"
    assert named in hits[0].message and hits[0].file == "codebook.yaml" and hits[0].row is None
    assert f"[{rule}]" in str(hits[0])
    # one break, one kind of problem: the rest of the codebook is still clean (a renamed or removed code
    # also breaks the related-code lists and clarifications that name it)
    assert {p.rule for p in report} <= {rule, "code-count", "related-code-exists", "clarification-code"}


def test_a_wrong_prefix_is_also_a_wrong_dimension_when_the_code_says_so(book):
    def edit(body):
        code = _code(body, "institution.strategic_planning")
        code["id"], code["dimension"] = "leadership.strategic_planning", "leadership"
    rules = _rules(_broken(book, edit).validate(check_seeds=False))
    assert ("code-id-form", "leadership.strategic_planning.id") in rules
    assert ("dimension-matches-parent", "leadership.strategic_planning.dimension") in rules


def test_an_anchor_moved_off_its_line_is_reported_with_where_it_is(book, corpus_seeds):
    anchor = book.codes[CODE].anchors[0]

    def edit(body):
        _code(body, CODE)["anchors"][0]["line"] = anchor.line + 2

    report = _broken(book, edit).validate(seeds=corpus_seeds)
    hits = [p for p in report if p.rule == "anchor-in-seed"]
    assert len(hits) == 1 and hits[0].field == f"{CODE}.anchors[1]"
    assert CODE in hits[0].message and f"L{anchor.line + 2}" in hits[0].message
    assert f"it occurs at L{anchor.line}" in hits[0].message


def test_a_changed_quote_is_not_found(book, corpus_seeds):
    def edit(body):
        quote = _code(body, CODE)["anchors"][0]["quote"]
        _code(body, CODE)["anchors"][0]["quote"] = quote.replace("monthly", "weekly")

    report = _broken(book, edit).validate(seeds=corpus_seeds)
    assert [(p.rule, p.field) for p in report] == [("anchor-in-seed", f"{CODE}.anchors[1]")]
    assert "it occurs at" not in report[0].message


def test_absent_seeds_are_said_plainly(book, tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINES_SEEDS", raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "clone")  # no ../shared/seeds beside this 'clone'
    report = book.validate(seeds=tmp_path / "no-such-folder")
    assert report.ok and list(report) == []
    notes = " ".join(report.notes)
    assert "NOT run" in notes and "no-such-folder" in notes and "158 anchor quotes" in notes


# ---------------------------------------------------------------- YAML round trip


def test_yaml_round_trip_is_lossless(book, tmp_path):
    assert Codebook.from_dict(book.to_dict()) == book
    # the shipped file is exactly what dump() writes
    assert SHIPPED.read_text(encoding="utf-8") == book.to_yaml()
    out = book.dump(tmp_path / "codebook.yaml")
    again = Codebook.load(out)
    assert again == book and again.meta == book.meta
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == book.to_dict()
    assert again.to_yaml() == book.to_yaml()
    # anchors keep line_end only where it was given
    anchors = [a for c in again.codes.values() for a in c.anchors]
    assert sum(a.line_end is not None for a in anchors) == 26 and len(anchors) == 158


def test_programmatic_edit_is_written_back_atomically(book, tmp_path):
    target = tmp_path / "codebook.yaml"
    book.dump(target)
    loaded = Codebook.load(target)
    dim = loaded.dimension("leadership")
    edited = dataclasses.replace(dim.codes[0], label="Party leadership (edited)")
    loaded.dimensions[0] = dataclasses.replace(dim, codes=(edited, *dim.codes[1:]))
    loaded.dump()  # back to where it was loaded from
    reread = Codebook.load(target)
    assert reread.codes["leadership.centralized_party_leadership"].label == "Party leadership (edited)"
    assert {k: v for k, v in reread.codes.items() if k != edited.id} == {
        k: v for k, v in book.codes.items() if k != edited.id}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codebook.yaml"]  # no temporary file left behind


def test_a_failed_dump_leaves_the_stored_file_untouched(book, tmp_path):
    target = tmp_path / "codebook.yaml"
    book.dump(target)
    before = target.read_bytes()
    unwritable = Codebook(book.title, book.version, book.dimensions, meta={**book.meta, "bad": object()})
    with pytest.raises(yaml.YAMLError):
        unwritable.dump(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codebook.yaml"]
    with pytest.raises(ValueError, match="needs a path"):
        Codebook(book.title, book.version, book.dimensions).dump()


# ---------------------------------------------------------------- tables


def test_to_frame_is_tidy_and_counts_anchors(book):
    frame = book.to_frame()
    assert frame.columns.tolist() == ["dimension", "code", "label", "pole", "brief_definition", "n_anchors"]
    assert str(frame["n_anchors"].dtype) == "Int64" and frame["code"].is_unique
    assert int(frame["n_anchors"].sum()) == 158
    row = frame.set_index("code").loc["institution.external_oversight"]
    assert (row["dimension"], row["pole"], int(row["n_anchors"])) == ("institution", "neutral", 4)
    assert (frame["code"].str.split(".").str[0] == frame["dimension"]).all()


def test_codebook_table_reads_well_in_the_book(book):
    table = codebook_table(book)
    assert table.columns.tolist() == ["Dimension", "Code", "Label", "Pole", "Definition", "Example"]
    assert len(table) == 52 and table["Code"].tolist() == list(book.codes)
    assert set(table["Dimension"]) == {d.label for d in book.dimensions}
    row = table.set_index("Code").loc["mechanism.agency_liaison"]
    # the shortest anchor, quoted, with its seed and line
    assert row["Example"] == "“the appointment of agency liaisons” (000 L202)"
    multi_line = table.set_index("Code").loc["mechanism.relational_informal_coordination", "Example"]
    assert re.search(r"\((000|001|002|003|004) L\d+(-\d+)?\)$", multi_line)


def test_clarifications_name_real_codes_and_state_a_rule(tmp_path):
    import yaml

    from hotlines.coding.codebook import Codebook

    book = Codebook.load()
    rules = book.meta["clarifications"]["rules"]
    assert [r["id"] for r in rules] == [f"C{i}" for i in range(1, 16)]
    assert not [p for p in book.validate(check_seeds=False) if p.rule.startswith("clarification")]
    document = book.to_dict()
    document["codebook"]["clarifications"]["rules"][0]["codes"].append("mechanism.no_such_code")
    document["codebook"]["clarifications"]["rules"][1]["rule"] = ""
    broken = Codebook.from_dict(yaml.safe_load(yaml.safe_dump(document)))
    found = {(p.rule, p.field) for p in broken.validate(check_seeds=False)}
    assert ("clarification-code", "clarifications.C1.codes") in found
    assert ("clarification-rule", "clarifications.C2.rule") in found
