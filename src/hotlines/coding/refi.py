"""REFI-QDA exchange: the codebook as ``.qdc``, the coded corpus as ``.qdpx``, and back.

REFI-QDA (the Rotterdam Exchange Format Initiative standard 1.5, 2019) is how NVivo,
ATLAS.ti, MAXQDA, QualCoder and others exchange codebooks and projects. This module
writes and reads both kinds of file:

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> from hotlines.coding import refi
>>> from hotlines.coding.codebook import Codebook
>>> book = Codebook.load()
>>> segments = pd.DataFrame({"segment_id": ["S-1"], "cities": ["beijing"], "source": ["000_8b5fa105864a0e27.txt"],
...     "line": [198], "line_end": [198], "interview_ids": [None], "speaker_role": [None],
...     "passage": ["接诉即办"], "origin": ["added"], "note": [None]})
>>> codings = pd.DataFrame({"segment_id": ["S-1"], "coder": ["A"], "code": ["none"], "memo": ["无相关编码"]})
>>> coders = pd.DataFrame({"coder": ["A"], "kind": ["human"], "description": ["a reader"], "procedure": [None],
...     "date": [None]})
>>> with tempfile.TemporaryDirectory() as folder:
...     qdc = refi.export_codebook(book, Path(folder) / "codebook.qdc")
...     same_codebook = refi.import_codebook(qdc) == book
...     qdpx = refi.export_project(book, segments, codings, coders, Path(folder) / "corpus.qdpx")
...     project = refi.import_project(qdpx, target_dir=Path(folder) / "unpacked")
>>> same_codebook, project.codebook == book
(True, True)
>>> project.codings.values.tolist()
[['S-1', 'A', 'none', '无相关编码']]
>>> project.segments.loc[0, "passage"]
'接诉即办'

Every exported ``project.qde`` is validated against the QDA-XML Project schema and every
``.qdc`` against the Codebook schema (both in ``data/refi-qda/``) before it is written;
an export that does not validate is an error, never a file.

How the coded corpus maps onto REFI-QDA
---------------------------------------
* **Codebook.** Each dimension becomes a top-level code with ``isCodable="false"`` (a
  code folder, standard section 11) and the dimension's colour; each code becomes a
  codable child with its label as ``name`` and the dimension's colour. Code GUIDs are
  ``uuid5(GUID_NAMESPACE, "code:<id>")`` (``"dimension:<id>"`` for dimensions), so two
  exports of the same codebook are identical and a code keeps its GUID across exports.
* **Our ids and fields travel in ``Description``.** REFI-QDA has no place for a code id,
  a pole or inclusion criteria, so a code's ``Description`` holds a small YAML document
  that starts with ``hotlines: code`` and lists ``id``, ``dimension``, ``pole``, the
  definitions, criteria, anchors and related codes (``hotlines: dimension`` for a
  dimension). It reads as text in a QDA program and comes back exactly here. The
  codebook's title, version and rules ride in the ``Description`` of one code set (a
  ``Set`` of all codes, ``hotlines: codebook``), because a codebook file has no other
  place for them.
* **Sources.** The seed documents are not in the repository, so the exchange carries
  what the corpus holds of them: one plain-text source per seed file (``name`` = the
  file name) that contains the passages of that file's segments, each after a one-line
  header ``[segment_id] file, line n``, separated by blank lines. Sources are UTF-8
  ``.txt`` files in the archive's ``sources/`` folder, named by GUID (sections 8.1, 8.3,
  9.1.2).
* **Segments** are ``PlainTextSelection`` elements covering exactly their passage.
  Positions count Unicode code points from 0 (section 10.2) and ``endPosition`` is
  exclusive, as ATLAS.ti writes it (the standard's Annex A.2 selection 139-195 names a
  56-character quotation). The selection's ``name`` is the segment id; its
  ``Description`` holds the segment's other columns as YAML (``hotlines: segment``).
* **Codings** are ``Coding`` elements inside the selection, with ``CodeRef`` to the code
  and ``creatingUser`` = the coder's user GUID. A memo becomes a ``Note`` (a text
  source in the project's ``Notes``) referenced by the coding's ``NoteRef``: ``Coding``
  has no ``Description`` in the schema. The code ``none`` (a coder judged that no code
  of the codebook applies) becomes a reserved top-level code named ``none``.
* **Coders** are ``User`` elements (``name`` and ``id`` = the coder key); their kind,
  description, procedure and date ride in one project-level ``Note`` per coder
  (``hotlines: coder``).

Round trip: ``import_project(export_project(...))`` gives back the same codebook,
and segments, codings and coders with the same rows, columns and dtypes. Row order is
not part of REFI-QDA: rows come back in document order (sources in order of first
appearance, segments in the order of their source text, codings segment by segment in
table order), which equals the input order when the tables are already in that order.

Files from other programs
-------------------------
Whatever a foreign project holds becomes the same tables. Top-level codes become
dimensions (id: the name in lower case with runs of non-word characters replaced by
``_``); every codable code below them becomes a code of that dimension (id
``<dimension>.<name slug>``; deeper levels are flattened, the full tree is kept in
``Project.codes``); a codable top-level code is also a code of its own dimension. Codes
without our YAML get an empty pole and their ``Description`` as brief definition. A
text selection becomes a segment whose id is the selection's GUID, whose passage is the
selected text, whose ``line``/``line_end`` are the lines of the source text it starts
and ends on, and whose ``origin`` is ``refi-qda import``; a coding of a whole text
source becomes a segment covering the source. Users become coders (``description``
records their GUID). What has no place in these tables (pictures, PDFs, audio, video,
cases, variables, links, graphs, unattached notes, other sets) is listed in
``Project.discarded`` with the reason, as the standard's section 7 asks, never dropped
silently.

Safety
------
Imports treat the file as hostile until proven otherwise. Before anything is read:
the central directory size, the number of members, every member's name (no absolute
path, drive letter, backslash, NUL or ``..``), type (no symlinks or other special
files, no encryption), declared size, the declared total, the declared compression
ratio and the members' layout in the file (no overlapping members) are checked against
:class:`ArchiveLimits`. While a member is decompressed the same limits are enforced on
the bytes actually produced, since headers can lie. XML is parsed with ``defusedxml``
with DTDs forbidden, so entity expansion ("billion laughs") and external entities are
refused, and YAML in descriptions is read with aliases refused. Every refusal raises
:class:`RefiImportError` naming the file, the member and the rule. With ``target_dir``
the archive's files are written only after everything validated, into a new sibling
folder that is renamed to ``target_dir`` at the end (removed on any error), so nothing is
written outside ``target_dir`` and nothing partial is left.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import math
import os
import re
import shutil
import stat
import struct
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

import defusedxml
import defusedxml.ElementTree as SafeET
import pandas as pd
import typer
import xmlschema
import yaml
from lxml import etree

from .. import paths
from .codebook import Anchor, Code, Codebook, Dimension

__all__ = [
    "ArchiveLimits", "Project", "RefiExportError", "RefiImportError",
    "export_codebook", "import_codebook", "export_project", "import_project",
    "schema_errors", "guid_for", "read_corpus",
    "SEGMENT_COLUMNS", "CODING_COLUMNS", "CODER_COLUMNS", "SOURCE_COLUMNS", "CODE_COLUMNS",
    "DISCARDED_COLUMNS", "GUID_NAMESPACE", "NONE_CODE", "app",
]

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PROJECT_SCHEMA_URL = "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
CODEBOOK_SCHEMA_URL = "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
SCHEMA_DIR = paths.REPO_ROOT / "data" / "refi-qda"
SCHEMA_FILES = {"project": "Project-mrt2019.xsd", "codebook": "Codebook.xsd"}

#: Namespace of every GUID this module derives: uuid5(NAMESPACE_DNS, "refi-qda.hotlines").
#: Fixed, so that a code, user or segment keeps its GUID from one export to the next.
GUID_NAMESPACE = uuid.UUID("5fe6b7a2-0323-5566-8ffa-9037d272ce91")

#: The code a coder records when no code of the codebook applies (data/README.md).
NONE_CODE = "none"

IMPORTED_ORIGIN = "refi-qda import"

#: column -> (pandas dtype, meaning); the coded-corpus tables of data/README.md.
SEGMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "segment_id": ("string", "key"),
    "cities": ("string", "city ids the passage names, ';'-separated"),
    "source": ("string", "seed file name"),
    "line": ("Int64", "first line of the passage in the seed file"),
    "line_end": ("Int64", "last line of the passage in the seed file"),
    "interview_ids": ("string", "informants the passage is attributed to, ';'-separated"),
    "speaker_role": ("string", "for anonymous quotes: the speaker's role"),
    "passage": ("string", "the verbatim passage"),
    "origin": ("string", "research, added, or refi-qda import"),
    "note": ("string", "curation remarks"),
}
CODING_COLUMNS: dict[str, tuple[str, str]] = {
    "segment_id": ("string", "a row of segments"),
    "coder": ("string", "a row of coders"),
    "code": ("string", "a code id of the codebook, or 'none'"),
    "memo": ("string", "the coder's note on why"),
}
CODER_COLUMNS: dict[str, tuple[str, str]] = {
    "coder": ("string", "key"),
    "kind": ("string", "human, llm-agent or rule"),
    "description": ("string", "who or what"),
    "procedure": ("string", "how the pass was made"),
    "date": ("string", "when the pass was made"),
}
SOURCE_COLUMNS: dict[str, tuple[str, str]] = {
    "source": ("string", "the source's name (for our exports: the seed file name)"),
    "guid": ("string", "the source's REFI-QDA GUID"),
    "kind": ("string", "TextSource"),
    "path": ("string", "plainTextPath in the archive, or missing for inline text"),
    "characters": ("Int64", "length of the plain text in Unicode code points"),
    "description": ("string", "the source's Description"),
}
CODE_COLUMNS: dict[str, tuple[str, str]] = {
    "code": ("string", "our id of the code (a dimension id for a top-level code)"),
    "label": ("string", "the code's name"),
    "parent": ("string", "our id of the parent code; missing at the top level"),
    "dimension": ("string", "the dimension the code was placed in"),
    "depth": ("Int64", "0 for top-level codes"),
    "is_codable": ("boolean", "isCodable"),
    "color": ("string", "colour as written in the file"),
    "guid": ("string", "the code's REFI-QDA GUID"),
}
DISCARDED_COLUMNS: dict[str, tuple[str, str]] = {
    "element": ("string", "the REFI-QDA element not carried into the tables"),
    "guid": ("string", "its GUID, where it has one"),
    "name": ("string", "its name, where it has one"),
    "reason": ("string", "why it has no place in the tables"),
}


# ---------------------------------------------------------------------------- errors


class RefiExportError(ValueError):
    """A table or codebook cannot be exported; names the table, row, field and rule.

    ``row`` is the 1-based data row of the table (as in its CSV file, header not
    counted), or the dimension or code id for a codebook problem.
    """

    def __init__(self, table: str, rule: str, message: str, row: int | str | None = None, field: str | None = None):
        self.table, self.rule, self.row, self.field = table, rule, row, field
        where = table + ("" if row is None else f" row {row}") + ("" if field is None else f" field {field!r}")
        super().__init__(f"{where}: {rule}: {message}")


class RefiImportError(ValueError):
    """A file refused on import; names the file, the archive member and the rule broken.

    ``rule`` is a short stable name (``path-escape``, ``symlink``, ``member-size``,
    ``compression-ratio``, ``xml-dtd``, ``schema``, ...) that callers and tests can test.
    """

    def __init__(self, file: str | os.PathLike, member: str | None, rule: str, detail: str):
        self.file, self.member, self.rule, self.detail = str(file), member, rule, detail
        where = str(file) + ("" if member is None else f", member {member!r}")
        super().__init__(f"{where}: {rule}: {detail}")


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits an imported archive must respect, checked on its headers and while streaming.

    The defaults leave room for large text projects (the standard allows internal files
    up to 2 GiB; a plain-text corpus is far smaller) while refusing zip bombs. The ratio
    limit applies to members larger than ``ratio_floor_bytes``: a small member that
    compresses well cannot exhaust anything.
    """

    max_members: int = 10_000
    max_member_bytes: int = 128 * 2**20
    max_total_bytes: int = 512 * 2**20
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 2**20
    max_central_directory_bytes: int = 8 * 2**20


DEFAULT_LIMITS = ArchiveLimits()


@dataclass
class Project:
    """An imported REFI-QDA project as tidy tables.

    ``codebook``: a :class:`~hotlines.coding.codebook.Codebook`; ``segments``,
    ``codings``, ``coders``: the coded-corpus tables (columns :data:`SEGMENT_COLUMNS`,
    :data:`CODING_COLUMNS`, :data:`CODER_COLUMNS`); ``sources``: the text sources;
    ``codes``: the code tree as the file has it (any depth); ``discarded``: every element
    that has no place in these tables, with the reason; ``extracted_to``: the folder the
    archive was unpacked into, when ``target_dir`` was given.
    """

    codebook: Codebook
    segments: pd.DataFrame
    codings: pd.DataFrame
    coders: pd.DataFrame
    sources: pd.DataFrame
    codes: pd.DataFrame
    discarded: pd.DataFrame
    name: str = ""
    extracted_to: Path | None = None


# ---------------------------------------------------------------------------- small helpers


def guid_for(kind: str, key: str) -> str:
    """The deterministic GUID of a code, dimension, user, segment, ... of our exports.

    >>> guid_for("code", "leadership.top_leader_attention") == str(
    ...     uuid.uuid5(GUID_NAMESPACE, "code:leadership.top_leader_attention"))
    True
    """
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def _norm_guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").upper()


def _origin() -> str:
    try:
        return f"hotlines {importlib.metadata.version('hotlines')}"
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "hotlines"


class _Dumper(yaml.SafeDumper):
    """Never write anchors or aliases: the reader refuses them."""

    def ignore_aliases(self, data):
        return True


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, so a hostile description cannot expand."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted", event.start_mark)
        return super().compose_node(parent, index)


def _yaml(mapping: dict) -> str:
    return yaml.dump(mapping, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=88, default_flow_style=False)


def _missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value):
    """A cell as a plain Python value for YAML: None, int or str."""
    if _missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RGB = re.compile(r"#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})")


def _check_xml_text(value: str, table: str, row, field_name: str) -> None:
    if not _missing(value) and _XML_ILLEGAL.search(value):
        bad = _XML_ILLEGAL.search(value).group()
        raise RefiExportError(table, "xml-character", f"contains {bad!r}, which XML 1.0 cannot carry", row, field_name)


def _slug(name: str) -> str:
    return re.sub(r"\W+", "_", name.casefold()).strip("_") or "code"


def _unique(candidate: str, used: set[str]) -> str:
    value, n = candidate, 2
    while value in used:
        value, n = f"{candidate}_{n}", n + 1
    used.add(value)
    return value


def _frame(rows: list[dict], columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({name: dtype for name, (dtype, _) in columns.items()})


# ---------------------------------------------------------------------------- schemas


@functools.lru_cache(maxsize=2)
def _schema(kind: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / SCHEMA_FILES[kind]))


def schema_errors(xml: bytes | ET.Element, kind: str = "project") -> list[str]:
    """Problems of a ``project.qde`` (``kind="project"``) or ``.qdc`` (``"codebook"``) document.

    Returns one line per problem (path in the document and reason); an empty list means
    valid. The document is parsed with defusedxml first, so a DTD is itself an error.

    >>> schema_errors(b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>', "codebook")
    ["/CodeBook: The content of element 'CodeBook' is not complete. Tag 'Codes' expected."]
    """
    root = _parse_xml(xml, "<document>", None) if isinstance(xml, (bytes, str)) else xml
    return [f"{_unqualified(error.path or '/')}: {_unqualified(error.reason or '')}" for error in _schema(kind).iter_errors(root)]


def _unqualified(text: str) -> str:
    """Element names without their namespace, for readable messages."""
    return re.sub(r"(?<=/)\w+:", "", re.sub(r"\{[^{}\s]*:[^{}\s]*\}", "", text))


# ---------------------------------------------------------------------------- XML parsing


def _parse_xml(data: bytes | str, file, member: str | None) -> ET.Element:
    """Parse untrusted XML: no DTD, hence no entity expansion and no external entities."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise RefiImportError(file, member, "xml-dtd", f"a DTD (document type declaration) is not accepted: {exc}") from exc
    except defusedxml.EntitiesForbidden as exc:
        raise RefiImportError(file, member, "xml-entity", f"entity declarations are not accepted: {exc}") from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise RefiImportError(file, member, "xml-external-reference", f"external references are not accepted: {exc}") from exc
    except ET.ParseError as exc:
        raise RefiImportError(file, member, "xml-malformed", f"not well-formed XML: {exc}") from exc


_MARKER = re.compile(r"hotlines: (code|dimension|none|codebook|segment|coder)\n")


def _marked(text: str | None, file, member, where: str) -> tuple[str, dict] | None:
    """Our YAML block in a Description or note, as (kind, fields); None for foreign text.

    Our blocks start with the line ``hotlines: <kind>``; any other text is someone's
    prose and is taken as it stands.
    """
    if not text or not _MARKER.match(text):
        return None
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        raise RefiImportError(file, member, "description-yaml", f"{where}: the hotlines block does not parse: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("hotlines"), str):
        raise RefiImportError(file, member, "description-yaml", f"{where}: the hotlines block is not a mapping with a 'hotlines' kind")
    return data["hotlines"], data


class _Fields:
    """Typed access to the fields of one of our YAML blocks, with errors naming the element."""

    def __init__(self, data: dict, file, member, where: str):
        self.data, self.file, self.member, self.where = data, file, member, where

    def _fail(self, key, expected):
        raise RefiImportError(self.file, self.member, "description-field",
                              f"{self.where}: field {key!r} must be {expected}, not {self.data.get(key)!r}")

    def text(self, key, default: str | None = "") -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self._fail(key, "text")
        return value

    def integer(self, key) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(key, "an integer")
        return value

    def texts(self, key) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._fail(key, "a list of texts")
        return tuple(value)

    def mapping(self, key) -> dict:
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            self._fail(key, "a mapping")
        return value

    def anchors(self, key) -> tuple[Anchor, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            self._fail(key, "a list of anchors")
        anchors = []
        for item in value:
            if not (isinstance(item, dict) and isinstance(item.get("quote"), str) and isinstance(item.get("source"), str)
                    and _is_int(item.get("line")) and (item.get("line_end") is None or _is_int(item.get("line_end")))):
                self._fail(key, "a list of {quote, source, line, line_end (optional)}")
            anchors.append(Anchor(item["quote"], item["source"], item["line"], item.get("line_end")))
        return tuple(anchors)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------- codebook <-> dict / YAML


def _dimension_fields(dim: Dimension, with_label: bool = False) -> dict:
    fields = {"id": dim.id}
    if with_label:
        fields["label"] = dim.label
    fields["definition"] = dim.definition
    if with_label and dim.color:
        fields["color"] = dim.color
    fields["vertical_pole"] = dim.vertical_pole
    fields["horizontal_pole"] = dim.horizontal_pole
    return fields


def _code_fields(code: Code, with_label: bool = False) -> dict:
    fields = {"id": code.id}
    if with_label:
        fields["label"] = code.label
    fields.update({
        "dimension": code.dimension,
        "pole": code.pole,
        "brief_definition": code.brief_definition,
        "full_definition": code.full_definition,
        "inclusion_criteria": list(code.inclusion_criteria),
        "exclusion_criteria": list(code.exclusion_criteria),
        "anchors": [{"quote": a.quote, "source": a.source, "line": a.line,
                     **({"line_end": a.line_end} if a.line_end is not None else {})} for a in code.anchors],
        "related_codes": list(code.related_codes),
        "decision_rule": code.decision_rule,
    })
    return fields


def _check_codebook(codebook: Codebook) -> None:
    if not codebook.dimensions:
        raise RefiExportError("codebook", "not-empty", "has no dimension; REFI-QDA needs at least one code")
    seen_dims, seen_codes = set(), set()
    for dim in codebook.dimensions:
        if dim.id in seen_dims:
            raise RefiExportError("codebook", "unique-id", f"dimension id {dim.id!r} occurs twice", dim.id, "id")
        seen_dims.add(dim.id)
        if dim.color and not _RGB.fullmatch(dim.color):
            raise RefiExportError("codebook", "rgb-colour", f"colour {dim.color!r} is not '#RRGGBB' or '#RGB'", dim.id, "color")
        _check_xml_text(dim.label, "codebook", dim.id, "label")
        for code in dim.codes:
            if code.id == NONE_CODE:
                raise RefiExportError("codebook", "reserved-id", f"{NONE_CODE!r} is reserved for 'no code applies'", code.id, "id")
            if code.id in seen_codes:
                raise RefiExportError("codebook", "unique-id", f"code id {code.id!r} occurs twice", code.id, "id")
            seen_codes.add(code.id)
            _check_xml_text(code.label, "codebook", code.id, "label")
            for number, anchor in enumerate(code.anchors, start=1):
                if not _is_int(anchor.line) or not (anchor.line_end is None or _is_int(anchor.line_end)):
                    raise RefiExportError("codebook", "anchor-line", f"anchor {number}: line {anchor.line!r} and line_end "
                                          f"{anchor.line_end!r} must be integers (line_end may be absent)", code.id, "anchors")


# ---------------------------------------------------------------------------- XML building


class _Builder:
    def __init__(self, namespace: str):
        self.ns = namespace

    def root(self, tag: str, attrs: dict, schema_url: str):
        element = etree.Element(f"{{{self.ns}}}{tag}", nsmap={None: self.ns, "xsi": XSI_NS})
        element.set(f"{{{XSI_NS}}}schemaLocation", f"{self.ns} {schema_url}")
        self._attrs(element, attrs)
        return element

    def sub(self, parent, tag: str, attrs: dict | None = None, text: str | None = None):
        element = etree.SubElement(parent, f"{{{self.ns}}}{tag}")
        self._attrs(element, attrs or {})
        if text is not None:
            element.text = text
        return element

    @staticmethod
    def _attrs(element, attrs: dict) -> None:
        for key, value in attrs.items():
            if value is not None:
                element.set(key, value)


def _codes_xml(b: _Builder, parent, codebook: Codebook, with_none: bool) -> None:
    codes = b.sub(parent, "Codes")
    for dim in codebook.dimensions:
        color = dim.color or None
        dim_el = b.sub(codes, "Code", {"guid": guid_for("dimension", dim.id), "name": dim.label, "isCodable": "false", "color": color})
        b.sub(dim_el, "Description", text=_yaml({"hotlines": "dimension", **_dimension_fields(dim)}))
        for code in dim.codes:
            code_el = b.sub(dim_el, "Code", {"guid": guid_for("code", code.id), "name": code.label, "isCodable": "true", "color": color})
            b.sub(code_el, "Description", text=_yaml({"hotlines": "code", **_code_fields(code)}))
    if with_none:
        none_el = b.sub(codes, "Code", {"guid": guid_for("code", NONE_CODE), "name": NONE_CODE, "isCodable": "true"})
        b.sub(none_el, "Description", text=_yaml({
            "hotlines": "none",
            "meaning": "the coder judged that no code of the codebook applies to the segment",
        }))


def _codebook_set_description(codebook: Codebook) -> str:
    return _yaml({"hotlines": "codebook", "title": codebook.title, "version": codebook.version, "meta": codebook.meta})


def _codebook_set_name(codebook: Codebook) -> str:
    return f"codebook: {codebook.title}" + (f" (version {codebook.version})" if codebook.version else "")


def _serialize(root) -> bytes:
    # the declaration as the standard's examples write it (double quotes), then UTF-8 XML
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _codebook_xml(codebook: Codebook) -> bytes:
    _check_codebook(codebook)
    b = _Builder(CODEBOOK_NS)
    root = b.root("CodeBook", {"origin": _origin()}, CODEBOOK_SCHEMA_URL)
    _codes_xml(b, root, codebook, with_none=False)
    codes = list(codebook.codes)
    sets = b.sub(root, "Sets")
    book_set = b.sub(sets, "Set", {"guid": guid_for("set", "codebook"), "name": _codebook_set_name(codebook)})
    b.sub(book_set, "Description", text=_codebook_set_description(codebook))
    for code_id in codes:
        b.sub(book_set, "MemberCode", {"guid": guid_for("code", code_id)})
    return _serialize(root)


# ---------------------------------------------------------------------------- writing files


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True (--overwrite) to replace it")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False)
    try:
        with handle:
            handle.write(data)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _validated(xml: bytes, kind: str, what: str) -> bytes:
    problems = schema_errors(xml, kind)
    if problems:
        raise RefiExportError(what, "schema", f"the {kind} XML does not validate against {SCHEMA_FILES[kind]}: "
                              + "; ".join(problems[:5]))
    return xml


def export_codebook(codebook: Codebook, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the codebook as a REFI-QDA codebook file (``.qdc``), validated against the schema.

    Dimensions become non-codable parent codes, codes their codable children; ids and
    the fields REFI-QDA lacks travel in each code's ``Description`` (see the module
    notes), so :func:`import_codebook` gives back an equal codebook. An existing file is
    replaced only with ``overwrite=True``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_codebook(Codebook.load(), Path(folder) / "codebook.qdc")
    ...     print(path.name, schema_errors(path.read_bytes(), "codebook"))
    codebook.qdc []
    """
    target = Path(path)
    _refuse_existing(target, overwrite)
    xml = _validated(_codebook_xml(codebook), "codebook", "codebook")
    _atomic_write(target, xml)
    return target


# ---------------------------------------------------------------------------- tables in


def _typed(frame: pd.DataFrame, columns: dict[str, tuple[str, str]], table: str, required: Iterable[str]) -> pd.DataFrame:
    """The table with exactly its documented columns, typed; errors name row, field and rule."""
    if not isinstance(frame, pd.DataFrame):
        raise RefiExportError(table, "dataframe", f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RefiExportError(table, "columns", f"missing column(s) {missing}; expected {list(columns)}")
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        raise RefiExportError(table, "columns", f"column(s) {extra} have no place in the exchange and would be lost; "
                              f"expected exactly {list(columns)}")
    out = {}
    for name, (dtype, _) in columns.items():
        values = []
        for row, value in enumerate(frame[name].tolist(), start=1):
            if _missing(value):
                values.append(None)
            elif dtype == "Int64":
                values.append(_as_int(value, table, row, name))
            elif isinstance(value, datetime):  # a date column typed by a loader: back to its ISO text
                midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
                values.append(value.date().isoformat() if midnight and value.tzinfo is None else value.isoformat())
            else:
                values.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
        out[name] = pd.array(values, dtype=dtype)
    typed = pd.DataFrame(out)
    for name in required:
        blank = typed[name].isna() | (typed[name].astype("string").str.len() == 0)
        if blank.any():
            row = int(blank.to_numpy().nonzero()[0][0]) + 1
            raise RefiExportError(table, "required", "must not be empty", row, name)
    return typed


def _as_int(value, table: str, row: int, name: str) -> int:
    try:
        number = float(value)
        if number.is_integer():
            return int(number)
    except (TypeError, ValueError):
        pass
    raise RefiExportError(table, "integer", f"{value!r} is not an integer", row, name)


def _corpus_tables(codebook, segments, codings, coders):
    segments = _typed(segments, SEGMENT_COLUMNS, "segments", ("segment_id", "source", "passage"))
    codings = _typed(codings, CODING_COLUMNS, "codings", ("segment_id", "coder", "code"))
    coders = _typed(coders, CODER_COLUMNS, "coders", ("coder",))
    for table, frame, key in (("segments", segments, ["segment_id"]), ("coders", coders, ["coder"]),
                              ("codings", codings, ["segment_id", "coder", "code"])):
        dup = frame.duplicated(key)
        if dup.any():
            position = int(dup.to_numpy().nonzero()[0][0])
            values = ", ".join(f"{k}={frame.at[position, k]!r}" for k in key)
            raise RefiExportError(table, "unique-key", f"{values} occurs more than once", position + 1, key[-1])
    known_segments, known_coders = set(segments["segment_id"]), set(coders["coder"])
    known_codes = set(codebook.codes) | {NONE_CODE}
    for row, coding in enumerate(codings.to_dict("records"), start=1):
        if coding["segment_id"] not in known_segments:
            raise RefiExportError("codings", "foreign-key", f"segment {coding['segment_id']!r} is not a row of segments", row, "segment_id")
        if coding["coder"] not in known_coders:
            raise RefiExportError("codings", "foreign-key", f"coder {coding['coder']!r} is not a row of coders", row, "coder")
        if coding["code"] not in known_codes:
            raise RefiExportError("codings", "foreign-key", f"code {coding['code']!r} is not in the codebook", row, "code")
        _check_xml_text(coding["memo"], "codings", row, "memo")
    for row, segment in enumerate(segments.to_dict("records"), start=1):
        _check_xml_text(segment["segment_id"], "segments", row, "segment_id")
        _check_xml_text(segment["source"], "segments", row, "source")
    for row, coder in enumerate(coders.to_dict("records"), start=1):
        _check_xml_text(coder["coder"], "coders", row, "coder")
    return segments, codings, coders


def _segment_header(segment) -> str:
    line, line_end = _plain(segment["line"]), _plain(segment["line_end"])
    where = ""
    if line is not None:
        where = f", line {line}" if line_end in (None, line) else f", lines {line}-{line_end}"
    return f"[{segment['segment_id']}] {segment['source']}{where}\n"


def _project_xml(codebook, segments, codings, coders, name: str, created: datetime | None):
    """The project.qde document and the source files it refers to."""
    _check_codebook(codebook)
    b = _Builder(PROJECT_NS)
    attrs = {"name": name, "origin": _origin()}
    if created is not None:
        stamp = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        attrs["creationDateTime"] = stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = b.root("Project", attrs, PROJECT_SCHEMA_URL)
    user_guid = {c: guid_for("user", c) for c in coders["coder"]}

    if len(coders):
        users = b.sub(root, "Users")
        for coder in coders["coder"]:
            b.sub(users, "User", {"guid": user_guid[coder], "name": coder, "id": coder})

    book = b.sub(root, "CodeBook")
    _codes_xml(b, book, codebook, with_none=bool((codings["code"] == NONE_CODE).any()))

    code_guid = {cid: guid_for("code", cid) for cid in codebook.codes} | {NONE_CODE: guid_for("code", NONE_CODE)}
    files: dict[str, bytes] = {}
    notes: list[tuple[str, str, str, str]] = []  # guid, name, creating user, text
    by_segment = {sid: group for sid, group in codings.groupby("segment_id", sort=False)}

    if len(segments):
        sources_el = b.sub(root, "Sources")
        for source, group in segments.groupby("source", sort=False):
            text, selections = "", []
            for _, segment in group.iterrows():
                text += _segment_header(segment)
                start = len(text)
                text += segment["passage"]
                selections.append((segment, start, len(text)))
                text += "\n\n"
            file_name = f"{guid_for('source-file', source)}.txt"
            files[f"sources/{file_name}"] = text.encode("utf-8")
            src = b.sub(sources_el, "TextSource", {
                "guid": guid_for("source", source), "name": source, "plainTextPath": f"internal://{file_name}",
            })
            b.sub(src, "Description", text=(
                f"Passages of {source} quoted by the segments of the hotlines coded corpus, each after a "
                "[segment id] header line; the full document is not part of this exchange."))
            for segment, start, end in selections:
                sid = segment["segment_id"]
                sel = b.sub(src, "PlainTextSelection", {
                    "guid": guid_for("segment", sid), "name": sid, "startPosition": str(start), "endPosition": str(end),
                })
                meta = {"hotlines": "segment", **{c: _plain(segment[c]) for c in SEGMENT_COLUMNS if c != "passage"}}
                b.sub(sel, "Description", text=_yaml(meta))
                for _, coding in by_segment.get(sid, pd.DataFrame()).iterrows():
                    key = f"{sid}\x1f{coding['coder']}\x1f{coding['code']}"
                    cod = b.sub(sel, "Coding", {"guid": guid_for("coding", key), "creatingUser": user_guid[coding["coder"]]})
                    b.sub(cod, "CodeRef", {"targetGUID": code_guid[coding["code"]]})
                    if not _missing(coding["memo"]):
                        note_guid = guid_for("memo", key)
                        notes.append((note_guid, f"memo: {sid} / {coding['coder']} / {coding['code']}",
                                      user_guid[coding["coder"]], coding["memo"]))
                        b.sub(cod, "NoteRef", {"targetGUID": note_guid})

    coder_notes = []
    for _, coder in coders.iterrows():
        fields = {"hotlines": "coder", **{c: _plain(coder[c]) for c in CODER_COLUMNS}}
        coder_notes.append((guid_for("coder-note", coder["coder"]), f"coder: {coder['coder']}", user_guid[coder["coder"]], _yaml(fields)))
    all_notes = coder_notes + notes
    if all_notes:
        notes_el = b.sub(root, "Notes")
        for note_guid, note_name, user, text in all_notes:
            note = b.sub(notes_el, "Note", {"guid": note_guid, "name": note_name, "creatingUser": user})
            b.sub(note, "PlainTextContent", text=text)

    sets = b.sub(root, "Sets")
    book_set = b.sub(sets, "Set", {"guid": guid_for("set", "codebook"), "name": _codebook_set_name(codebook)})
    b.sub(book_set, "Description", text=_codebook_set_description(codebook))
    for code_id in codebook.codes:
        b.sub(book_set, "MemberCode", {"targetGUID": code_guid[code_id]})

    for note_guid, *_ in coder_notes:
        b.sub(root, "NoteRef", {"targetGUID": note_guid})
    return _serialize(root), files


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            # fixed time stamp and mode: the same project gives the same bytes
            info = zipfile.ZipInfo(member, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def export_project(
    codebook: Codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    coders: pd.DataFrame,
    path: str | os.PathLike,
    *,
    name: str | None = None,
    created: datetime | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the coded corpus as a REFI-QDA project (``.qdpx``), validated against the schema.

    ``segments``, ``codings`` and ``coders`` are the tables of ``data/README.md`` (columns
    :data:`SEGMENT_COLUMNS`, :data:`CODING_COLUMNS`, :data:`CODER_COLUMNS`, exactly).
    Every coding must name a segment, a coder and a code of the codebook (or ``none``);
    a (segment, coder, code) triple may occur once. ``created`` sets the project's
    ``creationDateTime``; without it the file carries no time stamp, so two exports of
    the same tables are byte-identical. ``name`` defaults to the codebook's title.

    >>> import tempfile
    >>> segments = pd.DataFrame({"segment_id": ["S-1"], "cities": [None], "source": ["000_8b5fa105864a0e27.txt"],
    ...     "line": [None], "line_end": [None], "interview_ids": [None], "speaker_role": [None],
    ...     "passage": ["吹哨报到"], "origin": ["added"], "note": [None]})
    >>> codings = pd.DataFrame({"segment_id": ["S-1"], "coder": ["A"], "code": ["none"], "memo": [None]})
    >>> coders = pd.DataFrame({"coder": ["A"], "kind": [None], "description": [None], "procedure": [None], "date": [None]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_project(Codebook.load(), segments, codings, coders, Path(folder) / "corpus.qdpx")
    ...     print(zipfile.ZipFile(path).namelist()[0])
    project.qde
    """
    target = Path(path)
    _refuse_existing(target, overwrite)
    segments, codings, coders = _corpus_tables(codebook, segments, codings, coders)
    xml, files = _project_xml(codebook, segments, codings, coders, name or codebook.title or "hotlines", created)
    _validated(xml, "project", "project")
    _atomic_write(target, _zip_bytes({"project.qde": xml, **files}))
    return target


# ---------------------------------------------------------------------------- safe archive reading


def _central_directory_size(path: Path) -> int | None:
    """Size of the zip central directory as the end record states it, read before zipfile
    loads the directory into memory; None when the end record is not found (zipfile will
    then refuse the file itself)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        tail_len = min(size, 22 + 65535)
        handle.seek(size - tail_len)
        tail = handle.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        cd_size = struct.unpack("<I", tail[at + 12:at + 16])[0]
        if cd_size != 0xFFFFFFFF:
            return cd_size
        # ZIP64: the locator just before the end record gives the offset of the ZIP64 end record
        locator = tail[at - 20:at] if at >= 20 else b""
        if len(locator) != 20 or not locator.startswith(b"PK\x06\x07"):
            return None
        offset = struct.unpack("<Q", locator[8:16])[0]
        handle.seek(offset)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            return None
        return struct.unpack("<Q", record[40:48])[0]


def _check_member_name(name: str, file) -> None:
    if "\x00" in name:
        raise RefiImportError(file, name, "path-nul", "the member name contains a NUL character")
    if "\\" in name:
        raise RefiImportError(file, name, "path-backslash", "the member name contains a backslash; zip paths use '/'")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise RefiImportError(file, name, "path-absolute", "absolute paths are not accepted")
    if ".." in name.split("/"):
        raise RefiImportError(file, name, "path-escape", "'..' would lead outside the target folder")
    if not name.strip("/"):
        raise RefiImportError(file, name, "path-empty", "empty member name")


def _stream_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, limits: ArchiveLimits, file) -> bytes:
    """Decompress one member, counting what actually comes out: never more than ``cap``
    bytes, never more than ``limits.max_ratio`` times the compressed size (above
    ``ratio_floor_bytes``), and exactly the size the header declares."""
    chunks, produced = [], 0
    compressed = max(info.compress_size, 1)
    try:
        with zf.open(info) as handle:
            while True:
                chunk = handle.read(1 << 16)
                if not chunk:
                    break
                produced += len(chunk)
                if produced > cap:
                    raise RefiImportError(file, info.filename, "streamed-size",
                                          f"decompressed to more than {cap} bytes (the header declares {info.file_size})")
                if produced > limits.ratio_floor_bytes and produced / compressed > limits.max_ratio:
                    raise RefiImportError(file, info.filename, "compression-ratio",
                                          f"expanded more than {limits.max_ratio:g} times its compressed size while decompressing")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise RefiImportError(file, info.filename, "corrupt-member", f"cannot be decompressed as its header describes: {exc}") from exc
    if produced != info.file_size:
        raise RefiImportError(file, info.filename, "size-mismatch",
                              f"decompressed to {produced} bytes, the header declares {info.file_size}")
    return b"".join(chunks)


class _SafeArchive:
    """A zip archive whose headers have been checked against the limits before any read."""

    def __init__(self, path: Path, limits: ArchiveLimits):
        self.path, self.limits = path, limits
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        cd_size = _central_directory_size(path)
        if cd_size is not None and cd_size > limits.max_central_directory_bytes:
            raise RefiImportError(path, None, "central-directory-size",
                                  f"the zip directory declares {cd_size} bytes, more than {limits.max_central_directory_bytes}")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, struct.error) as exc:
            raise RefiImportError(path, None, "not-a-zip", f"not a readable zip archive: {exc}") from exc
        try:
            self._check_headers()
        except BaseException:
            self.zip.close()
            raise
        self.streamed = 0
        self.cache: dict[str, bytes] = {}

    def _check_headers(self) -> None:
        limits, path = self.limits, self.path
        infos = self.zip.infolist()
        if len(infos) > limits.max_members:
            raise RefiImportError(path, None, "member-count", f"{len(infos)} members, more than {limits.max_members}")
        seen, total = set(), 0
        for info in infos:
            name = info.filename
            _check_member_name(name, path)
            if name in seen:
                raise RefiImportError(path, name, "duplicate-member", "the name occurs twice in the archive")
            seen.add(name)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise RefiImportError(path, name, "symlink", "symbolic links are not accepted")
            if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and stat.S_IFMT(mode):
                raise RefiImportError(path, name, "special-file", f"file type {oct(stat.S_IFMT(mode))} is not accepted")
            if info.flag_bits & 0x1:
                raise RefiImportError(path, name, "encrypted", "encrypted members are not accepted")
            if info.file_size > limits.max_member_bytes:
                raise RefiImportError(path, name, "member-size",
                                      f"declares {info.file_size} bytes, more than the limit of {limits.max_member_bytes}")
            if info.file_size > limits.ratio_floor_bytes and info.file_size / max(info.compress_size, 1) > limits.max_ratio:
                raise RefiImportError(path, name, "compression-ratio",
                                      f"declares {info.file_size} bytes from {info.compress_size} compressed "
                                      f"(ratio {info.file_size / max(info.compress_size, 1):.0f}, limit {limits.max_ratio:g})")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise RefiImportError(path, name, "total-size",
                                      f"the members declare more than {limits.max_total_bytes} bytes in total")
        # Members must not share bytes: overlapping entries are how non-recursive zip bombs
        # multiply one compressed block; a claimed compressed size larger than the space
        # the member occupies would also let the streamed ratio look smaller than it is.
        end_of_data = getattr(self.zip, "start_dir", None) or path.stat().st_size
        ordered = sorted(infos, key=lambda i: i.header_offset)
        for info, following in zip(ordered, ordered[1:] + [None]):
            raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", errors="replace")
            end = info.header_offset + 30 + len(raw_name) + info.compress_size
            limit = following.header_offset if following is not None else end_of_data
            if end > limit:
                raise RefiImportError(path, info.filename, "overlapping-members",
                                      "its data overlaps the next member or the zip directory")

    def names(self) -> list[str]:
        return [info.filename for info in self.zip.infolist()]

    def find(self, name: str) -> str | None:
        """The member called ``name``, matched without regard to case (the standard's own
        examples write both 'sources' and 'Sources'); refuses an ambiguous match."""
        if name in self.zip.NameToInfo:
            return name
        matches = [n for n in self.names() if n.casefold() == name.casefold()]
        if len(matches) > 1:
            raise RefiImportError(self.path, name, "ambiguous-member", f"several members match without regard to case: {matches}")
        return matches[0] if matches else None

    def read(self, name: str) -> bytes:
        if name not in self.cache:
            info = self.zip.getinfo(name)
            remaining = self.limits.max_total_bytes - self.streamed
            cap = min(info.file_size, self.limits.max_member_bytes, remaining)
            data = _stream_member(self.zip, info, cap, self.limits, self.path)
            self.streamed += len(data)
            self.cache[name] = data
        return self.cache[name]

    def regular_files(self) -> list[str]:
        return [info.filename for info in self.zip.infolist() if not info.is_dir()]

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _extract(files: dict[str, bytes], target_dir: Path, archive_path: Path) -> Path:
    """Write the archive's files into ``target_dir``, all or nothing."""
    target = Path(target_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target}: exists and is not an empty folder; imports unpack only into a new or empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        root = staging.resolve()
        for name, data in files.items():
            destination = staging.joinpath(*[part for part in name.split("/") if part])
            # the names were checked already; this is the last line of defence
            if not destination.resolve().is_relative_to(root):
                raise RefiImportError(archive_path, name, "path-escape", "would be written outside the target folder")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(destination, "xb") as handle:
                handle.write(data)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


# ---------------------------------------------------------------------------- reading the XML


def _read_limited_file(path: Path, limits: ArchiveLimits) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    if size > limits.max_member_bytes:
        raise RefiImportError(path, None, "file-size", f"{size} bytes, more than the limit of {limits.max_member_bytes}")
    return path.read_bytes()


class _CodeReader:
    """Codes of a CodeBook (project or codebook namespace) into a Codebook and a code tree."""

    def __init__(self, ns: str, file, member: str | None):
        self.ns, self.file, self.member = ns, file, member
        self.guid_to_code: dict[str, str] = {}
        self.tree: list[dict] = []
        self.dimensions: list[Dimension] = []
        self.discarded: list[dict] = []
        self._dim_ids: set[str] = set()
        self._code_ids: set[str] = set()

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}"

    def _description(self, element) -> str | None:
        node = element.find(self.q("Description"))
        return node.text if node is not None else None

    def _claim_code_id(self, code_id: str, where: str) -> str:
        if code_id in self._code_ids:
            raise RefiImportError(self.file, self.member, "duplicate-code-id", f"{where}: code id {code_id!r} occurs twice")
        self._code_ids.add(code_id)
        return code_id

    def _register(self, element, code_id: str, parent: str | None, dimension: str | None, depth: int) -> None:
        guid = _norm_guid(element.get("guid"))
        if guid in self.guid_to_code:
            raise RefiImportError(self.file, self.member, "duplicate-guid", f"code GUID {guid} occurs twice")
        self.guid_to_code[guid] = code_id
        self.tree.append({
            "code": code_id, "label": element.get("name", ""), "parent": parent, "dimension": dimension, "depth": depth,
            "is_codable": element.get("isCodable", "false").strip() in ("true", "1"), "color": element.get("color"),
            "guid": guid,
        })

    def read(self, codes_element) -> None:
        if codes_element is None:
            return
        for top in codes_element.findall(self.q("Code")):
            self._top(top)

    def _top(self, element) -> None:
        name, guid = element.get("name", ""), _norm_guid(element.get("guid"))
        where = f"code {name!r} ({guid})"
        marked = _marked(self._description(element), self.file, self.member, where)
        kind = marked[0] if marked else None
        if kind == "none":
            self._register(element, NONE_CODE, None, None, 0)
            for child in element.findall(self.q("Code")):
                self.discarded.append({"element": "Code", "guid": _norm_guid(child.get("guid")), "name": child.get("name"),
                                       "reason": f"a child of the reserved code {NONE_CODE!r}"})
            return
        codable = element.get("isCodable", "false").strip() in ("true", "1")
        if kind == "dimension":
            f = _Fields(marked[1], self.file, self.member, where)
            dim_id = f.text("id")
            if not dim_id or dim_id in self._dim_ids:
                raise RefiImportError(self.file, self.member, "duplicate-dimension-id",
                                      f"{where}: dimension id {dim_id!r} is empty or occurs twice")
            self._dim_ids.add(dim_id)
            dim_fields = dict(id=dim_id, label=name, definition=f.text("definition"), color=element.get("color", ""),
                              vertical_pole=f.text("vertical_pole"), horizontal_pole=f.text("horizontal_pole"))
        else:
            dim_id = _unique(_slug(name), self._dim_ids)
            dim_fields = dict(id=dim_id, label=name, definition=self._description(element) or "",
                              color=element.get("color", ""), vertical_pole="", horizontal_pole="")
        codes: list[Code] = []
        if codable and kind != "dimension":
            code = self._code(element, marked, dim_id, where)
            codes.append(code)
            self._register(element, code.id, None, dim_id, 0)
        else:
            self._register(element, dim_id, None, dim_id, 0)
        parent_id = codes[0].id if codes else dim_id
        for child in element.findall(self.q("Code")):
            self._descend(child, parent_id, dim_id, 1, codes)
        self.dimensions.append(Dimension(codes=tuple(codes), **dim_fields))

    def _code(self, element, marked, dim_id: str, where: str) -> Code:
        name = element.get("name", "")
        if marked and marked[0] == "code":
            f = _Fields(marked[1], self.file, self.member, where)
            code_id = f.text("id")
            if not code_id:
                raise RefiImportError(self.file, self.member, "description-field", f"{where}: empty code id")
            return Code(
                id=self._claim_code_id(code_id, where), label=name, dimension=f.text("dimension") or dim_id,
                pole=f.text("pole"), brief_definition=f.text("brief_definition"), full_definition=f.text("full_definition"),
                inclusion_criteria=f.texts("inclusion_criteria"), exclusion_criteria=f.texts("exclusion_criteria"),
                anchors=f.anchors("anchors"), related_codes=f.texts("related_codes"), decision_rule=f.text("decision_rule"),
            )
        code_id = _unique(f"{dim_id}.{_slug(name)}", self._code_ids)
        return Code(id=code_id, label=name, dimension=dim_id, pole="", brief_definition=self._description(element) or "")

    def _descend(self, element, parent_id: str, dim_id: str, depth: int, codes: list[Code]) -> None:
        name, guid = element.get("name", ""), _norm_guid(element.get("guid"))
        where = f"code {name!r} ({guid})"
        marked = _marked(self._description(element), self.file, self.member, where)
        codable = element.get("isCodable", "false").strip() in ("true", "1")
        if codable:
            code = self._code(element, marked, dim_id, where)
            codes.append(code)
            code_id = code.id
        else:  # a folder below the top level: part of the tree, not a code one can apply
            code_id = _unique(f"{dim_id}.{_slug(name)}", self._code_ids)
        self._register(element, code_id, parent_id, dim_id, depth)
        for child in element.findall(self.q("Code")):
            self._descend(child, code_id, dim_id, depth + 1, codes)


def _codebook_from_set(set_elements, ns: str, file, member) -> tuple[dict | None, list]:
    """Our codebook set's title/version/meta, and the sets that are not ours."""
    ours, others = None, []
    for element in set_elements:
        node = element.find(f"{{{ns}}}Description")
        marked = _marked(node.text if node is not None else None, file, member, f"set {element.get('name')!r}")
        if marked and marked[0] == "codebook" and ours is None:
            f = _Fields(marked[1], file, member, f"set {element.get('name')!r}")
            ours = {"title": f.text("title"), "version": str(marked[1].get("version") or ""), "meta": f.mapping("meta")}
        else:
            others.append(element)
    return ours, others


def import_codebook(path: str | os.PathLike, *, validate: bool = True, limits: ArchiveLimits = DEFAULT_LIMITS) -> Codebook:
    """Read a REFI-QDA codebook file (``.qdc``) into a :class:`Codebook`.

    A file written by :func:`export_codebook` comes back equal (ids, labels, hierarchy,
    definitions, criteria, anchors, colours, title, version, rules). A codebook from
    another program maps as the module notes say. The XML is parsed with DTDs forbidden
    and validated against ``Codebook.xsd`` (``validate=False`` skips the schema only).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     book = import_codebook(export_codebook(Codebook.load(), Path(folder) / "codebook.qdc"))
    >>> book.codes["leadership.top_leader_attention"].pole
    'vertical'
    """
    file = Path(path)
    root = _parse_xml(_read_limited_file(file, limits), file, None)
    if root.tag != f"{{{CODEBOOK_NS}}}CodeBook":
        raise RefiImportError(file, None, "root-element", f"the root element is {root.tag}, not CodeBook of {CODEBOOK_NS}")
    if validate:
        problems = schema_errors(root, "codebook")
        if problems:
            raise RefiImportError(file, None, "schema", "does not validate against Codebook.xsd: " + "; ".join(problems[:5]))
    reader = _CodeReader(CODEBOOK_NS, file, None)
    reader.read(root.find(f"{{{CODEBOOK_NS}}}Codes"))
    sets = root.find(f"{{{CODEBOOK_NS}}}Sets")
    ours, _ = _codebook_from_set(sets.findall(f"{{{CODEBOOK_NS}}}Set") if sets is not None else [], CODEBOOK_NS, file, None)
    return _assemble_codebook(reader, ours, default_title=file.stem, origin=root.get("origin"))


def _assemble_codebook(reader: _CodeReader, ours: dict | None, default_title: str, origin: str | None) -> Codebook:
    if ours is not None:
        return Codebook(title=ours["title"], version=ours["version"], dimensions=reader.dimensions, meta=ours["meta"])
    meta = {"refi_qda_origin": origin} if origin else {}
    return Codebook(title=default_title, version="", dimensions=reader.dimensions, meta=meta)


class _ProjectReader:
    def __init__(self, root, archive: _SafeArchive, file: Path, qde: str):
        self.root, self.archive, self.file, self.qde = root, archive, file, qde
        self.discarded: list[dict] = []

    def q(self, tag: str) -> str:
        return f"{{{PROJECT_NS}}}{tag}"

    def fail(self, rule: str, detail: str):
        raise RefiImportError(self.file, self.qde, rule, detail)

    def discard(self, element, reason: str) -> None:
        tag = element.tag.split("}")[-1]
        self.discarded.append({"element": tag, "guid": _norm_guid(element.get("guid")) or None,
                               "name": element.get("name"), "reason": reason})

    def internal_text(self, path_value: str, where: str) -> tuple[str, str]:
        """The text of an ``internal://`` file of the archive, and its member name."""
        if not path_value.startswith("internal://"):
            self.fail("source-path", f"{where}: {path_value!r} is not an internal:// path")
        file_name = path_value[len("internal://"):]
        if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
            self.fail("source-path", f"{where}: {path_value!r} is not a flat file name in the sources folder")
        member = self.archive.find(f"sources/{file_name}")
        if member is None:
            self.fail("source-missing", f"{where}: {path_value!r} has no file in the archive's sources folder")
        data = self.archive.read(member)
        try:
            # a byte-order mark is not part of the text the positions count
            return data.decode("utf-8-sig"), member
        except UnicodeDecodeError as exc:
            raise RefiImportError(self.file, member, "utf-8", f"{where}: plain text must be UTF-8 (standard 9.1.2): {exc}") from exc

    def read(self) -> Project:
        q = self.q
        root = self.root

        # notes first: memos and coder profiles refer to them
        notes: dict[str, dict] = {}
        notes_el = root.find(q("Notes"))
        for note in (notes_el.findall(q("Note")) if notes_el is not None else []):
            guid = _norm_guid(note.get("guid"))
            content = note.find(q("PlainTextContent"))
            if content is not None:
                text = content.text or ""
            elif note.get("plainTextPath"):
                text = self.internal_text(note.get("plainTextPath"), f"note {guid}")[0]
            else:
                text = ""
            notes[guid] = {"element": note, "text": text, "used": False}

        coders, user_to_coder = self._users(notes)

        reader = _CodeReader(PROJECT_NS, self.file, self.qde)
        book = root.find(q("CodeBook"))
        reader.read(book.find(q("Codes")) if book is not None else None)
        self.discarded.extend(reader.discarded)

        sets_el = root.find(q("Sets"))
        ours, other_sets = _codebook_from_set(sets_el.findall(q("Set")) if sets_el is not None else [], PROJECT_NS, self.file, self.qde)
        for element in other_sets:
            self.discard(element, "sets other than the codebook set have no place in the tables")
        codebook = _assemble_codebook(reader, ours, default_title=root.get("name", self.file.stem), origin=root.get("origin"))

        segments, codings, sources = [], [], []
        sources_el = root.find(q("Sources"))
        for source in (list(sources_el) if sources_el is not None else []):
            if source.tag != q("TextSource"):
                self.discard(source, "only plain-text sources become segments")
                continue
            self._text_source(source, reader, notes, coders, user_to_coder, segments, codings, sources)

        ids = [s["segment_id"] for s in segments]
        if len(ids) != len(set(ids)):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            self.fail("duplicate-segment-id", f"segment id {duplicate!r} occurs twice")

        for guid, note in notes.items():
            if not note["used"]:
                self.discard(note["element"], "a note not attached to a coding")
        for tag, reason in (("Variables", "variables"), ("Cases", "cases"), ("Links", "links"), ("Graphs", "graphs")):
            element = root.find(q(tag))
            for child in (list(element) if element is not None else []):
                self.discard(child, f"{reason} have no place in the tables")
        if root.find(q("Description")) is not None:
            self.discarded.append({"element": "Description", "guid": None, "name": root.get("name"),
                                   "reason": "the project description has no place in the tables"})

        return Project(
            codebook=codebook,
            segments=_frame(segments, SEGMENT_COLUMNS),
            codings=_frame(codings, CODING_COLUMNS),
            coders=_frame(list(coders.values()), CODER_COLUMNS),
            sources=_frame(sources, SOURCE_COLUMNS),
            codes=_frame(reader.tree, CODE_COLUMNS),
            discarded=_frame(self.discarded, DISCARDED_COLUMNS),
            name=root.get("name", ""),
        )

    def _users(self, notes: dict) -> tuple[dict[str, dict], dict[str, str]]:
        profiles = {}
        project_notes = [_norm_guid(ref.get("targetGUID")) for ref in self.root.findall(self.q("NoteRef"))]
        for guid in project_notes:
            note = notes.get(guid)
            if note is None:
                self.fail("dangling-note-ref", f"the project refers to note {guid}, which does not exist")
            content = note["text"]
            marked = _marked(content, self.file, self.qde, f"note {guid}")
            if marked and marked[0] == "coder":
                f = _Fields(marked[1], self.file, self.qde, f"note {guid}")
                coder = f.text("coder")
                profiles[coder] = {c: f.text(c, None) for c in CODER_COLUMNS}
                note["used"] = True
        coders: dict[str, dict] = {}
        user_to_coder: dict[str, str] = {}
        users_el = self.root.find(self.q("Users"))
        for user in (users_el.findall(self.q("User")) if users_el is not None else []):
            guid = _norm_guid(user.get("guid"))
            name = user.get("name") or user.get("id") or guid
            if name in coders:
                name = f"{name} ({guid})"
            user_to_coder[guid] = name
            if name in profiles:
                coders[name] = profiles[name]
            else:
                described = f"REFI-QDA user {guid}" + (f", id {user.get('id')}" if user.get("id") else "")
                coders[name] = {"coder": name, "kind": None, "description": described, "procedure": None, "date": None}
        for name, profile in profiles.items():
            if name not in coders:  # a profile whose user was removed in another program: still a coder
                coders[name] = profile
        return coders, user_to_coder

    def _coder_of(self, guid_value: str | None, coders: dict, user_to_coder: dict) -> str | None:
        if not guid_value:
            return None
        guid = _norm_guid(guid_value)
        if guid not in user_to_coder:
            # a coding by a user the Users list does not name: keep it, and say so
            user_to_coder[guid] = guid
            coders[guid] = {"coder": guid, "kind": None, "procedure": None, "date": None,
                            "description": f"REFI-QDA user {guid}, referenced by codings but not listed among the users"}
        return user_to_coder[guid]

    def _codings(self, parent, reader, notes, coders, user_to_coder, segment_id: str, where: str) -> list[dict]:
        rows = []
        for coding in parent.findall(self.q("Coding")):
            ref = coding.find(self.q("CodeRef"))
            target = _norm_guid(ref.get("targetGUID") if ref is not None else None)
            if target not in reader.guid_to_code:
                self.fail("dangling-code-ref", f"{where}: coding {coding.get('guid')} refers to code {target}, which is not in the codebook")
            memos = []
            for note_ref in coding.findall(self.q("NoteRef")):
                note = notes.get(_norm_guid(note_ref.get("targetGUID")))
                if note is None:
                    self.fail("dangling-note-ref", f"{where}: coding {coding.get('guid')} refers to a note that does not exist")
                note["used"] = True
                memos.append(note["text"])
            rows.append({
                "segment_id": segment_id,
                "coder": self._coder_of(coding.get("creatingUser"), coders, user_to_coder),
                "code": reader.guid_to_code[target],
                "memo": "\n\n".join(memos) if memos else None,
            })
        return rows

    def _text_source(self, source, reader, notes, coders, user_to_coder, segments, codings, sources) -> None:
        q = self.q
        guid = _norm_guid(source.get("guid"))
        name = source.get("name") or guid
        where = f"TextSource {name!r} ({guid})"
        content = source.find(q("PlainTextContent"))
        path_value = source.get("plainTextPath")
        if content is not None:
            text = content.text or ""
        elif path_value:
            text = self.internal_text(path_value, where)[0]
        else:
            self.fail("source-text", f"{where}: has neither PlainTextContent nor plainTextPath")
        described = source.find(q("Description"))
        sources.append({"source": name, "guid": guid, "kind": "TextSource", "path": path_value, "characters": len(text),
                        "description": described.text if described is not None else None})

        for selection in source.findall(q("PlainTextSelection")):
            sel_guid = _norm_guid(selection.get("guid"))
            sel_where = f"{where}, PlainTextSelection {selection.get('name')!r} ({sel_guid})"
            try:
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            except (TypeError, ValueError):
                self.fail("selection-range", f"{sel_where}: positions are not integers")
            if not 0 <= start <= end <= len(text):
                self.fail("selection-range", f"{sel_where}: {start}-{end} lies outside the text of {len(text)} characters")
            description = selection.find(q("Description"))
            desc_text = description.text if description is not None else None
            marked = _marked(desc_text, self.file, self.qde, sel_where)
            if marked and marked[0] == "segment":
                f = _Fields(marked[1], self.file, self.qde, sel_where)
                row = {c: (f.integer(c) if SEGMENT_COLUMNS[c][0] == "Int64" else f.text(c, None))
                       for c in SEGMENT_COLUMNS if c != "passage"}
                if not row["segment_id"]:
                    self.fail("description-field", f"{sel_where}: empty segment_id")
                row["source"] = row["source"] or name
                row["passage"] = text[start:end]
            else:
                note = f"REFI-QDA selection {selection.get('name')!r}" if selection.get("name") else None
                if desc_text:
                    note = f"{note}: {desc_text}" if note else desc_text
                row = {
                    "segment_id": sel_guid, "cities": None, "source": name,
                    "line": text.count("\n", 0, start) + 1, "line_end": text.count("\n", 0, max(start, end - 1)) + 1,
                    "interview_ids": None, "speaker_role": None, "passage": text[start:end],
                    "origin": IMPORTED_ORIGIN, "note": note,
                }
            segments.append(row)
            codings.extend(self._codings(selection, reader, notes, coders, user_to_coder, row["segment_id"], sel_where))
            for note_ref in selection.findall(q("NoteRef")):
                self.discarded.append({"element": "NoteRef", "guid": _norm_guid(note_ref.get("targetGUID")),
                                       "name": selection.get("name"), "reason": "notes on selections have no place in the tables"})

        whole = self._codings(source, reader, notes, coders, user_to_coder, guid, where)
        if whole:  # codings of the whole source: one segment covering it
            segments.append({
                "segment_id": guid, "cities": None, "source": name, "line": 1, "line_end": text.count("\n") + 1,
                "interview_ids": None, "speaker_role": None, "passage": text, "origin": IMPORTED_ORIGIN,
                "note": "the whole source, coded as a whole",
            })
            codings.extend(whole)
        for child in source:
            if child.tag in (q("VariableValue"), q("NoteRef")):
                self.discard(child, f"{child.tag.split('}')[-1]} of a source has no place in the tables")


def import_project(
    path: str | os.PathLike,
    target_dir: str | os.PathLike | None = None,
    *,
    validate: bool = True,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> Project:
    """Read a REFI-QDA project (``.qdpx``) into tables, safely.

    The archive's headers are checked against ``limits`` before anything is read, each
    member is decompressed under the same limits, ``project.qde`` is parsed with DTDs
    forbidden and validated against the Project schema (``validate=False`` skips the
    schema only), and every reference is resolved; any refusal raises
    :class:`RefiImportError`. With ``target_dir`` (a new or empty folder) the archive's
    files are then unpacked there, all or nothing; without it nothing is written.

    >>> project = import_project(SCHEMA_DIR / "target-atlas-project.qdpx")
    >>> project.coders["coder"].tolist(), [c.label for c in project.codebook.dimensions]
    (['Enric Llagostera', 'ATLAS.ti'], ['Commits'])
    """
    file = Path(path)
    if target_dir is not None:
        target = Path(target_dir)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise FileExistsError(f"{target}: exists and is not an empty folder; imports unpack only into a new or empty folder")
    with _SafeArchive(file, limits) as archive:
        qde = archive.find("project.qde")
        if qde is None:
            raise RefiImportError(file, None, "no-project", "the archive holds no project.qde")
        root = _parse_xml(archive.read(qde), file, qde)
        if root.tag != f"{{{PROJECT_NS}}}Project":
            raise RefiImportError(file, qde, "root-element", f"the root element is {root.tag}, not Project of {PROJECT_NS}")
        if validate:
            problems = schema_errors(root, "project")
            if problems:
                raise RefiImportError(file, qde, "schema", "does not validate against Project-mrt2019.xsd: " + "; ".join(problems[:5]))
        project = _ProjectReader(root, archive, file, qde).read()
        if target_dir is not None:
            files = {name: archive.read(name) for name in archive.regular_files()}
    if target_dir is not None:
        project.extracted_to = _extract(files, Path(target_dir), file)
    return project


# ---------------------------------------------------------------------------- corpus files and CLI


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def read_corpus(data_dir: str | os.PathLike | None = None) -> dict[str, pd.DataFrame]:
    """``segments``, ``codings`` and ``coders`` read from the CSV files of a data folder.

    Empty cells are missing. The tables are checked and typed by :func:`export_project`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in ("segments", "codings", "coders"):
    ...         _ = (Path(folder) / f"{name}.csv").write_text("segment_id,memo\\nS-1,\\n", encoding="utf-8")
    ...     tables = read_corpus(folder)
    >>> sorted(tables), bool(tables["codings"]["memo"].isna().all())
    (['coders', 'codings', 'segments'], True)
    """
    folder = Path(data_dir) if data_dir else paths.data_dir()
    return {
        "segments": _read_csv(folder / "segments.csv"),
        "codings": _read_csv(folder / "codings.csv"),
        "coders": _read_csv(folder / "coders.csv"),
    }


app = typer.Typer(help="Exchange the codebook and the coded corpus with QDA programs (REFI-QDA .qdc/.qdpx).",
                  no_args_is_help=True)


@app.command("export")
def export_command(
    output: Path = typer.Argument(..., help="File to write: .qdc for the codebook alone, .qdpx for the whole project."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook YAML (default: data/codebook.yaml)."),
    data_dir: Optional[Path] = typer.Option(None, "--data", help="Folder of segments.csv, codings.csv, coders.csv (default: data/)."),
    name: Optional[str] = typer.Option(None, "--name", help="Project name (default: the codebook's title)."),
    created: Optional[datetime] = typer.Option(None, "--created", help="Creation time stamp to record; none by default, so exports are reproducible."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Write the codebook (.qdc) or the coded corpus (.qdpx), validated against the REFI-QDA schema."""
    errors = typer.echo
    try:
        book = Codebook.load(codebook)
        suffix = output.suffix.lower()
        if suffix == ".qdc":
            export_codebook(book, output, overwrite=overwrite)
            typer.echo(f"wrote {output}: {len(book.dimensions)} dimensions, {len(book.codes)} codes")
        elif suffix == ".qdpx":
            tables = read_corpus(data_dir)
            export_project(book, tables["segments"], tables["codings"], tables["coders"], output,
                           name=name, created=created, overwrite=overwrite)
            typer.echo(f"wrote {output}: {len(tables['segments'])} segments, {len(tables['codings'])} codings, "
                       f"{len(tables['coders'])} coders, {len(book.codes)} codes")
        else:
            errors(f"error: {output}: the file name must end in .qdc or .qdpx", err=True)
            raise typer.Exit(2)
    except (RefiExportError, FileNotFoundError, FileExistsError) as exc:
        errors(f"error: {exc}", err=True)
        raise typer.Exit(1)


def _write_yaml(path: Path, codebook: Codebook, source: Path) -> None:
    text = f"# Imported from {source.name} by `hotlines code import`.\n" + codebook.to_yaml()
    path.write_text(text, encoding="utf-8")


@app.command("import")
def import_command(
    archive: Path = typer.Argument(..., help="A .qdc codebook or a .qdpx project."),
    output_dir: Path = typer.Argument(..., help="New or empty folder to write the tables into."),
    no_validate: bool = typer.Option(False, "--no-validate", help="Do not validate the XML against the schema (the safety checks still apply)."),
) -> None:
    """Read a .qdc or .qdpx into codebook.yaml and CSV tables; hostile files are refused.

    A .qdpx gives codebook.yaml, segments.csv, codings.csv, coders.csv, sources.csv,
    codes.csv (the code tree), discarded.csv (what has no place in the tables) and the
    archive's own files under archive/. Nothing is written unless everything succeeds.
    """
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        typer.echo(f"error: {output_dir}: exists and is not an empty folder", err=True)
        raise typer.Exit(1)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.partial-", dir=output_dir.parent))
    try:
        if archive.suffix.lower() == ".qdc":
            book = import_codebook(archive, validate=not no_validate)
            _write_yaml(staging / "codebook.yaml", book, archive)
            summary = f"{len(book.dimensions)} dimensions, {len(book.codes)} codes"
        else:
            project = import_project(archive, staging / "archive", validate=not no_validate)
            _write_yaml(staging / "codebook.yaml", project.codebook, archive)
            for table in ("segments", "codings", "coders", "sources", "codes", "discarded"):
                getattr(project, table).to_csv(staging / f"{table}.csv", index=False, encoding="utf-8")
            summary = (f"{len(project.segments)} segments, {len(project.codings)} codings, {len(project.coders)} coders, "
                       f"{len(project.codebook.codes)} codes; {len(project.discarded)} element(s) without a place in the tables "
                       "(see discarded.csv)")
        if output_dir.exists():
            output_dir.rmdir()
        staging.rename(output_dir)
    except (RefiImportError, FileNotFoundError, FileExistsError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    typer.echo(f"imported {archive} into {output_dir}: {summary}")
