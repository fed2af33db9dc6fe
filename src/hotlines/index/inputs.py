"""The coded inputs of the 4G rebuild: ``data/index_4g_inputs.csv``.

One row per piece of evidence for one third-level indicator of one city. Columns:

================== ==========================================================================
``evidence_id``    key, ``X001`` style
``city_id``        a city of ``data/cities.csv`` evaluated in 2024
``indicator``      a third-level indicator id of ``data/index_4g.yaml``
``used``           ``true`` if this row is the city's value for the indicator (at most one
                   per city and indicator); ``false`` rows record evidence considered and set
                   aside, with the reason in ``note`` (a target, another year, a proxy, ...)
``value``          the coded value: 0/1 for binary items, the level for ordinal items (see the
                   spec's ``levels``), the number in the spec's unit for continuous items
``qualifier``      ``=``, ``>``, ``>=``, ``<``, ``<=`` or ``~``: ``>=`` marks a lower bound
                   (e.g. two of the four openness policies are stated, others may exist)
``value_as_stated`` the words of the quote that carry the value (must occur in ``quote``)
``source_id``      a row of ``data/sources.csv``
``locator``        ``<seed file>:L<line>`` for a seed; otherwise the locator of the
                   ``data/indicators.csv`` row named in ``indicators_row``
``quote``          verbatim, on that line
``evidence_grade`` A: a statement about this city alone; B: a statement about several cities
                   that names this one; C: an inference (a group statement that does not name
                   the city, full marks on a parent indicator, or a feature the report counts
                   under this indicator elsewhere)
``indicators_row`` for a published figure taken from ``data/indicators.csv``: its ``indicator_id``
``note``           how the value was read; why a row is not used
================== ==========================================================================

Missing stays missing: a city and indicator with no used row has no value here;
imputation happens in :class:`hotlines.index.CompositeIndex` and is logged there.

>>> inputs = load_inputs()
>>> int(inputs["used"].sum()) > 100
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .. import paths
from ..data.seeds import SeedText
from ..data.validate import Problem, ValidationReport
from .spec import SPEC_FILE, IndexSpec, load_spec

INPUTS_FILE = "index_4g_inputs.csv"

#: Frictionless Table Schema of the inputs (to register the file in datapackage.json).
SCHEMA = {
    "fields": [
        {"name": "evidence_id", "type": "string", "constraints": {"required": True, "unique": True, "pattern": r"X\d{3}"}},
        {"name": "city_id", "type": "string", "constraints": {"required": True}},
        {"name": "indicator", "type": "string", "constraints": {"required": True}},
        {"name": "used", "type": "boolean", "constraints": {"required": True}},
        {"name": "value", "type": "number", "constraints": {"required": True}},
        {"name": "qualifier", "type": "string", "constraints": {"required": True, "enum": ["=", ">", ">=", "<", "<=", "~"]}},
        {"name": "value_as_stated", "type": "string", "constraints": {"required": True}},
        {"name": "source_id", "type": "string", "constraints": {"required": True}},
        {"name": "locator", "type": "string", "constraints": {"required": True}},
        {"name": "quote", "type": "string", "constraints": {"required": True}},
        {"name": "evidence_grade", "type": "string", "constraints": {"required": True, "enum": ["A", "B", "C"]}},
        {"name": "indicators_row", "type": "string", "constraints": {"pattern": r"I\d{4}"}},
        {"name": "note", "type": "string"},
    ],
    "primaryKey": ["evidence_id"],
    "missingValues": [""],
}
BOUND_QUALIFIERS = (">", ">=", "<", "<=")
_SEED_LOCATOR = re.compile(r"^(?P<file>[^:]+\.txt):L(?P<line>\d+)$")


class InputsError(ValueError):
    """Raised by :func:`load_inputs` when the inputs file does not validate."""

    def __init__(self, report: ValidationReport, path: Path):
        self.report = report
        shown = "\n".join(str(p) for p in report.problems[:20])
        more = len(report.problems) - 20
        super().__init__(f"{path} does not validate ({len(report.problems)} problem(s)):\n{shown}"
                         + (f"\n... and {more} more" if more > 0 else ""))


def inputs_path(data_dir: str | os.PathLike | None = None) -> Path:
    return paths.data_dir(data_dir) / INPUTS_FILE


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    if "value" in frame:
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("Float64")
    if "used" in frame:
        frame["used"] = frame["used"].map({"true": True, "false": False}).astype("boolean")
    for column in frame.columns:
        if column not in ("value", "used"):
            frame[column] = frame[column].astype("string")
    return frame


def _schema_problems(path: Path) -> list[Problem]:
    import frictionless

    resource = frictionless.Resource(path=path.name, basepath=str(path.parent),
                                     schema=frictionless.Schema.from_descriptor(SCHEMA))
    report = resource.validate()
    problems = []
    for task in report.tasks:
        for error in task.errors:
            row_number = getattr(error, "row_number", None)
            field_name = getattr(error, "field_name", None) or getattr(error, "label", None)
            problems.append(Problem(path.name, row_number - 1 if row_number else None, field_name, error.type,
                                    re.sub(r"\s+", " ", error.message).strip()))
    return problems


def validate_inputs(
    path: str | os.PathLike | None = None,
    spec: IndexSpec | None = None,
    seeds: str | os.PathLike | None = None,
    check_seeds: bool = True,
    data_dir: str | os.PathLike | None = None,
) -> ValidationReport:
    """Check the inputs file: schema, references, values against the spec, quotes.

    Rules beyond the schema: the city is one of the 2024 evaluation; the indicator is a
    third-level id of the spec; the value fits the indicator's type, levels and scale;
    ``value_as_stated`` occurs in ``quote``; the source exists; at most one used row per
    city and indicator; a row that is not used says why; a row taken from
    ``indicators.csv`` repeats that row's source, locator and quote; a seed quote occurs
    on the line its locator names (when the seeds are at hand; the report's notes say
    plainly when they are absent). Never raises on bad data and never writes.
    """
    from .. import data

    path = Path(path) if path else inputs_path(data_dir)
    report = ValidationReport(path.parent)
    if not path.is_file():
        report.problems.append(Problem(path.name, None, None, "file-exists", "the inputs file is missing"))
        return report
    spec = spec or load_spec(paths.data_dir(data_dir) / SPEC_FILE)
    report.problems.extend(_schema_problems(path))
    if any(p.rule in ("incorrect-label", "missing-label", "extra-label", "source-error") for p in report.problems):
        return report
    frame = _read(path)
    cities = data.cities(data_dir)
    evaluated = set(cities.loc[cities["in_4g_2024"].fillna(False), "city_id"])
    sources = data.sources(data_dir).set_index("source_id")
    published = data.indicators(data_dir).set_index("indicator_id")
    third = {i.id: i for i in spec.third_level}
    file = path.name

    for row, (_, r) in enumerate(frame.iterrows(), start=1):
        key = r["evidence_id"]
        if pd.notna(r["city_id"]) and r["city_id"] not in evaluated:
            report.problems.append(Problem(file, row, "city_id", "known-city",
                                           f"{r['city_id']!r} is not one of the 20 cities evaluated in 2024 (cities.csv)", key))
        item = third.get(r["indicator"]) if pd.notna(r["indicator"]) else None
        if item is None:
            report.problems.append(Problem(file, row, "indicator", "known-indicator",
                                           f"{r['indicator']!r} is not a third-level indicator of {spec.name!r}", key))
        elif pd.notna(r["value"]) and r["used"] is True:  # a row set aside may be on another scale
            message = _value_problem(item, float(r["value"]))
            if message:
                report.problems.append(Problem(file, row, "value", "value-fits-indicator", message, key))
        if pd.notna(r["value_as_stated"]) and pd.notna(r["quote"]) and str(r["value_as_stated"]) not in str(r["quote"]):
            report.problems.append(Problem(file, row, "value_as_stated", "value-in-quote",
                                           f"{r['value_as_stated']!r} does not occur in the quote", key))
        if pd.notna(r["source_id"]) and r["source_id"] not in sources.index:
            report.problems.append(Problem(file, row, "source_id", "known-source",
                                           f"{r['source_id']!r} is not a row of sources.csv", key))
        if r["used"] is False and not (pd.notna(r["note"]) and str(r["note"]).startswith("Not used")):
            report.problems.append(Problem(file, row, "note", "unused-says-why",
                                           "a row that is not used explains why in a note starting 'Not used'", key))
        if pd.notna(r["indicators_row"]):
            ref = r["indicators_row"]
            if ref not in published.index:
                report.problems.append(Problem(file, row, "indicators_row", "known-indicators-row",
                                               f"{ref!r} is not a row of indicators.csv", key))
            else:
                p = published.loc[ref]
                for column in ("source_id", "locator", "quote"):
                    if str(p[column]) != str(r[column]):
                        report.problems.append(Problem(file, row, column, "matches-indicators-row",
                                                       f"differs from indicators.csv row {ref}", key))
                if str(p["city_id"]) != str(r["city_id"]):
                    report.problems.append(Problem(file, row, "city_id", "matches-indicators-row",
                                                   f"indicators.csv row {ref} is for {p['city_id']!r}", key))
        elif pd.notna(r["source_id"]) and r["source_id"] in sources.index:
            seed_file = sources.loc[r["source_id"], "seed_file"]
            match = _SEED_LOCATOR.match(str(r["locator"]))
            if pd.isna(seed_file):
                report.problems.append(Problem(file, row, "indicators_row", "web-source-via-indicators",
                                               "a non-seed source enters through a row of indicators.csv (indicators_row)", key))
            elif not match or match["file"] != seed_file:
                report.problems.append(Problem(file, row, "locator", "seed-locator",
                                               f"locator {r['locator']!r} is not '{seed_file}:L<line>'", key))

    used = frame[frame["used"].fillna(False)]
    doubled = used.groupby(["city_id", "indicator"]).size()
    for (city, indicator), n in doubled[doubled > 1].items():
        rows = used[(used["city_id"] == city) & (used["indicator"] == indicator)]
        first = int(rows.index[1]) + 1
        report.problems.append(Problem(file, first, "used", "one-value-per-cell",
                                       f"{n} used rows for {city} / {indicator}: at most one", rows.iloc[1]["evidence_id"]))

    if check_seeds:
        _check_quotes(frame, sources, report, file, seeds)
    return report


def _value_problem(item, value: float) -> str | None:
    if item.type == "binary" and value not in (0.0, 1.0):
        return f"{value:g} for binary indicator {item.id!r}: 0 or 1"
    if item.type == "ordinal" and (value != int(value) or int(value) not in item.levels):
        return f"{value:g} is not a level of {item.id!r} ({', '.join(str(k) for k in item.levels)})"
    if item.type == "continuous" and item.has_scale and not item.scale_min <= value <= item.scale_max:
        return f"{value:g} is outside the scale {item.scale_min:g}..{item.scale_max:g} of {item.id!r}"
    return None


def _check_quotes(frame, sources, report: ValidationReport, file: str, seeds) -> None:
    folder = paths.seeds_dir(seeds)
    seed_rows = frame[frame["indicators_row"].isna() & frame["source_id"].isin(sources.index[sources["kind"] == "seed"])]
    if folder is None:
        looked = ", ".join(paths.seeds_search_paths(seeds))
        report.notes.append(f"Seed documents not found (looked in: {looked}); the quotes of {len(seed_rows)} "
                            "seed-sourced input rows were NOT checked. Give the folder with HOTLINES_SEEDS.")
        return
    text = SeedText(folder)
    bad = 0
    for position, r in seed_rows.iterrows():
        match = _SEED_LOCATOR.match(str(r["locator"]))
        if not match:
            continue  # reported as seed-locator above
        name, line = match["file"], int(match["line"])
        if not text.contains(name, line, line, str(r["quote"])):
            bad += 1
            report.problems.append(Problem(file, int(position) + 1, "quote", "quote-in-seed",
                                           f"the quote does not occur in {name} at line {line}", r["evidence_id"]))
    report.notes.append(f"Seed quotes: {len(seed_rows)} input rows checked against {folder}, {bad} not found.")


def load_inputs(
    path: str | os.PathLike | None = None,
    spec: IndexSpec | None = None,
    data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read the inputs after validating them (schema and rules; quotes are checked by
    :func:`validate_inputs`, which needs the seed documents). Raises :class:`InputsError`."""
    path = Path(path) if path else inputs_path(data_dir)
    report = validate_inputs(path, spec=spec, check_seeds=False, data_dir=data_dir)
    if not report.ok:
        raise InputsError(report, path)
    return _read(path)


def input_coverage(inputs: pd.DataFrame | None = None, spec: IndexSpec | None = None,
                   cities: list[str] | None = None) -> pd.DataFrame:
    """How many of the city × indicator cells have a used value, by indicator and grade.

    One row per third-level indicator: ``n_cities`` evaluated, ``n_filled``, ``n_A``,
    ``n_B``, ``n_C``, ``n_bounds`` (values stated as bounds), ``n_missing``, ``include``.

    >>> cov = input_coverage()
    >>> int(cov["n_filled"].sum()) == int(cov[["n_A", "n_B", "n_C"]].sum().sum())
    True
    """
    from .. import data

    spec = spec or load_spec()
    inputs = load_inputs(spec=spec) if inputs is None else inputs
    if cities is None:
        table = data.cities()
        cities = list(table.loc[table["in_4g_2024"].fillna(False), "city_id"])
    used = inputs[inputs["used"].fillna(False) & inputs["city_id"].isin(cities)]
    rows = []
    for item in spec.third_level:
        part = used[used["indicator"] == item.id]
        grades = part["evidence_grade"].value_counts()
        rows.append({
            "indicator": item.id, "first_level": spec.first_of(item.id), "type": item.type, "include": item.include,
            "n_cities": len(cities), "n_filled": len(part), "n_A": int(grades.get("A", 0)), "n_B": int(grades.get("B", 0)),
            "n_C": int(grades.get("C", 0)), "n_bounds": int(part["qualifier"].isin(BOUND_QUALIFIERS).sum()),
            "n_missing": len(cities) - len(part),
        })
    return pd.DataFrame(rows)
