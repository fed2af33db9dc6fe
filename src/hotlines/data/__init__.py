"""Loading and validating the shipped tables of the evidence base.

Each loader returns a pandas DataFrame typed by the table's schema in
``data/datapackage.json``, after the whole data folder has validated (schemas,
keys, hashes and the project's own rules); a folder that does not validate raises
:class:`DataValidationError` listing file, row, field and rule of each problem.

>>> from hotlines import data
>>> cities = data.cities()
>>> cities.loc[cities.city_id == "beijing", "hotline_number"].item()
'12345'
"""

from __future__ import annotations

import functools
import os

import pandas as pd

from .. import paths
from .evidence import coverage, outcome_table, source_table, typology_table
from .package import read_descriptor, read_table, rehash, resource, sha256_of
from .validate import DataValidationError, Problem, ValidationReport, validate
from .complete import validate_all

__all__ = [
    "DataValidationError", "Problem", "ValidationReport", "validate", "validate_all", "rehash", "sha256_of",
    "load", "sources", "cities", "indicator_catalog", "indicators", "curation_log",
    "typology_table", "coverage", "outcome_table", "source_table",
]


def _stamp(folder) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir() if p.is_file()))


def _digest(folder) -> str:
    import hashlib

    digest = hashlib.sha256()
    for file in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _cache_dir():
    from pathlib import Path

    return Path(os.environ.get("HOTLINES_CACHE") or Path.home() / ".cache" / "hotlines")


@functools.lru_cache(maxsize=8)
def _validated(folder: str, stamp: tuple) -> ValidationReport:
    """Validate once per content: a folder whose every byte was validated before is not validated again.

    Each chapter runs in a new kernel; without this, each would re-validate the same files.
    Only a successful validation is remembered (by the sha256 of every file's name and bytes).
    """
    from pathlib import Path

    marker = _cache_dir() / "valid" / _digest(Path(folder))
    if marker.is_file():
        return ValidationReport(Path(folder))
    report = validate(folder, check_seeds=False)
    if report.ok:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(folder + "\n", encoding="utf-8")
        except OSError:  # a read-only home only costs the next process a validation
            pass
    return report


def load(name: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load one table of the data package by resource name, validated and typed."""
    folder = paths.data_dir(data_dir)
    report = _validated(str(folder), _stamp(folder))
    if not report.ok:
        raise DataValidationError(report)
    descriptor = read_descriptor(folder)
    res = resource(descriptor, name)
    return read_table(folder / res["path"], res["schema"])


def sources(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per source: ``source_id`` (also the BibTeX key), kind, citation, url, ..."""
    return load("sources", data_dir)


def cities(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The 20 cities of the 2024 evaluation and the US comparison cities, with sourced attributes."""
    return load("cities", data_dir)


def indicator_catalog(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The indicator vocabulary: family and harmonised unit of each indicator."""
    return load("indicator_catalog", data_dir)


def indicators(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Published indicator values, one per row, with ``family`` joined from the catalog."""
    table = load("indicators", data_dir)
    families = indicator_catalog(data_dir).set_index("indicator")["family"]
    table.insert(table.columns.get_loc("indicator") + 1, "family", table["indicator"].map(families).astype("string"))
    return table


def curation_log(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """What became of every row of the research files the evidence base was built from."""
    return load("curation_log", data_dir)
