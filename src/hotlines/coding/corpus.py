"""The coded corpus: evidence units (``segments.csv``) and the informant roster (``interviews.csv``).

Both tables are resources of ``data/datapackage.json``; Frictionless checks what their
schemas can say (types, enumerations, patterns, keys, a segment's ``source`` is a seed
file named in ``sources.csv``, an informant's ``city_id`` is a city). The rules here check
what a schema cannot:

- every id in a segment's ``;``-separated ``cities`` is a city of ``cities.csv``;
- every id in its ``interview_ids`` is an informant of ``interviews.csv``;
- ``line_end`` is not before ``line``;
- (when the seed documents are at hand) every passage occurs verbatim in its seed file
  between ``line`` and ``line_end``, and every informant's role (and, for a listed
  informant, the id) occurs at the line the roster names.

*Verbatim* means: the seed lines ``line``..``line_end`` joined with a space, with every run
of whitespace (line breaks, the blank lines of page breaks, tabs, a wrapped line's leading
space) counted as one space, contain the passage with its whitespace treated the same way.
Nothing else is normalised: case, punctuation, curly quotes and footnote markers must match.

>>> from hotlines.coding import corpus
>>> seg = corpus.segments()
>>> seg.loc[seg.segment_id == "S-BEI-04", "cities"].item()
'beijing'
>>> int(seg.loc[seg.segment_id == "S-BEI-04", "line"].item())
198
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .. import paths
from ..data.package import read_descriptor, read_table, resource
from ..data.seeds import SeedText, collapse_whitespace  # noqa: F401  (collapse_whitespace: part of this module's API)
from ..data.validate import DataValidationError, Problem, ValidationReport

SEGMENTS_FILE = "segments.csv"
INTERVIEWS_FILE = "interviews.csv"
#: A speaker's label in a hard-wrapped seed (002) may run onto the next lines.
ROLE_WINDOW = 3
LIST_SEPARATOR = ";"


# ---------------------------------------------------------------- loading


def _split(value) -> list[str]:
    if value is None or pd.isna(value) or str(value) == "":
        return []
    return str(value).split(LIST_SEPARATOR)


def _load(name: str, data_dir) -> pd.DataFrame:
    from .. import data

    table = data.load(name, data_dir)
    report = validate_corpus(data_dir, check_seeds=False)
    if not report.ok:
        raise DataValidationError(report)
    return table


def segments(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The evidence units, typed (``line``/``line_end`` Int64, text as string), after validation.

    One row per segment: ``segment_id``, ``cities`` (``;``-separated city ids), ``source``
    (seed file), ``line``, ``line_end``, ``interview_ids`` (``;``-separated informants),
    ``speaker_role``, ``passage``, ``origin`` (``research`` or ``added``), ``note``.
    Raises :class:`hotlines.data.DataValidationError` when the data folder or the
    corpus rules do not hold.
    """
    return _load("segments", data_dir)


def interviews(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The informant roster, typed (``line`` Int64), after validation."""
    return _load("interviews", data_dir)


def codings(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every code applied to a segment by every coder, in long form: segment_id, coder, code, memo."""
    return _load("codings", data_dir)


def coders(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Who or what coded, and how: coder, kind, description, procedure, date."""
    return _load("coders", data_dir)


def segment_cities(segments: pd.DataFrame) -> pd.DataFrame:
    """Long form of ``segments.cities``: one row per (segment_id, city_id), with ``n_cities``.

    ``n_cities`` is the number of cities the passage names, so that multi-city
    statements can be weighted or left out.

    >>> frame = pd.DataFrame({"segment_id": ["S-MUL-01"], "cities": ["beijing;new_york"]})
    >>> segment_cities(frame)[["segment_id", "city_id", "n_cities"]].values.tolist()
    [['S-MUL-01', 'beijing', 2], ['S-MUL-01', 'new_york', 2]]
    """
    rows = []
    for segment_id, cities in zip(segments["segment_id"], segments["cities"]):
        ids = _split(cities)
        rows.extend({"segment_id": segment_id, "city_id": c, "n_cities": len(ids)} for c in ids)
    frame = pd.DataFrame(rows, columns=["segment_id", "city_id", "n_cities"])
    return frame.astype({"segment_id": "string", "city_id": "string", "n_cities": "Int64"})


def segment_informants(segments: pd.DataFrame) -> pd.DataFrame:
    """Long form of ``segments.interview_ids``: one row per (segment_id, informant_id)."""
    rows = [
        {"segment_id": segment_id, "informant_id": i}
        for segment_id, ids in zip(segments["segment_id"], segments["interview_ids"])
        for i in _split(ids)
    ]
    return pd.DataFrame(rows, columns=["segment_id", "informant_id"]).astype("string")


# ---------------------------------------------------------------- rules


def _rows(frame: pd.DataFrame):
    for position, (_, row) in enumerate(frame.iterrows(), start=1):
        yield position, row


def check_references(segments: pd.DataFrame, interviews: pd.DataFrame, cities: pd.DataFrame) -> list[Problem]:
    """Ids a schema cannot check: each listed city is a city, each listed informant an informant."""
    city_ids = set(cities["city_id"].astype(str))
    informant_ids = set(interviews["informant_id"].astype(str))
    problems = []
    for row, r in _rows(segments):
        key = r["segment_id"]
        cities_listed = _split(r["cities"])
        for city in cities_listed:
            if city not in city_ids:
                problems.append(Problem(SEGMENTS_FILE, row, "cities", "city-exists",
                                        f"{city!r} is not a city_id of cities.csv", key))
        if len(set(cities_listed)) != len(cities_listed):
            problems.append(Problem(SEGMENTS_FILE, row, "cities", "no-repeat", "a city is listed twice", key))
        for informant in _split(r["interview_ids"]):
            if informant not in informant_ids:
                problems.append(Problem(SEGMENTS_FILE, row, "interview_ids", "informant-exists",
                                        f"{informant!r} is not an informant_id of interviews.csv", key))
        if not pd.isna(r["line"]) and not pd.isna(r["line_end"]) and int(r["line_end"]) < int(r["line"]):
            problems.append(Problem(SEGMENTS_FILE, row, "line_end", "line-order",
                                    f"line_end {r['line_end']} is before line {r['line']}", key))
    return problems


def check_passages(segments: pd.DataFrame, seeds: SeedText) -> list[Problem]:
    """Every passage occurs verbatim in its seed between ``line`` and ``line_end``."""
    problems = []
    for row, r in _rows(segments):
        key, name = r["segment_id"], str(r["source"])
        if seeds.lines(name) is None:
            problems.append(Problem(SEGMENTS_FILE, row, "source", "passage-in-seed",
                                    f"seed file {seeds.folder / name} is missing", key))
            continue
        first, last = int(r["line"]), int(r["line_end"])
        text = seeds.span(name, first, last)
        if text is None:
            problems.append(Problem(SEGMENTS_FILE, row, "line", "passage-in-seed", f"{name} has no lines {first}-{last}", key))
        elif collapse_whitespace(r["passage"]) not in text:
            problems.append(Problem(SEGMENTS_FILE, row, "passage", "passage-in-seed",
                                    f"the passage does not occur in {name} at lines {first}-{last}", key))
    return problems


def check_informant_lines(interviews: pd.DataFrame, seeds: SeedText) -> list[Problem]:
    """Each informant is found where the roster says: the role (and a listed id) at ``line``.

    The role may wrap onto the next lines of a hard-wrapped seed, so ``ROLE_WINDOW``
    lines from ``line`` are read.
    """
    problems = []
    for row, r in _rows(interviews):
        key, name, first = r["informant_id"], str(r["source"]), int(r["line"])
        lines = seeds.lines(name)
        if lines is None:
            problems.append(Problem(INTERVIEWS_FILE, row, "source", "informant-in-seed",
                                    f"seed file {seeds.folder / name} is missing", key))
            continue
        text = seeds.span(name, first, min(first + ROLE_WINDOW - 1, len(lines)))
        if text is None:
            problems.append(Problem(INTERVIEWS_FILE, row, "line", "informant-in-seed", f"{name} has no line {first}", key))
            continue
        if str(r["entry_type"]).startswith("individual") and str(key) not in text:
            problems.append(Problem(INTERVIEWS_FILE, row, "line", "informant-in-seed",
                                    f"{key} does not occur in {name} at line {first}", key))
        role = r["role"]
        if not pd.isna(role) and str(role) and collapse_whitespace(role) not in text:
            problems.append(Problem(INTERVIEWS_FILE, row, "role", "informant-in-seed",
                                    f"the role does not occur in {name} at lines {first}-{first + ROLE_WINDOW - 1}", key))
    return problems


def validate_corpus(
    data_dir: str | os.PathLike | None = None,
    seeds: str | os.PathLike | None = None,
    check_seeds: bool = True,
) -> ValidationReport:
    """Check the corpus rules a schema cannot express; return every problem (never raise on bad data).

    Complements :func:`hotlines.data.validate`, which checks the schemas, keys and hashes.
    When the seed documents are not found the report says so in its notes and the
    verbatim checks are not run.
    """
    folder = paths.data_dir(data_dir)
    report = ValidationReport(folder)
    descriptor = read_descriptor(folder)
    tables = {}
    for name in ("segments", "interviews", "cities"):
        res = resource(descriptor, name)
        path = folder / res["path"]
        if not path.is_file():
            report.problems.append(Problem(res["path"], None, None, "file-exists", "the file named in datapackage.json is missing"))
            continue
        try:
            tables[name] = read_table(path, res["schema"])
        except (ValueError, TypeError) as exc:  # a cell the schema types cannot read
            report.problems.append(Problem(res["path"], None, None, "readable",
                                           f"cannot be read with its schema types ({exc}); run `hotlines data validate`"))
    if len(tables) < 3:
        report.notes.append("Corpus rules were not checked: fix the file problems above first.")
        return report
    report.problems.extend(check_references(tables["segments"], tables["interviews"], tables["cities"]))
    if not check_seeds:
        return report
    seeds_path = paths.seeds_dir(seeds)
    if seeds_path is None:
        looked = ", ".join(paths.seeds_search_paths(seeds))
        report.notes.append(
            f"Seed documents not found (looked in: {looked}); the verbatim check of {len(tables['segments'])} "
            f"passages and {len(tables['interviews'])} informant lines was NOT run. "
            "Give the folder with seeds=PATH or HOTLINES_SEEDS."
        )
        return report
    text = SeedText(seeds_path)
    passage_problems = check_passages(tables["segments"], text)
    informant_problems = check_informant_lines(tables["interviews"], text)
    report.problems.extend(passage_problems + informant_problems)
    report.notes.append(
        f"Passages: {len(tables['segments'])} checked against {seeds_path}, {len(passage_problems)} not found; "
        f"informant lines: {len(tables['interviews'])} checked, {len(informant_problems)} not found."
    )
    return report
