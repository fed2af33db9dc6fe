"""Mapping files: how one city's dataset version becomes canonical request records.

A mapping is a YAML file in ``src/hotlines/requests/mappings/`` (one per city and
dataset structure; they live beside the code because they are the loaders' contract
with a publisher, versioned with the code that reads them, and needed wherever the
data folder is). Its keys:

``name``, ``version``
    the mapping's id and an integer bumped on any change of meaning; both are
    recorded with every fetched file.
``city``, ``dataset``
    the canonical ``city`` (a ``city_id`` of ``data/cities.csv``) and ``dataset``
    values of every record read with it.
``timezone``
    the IANA zone the publisher's naive timestamps are in.
``api``
    ``null`` for export-only layouts, else ``portal`` (``socrata`` or ``ckan``),
    ``base_url``, ``dataset_id`` (Socrata) or ``resource_id`` (CKAN, may be null),
    ``order`` (a unique field giving a stable paging order) and ``date_field``.
``timestamp_formats``
    ``strptime`` formats tried in order for each value.
``fields``
    canonical column -> source field (or a list of alternatives, first present wins).
    ``request_id``, ``created``, ``closed`` and ``status`` are required.
``optional``
    canonical columns whose source field may be absent from an export.
``statuses``
    ``closed`` and ``open``: the published status values of each kind.
``observed_timestamps``
    source fields holding times the publisher observed (not targets): the latest of
    them bounds an export's unrecorded retrieval time from below.

>>> m = load_mapping("nyc_erm2-nwe9_api")
>>> m.city, m.timezone, m.fields["created"]
('new_york', 'America/New_York', ('created_date',))
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .schema import CITY_TIMEZONES, COLUMNS

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

#: canonical columns a mapping must name; the others it may leave out
REQUIRED_FIELDS = ("request_id", "created", "closed", "status")
#: canonical columns a mapping may fill from a source field
MAPPABLE_FIELDS = ("request_id", "created", "closed", "status", "agency", "category", "channel", "due")
TIMESTAMP_FIELDS = ("created", "closed", "due")


class MappingError(ValueError):
    """A mapping file is malformed, or a source lacks the fields a mapping names."""


@dataclass(frozen=True)
class Mapping:
    """One city's dataset structure, as read from its YAML file (see the module docstring)."""

    name: str
    version: int
    city: str
    dataset: str
    title: str
    publisher: str
    timezone: str
    timestamp_formats: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    optional: frozenset[str]
    closed_statuses: frozenset[str]
    open_statuses: frozenset[str]
    observed_timestamps: tuple[str, ...]
    api: dict | None = None
    note: str = ""
    path: Path | None = None
    sha256: str = ""
    verified_on: tuple[str, ...] = field(default_factory=tuple)

    @property
    def portal(self) -> str | None:
        return (self.api or {}).get("portal")

    def source_fields(self) -> list[str]:
        """Every source field the mapping names (each alternative), in canonical order."""
        return [name for canonical in MAPPABLE_FIELDS for name in self.fields.get(canonical, ())]

    def resolve(self, columns, where: str, *, require_optional: bool = False) -> dict[str, str | None]:
        """Canonical column -> the source column of ``columns`` that fills it (None: absent, optional).

        Raises :class:`MappingError` naming ``where``, each missing source field, the
        canonical column it feeds and the nearest names present.
        """
        present = list(columns)
        resolved: dict[str, str | None] = {}
        missing = []
        for canonical, alternatives in self.fields.items():
            found = next((a for a in alternatives if a in present), None)
            if found is None and (canonical not in self.optional or require_optional):
                missing.append((canonical, alternatives))
            resolved[canonical] = found
        if missing:
            parts = []
            for canonical, alternatives in missing:
                names = " or ".join(repr(a) for a in alternatives)
                near = sorted({n for a in alternatives for n in difflib.get_close_matches(a, present, n=3, cutoff=0.6)})
                hint = f" (similar names present: {', '.join(map(repr, near))})" if near else ""
                parts.append(f"field {names} for canonical column '{canonical}' is missing{hint}")
            raise MappingError(
                f"{where}: does not match mapping '{self.name}' v{self.version}: " + "; ".join(parts)
                + ". If the publisher renamed a field, update the mapping file "
                f"{self.path.name if self.path else self.name} (and bump its version); if this is "
                "another dataset structure, choose its mapping (`hotlines requests mappings`)."
            )
        return resolved


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_mapping(name_or_path: str | Path | Mapping) -> Mapping:
    """A mapping by name (a file of ``mappings/``) or by path; checks its layout."""
    if isinstance(name_or_path, Mapping):
        return name_or_path
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        names = ", ".join(available_mappings()["name"])
        raise MappingError(f"no mapping {str(name_or_path)!r}: the mappings are {names}")
    raw_bytes = path.read_bytes()
    doc = yaml.safe_load(raw_bytes)
    where = str(path)
    for key in ("name", "version", "city", "dataset", "timezone", "timestamp_formats", "fields", "statuses"):
        if key not in doc:
            raise MappingError(f"{where}: key '{key}' is missing")
    fields = {k: _as_tuple(v) for k, v in doc["fields"].items()}
    unknown = sorted(set(fields) - set(MAPPABLE_FIELDS))
    if unknown:
        raise MappingError(f"{where}: fields {unknown} are not canonical columns ({', '.join(MAPPABLE_FIELDS)})")
    lacking = [c for c in REQUIRED_FIELDS if not fields.get(c)]
    if lacking:
        raise MappingError(f"{where}: fields must name {', '.join(lacking)}")
    optional = frozenset(doc.get("optional") or ())
    if optional & set(REQUIRED_FIELDS):
        raise MappingError(f"{where}: {sorted(optional & set(REQUIRED_FIELDS))} cannot be optional")
    if doc["city"] in CITY_TIMEZONES and CITY_TIMEZONES[doc["city"]] != doc["timezone"]:
        raise MappingError(f"{where}: timezone {doc['timezone']} differs from the schema's {CITY_TIMEZONES[doc['city']]}")
    closed = frozenset(doc["statuses"].get("closed") or ())
    opened = frozenset(doc["statuses"].get("open") or ())
    if not closed or closed & opened:
        raise MappingError(f"{where}: statuses need a non-empty 'closed' list disjoint from 'open'")
    api = doc.get("api")
    if api is not None:
        for key in ("portal", "base_url", "order", "date_field"):
            if key not in api:
                raise MappingError(f"{where}: api.{key} is missing")
        if api["portal"] not in ("socrata", "ckan"):
            raise MappingError(f"{where}: api.portal must be socrata or ckan")
    return Mapping(
        name=str(doc["name"]),
        version=int(doc["version"]),
        city=str(doc["city"]),
        dataset=str(doc["dataset"]),
        title=str(doc.get("title", "")),
        publisher=str(doc.get("publisher", "")),
        timezone=str(doc["timezone"]),
        timestamp_formats=_as_tuple(doc["timestamp_formats"]),
        fields=fields,
        optional=optional,
        closed_statuses=closed,
        open_statuses=opened,
        observed_timestamps=_as_tuple(doc.get("observed_timestamps")),
        api=api,
        note=str(doc.get("note", "")).strip(),
        path=path.resolve(),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        verified_on=_as_tuple(doc.get("verified_on")),
    )


def available_mappings() -> pd.DataFrame:
    """One row per mapping file: name, version, city, dataset, portal, title."""
    rows = []
    for path in sorted(MAPPINGS_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        rows.append({
            "name": doc["name"], "version": doc["version"], "city": doc["city"], "dataset": doc["dataset"],
            "portal": (doc.get("api") or {}).get("portal"), "title": doc.get("title", ""),
        })
    return pd.DataFrame(rows, columns=["name", "version", "city", "dataset", "portal", "title"])


def find_mapping(city: str, dataset: str, *, fetchable: bool = False) -> Mapping:
    """The mapping named ``dataset``, or the one of ``city`` whose dataset or API id is ``dataset``.

    With ``fetchable``, only mappings with an API section count (NYC has two mappings
    of ``erm2-nwe9``: the API's and the CSV export's).
    """
    table = available_mappings()
    if dataset in set(table["name"]):
        return load_mapping(dataset)
    candidates = []
    for name in table.loc[table["city"] == city, "name"]:
        m = load_mapping(name)
        ids = {m.dataset, m.dataset.split("_", 1)[-1], (m.api or {}).get("dataset_id")}
        if dataset in ids and (m.api or not fetchable):
            candidates.append(m)
    if len(candidates) == 1:
        return candidates[0]
    listing = table[["name", "city", "dataset", "portal"]].to_string(index=False)
    if not candidates:
        raise MappingError(f"no mapping for city {city!r} and dataset {dataset!r}; the mappings are:\n{listing}")
    raise MappingError(
        f"city {city!r} and dataset {dataset!r} match several mappings "
        f"({', '.join(c.name for c in candidates)}): name one of them"
    )


def detect_mapping(columns, where: str) -> Mapping:
    """The one mapping whose required source fields are all among ``columns``."""
    matches = []
    for name in available_mappings()["name"]:
        m = load_mapping(name)
        try:
            m.resolve(columns, where)
        except MappingError:
            continue
        matches.append(m)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise MappingError(
            f"{where}: its columns match no mapping; name one with --mapping "
            f"(`hotlines requests mappings` lists them) or write a mapping file for this layout"
        )
    raise MappingError(f"{where}: its columns match several mappings ({', '.join(m.name for m in matches)}); name one")


# ---------------------------------------------------------------- timestamps


@dataclass(frozen=True)
class ParsedTimestamps:
    """Parsed values of one timestamp column, with what went wrong where.

    ``utc``: the instants (NaT where blank or unparseable); ``local``: the naive wall
    times read; ``unparseable``, ``ambiguous``, ``nonexistent``: boolean masks.
    """

    utc: pd.Series
    local: pd.Series
    unparseable: pd.Series
    ambiguous: pd.Series
    nonexistent: pd.Series


def parse_local(values: pd.Series, formats, timezone: str) -> ParsedTimestamps:
    """Read naive local timestamps with ``formats`` and localise them to ``timezone``.

    Blank values are missing, not errors. A wall time that names no single instant
    (the hour repeated when clocks go back, or skipped when they go forward) is read
    as **standard time**, the zone's offset without daylight saving, and reported in ``ambiguous`` or
    ``nonexistent``: the rule is one and documented, the error is at most one hour,
    and the row is flagged so an analysis can test it.

    >>> p = parse_local(pd.Series(["11/01/2015 01:30:00 AM", ""]), ["%m/%d/%Y %I:%M:%S %p"], "America/New_York")
    >>> str(p.utc[0]), bool(p.ambiguous[0]), p.utc.isna().tolist()
    ('2015-11-01 06:30:00+00:00', True, [False, True])
    """
    index = values.index
    text = pd.Series(values.to_numpy(dtype=object), dtype="string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy()
    local = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    todo = ~blank
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        local[parsed[parsed.notna()].index] = parsed[parsed.notna()]
        todo = todo & local.isna().to_numpy()
    unparseable = todo
    no_dst = np.zeros(len(local), dtype=bool)
    # NaT marks the wall times that are not exactly one instant
    strict = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    problem = (strict.isna() & local.notna()).to_numpy()
    standard = local.dt.tz_localize(timezone, ambiguous=no_dst, nonexistent="NaT")
    nonexistent = problem & standard.isna().to_numpy()
    ambiguous = problem & ~nonexistent
    if nonexistent.any():
        # the skipped hour read at the standard offset is one hour later on the daylight-saving clock (every zone here shifts by one hour)
        standard = local.dt.tz_localize(timezone, ambiguous=no_dst, nonexistent=pd.Timedelta(hours=1))
    utc = standard.dt.tz_convert("UTC").astype(COLUMNS["created"][0])

    return ParsedTimestamps(
        utc=utc.set_axis(index),
        local=local.set_axis(index),
        unparseable=pd.Series(unparseable, index=index),
        ambiguous=pd.Series(ambiguous, index=index),
        nonexistent=pd.Series(nonexistent, index=index),
    )


def latest_observed(raw: pd.DataFrame, mapping: Mapping, where: str) -> pd.Timestamp:
    """The latest time the file says its publisher observed (UTC): a lower bound of retrieval.

    Looks at ``mapping.observed_timestamps`` present in ``raw`` (created, closed and
    update times; never targets such as due dates, which lie in the future).
    """
    present = [f for f in mapping.observed_timestamps if f in raw.columns]
    if not present:
        raise MappingError(f"{where}: none of the observed-time fields {list(mapping.observed_timestamps)} is present")
    latest = []
    for name in present:
        parsed = parse_local(raw[name], mapping.timestamp_formats, mapping.timezone)
        if parsed.utc.notna().any():
            latest.append(parsed.utc.max())
    if not latest:
        raise MappingError(f"{where}: no parseable timestamp in {present}")
    return max(latest)
