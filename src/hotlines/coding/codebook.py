"""The leadership–institution–mechanism codebook: a versionable YAML file, loaded into objects.

Layout of ``data/codebook.yaml``::

    codebook:
      title: ...
      version: '2.0'
      coding_rules: [...]
      pole_definitions: {vertical: ..., horizontal: ..., neutral: ...}
      city_scoring_rules: {...}
      changelog: [...]                                 # what changed from one version to the next
      dimensions:
        - id: leadership
          label: Leadership
          definition: ...
          color: '#0072B2'                             # '#RRGGBB', distinct per dimension
          vertical_pole: ...                           # only in dimensions that carry poles
          horizontal_pole: ...
          codes:
            - id: leadership.top_leader_attention     # '<dimension>.<name>'
              label: ...
              dimension: leadership
              pole: vertical | horizontal | neutral
              brief_definition: ...
              full_definition: ...
              inclusion_criteria: [...]
              exclusion_criteria: [...]
              anchors: [{quote: ..., source: <seed file>, line: <int>, line_end: <int>}]  # line_end optional
              related_codes: [...]
              decision_rule: ...                       # optional

The hierarchy has two levels: dimensions, and the codes within them. An anchor's quote
occurs verbatim in its seed file on lines ``line``..``line_end`` (``line`` alone when
``line_end`` is absent), with every run of whitespace counted as one space (see
:mod:`hotlines.coding.corpus`). Every key not listed above is kept in ``Codebook.meta``
and written back unchanged.

>>> from hotlines.coding.codebook import Codebook
>>> book = Codebook.load()
>>> book.codes["leadership.centralized_party_leadership"].pole
'vertical'
>>> book.validate(check_seeds=False)
[]
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from ..data.validate import Problem

POLES = ("vertical", "horizontal", "neutral")
FILE = "codebook.yaml"
#: Fields every code must fill (MacQueen et al. 1998: definition, when to use, when not, examples).
REQUIRED_CODE_FIELDS = ("label", "brief_definition", "full_definition", "inclusion_criteria",
                        "exclusion_criteria", "anchors")
#: ``none`` marks a segment that carries no code (``codings.csv``); no code may take the name.
RESERVED_CODE_IDS = ("none",)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SEED_FILE = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")


@dataclass(frozen=True)
class Anchor:
    quote: str
    source: str
    line: int
    line_end: int | None = None

    @property
    def last_line(self) -> int:
        return self.line if self.line_end is None else self.line_end

    @property
    def locator(self) -> str:
        """``000 L198`` or ``002 L266-268``: the seed's number and the line(s)."""
        lines = f"L{self.line}" + (f"-{self.line_end}" if self.line_end not in (None, self.line) else "")
        return f"{self.source[:3]} {lines}"


@dataclass(frozen=True)
class Code:
    id: str
    label: str
    dimension: str
    pole: str
    brief_definition: str
    full_definition: str = ""
    inclusion_criteria: tuple[str, ...] = ()
    exclusion_criteria: tuple[str, ...] = ()
    anchors: tuple[Anchor, ...] = ()
    related_codes: tuple[str, ...] = ()
    decision_rule: str = ""


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    definition: str
    color: str = ""
    vertical_pole: str = ""
    horizontal_pole: str = ""
    codes: tuple[Code, ...] = ()


class CodebookReport(list):
    """The problems found (a list of :class:`hotlines.data.Problem`) and notes on what was not checked."""

    def __init__(self, problems=(), notes=()):
        super().__init__(problems)
        self.notes: list[str] = list(notes)

    @property
    def ok(self) -> bool:
        return not self

    def to_frame(self) -> pd.DataFrame:
        columns = ["file", "row", "key", "field", "rule", "message"]
        return pd.DataFrame([{c: getattr(p, c) for c in columns} for p in self], columns=columns)

    def __str__(self) -> str:
        status = "valid" if self.ok else f"{len(self)} problem(s)"
        return "\n".join([f"codebook: {status}", *(str(p) for p in self), *self.notes])


def _text(value) -> str:
    return "" if value is None else str(value)


def _empty(value) -> bool:
    """A missing text, an empty list, or a list with a blank entry."""
    if isinstance(value, tuple):
        return not value or any(isinstance(v, str) and not v.strip() for v in value)
    return not str(value or "").strip()


def _int_or_none(value):
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value  # kept as read, so that validate() names it


@dataclass
class Codebook:
    title: str
    version: str
    dimensions: list[Dimension]
    meta: dict = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    @property
    def codes(self) -> dict[str, Code]:
        """Every code by id, in codebook order."""
        return {code.id: code for dim in self.dimensions for code in dim.codes}

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(f"codebook has no dimension {dimension_id!r}")

    # ------------------------------------------------------------ reading and writing

    @classmethod
    def from_dict(cls, document: dict, path: Path | None = None) -> "Codebook":
        """Build from the parsed YAML. Missing fields become empty, so that :meth:`validate` can name them."""
        if not isinstance(document, dict) or not isinstance(document.get("codebook"), dict):
            raise ValueError(f"{path or FILE}: the document has no top-level 'codebook' mapping")
        body = document["codebook"]
        dimensions = []
        for dim in body.get("dimensions") or []:
            codes = tuple(
                Code(
                    id=_text(c.get("id")),
                    label=_text(c.get("label")),
                    dimension=_text(c.get("dimension", dim.get("id"))),
                    pole=_text(c.get("pole")),
                    brief_definition=_text(c.get("brief_definition")),
                    full_definition=_text(c.get("full_definition")),
                    inclusion_criteria=tuple(c.get("inclusion_criteria") or ()),
                    exclusion_criteria=tuple(c.get("exclusion_criteria") or ()),
                    anchors=tuple(
                        Anchor(_text(a.get("quote")), _text(a.get("source")), _int_or_none(a.get("line")),
                               _int_or_none(a.get("line_end")))
                        for a in c.get("anchors") or ()
                    ),
                    related_codes=tuple(c.get("related_codes") or ()),
                    decision_rule=_text(c.get("decision_rule")),
                )
                for c in dim.get("codes") or []
            )
            dimensions.append(
                Dimension(
                    id=_text(dim.get("id")),
                    label=_text(dim.get("label", dim.get("id"))),
                    definition=_text(dim.get("definition")),
                    color=_text(dim.get("color")),
                    vertical_pole=_text(dim.get("vertical_pole")),
                    horizontal_pole=_text(dim.get("horizontal_pole")),
                    codes=codes,
                )
            )
        meta = {k: v for k, v in body.items() if k not in ("title", "version", "dimensions")}
        return cls(title=_text(body.get("title")), version=_text(body.get("version")), dimensions=dimensions,
                   meta=meta, path=path)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Codebook":
        """Read ``data/codebook.yaml`` (or ``path``)."""
        target = Path(path) if path else paths.data_dir() / FILE
        with open(target, encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle), path=target)

    def to_dict(self) -> dict:
        """The YAML document as a dict: ``Codebook.from_dict(book.to_dict()) == book``.

        Title and version come first, then every other top-level key in its original
        order, then the dimensions. Optional fields are written only when set.
        """
        body = {"title": self.title, "version": self.version, **self.meta}
        body["dimensions"] = [_dimension_dict(dim) for dim in self.dimensions]
        return {"codebook": body}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)

    def dump(self, path: str | os.PathLike | None = None) -> Path:
        """Write the codebook as YAML to ``path`` (default: where it was loaded from).

        The file is written to a temporary file in the same folder and then moved into
        place, so an interrupted write never leaves a half-written codebook behind.
        Remember ``hotlines data hash`` after a deliberate edit of ``data/codebook.yaml``.
        """
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("dump() needs a path: this codebook was not loaded from a file")
        target = Path(target)
        text = self.to_yaml()
        handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    # ------------------------------------------------------------ tables

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per code: dimension, code, label, pole, brief_definition, n_anchors.

        >>> Codebook.load().to_frame().columns.tolist()
        ['dimension', 'code', 'label', 'pole', 'brief_definition', 'n_anchors']
        """
        rows = [
            {"dimension": dim.id, "code": c.id, "label": c.label, "pole": c.pole,
             "brief_definition": c.brief_definition, "n_anchors": len(c.anchors)}
            for dim in self.dimensions for c in dim.codes
        ]
        frame = pd.DataFrame(rows, columns=["dimension", "code", "label", "pole", "brief_definition", "n_anchors"])
        return frame.astype({c: "string" for c in frame.columns if c != "n_anchors"} | {"n_anchors": "Int64"})

    # ------------------------------------------------------------ validation

    def validate(self, seeds: str | os.PathLike | None = None, check_seeds: bool = True) -> CodebookReport:
        """Every broken rule of the codebook, each naming the code (in ``field``) and the rule.

        Rules: ``unique-dimension-id``, ``unique-code-id``, ``code-id-form`` (``<dimension>.<name>``),
        ``dimension-matches-parent``, ``reserved-id``, ``pole-value``, ``pole-in-dimension``
        (a dimension without poles holds only neutral codes), ``required-field``,
        ``related-code-exists``, ``dimension-color``, ``anchor-locator``, ``anchor-in-seed``,
        ``clarification-code``, ``clarification-rule``
        and ``code-count`` (the counts in the file's metadata, where given).

        The anchors are checked against the seed documents found by
        :func:`hotlines.paths.seeds_dir`; when there are none the report says so in
        ``notes`` and that check is not run.
        """
        file = self.path.name if self.path else FILE
        report = CodebookReport()

        def problem(field_name: str, rule: str, message: str, key: str | None = None):
            report.append(Problem(file, None, field_name, rule, message, key))

        all_ids = [c.id for d in self.dimensions for c in d.codes]
        known = set(all_ids)
        seen_dims, seen_codes, colors = set(), set(), {}
        for dim in self.dimensions:
            if not dim.id:
                problem("dimensions.id", "required-field", "a dimension has no id")
            elif dim.id in seen_dims:
                problem(f"{dim.id}.id", "unique-dimension-id", f"dimension {dim.id!r} is defined twice", dim.id)
            seen_dims.add(dim.id)
            if not _COLOR.match(dim.color):
                problem(f"{dim.id}.color", "dimension-color", f"dimension {dim.id!r}: color {dim.color!r} is not '#RRGGBB'", dim.id)
            elif dim.color.lower() in colors:
                problem(f"{dim.id}.color", "dimension-color",
                        f"dimension {dim.id!r} has the colour of dimension {colors[dim.color.lower()]!r}", dim.id)
            else:
                colors[dim.color.lower()] = dim.id
            has_poles = bool(dim.vertical_pole or dim.horizontal_pole)
            for position, code in enumerate(dim.codes, start=1):
                cid = code.id or f"{dim.id}.<code {position}>"
                if not code.id:
                    problem(f"{cid}.id", "required-field", f"code {position} of dimension {dim.id!r} has no id", cid)
                    continue
                if code.id in seen_codes:
                    problem(f"{cid}.id", "unique-code-id", f"code {cid!r} is defined more than once", cid)
                seen_codes.add(code.id)
                prefix, _, name = code.id.partition(".")
                if prefix != dim.id or not _NAME.match(name):
                    problem(f"{cid}.id", "code-id-form",
                            f"code {cid!r} is not '{dim.id}.<name>' (lower-case name under its dimension {dim.id!r})", cid)
                if code.dimension != dim.id:
                    problem(f"{cid}.dimension", "dimension-matches-parent",
                            f"code {cid!r} says dimension {code.dimension!r} but sits in dimension {dim.id!r}", cid)
                if code.id in RESERVED_CODE_IDS or name in RESERVED_CODE_IDS:
                    problem(f"{cid}.id", "reserved-id", f"code {cid!r}: 'none' is reserved for segments without a code", cid)
                if code.pole not in POLES:
                    problem(f"{cid}.pole", "pole-value", f"code {cid!r}: pole {code.pole!r} is not one of {', '.join(POLES)}", cid)
                elif code.pole != "neutral" and not has_poles:
                    problem(f"{cid}.pole", "pole-in-dimension",
                            f"code {cid!r} is {code.pole} but dimension {dim.id!r} defines no poles (its codes are neutral)", cid)
                for attribute in REQUIRED_CODE_FIELDS:
                    if _empty(getattr(code, attribute)):
                        problem(f"{cid}.{attribute}", "required-field", f"code {cid!r} has no {attribute}", cid)
                for related in code.related_codes:
                    if related not in known or related == code.id:
                        why = "is the code itself" if related == code.id else "is not a code of this codebook"
                        problem(f"{cid}.related_codes", "related-code-exists", f"code {cid!r}: related code {related!r} {why}", cid)
                for number, anchor in enumerate(code.anchors, start=1):
                    where = f"{cid}.anchors[{number}]"
                    line_ok = isinstance(anchor.line, int) and anchor.line >= 1
                    end_ok = anchor.line_end is None or (isinstance(anchor.line_end, int) and line_ok and anchor.line_end >= anchor.line)
                    if not anchor.quote.strip() or not _SEED_FILE.match(anchor.source) or not line_ok or not end_ok:
                        problem(where, "anchor-locator",
                                f"code {cid!r}, anchor {number}: needs a quote, a seed file name and line <= line_end "
                                f"(got source {anchor.source!r}, line {anchor.line!r}, line_end {anchor.line_end!r})", cid)

        self._check_counts(problem, all_ids)
        self._check_clarifications(problem, set(all_ids))
        if check_seeds:
            self._check_anchors(report, problem, seeds)
        return report

    def _check_clarifications(self, problem, known: set[str]) -> None:
        """Every clarification of a decision rule names codes of this codebook and states its rule."""
        section = self.meta.get("clarifications") or {}
        for number, rule in enumerate(section.get("rules", []) if isinstance(section, dict) else [], start=1):
            rid = rule.get("id", f"#{number}")
            if not str(rule.get("rule", "")).strip():
                problem(f"clarifications.{rid}.rule", "clarification-rule", f"clarification {rid} states no rule")
            for code in rule.get("codes", []):
                if code not in known:
                    problem(f"clarifications.{rid}.codes", "clarification-code",
                            f"clarification {rid} names {code!r}, which is not a code of this codebook")

    def _check_counts(self, problem, all_ids: list[str]) -> None:
        stated = self.meta.get("code_count")
        if stated is not None and stated != len(all_ids):
            problem("code_count", "code-count", f"code_count says {stated} but the codebook has {len(all_ids)} codes")
        by_pole = self.meta.get("code_count_by_pole")
        if isinstance(by_pole, dict):
            actual = {p: sum(c.pole == p for c in self.codes.values()) for p in POLES}
            for pole, count in by_pole.items():
                if actual.get(pole) != count:
                    problem(f"code_count_by_pole.{pole}", "code-count",
                            f"code_count_by_pole says {count} {pole} codes but the codebook has {actual.get(pole, 0)}")

    def _check_anchors(self, report: CodebookReport, problem, seeds) -> None:
        from ..data.seeds import SeedText

        anchors = [(c, n, a) for c in self.codes.values() for n, a in enumerate(c.anchors, start=1)
                   if isinstance(a.line, int) and a.quote.strip()]
        folder = paths.seeds_dir(seeds)
        if folder is None:
            looked = ", ".join(paths.seeds_search_paths(seeds))
            report.notes.append(
                f"Seed documents not found (looked in: {looked}); the check of {len(anchors)} anchor quotes "
                "against their seed lines was NOT run. Give the folder with seeds=PATH or HOTLINES_SEEDS."
            )
            return
        text = SeedText(folder)
        before = len(report)
        for code, number, anchor in anchors:
            where = f"{code.id}.anchors[{number}]"
            if text.lines(anchor.source) is None:
                problem(where, "anchor-in-seed", f"code {code.id!r}, anchor {number}: seed file {anchor.source} is missing", code.id)
            elif not text.contains(anchor.source, anchor.line, anchor.last_line, anchor.quote):
                found = text.locate(anchor.source, anchor.quote)
                hint = f" (it occurs at {', '.join(f'L{a}' + (f'-{b}' if b != a else '') for a, b in found)})" if found else ""
                problem(where, "anchor-in-seed",
                        f"code {code.id!r}, anchor {number}: the quote does not occur in {anchor.source} at "
                        f"{anchor.locator.split(' ')[1]}{hint}", code.id)
        report.notes.append(f"Anchors: {len(anchors)} checked against {folder}, {len(report) - before} not found.")


def _dimension_dict(dim: Dimension) -> dict:
    out = {"id": dim.id, "label": dim.label, "definition": dim.definition}
    for key in ("color", "vertical_pole", "horizontal_pole"):
        if getattr(dim, key):
            out[key] = getattr(dim, key)
    out["codes"] = [_code_dict(c) for c in dim.codes]
    return out


def _code_dict(code: Code) -> dict:
    out = {
        "id": code.id,
        "label": code.label,
        "dimension": code.dimension,
        "pole": code.pole,
        "brief_definition": code.brief_definition,
        "full_definition": code.full_definition,
        "inclusion_criteria": list(code.inclusion_criteria),
        "exclusion_criteria": list(code.exclusion_criteria),
        "anchors": [
            {"quote": a.quote, "source": a.source, "line": a.line, **({"line_end": a.line_end} if a.line_end is not None else {})}
            for a in code.anchors
        ],
        "related_codes": list(code.related_codes),
    }
    if code.decision_rule:
        out["decision_rule"] = code.decision_rule
    return out


def codebook_table(codebook: Codebook) -> pd.DataFrame:
    """The codebook as a reader's table: one row per code, in codebook order.

    Columns: Dimension, Code (the id), Label, Pole, Definition (the brief definition),
    Example (the shortest anchor quote, with its seed and line).

    >>> t = codebook_table(Codebook.load())
    >>> t.columns.tolist()
    ['Dimension', 'Code', 'Label', 'Pole', 'Definition', 'Example']
    """
    rows = []
    for dim in codebook.dimensions:
        for code in dim.codes:
            example = min(code.anchors, key=lambda a: len(a.quote)) if code.anchors else None
            rows.append({
                "Dimension": dim.label,
                "Code": code.id,
                "Label": code.label,
                "Pole": code.pole,
                "Definition": code.brief_definition,
                "Example": f"“{example.quote}” ({example.locator})" if example else pd.NA,
            })
    return pd.DataFrame(rows, columns=["Dimension", "Code", "Label", "Pole", "Definition", "Example"]).astype("string")


def validate(path: str | os.PathLike | None = None, seeds: str | os.PathLike | None = None,
             check_seeds: bool = True) -> CodebookReport:
    """Load ``data/codebook.yaml`` (or ``path``) and validate it; a file that cannot be read is one problem."""
    target = Path(path) if path else paths.data_dir() / FILE
    try:
        book = Codebook.load(target)
    except (OSError, yaml.YAMLError, ValueError, AttributeError, TypeError) as exc:
        return CodebookReport([Problem(target.name, None, None, "readable", f"cannot be read as a codebook: {exc}")])
    return book.validate(seeds=seeds, check_seeds=check_seeds)
