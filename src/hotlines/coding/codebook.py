"""The leadership–institution–mechanism codebook: a versionable YAML file, loaded into objects.

Layout of ``data/codebook.yaml``::

    codebook:
      title: ...
      version: '2.0'
      coding_rules: [...]
      pole_definitions: {vertical: ..., horizontal: ..., neutral: ...}
      city_scoring_rules: {...}
      dimensions:
        - id: leadership
          label: Leadership
          definition: ...
          color: '#0072B2'
          codes:
            - id: leadership.top_leader_attention     # '<dimension>.<name>'
              label: ...
              dimension: leadership
              pole: vertical | horizontal | neutral
              brief_definition: ...
              full_definition: ...
              inclusion_criteria: [...]
              exclusion_criteria: [...]
              anchors: [{quote: ..., source: <seed file>, line: <int>}]
              related_codes: [...]
              decision_rule: ...                       # optional

The hierarchy has two levels: dimensions, and the codes within them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths

POLES = ("vertical", "horizontal", "neutral")


@dataclass(frozen=True)
class Anchor:
    quote: str
    source: str
    line: int


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


@dataclass
class Codebook:
    title: str
    version: str
    dimensions: list[Dimension]
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def codes(self) -> dict[str, Code]:
        """Every code by id, in codebook order."""
        return {code.id: code for dim in self.dimensions for code in dim.codes}

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(f"codebook has no dimension {dimension_id!r}")

    @classmethod
    def from_dict(cls, document: dict, path: Path | None = None) -> "Codebook":
        body = document["codebook"]
        dimensions = []
        for dim in body.get("dimensions", []):
            codes = tuple(
                Code(
                    id=c["id"],
                    label=c.get("label", ""),
                    dimension=c.get("dimension", dim["id"]),
                    pole=c.get("pole", ""),
                    brief_definition=c.get("brief_definition", ""),
                    full_definition=c.get("full_definition", ""),
                    inclusion_criteria=tuple(c.get("inclusion_criteria") or ()),
                    exclusion_criteria=tuple(c.get("exclusion_criteria") or ()),
                    anchors=tuple(Anchor(a["quote"], a["source"], int(a["line"])) for a in c.get("anchors") or ()),
                    related_codes=tuple(c.get("related_codes") or ()),
                    decision_rule=c.get("decision_rule", "") or "",
                )
                for c in dim.get("codes", [])
            )
            dimensions.append(
                Dimension(
                    id=dim["id"],
                    label=dim.get("label", dim["id"]),
                    definition=dim.get("definition", ""),
                    color=dim.get("color", ""),
                    vertical_pole=dim.get("vertical_pole", ""),
                    horizontal_pole=dim.get("horizontal_pole", ""),
                    codes=codes,
                )
            )
        meta = {k: v for k, v in body.items() if k not in ("title", "version", "dimensions")}
        return cls(title=body.get("title", ""), version=str(body.get("version", "")), dimensions=dimensions, meta=meta, path=path)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Codebook":
        """Read ``data/codebook.yaml`` (or ``path``)."""
        target = Path(path) if path else paths.data_dir() / "codebook.yaml"
        with open(target, encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle), path=target)
