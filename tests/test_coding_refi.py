"""REFI-QDA exchange: schema validity, exact round trips, the ATLAS.ti samples, hostile files.

The schemas and the two ATLAS.ti projects are the copies in ``data/refi-qda/``. Counts of
what a file holds are taken independently here, with zipfile and lxml, never from the
module under test. Hostile archives are built byte by byte in ``tmp_path``.
"""

from __future__ import annotations

import stat
import struct
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
import xmlschema
import yaml
from lxml import etree
from typer.testing import CliRunner

from hotlines.coding import refi
from hotlines.coding.codebook import Codebook
from hotlines.coding.refi import ArchiveLimits, RefiExportError, RefiImportError

from .conftest import DATA

REFI_DIR = DATA / "refi-qda"
PROJECT_XSD = REFI_DIR / "Project-mrt2019.xsd"
CODEBOOK_XSD = REFI_DIR / "Codebook.xsd"
SAMPLES = {"blank": REFI_DIR / "blank-atlas-project.qdpx", "target": REFI_DIR / "target-atlas-project.qdpx"}
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
runner = CliRunner()


# ---------------------------------------------------------------- fixtures


def small_codebook() -> Codebook:
    """Two dimensions, Chinese and accented labels, an anchor over two lines."""
    return Codebook.from_dict({"codebook": {
        "title": "Kodierbuch: 协同治理 test",
        "version": "2.0",
        "coding_rules": ["Code what the passage states.", "编码只看原文。"],
        "pole_definitions": {"vertical": "hierarchy", "horizontal": "peers", "neutral": "both"},
        "dimensions": [
            {"id": "mechanism", "label": "Mechanism / 机制", "definition": "How departments coordinate.",
             "color": "#009E73", "vertical_pole": "cross-level", "horizontal_pole": "contractual",
             "codes": [
                 {"id": "mechanism.whistle_report", "label": "吹哨报到", "dimension": "mechanism", "pole": "vertical",
                  "brief_definition": "街乡吹哨、部门报到 (street whistles, departments report).",
                  "full_definition": "Grassroots units summon line departments, who must come.",
                  "inclusion_criteria": ["The passage names 吹哨报到 or the summoning of departments."],
                  "exclusion_criteria": ["Ordinary referral: use mechanism.referral."],
                  "anchors": [{"quote": "whistle-blowing and reporting", "source": "000_8b5fa105864a0e27.txt",
                               "line": 201, "line_end": 202}],
                  "related_codes": ["mechanism.referral"],
                  "decision_rule": "Summoning with an obligation to come: this code."},
                 {"id": "mechanism.referral", "label": "Referral (Überweisung) & routing <simple>",
                  "dimension": "mechanism", "pole": "horizontal", "brief_definition": "The hotline forwards the case.",
                  "full_definition": "", "inclusion_criteria": [], "exclusion_criteria": [],
                  "anchors": [{"quote": "forwarded", "source": "002_e179c3d4c178ea1d.txt", "line": 12}],
                  "related_codes": []},
             ]},
            {"id": "outcome", "label": "Outcome", "definition": "What came of it.", "color": "#D55E00",
             "codes": [
                 {"id": "outcome.speed", "label": "Response speed", "dimension": "outcome", "pole": "neutral",
                  "brief_definition": "How fast requests are resolved.", "full_definition": "Speed.",
                  "inclusion_criteria": ["a"], "exclusion_criteria": ["b"], "anchors": [], "related_codes": []},
             ]},
        ],
    }})


def typed(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    return frame.astype({name: dtype for name, (dtype, _) in columns.items()})


def small_corpus() -> dict[str, pd.DataFrame]:
    """Segments from two sources, interleaved; Chinese, an astral-plane character, CRLF; NA cells."""
    segments = pd.DataFrame([
        {"segment_id": "S-BEI-01", "cities": "beijing", "source": "000_8b5fa105864a0e27.txt", "line": 198,
         "line_end": 198, "interview_ids": "BJ001;BJ002", "speaker_role": None,
         "passage": "The Secretary even holds a monthly review meeting.", "origin": "research", "note": None},
        {"segment_id": "S-NYC-01", "cities": "new_york;philadelphia", "source": "002_e179c3d4c178ea1d.txt",
         "line": 266, "line_end": 268, "interview_ids": None, "speaker_role": "311 director",
         "passage": "All interviewees agreed that what got NYC311 started\r\nis the mayor’s clear vision.",
         "origin": "added", "note": "multi-city statement"},
        {"segment_id": "S-BEI-02", "cities": "beijing", "source": "000_8b5fa105864a0e27.txt", "line": None,
         "line_end": None, "interview_ids": None, "speaker_role": None,
         "passage": "接诉即办：“吹哨报到” 𠀀 改革。", "origin": "added", "note": "中文备注"},
        {"segment_id": "S-BEI-03", "cities": "beijing", "source": "000_8b5fa105864a0e27.txt", "line": 5,
         "line_end": 5, "interview_ids": None, "speaker_role": None,
         "passage": "A segment no coder coded.", "origin": "research", "note": None},
    ])
    codings = pd.DataFrame([
        {"segment_id": "S-BEI-01", "coder": "A", "code": "mechanism.whistle_report", "memo": "街道吹哨，部门报到。"},
        {"segment_id": "S-BEI-01", "coder": "编码员乙", "code": "outcome.speed", "memo": None},
        {"segment_id": "S-NYC-01", "coder": "A", "code": "mechanism.referral", "memo": "line one\r\nline two & <three>"},
        {"segment_id": "S-BEI-02", "coder": "编码员乙", "code": "none", "memo": "无相关编码"},
        {"segment_id": "S-BEI-01", "coder": "A", "code": "outcome.speed", "memo": None},
        {"segment_id": "S-BEI-02", "coder": "A", "code": "mechanism.whistle_report", "memo": None},
    ])
    coders = pd.DataFrame([
        {"coder": "A", "kind": "llm-agent", "description": "model X, pass A", "procedure": "saw passages only",
         "date": "2026-11-24"},
        {"coder": "编码员乙", "kind": "human", "description": "第二编码员", "procedure": None, "date": None},
    ])
    return {"segments": typed(segments, refi.SEGMENT_COLUMNS), "codings": typed(codings, refi.CODING_COLUMNS),
            "coders": typed(coders, refi.CODER_COLUMNS)}


@pytest.fixture
def book() -> Codebook:
    return small_codebook()


@pytest.fixture
def corpus() -> dict[str, pd.DataFrame]:
    return small_corpus()


@pytest.fixture
def exported(tmp_path, book, corpus) -> Path:
    return refi.export_project(book, corpus["segments"], corpus["codings"], corpus["coders"], tmp_path / "corpus.qdpx")


def qde_of(archive: Path) -> bytes:
    with zipfile.ZipFile(archive) as z:
        return z.read("project.qde")


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------- the schemas


ANNEX_A1 = b"""<?xml version="1.0" encoding="UTF-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" xmlns:qda="urn:QDA-XML:codebook:1.0"
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:QDA-XML:codebook:1.0 http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd">
<Codes>
<Code guid="{5215cc69-b628-4e02-afb9-9beeaee55808}" name="Topics" isCodable="false">
</Code>
<Code guid="{d7aa29da-519b-4946-9b90-253b6db8fd0a}" name="Economy" isCodable="true"
color="#ffff00">
<Description>Anything about jobs or taxes or business</Description>
</Code> <Code guid="{0dcef2f5-e55c-49da-8c33-9b0803c7aeb4}" name="Health care"
isCodable="true" color="#33cc33">
<Description>Health care issues, doctor, patients, etc.</Description>
</Code>
<Code guid="9fa9bcb7-5b59-47a9-8c3e-f65cffdc7520" name="Values" isCodable="false">
</Code>
<Code guid="{7c108712-b650-4892-ac0b-fc9a10190c3b}" name="Conservatives" isCodable="true"
color="#ff0000">
<Description>Republicans or right-wing libertarians</Description>
</Code>
<Code guid="{12365523-1035-4afa-9e7b-281fe0bc51c5}" name="Liberals" isCodable="true"
color="#0000ff">
<Description>Democrats, socialists, or progressive independents</Description>
</Code>
</Codes>
</CodeBook>
"""


def test_transcribed_codebook_schema_accepts_the_standards_annex_example_and_rejects_a_project():
    assert refi.schema_errors(ANNEX_A1, "codebook") == []
    assert xmlschema.XMLSchema(str(CODEBOOK_XSD)).is_valid(etree.fromstring(ANNEX_A1))
    project_root = qde_of(SAMPLES["target"])
    assert refi.schema_errors(project_root, "codebook"), "a Project document must not pass as a codebook"


def test_the_copied_files_are_the_reference_files():
    # the copies the tests rely on are byte-identical to what SOURCE.md lists
    import hashlib

    listed = (REFI_DIR / "SOURCE.md").read_text(encoding="utf-8")
    for name in ("Project-mrt2019.xsd", "blank-atlas-project.qdpx", "target-atlas-project.qdpx"):
        digest = hashlib.sha256((REFI_DIR / name).read_bytes()).hexdigest()
        assert f"`{digest}`" in listed, name


def test_exports_validate_against_the_schemas_checked_by_xmlschema_directly(tmp_path, book, exported):
    qdc = refi.export_codebook(book, tmp_path / "book.qdc")
    codebook_schema = xmlschema.XMLSchema(str(CODEBOOK_XSD))
    project_schema = xmlschema.XMLSchema(str(PROJECT_XSD))
    qdc_root = etree.fromstring(qdc.read_bytes())
    qde_root = etree.fromstring(qde_of(exported))
    assert qdc_root.tag == f"{C}CodeBook" and qde_root.tag == f"{P}Project"
    assert list(codebook_schema.iter_errors(qdc_root)) == []
    assert list(project_schema.iter_errors(qde_root)) == []


def test_the_validator_fails_on_deliberately_broken_xml(tmp_path, book, exported):
    root = etree.fromstring(qde_of(exported))
    code = root.find(f"{P}CodeBook/{P}Codes/{P}Code")
    del code.attrib["isCodable"]
    errors = refi.schema_errors(etree.tostring(root), "project")
    assert len(errors) == 1 and "isCodable" in errors[0] and errors[0].startswith("/Project/CodeBook/Codes/Code")

    root = etree.fromstring(refi.export_codebook(book, tmp_path / "b.qdc").read_bytes())
    root.find(f"{C}Codes/{C}Code").set("color", "green")
    errors = refi.schema_errors(etree.tostring(root), "codebook")
    assert len(errors) == 1 and "green" in errors[0]

    root = etree.fromstring(qde_of(exported))
    selection = root.find(f".//{P}PlainTextSelection")
    selection.set("startPosition", "first")
    assert any("startPosition" in e for e in refi.schema_errors(etree.tostring(root), "project"))

    # and the importer refuses such a file, naming the member and the rule
    broken = tmp_path / "broken.qdpx"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("project.qde", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    with pytest.raises(RefiImportError) as caught:
        refi.import_project(broken)
    assert caught.value.rule == "schema" and caught.value.member == "project.qde"
    assert "startPosition" in str(caught.value)


def test_invalid_colour_is_refused_at_export_and_nothing_is_written(tmp_path, book):
    dims = list(book.dimensions)
    dims[0] = type(dims[0])(**{**dims[0].__dict__, "color": "teal"})
    bad = Codebook(title=book.title, version=book.version, dimensions=dims, meta=book.meta)
    with pytest.raises(RefiExportError) as caught:
        refi.export_codebook(bad, tmp_path / "bad.qdc")
    assert caught.value.rule == "rgb-colour" and caught.value.row == "mechanism" and caught.value.field == "color"
    assert not (tmp_path / "bad.qdc").exists()


# ---------------------------------------------------------------- codebook round trip


def test_qdc_round_trip_is_exact_with_chinese_names(tmp_path, book):
    path = refi.export_codebook(book, tmp_path / "book.qdc")
    raw = path.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "吹哨报到".encode("utf-8") in raw  # written as UTF-8, not as character references
    back = refi.import_codebook(path)
    assert back == book
    assert back.codes["mechanism.whistle_report"].label == "吹哨报到"
    assert back.codes["mechanism.whistle_report"].anchors[0].line_end == 202
    assert back.dimension("outcome").color == "#D55E00"
    assert back.meta["coding_rules"][1] == "编码只看原文。"


def test_qdc_structure_hierarchy_colours_and_stable_guids(tmp_path, book):
    root = etree.fromstring(refi.export_codebook(book, tmp_path / "book.qdc").read_bytes())
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, "refi-qda.hotlines")
    assert refi.GUID_NAMESPACE == namespace
    tops = root.findall(f"{C}Codes/{C}Code")
    assert [t.get("name") for t in tops] == ["Mechanism / 机制", "Outcome"]
    assert [t.get("isCodable") for t in tops] == ["false", "false"]
    assert tops[0].get("guid") == str(uuid.uuid5(namespace, "dimension:mechanism"))
    children = tops[0].findall(f"{C}Code")
    assert [c.get("name") for c in children] == ["吹哨报到", "Referral (Überweisung) & routing <simple>"]
    assert [c.get("isCodable") for c in children] == ["true", "true"]
    assert {c.get("color") for c in children} == {"#009E73"}
    assert children[0].get("guid") == str(uuid.uuid5(namespace, "code:mechanism.whistle_report"))
    description = yaml.safe_load(children[0].find(f"{C}Description").text)
    assert description["id"] == "mechanism.whistle_report" and description["pole"] == "vertical"
    members = root.findall(f"{C}Sets/{C}Set/{C}MemberCode")
    assert [m.get("guid") for m in members] == [refi.guid_for("code", c) for c in book.codes]


def test_the_shipped_codebook_round_trips_through_qdc(tmp_path):
    shipped = Codebook.load(DATA / "codebook.yaml")
    path = refi.export_codebook(shipped, tmp_path / "shipped.qdc")
    assert refi.schema_errors(path.read_bytes(), "codebook") == []
    back = refi.import_codebook(path)
    assert back == shipped
    assert [d.color for d in back.dimensions] == [d.color for d in shipped.dimensions]
    assert len(back.codes) == len(shipped.codes) > 0


# ---------------------------------------------------------------- project round trip


def test_project_round_trip_is_exact(exported, book, corpus):
    project = refi.import_project(exported)
    assert project.codebook == book
    pd.testing.assert_frame_equal(project.coders, corpus["coders"])
    # rows come back in document order: sources in first-appearance order
    assert project.segments["segment_id"].tolist() == ["S-BEI-01", "S-BEI-02", "S-BEI-03", "S-NYC-01"]
    by_segment = lambda f: f.sort_values("segment_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(by_segment(project.segments), by_segment(corpus["segments"]))
    keys = ["segment_id", "coder", "code"]
    pd.testing.assert_frame_equal(project.codings.sort_values(keys).reset_index(drop=True),
                                  corpus["codings"].sort_values(keys).reset_index(drop=True))
    memo = project.codings.set_index(keys).loc[("S-NYC-01", "A", "mechanism.referral"), "memo"]
    assert memo == "line one\r\nline two & <three>"
    assert project.discarded.empty
    assert project.sources["source"].tolist() == ["000_8b5fa105864a0e27.txt", "002_e179c3d4c178ea1d.txt"]


def test_tables_already_in_document_order_round_trip_without_sorting(tmp_path, book, corpus):
    segments = corpus["segments"].iloc[[0, 2, 3, 1]].reset_index(drop=True)
    codings = corpus["codings"].iloc[[0, 1, 4, 3, 5, 2]].reset_index(drop=True)
    path = refi.export_project(book, segments, codings, corpus["coders"], tmp_path / "ordered.qdpx")
    project = refi.import_project(path)
    pd.testing.assert_frame_equal(project.segments, segments)
    pd.testing.assert_frame_equal(project.codings, codings)


def test_selections_point_at_the_passages_in_utf8_sources(exported, corpus):
    """Independent of the importer: slice each source file at the selection's code points."""
    passages = corpus["segments"].set_index("segment_id")["passage"]
    with zipfile.ZipFile(exported) as z:
        root = etree.fromstring(z.read("project.qde"))
        sources = root.findall(f"{P}Sources/{P}TextSource")
        assert len(sources) == 2
        checked = 0
        for source in sources:
            path = source.get("plainTextPath")
            assert path.startswith("internal://") and path.endswith(".txt")
            text = z.read("sources/" + path.removeprefix("internal://")).decode("utf-8")
            for selection in source.findall(f"{P}PlainTextSelection"):
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
                assert text[start:end] == passages[selection.get("name")]
                checked += 1
    assert checked == len(passages)
    # the astral-plane character counts as one position (Unicode code points, standard 10.2)
    assert len("𠀀") == 1


def test_codings_are_codings_with_users_and_memos_are_notes(exported, corpus):
    root = etree.fromstring(qde_of(exported))
    users = {u.get("guid"): u.get("name") for u in root.findall(f"{P}Users/{P}User")}
    assert sorted(users.values()) == sorted(corpus["coders"]["coder"])
    codings = root.findall(f".//{P}PlainTextSelection/{P}Coding")
    assert len(codings) == len(corpus["codings"])
    assert {users[c.get("creatingUser")] for c in codings} == {"A", "编码员乙"}
    notes = {n.get("guid"): n.find(f"{P}PlainTextContent").text for n in root.findall(f"{P}Notes/{P}Note")}
    memos = [notes[ref.get("targetGUID")] for ref in root.iterfind(f".//{P}Coding/{P}NoteRef")]
    assert sorted(memos) == sorted(corpus["codings"]["memo"].dropna())
    none_code = [c for c in root.iter(f"{P}Code") if c.get("name") == "none"]
    assert len(none_code) == 1 and none_code[0].get("isCodable") == "true"


def test_two_exports_are_byte_identical_and_the_timestamp_is_a_parameter(tmp_path, book, corpus):
    args = (book, corpus["segments"], corpus["codings"], corpus["coders"])
    first = refi.export_project(*args, tmp_path / "one.qdpx").read_bytes()
    second = refi.export_project(*args, tmp_path / "two.qdpx").read_bytes()
    assert first == second
    assert b"creationDateTime" not in qde_of(tmp_path / "one.qdpx")
    stamp = datetime(2026, 11, 24, 12, 30, tzinfo=timezone.utc)
    third = refi.export_project(*args, tmp_path / "three.qdpx", created=stamp).read_bytes()
    fourth = refi.export_project(*args, tmp_path / "four.qdpx", created=stamp).read_bytes()
    assert third == fourth and third != first
    assert etree.fromstring(qde_of(tmp_path / "three.qdpx")).get("creationDateTime") == "2026-11-24T12:30:00Z"
    assert refi.export_codebook(book, tmp_path / "a.qdc").read_bytes() == refi.export_codebook(book, tmp_path / "b.qdc").read_bytes()


def test_export_never_overwrites_unless_asked(tmp_path, book, corpus):
    target = tmp_path / "kept.qdpx"
    target.write_bytes(b"precious")
    args = (book, corpus["segments"], corpus["codings"], corpus["coders"], target)
    with pytest.raises(FileExistsError):
        refi.export_project(*args)
    assert target.read_bytes() == b"precious"
    refi.export_project(*args, overwrite=True)
    assert zipfile.is_zipfile(target)


BAD_TABLES = {
    # positions in the frame; the error names the 1-based data row, as in the CSV file
    "unknown code": ("codings", {(2, "code"): "mechanism.unknown"}, "foreign-key", 3, "code"),
    "unknown coder": ("codings", {(3, "coder"): "C"}, "foreign-key", 4, "coder"),
    "same coding twice": ("codings", {(5, "segment_id"): "S-BEI-01"}, "unique-key", 6, "code"),
    "control character": ("codings", {(0, "memo"): "bad \x0b char"}, "xml-character", 1, "memo"),
    "no passage": ("segments", {(1, "passage"): None}, "required", 2, "passage"),
    "line not a number": ("segments", {(0, "line"): "twelve"}, "integer", 1, "line"),
    "extra column": ("coders", {(0, "extra"): "x"}, "columns", None, None),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_tables_are_refused_naming_table_row_field_and_rule(tmp_path, book, case):
    table, cells, rule, row, field = BAD_TABLES[case]
    tables = small_corpus()
    frame = tables[table].astype(object)
    for (at, column), value in cells.items():
        frame.loc[at, column] = value
    tables[table] = frame
    with pytest.raises(RefiExportError) as caught:
        refi.export_project(book, tables["segments"], tables["codings"], tables["coders"], tmp_path / "x.qdpx")
    error = caught.value
    assert (error.table, error.rule, error.row, error.field) == (table, rule, row, field)
    assert not (tmp_path / "x.qdpx").exists()


def test_import_unpacks_into_a_new_folder_and_never_into_a_full_one(tmp_path, exported):
    target = tmp_path / "unpacked"
    project = refi.import_project(exported, target)
    assert project.extracted_to == target
    with zipfile.ZipFile(exported) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        for name in names:
            assert (target / name).read_bytes() == z.read(name)
    assert sorted(listing(target)) == sorted(set(names) | {"sources"})
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        refi.import_project(exported, occupied)
    assert listing(occupied) == {"mine.txt"} and (occupied / "mine.txt").read_text() == "keep me"


# ---------------------------------------------------------------- the ATLAS.ti samples


def independent_counts(archive: Path) -> dict[str, object]:
    with zipfile.ZipFile(archive) as z:
        root = etree.fromstring(z.read("project.qde"))
    codes = list(root.iter(f"{P}Code"))
    return {
        "users": [u.get("name") for u in root.iter(f"{P}User")],
        "codes": len(codes),
        "codable": sum(c.get("isCodable") == "true" for c in codes),
        "top": [c.get("name") for c in root.findall(f"{P}CodeBook/{P}Codes/{P}Code")],
        "text_sources": len(list(root.iter(f"{P}TextSource"))),
        "selections": len(list(root.iter(f"{P}PlainTextSelection"))),
        "codings": len(list(root.iter(f"{P}Coding"))),
    }


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_atlas_ti_samples_import_with_the_counts_they_contain(sample):
    counts = independent_counts(SAMPLES[sample])
    project = refi.import_project(SAMPLES[sample])
    assert project.coders["coder"].tolist() == counts["users"]
    assert len(project.codes) == counts["codes"]
    assert len(project.codebook.codes) == counts["codable"]
    assert [d.label for d in project.codebook.dimensions] == counts["top"]
    assert len(project.sources) == counts["text_sources"]
    assert len(project.segments) == counts["selections"]
    assert len(project.codings) == counts["codings"]
    assert project.discarded.empty
    assert project.coders["description"].str.startswith("REFI-QDA user ").all()


def test_the_target_sample_codebook_maps_onto_dimensions_and_codes():
    counts = independent_counts(SAMPLES["target"])
    assert counts["users"] == ["Enric Llagostera", "ATLAS.ti"] and counts["codes"] == 3 and counts["codable"] == 3
    project = refi.import_project(SAMPLES["target"])
    (dimension,) = project.codebook.dimensions
    assert (dimension.id, dimension.label) == ("commits", "Commits")
    # the codable parent is also a code of its own dimension; its children follow
    assert [c.label for c in dimension.codes] == ["Commits", "2022-05-10T02:05:59Z 19e4dce", "2022-02-11T10:39:25Z cdbfd92"]
    assert {c.pole for c in dimension.codes} == {""}
    tree = project.codes.set_index("label")
    assert tree.loc["2022-02-11T10:39:25Z cdbfd92", "parent"] == "commits.commits"
    assert tree.loc["2022-02-11T10:39:25Z cdbfd92", "guid"] == "086AC733-7B1C-4749-A138-D7182F63A5C9"
    assert project.codebook.meta == {"refi_qda_origin": "ATLAS.ti for Windows 23.2.3.27778"}


FOREIGN_QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Fremdprojekt" origin="another program">
  <Users>
    <User guid="AD68FBE7-E1EE-4A82-A279-23CC698C89EB" name="Friedrich"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="{0f8a1907-7e42-4739-8610-a676b4d1b69f}" name="感受 Feelings" isCodable="false">
      <Description>thoughts about breakfast</Description>
      <Code guid="85D17F60-7BB0-481E-B742-B4861DD669DF" name="happiness" isCodable="true" color="#F00082"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="EC0A7242-65E1-457C-B7D1-310DAE603FAB" name="Mabêl.txt" plainTextPath="internal://B2F54555-0D2D-43B2-B40C-2A1C048F5F1C.txt">
      <PlainTextSelection guid="2F24EA88-C6A7-482B-8F89-893EF66D7A21" name="Quotation 1:1" startPosition="6" endPosition="16">
        <Description>Mabel is not the only one</Description>
        <Coding guid="4B8DD4A4-0C50-42D0-91F4-9E95AFBFC7F0" creatingUser="ad68fbe7-e1ee-4a82-a279-23cc698c89eb">
          <CodeRef targetGUID="85d17f60-7bb0-481e-b742-b4861dd669df"/>
          <NoteRef targetGUID="7D213E1B-2B77-4F87-9130-9FEBC9131447"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
    <PictureSource guid="02255470-09E6-400B-9E20-97D71FBEC65D" name="cornflakes.jpg" path="internal://87EAD86F-3112-4537-8A01-01427CAE1C6D.jpg"/>
  </Sources>
  <Notes>
    <Note guid="7D213E1B-2B77-4F87-9130-9FEBC9131447" name="memo"><PlainTextContent>早餐很重要</PlainTextContent></Note>
  </Notes>
</Project>
"""


def test_a_foreign_project_with_text_codings_and_memos_maps_onto_the_tables(tmp_path):
    archive = tmp_path / "foreign.qdpx"
    text = "Hello\nbreakfast is\nmayhem"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("project.qde", FOREIGN_QDE.encode("utf-8"))
        z.writestr("Sources/B2F54555-0D2D-43B2-B40C-2A1C048F5F1C.txt", text.encode("utf-8"))
        z.writestr("Sources/87EAD86F-3112-4537-8A01-01427CAE1C6D.jpg", b"\xff\xd8 not really a jpeg")
    project = refi.import_project(archive)
    (segment,) = project.segments.to_dict("records")
    assert segment["segment_id"] == "2F24EA88-C6A7-482B-8F89-893EF66D7A21"
    assert segment["passage"] == text[6:16] == "breakfast "
    assert (segment["line"], segment["line_end"]) == (2, 2)
    assert segment["source"] == "Mabêl.txt" and segment["origin"] == "refi-qda import"
    assert segment["note"] == "REFI-QDA selection 'Quotation 1:1': Mabel is not the only one"
    (coding,) = project.codings.to_dict("records")
    assert coding == {"segment_id": segment["segment_id"], "coder": "Friedrich", "code": "感受_feelings.happiness",
                      "memo": "早餐很重要"}
    assert project.codebook.dimensions[0].definition == "thoughts about breakfast"
    assert project.discarded[["element", "name"]].values.tolist() == [["PictureSource", "cornflakes.jpg"]]


# ---------------------------------------------------------------- hostile files


def minimal_qde() -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>'


def zip_with(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for info, data in members:
            z.writestr(info, data)
    return path


def refused(archive: Path, workdir: Path, rule: str, member: str | None, **kwargs) -> RefiImportError:
    """Import into workdir/target; assert the refusal and that nothing at all was written."""
    before = listing(workdir)
    with pytest.raises(RefiImportError) as caught:
        refi.import_project(archive, workdir / "target", **kwargs)
    assert caught.value.rule == rule, str(caught.value)
    assert caught.value.member == member
    assert str(archive) in str(caught.value) and rule in str(caught.value)
    assert listing(workdir) == before, "the import wrote something"
    return caught.value


@pytest.fixture
def workdir(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_member_escaping_with_dotdot_is_refused(tmp_path, workdir):
    archive = zip_with(tmp_path / "slip.qdpx", [("project.qde", minimal_qde()), ("../evil.txt", b"owned")])
    refused(archive, workdir, "path-escape", "../evil.txt")
    assert not (workdir / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    nested = zip_with(tmp_path / "slip2.qdpx", [("project.qde", minimal_qde()), ("sources/../../evil.txt", b"owned")])
    refused(nested, workdir, "path-escape", "sources/../../evil.txt")


def test_absolute_and_backslash_members_are_refused(tmp_path, workdir):
    outside = tmp_path / "outside.txt"
    # zipfile strips a leading '/' when writing a str name; a ZipInfo keeps it
    archive = zip_with(tmp_path / "abs.qdpx", [("project.qde", minimal_qde()), (zipfile.ZipInfo(str(outside)), b"owned")])
    with zipfile.ZipFile(archive) as z:
        assert z.namelist()[1] == str(outside)
    refused(archive, workdir, "path-absolute", str(outside))
    assert not outside.exists()
    drive = zip_with(tmp_path / "drive.qdpx", [("project.qde", minimal_qde()), (zipfile.ZipInfo("C:/evil.txt"), b"x")])
    refused(drive, workdir, "path-absolute", "C:/evil.txt")
    back = zip_with(tmp_path / "back.qdpx", [("project.qde", minimal_qde()), (zipfile.ZipInfo("..\\evil.txt"), b"x")])
    refused(back, workdir, "path-backslash", "..\\evil.txt")


def test_symlink_members_are_refused(tmp_path, workdir):
    link = zipfile.ZipInfo("sources/link.txt")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = zip_with(tmp_path / "link.qdpx", [("project.qde", minimal_qde()), (link, b"/etc/passwd")])
    refused(archive, workdir, "symlink", "sources/link.txt")


def test_zip_bomb_by_compression_ratio_is_refused_from_the_headers(tmp_path, workdir):
    archive = zip_with(tmp_path / "bomb.qdpx", [("project.qde", minimal_qde()), ("sources/zeros.txt", bytes(8 * 2**20))])
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("sources/zeros.txt")
        assert info.file_size / info.compress_size > 200  # what the default limit refuses
    error = refused(archive, workdir, "compression-ratio", "sources/zeros.txt")
    assert "declares 8388608 bytes" in error.detail


def test_member_and_total_size_limits(tmp_path, workdir):
    import random

    noise = random.Random(7).randbytes
    big = zip_with(tmp_path / "big.qdpx", [("project.qde", minimal_qde()), ("sources/big.txt", noise(2 * 2**20))])
    refused(big, workdir, "member-size", "sources/big.txt", limits=ArchiveLimits(max_member_bytes=2**20))
    many = zip_with(tmp_path / "many.qdpx", [("project.qde", minimal_qde())]
                    + [(f"sources/{i}.txt", noise(600 * 1024)) for i in range(3)])
    refused(many, workdir, "total-size", "sources/1.txt", limits=ArchiveLimits(max_total_bytes=2**20))
    crowd = zip_with(tmp_path / "crowd.qdpx", [("project.qde", minimal_qde())] + [(f"sources/{i}.txt", b"x") for i in range(20)])
    refused(crowd, workdir, "member-count", None, limits=ArchiveLimits(max_members=10))


def _patch(data: bytearray, signature: bytes, name: bytes, offsets_and_values: list[tuple[int, int]]) -> None:
    """Overwrite 4-byte fields of the local or central header whose name is ``name``."""
    name_at = 30 if signature == b"PK\x03\x04" else 46
    start = 0
    while (at := data.find(signature, start)) >= 0:
        length = struct.unpack("<H", data[at + (26 if name_at == 30 else 28):at + (28 if name_at == 30 else 30)])[0]
        if bytes(data[at + name_at:at + name_at + length]) == name:
            for offset, value in offsets_and_values:
                data[at + offset:at + offset + 4] = struct.pack("<I", value)
            return
        start = at + 4
    raise AssertionError(f"header of {name!r} not found")


def test_a_header_that_understates_the_size_is_caught_while_streaming(tmp_path, workdir):
    archive = zip_with(tmp_path / "liar.qdpx", [("sources/zeros.txt", bytes(4 * 2**20)), ("project.qde", minimal_qde())])
    data = bytearray(archive.read_bytes())
    # claim 1000 bytes in both the local and the central header: the header checks pass...
    _patch(data, b"PK\x03\x04", b"sources/zeros.txt", [(22, 1000)])
    _patch(data, b"PK\x01\x02", b"sources/zeros.txt", [(24, 1000)])
    archive.write_bytes(bytes(data))
    with zipfile.ZipFile(archive) as z:
        assert z.getinfo("sources/zeros.txt").file_size == 1000
    # ...and the data that actually comes out does not match what the header promised
    refused(archive, workdir, "corrupt-member", "sources/zeros.txt")


def test_the_streaming_guard_stops_at_its_cap_whatever_the_header_says(tmp_path):
    archive = zip_with(tmp_path / "plain.qdpx", [("sources/zeros.txt", bytes(3 * 2**20))])
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("sources/zeros.txt")
        with pytest.raises(RefiImportError) as caught:
            refi._stream_member(z, info, 2**20, ArchiveLimits(max_ratio=10**6), archive)
        assert caught.value.rule == "streamed-size"
        with pytest.raises(RefiImportError) as caught:
            refi._stream_member(z, info, 10 * 2**20, ArchiveLimits(ratio_floor_bytes=2**16, max_ratio=50), archive)
        assert caught.value.rule == "compression-ratio" and "while decompressing" in caught.value.detail
        assert len(refi._stream_member(z, info, 3 * 2**20, ArchiveLimits(max_ratio=10**6), archive)) == 3 * 2**20


def test_overlapping_members_are_refused(tmp_path, workdir):
    archive = zip_with(tmp_path / "overlap.qdpx", [("sources/a.txt", b"A" * 5000), ("sources/b.txt", b"B" * 5000),
                                                    ("project.qde", minimal_qde())])
    data = bytearray(archive.read_bytes())
    _patch(data, b"PK\x01\x02", b"sources/b.txt", [(42, 0)])  # b's directory entry points at a's data
    archive.write_bytes(bytes(data))
    refused(archive, workdir, "overlapping-members", "sources/a.txt")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>
"""


def test_entity_expansion_is_refused(tmp_path, workdir):
    archive = zip_with(tmp_path / "laughs.qdpx", [("project.qde", BILLION_LAUGHS)])
    error = refused(archive, workdir, "xml-dtd", "project.qde")
    assert "DTD" in error.detail
    qdc = tmp_path / "laughs.qdc"
    qdc.write_bytes(BILLION_LAUGHS.replace(b"Project", b"CodeBook").replace(b"project", b"codebook"))
    with pytest.raises(RefiImportError) as caught:
        refi.import_codebook(qdc)
    assert caught.value.rule == "xml-dtd" and caught.value.file == str(qdc) and caught.value.member is None


def test_external_entities_are_refused_and_nothing_is_read(tmp_path, workdir):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (f'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
           '<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>').encode()
    archive = zip_with(tmp_path / "xxe.qdpx", [("project.qde", xxe)])
    error = refused(archive, workdir, "xml-dtd", "project.qde")
    assert "TOP-SECRET-VALUE" not in str(error)


def test_yaml_aliases_in_a_description_are_refused(tmp_path, workdir, exported):
    root = etree.fromstring(qde_of(exported))
    description = root.find(f".//{P}PlainTextSelection/{P}Description")
    description.text = "hotlines: segment\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nsegment_id: *b\n"
    with zipfile.ZipFile(exported) as z:
        members = [(name, z.read(name)) for name in z.namelist() if name != "project.qde"]
    archive = zip_with(tmp_path / "alias.qdpx",
                       [("project.qde", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))] + members)
    error = refused(archive, workdir, "description-yaml", "project.qde")
    assert "aliases" in error.detail


def test_not_a_zip_and_selection_out_of_range(tmp_path, workdir):
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"this is not a zip archive")
    refused(junk, workdir, "not-a-zip", None)
    qde = FOREIGN_QDE.replace('endPosition="16"', 'endPosition="999"').encode("utf-8")
    archive = zip_with(tmp_path / "range.qdpx", [("project.qde", qde),
                                                  ("sources/B2F54555-0D2D-43B2-B40C-2A1C048F5F1C.txt", b"short text")])
    error = refused(archive, workdir, "selection-range", "project.qde")
    assert "6-999" in error.detail


# ---------------------------------------------------------------- the command line


def write_corpus(folder: Path, book: Codebook, corpus: dict[str, pd.DataFrame]) -> None:
    folder.mkdir()
    book.dump(folder / "codebook.yaml")
    for name, frame in corpus.items():
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")


def test_cli_exports_and_imports_and_refuses_hostile_archives(tmp_path, book, corpus):
    data = tmp_path / "data"
    write_corpus(data, book, corpus)
    qdpx, qdc = tmp_path / "out.qdpx", tmp_path / "out.qdc"
    result = runner.invoke(refi.app, ["export", str(qdpx), "--codebook", str(data / "codebook.yaml"), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "4 segments, 6 codings, 2 coders, 3 codes" in result.output
    result = runner.invoke(refi.app, ["export", str(qdc), "--codebook", str(data / "codebook.yaml")])
    assert result.exit_code == 0, result.output

    imported = tmp_path / "imported"
    result = runner.invoke(refi.app, ["import", str(qdpx), str(imported)])
    assert result.exit_code == 0, result.output
    assert Codebook.load(imported / "codebook.yaml") == book
    tables = refi.read_corpus(imported)
    for name, columns, key in (("segments", refi.SEGMENT_COLUMNS, ["segment_id"]), ("coders", refi.CODER_COLUMNS, ["coder"]),
                               ("codings", refi.CODING_COLUMNS, ["segment_id", "coder", "code"])):
        back = typed(tables[name], columns).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(back, corpus[name].sort_values(key).reset_index(drop=True))
    assert (imported / "archive" / "project.qde").read_bytes() == qde_of(qdpx)

    result = runner.invoke(refi.app, ["import", str(qdc), str(tmp_path / "book")])
    assert result.exit_code == 0 and Codebook.load(tmp_path / "book" / "codebook.yaml") == book

    hostile = zip_with(tmp_path / "slip.qdpx", [("project.qde", minimal_qde()), ("../evil.txt", b"owned")])
    before = listing(tmp_path)
    result = runner.invoke(refi.app, ["import", str(hostile), str(tmp_path / "nope")])
    assert result.exit_code == 1 and "path-escape" in result.output
    assert listing(tmp_path) == before

    result = runner.invoke(refi.app, ["export", str(qdpx), "--codebook", str(data / "codebook.yaml"), "--data", str(data)])
    assert result.exit_code == 1 and "exists" in result.output


def test_the_docstring_examples_run():
    import doctest

    result = doctest.testmod(refi, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 29 and result.failed == 0
