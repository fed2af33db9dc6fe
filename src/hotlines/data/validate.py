"""Validation of the evidence base.

Two layers. Frictionless checks what a Table Schema can say: columns, types,
enumerations, patterns, primary and foreign keys, sha256 and size of each file.
The rules below check what a schema cannot: a value row names a city or a group
but not both; the number as stated occurs in its quote; a row's unit is its
indicator's unit; a sourced attribute has its source, locator and quote; every
source has a BibTeX entry; and (when the seed documents are at hand) every quote
of a seed-sourced row occurs in the seed file at the line its locator names.

Validation only reads: nothing is rewritten, whatever it finds.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import paths
from .package import read_descriptor, read_table, resource
from .seeds import SeedText


@dataclass(frozen=True)
class Problem:
    """One broken rule, located by file, data row (1-based, header excluded) and field."""

    file: str
    row: int | None
    field: str | None
    rule: str
    message: str
    key: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
            if self.key:
                where += f" ({self.key})"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: [{self.rule}] {self.message}"


@dataclass
class ValidationReport:
    data_dir: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        columns = ["file", "row", "key", "field", "rule", "message"]
        return pd.DataFrame([{c: getattr(p, c) for c in columns} for p in self.problems], columns=columns)

    def __str__(self) -> str:
        lines = [str(p) for p in self.problems] + self.notes
        status = "valid" if self.ok else f"{len(self.problems)} problem(s)"
        return "\n".join([f"{self.data_dir}: {status}", *lines])


class DataValidationError(ValueError):
    """Raised by the loaders when the data folder does not validate."""

    def __init__(self, report: ValidationReport):
        self.report = report
        shown = "\n".join(str(p) for p in report.problems[:20])
        more = len(report.problems) - 20
        super().__init__(
            f"{report.data_dir} does not validate ({len(report.problems)} problem(s)):\n{shown}"
            + (f"\n... and {more} more (run `hotlines data validate`)" if more > 0 else "")
        )


# ---------------------------------------------------------------- frictionless


def _frictionless_problems(folder: Path, descriptor: dict) -> list[Problem]:
    import frictionless

    package = frictionless.Package(descriptor, basepath=str(folder))
    report = package.validate()
    problems = []
    for task in report.tasks:
        file = Path(task.place).name if task.place else task.name
        keys = _primary_keys(folder, resource(descriptor, task.name))
        for error in task.errors:
            row_number = getattr(error, "row_number", None)
            row = row_number - 1 if row_number else None
            field_name = getattr(error, "field_name", None) or getattr(error, "label", None)
            if error.type == "foreign-key":
                field_name = ", ".join(getattr(error, "field_names", []) or []) or None
            key = keys.get(row) if row is not None else None
            problems.append(Problem(file, row, field_name, error.type, _clean(error.message), key))
    return problems


def _clean(message: str) -> str:
    return re.sub(r"\s+", " ", message).strip()


def _primary_keys(folder: Path, res: dict) -> dict[int, str]:
    """Row number -> primary-key value, read leniently, for friendlier messages."""
    pk = res.get("schema", {}).get("primaryKey")
    try:
        frame = pd.read_csv(folder / res["path"], dtype=str, keep_default_na=False)
    except Exception:  # an unreadable file is reported by frictionless itself
        return {}
    if not pk or not set(pk) <= set(frame.columns):
        return {}
    values = frame[pk].astype(str).agg("/".join, axis=1)
    return {i + 1: v for i, v in enumerate(values)}


# ---------------------------------------------------------------- own rules


def _rows(frame: pd.DataFrame):
    for position, (_, row) in enumerate(frame.iterrows(), start=1):
        yield position, row


def _present(value) -> bool:
    return not pd.isna(value) and str(value) != ""


def _check_indicators(ind: pd.DataFrame, catalog: pd.DataFrame) -> list[Problem]:
    file = "indicators.csv"
    units = dict(zip(catalog["indicator"], catalog["unit"]))
    problems = []
    for row, r in _rows(ind):
        key = r["indicator_id"]
        if _present(r["city_id"]) == _present(r["group"]):
            problems.append(Problem(file, row, "city_id", "city-or-group",
                                    "a value row names either a city or a group, exactly one of the two", key))
        if _present(r["value_as_stated"]) and _present(r["quote"]) and str(r["value_as_stated"]) not in str(r["quote"]):
            problems.append(Problem(file, row, "value_as_stated", "value-in-quote",
                                    f"{r['value_as_stated']!r} does not occur in the quote", key))
        expected = units.get(r["indicator"])
        if expected and r["unit"] != expected:
            problems.append(Problem(file, row, "unit", "unit-matches-catalog",
                                    f"unit {r['unit']!r} but indicator {r['indicator']!r} is in {expected!r}", key))
        is_range = r["qualifier"] == "range"
        if is_range != _present(r["value_high"]):
            problems.append(Problem(file, row, "value_high", "range-bounds",
                                    "value_high is given exactly when the qualifier is 'range'", key))
        elif is_range and not r["value_high"] > r["value"]:
            problems.append(Problem(file, row, "value_high", "range-bounds",
                                    f"value_high {r['value_high']} is not above value {r['value']}", key))
    return problems


SOURCED_ATTRIBUTES = {
    "region": ["region"],
    "hotline": ["hotline_name", "hotline_number"],
    "launch_year": ["launch_year"],
    "population": ["population"],
    "cluster": ["cluster"],
    "driven_supportive": ["driven_supportive"],
    "integrated_distributed": ["integrated_distributed"],
    "empowerment": ["empowerment"],
}


def _check_cities(cities: pd.DataFrame) -> list[Problem]:
    file = "cities.csv"
    problems = []
    for row, r in _rows(cities):
        for attr, value_columns in SOURCED_ATTRIBUTES.items():
            has_value = any(_present(r[c]) for c in value_columns)
            for part in ("source_id", "locator", "quote"):
                column = f"{attr}_{part}"
                if has_value and not _present(r[column]):
                    problems.append(Problem(file, row, column, "attribute-sourced",
                                            f"{value_columns[0]} has a value but no {part}", r["city_id"]))
            if not has_value and _present(r[f"{attr}_source_id"]):
                problems.append(Problem(file, row, value_columns[0], "attribute-sourced",
                                        f"a source is named but {value_columns[0]} is empty", r["city_id"]))
    return problems


_BIB_KEY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)


def bibtex_keys(path: str | os.PathLike) -> list[str]:
    return _BIB_KEY.findall(Path(path).read_text(encoding="utf-8"))


def _check_sources(sources: pd.DataFrame, bib: Path | None) -> list[Problem]:
    file = "sources.csv"
    problems = []
    keys = set(bibtex_keys(bib)) if bib and bib.is_file() else None
    for row, r in _rows(sources):
        if r["kind"] == "seed" and not _present(r["seed_file"]):
            problems.append(Problem(file, row, "seed_file", "seed-file-named",
                                    "a seed source names its file", r["source_id"]))
        if keys is not None and r["source_id"] not in keys:
            problems.append(Problem(file, row, "source_id", "bibtex-entry",
                                    f"no entry with this key in {bib.name}", r["source_id"]))
    return problems


def _check_log(log: pd.DataFrame) -> list[Problem]:
    problems = []
    for row, r in _rows(log):
        if r["decision"] in ("indicator", "duplicate") and not _present(r["indicator_id"]):
            problems.append(Problem("curation_log.csv", row, "indicator_id", "log-target",
                                    f"decision {r['decision']!r} names the indicators.csv row", f"{r['input']}/{r['input_row']}"))
    return problems


# ---------------------------------------------------------------- seeds

_LOCATOR = re.compile(r"^(?P<file>[^:]+\.txt):L(?P<first>\d+)(?:-(?P<last>\d+))?$")


def seed_quote_rows(tables: dict[str, pd.DataFrame]) -> list[tuple[str, int, str, str, str, str]]:
    """(file, row, key, field, locator, quote) for every quote that cites a seed."""
    seed_ids = set(tables["sources"].loc[tables["sources"]["kind"] == "seed", "source_id"])
    out = []
    for row, r in _rows(tables["indicators"]):
        if r["source_id"] in seed_ids:
            out.append(("indicators.csv", row, r["indicator_id"], "quote", r["locator"], r["quote"]))
    for row, r in _rows(tables["cities"]):
        for attr in SOURCED_ATTRIBUTES:
            if r[f"{attr}_source_id"] in seed_ids:
                out.append(("cities.csv", row, r["city_id"], f"{attr}_quote", r[f"{attr}_locator"], r[f"{attr}_quote"]))
    return out


def check_seed_quotes(tables: dict[str, pd.DataFrame], seeds: Path) -> list[Problem]:
    """Every seed-sourced quote occurs in its seed file on the line(s) its locator names."""
    seed_files = dict(zip(tables["sources"]["source_id"], tables["sources"]["seed_file"]))
    known_files = {f for f in seed_files.values() if _present(f)}
    text = SeedText(seeds)
    problems = []
    for file, row, key, field_name, locator, quote in seed_quote_rows(tables):
        match = _LOCATOR.match(str(locator))
        if not match or match["file"] not in known_files:
            problems.append(Problem(file, row, field_name.replace("quote", "locator"), "seed-locator",
                                    f"locator {locator!r} is not '<seed file>:L<line>' with a known seed file", key))
            continue
        name = match["file"]
        if text.lines(name) is None:
            problems.append(Problem(file, row, field_name, "quote-in-seed", f"seed file {Path(seeds) / name} is missing", key))
            continue
        first = int(match["first"])
        last = int(match["last"] or first)
        if text.span(name, first, last) is None:
            problems.append(Problem(file, row, field_name, "quote-in-seed",
                                    f"{name} has no line(s) {first}-{last}", key))
        elif not text.contains(name, first, last, str(quote)):
            problems.append(Problem(file, row, field_name, "quote-in-seed",
                                    f"the quote does not occur in {name} at line {first}" + (f"-{last}" if last != first else ""), key))
    return problems


# ---------------------------------------------------------------- entry point

TABLE_FILES = {"sources": "sources.csv", "cities": "cities.csv", "indicator_catalog": "indicator_catalog.csv",
               "indicators": "indicators.csv", "curation_log": "curation_log.csv"}


def validate(
    data_dir: str | os.PathLike | None = None,
    seeds: str | os.PathLike | None = None,
    check_seeds: bool = True,
    bibliography: str | os.PathLike | None = None,
) -> ValidationReport:
    """Check the whole data folder; return every problem found (never raise on bad data).

    ``seeds`` names the folder of the seed documents; by default ``$HOTLINES_SEEDS`` or
    ``../shared/seeds`` beside the repository. When it is absent the report says so
    in its notes and the quote check is not run.
    """
    folder = paths.data_dir(data_dir)
    report = ValidationReport(folder)
    descriptor = read_descriptor(folder)
    missing = [r["path"] for r in descriptor["resources"] if not (folder / r["path"]).is_file()]
    for path in missing:
        report.problems.append(Problem(path, None, None, "file-exists", "the file named in datapackage.json is missing"))
    if missing:
        return report

    report.problems.extend(_frictionless_problems(folder, descriptor))
    # Files with broken columns or unreadable cells would only echo the same fault in the rules below.
    structural = {"incorrect-label", "missing-label", "extra-label", "duplicate-label", "blank-label",
                  "type-error", "missing-cell", "extra-cell", "source-error", "scheme-error", "format-error",
                  "encoding-error"}
    broken = {p.file for p in report.problems if p.rule in structural}

    tables = {}
    for name, file in TABLE_FILES.items():
        if file not in broken:
            tables[name] = read_table(folder / file, resource(descriptor, name)["schema"])
    bib = Path(bibliography) if bibliography else paths.bibliography_path()
    if "indicators" in tables and "indicator_catalog" in tables:
        report.problems.extend(_check_indicators(tables["indicators"], tables["indicator_catalog"]))
    if "cities" in tables:
        report.problems.extend(_check_cities(tables["cities"]))
    if "sources" in tables:
        report.problems.extend(_check_sources(tables["sources"], bib if bib.is_file() else None))
        if not bib.is_file():
            report.notes.append(f"BibTeX file {bib} not found: the source/BibTeX match was not checked.")
    if "curation_log" in tables:
        report.problems.extend(_check_log(tables["curation_log"]))

    if check_seeds:
        needed = {"sources", "indicators", "cities"}
        seeds_path = paths.seeds_dir(seeds)
        if not needed <= set(tables):
            report.notes.append("Seed quotes were not checked: fix the file problems above first.")
        elif seeds_path is None:
            count = len(seed_quote_rows(tables))
            looked = ", ".join(paths.seeds_search_paths(seeds))
            report.notes.append(
                f"Seed documents not found (looked in: {looked}); the quote check of {count} seed-sourced "
                "values was NOT run. Give the folder with --seeds PATH or HOTLINES_SEEDS."
            )
        else:
            checked = len(seed_quote_rows(tables))
            seed_problems = check_seed_quotes(tables, seeds_path)
            report.problems.extend(seed_problems)
            report.notes.append(f"Seed quotes: {checked} checked against {seeds_path}, {len(seed_problems)} not found.")
    return report
