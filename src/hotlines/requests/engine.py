"""Kaplan–Meier at scale: counts aggregated in DuckDB or Spark, the product-limit in pandas.

A whole city's request history (New York alone has tens of millions of rows) does not
need to reach pandas to get its survival curves. Kaplan–Meier depends on the data only
through the number of closures (events) and of still-open requests (censorings) at
each distinct duration in each group, so the engine

1. computes, inside the database, each request's duration from ``created`` to
   ``closed`` (closed requests) or to ``snapshot`` (open ones, right-censored), in whole
   microseconds, the resolution of both DuckDB's and Spark's timestamps;
2. counts events and censorings per group and distinct duration (one ibis expression,
   :func:`event_counts_expr`, run unchanged by DuckDB or by Spark);
3. brings that small count table to pandas and computes the product-limit estimate,
   Greenwood's variance and the log(-log) confidence interval exactly as lifelines does
   (same formulas, same order of floating-point operations), then quantiles.

The result equals :func:`hotlines.requests.survival.kaplan_meier` (lifelines) on the
same records to 1e-9; the tests check it on the real samples and on generated data.
Input is canonical request records (:mod:`hotlines.requests.schema`): a Parquet file or
list of files, a pandas DataFrame, or an ibis table.

>>> import pandas as pd
>>> t0 = pd.Timestamp("2024-04-15 12:00", tz="UTC")
>>> records = pd.DataFrame({
...     "agency": ["DOT", "DOT", "DOT"],
...     "created": [t0, t0, t0],
...     "closed": [t0 + pd.Timedelta(days=1), pd.NaT, t0 + pd.Timedelta(days=3)],
...     "is_closed": [True, False, True],
...     "snapshot": [t0 + pd.Timedelta(days=2)] * 3})
>>> kaplan_meier(records, by="agency")[["time_days", "n_at_risk", "survival"]].round(4).to_dict("list")
{'time_days': [0.0, 1.0, 2.0, 3.0], 'n_at_risk': [3, 3, 2, 1], 'survival': [1.0, 0.6667, 0.6667, 0.0]}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence, Union

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import norm

from .survival import QUANTILE_TOLERANCE

#: Columns every input must have (canonical names).
REQUIRED = ("created", "closed", "is_closed", "snapshot")
#: Columns used to name offending rows in an error, when present.
LOCATORS = ("source_file", "source_row", "request_id")

MICROSECONDS_PER_DAY = 86_400_000_000

KM_COLUMNS = ["time_days", "n_at_risk", "n_events", "n_censored", "survival", "ci_low", "ci_high"]

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], pd.DataFrame, "ibis.Table"]


# --------------------------------------------------------------------------- backends


def spark_session(master: str = "local[1]", app_name: str = "hotlines"):
    """A local Spark session for the engine: UI off, bound to 127.0.0.1, UTC session time zone.

    Starting one takes several seconds; reuse it. On a cluster, build your own session
    (any session works; the engine does not depend on its time zone, since durations are
    differences of instants).
    """
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def connect(backend="duckdb"):
    """An ibis connection: ``"duckdb"`` (embedded, in memory), ``"spark"`` (the active
    Spark session, or a local one from :func:`spark_session`), a ``SparkSession``, or an
    ibis backend, returned as it is.

    >>> connect("duckdb").name
    'duckdb'
    """
    if isinstance(backend, str):
        if backend == "duckdb":
            return ibis.duckdb.connect()
        if backend == "spark":
            from pyspark.sql import SparkSession

            return ibis.pyspark.connect(SparkSession.getActiveSession() or spark_session())
        raise ValueError(f"unknown backend {backend!r}: use 'duckdb', 'spark', a SparkSession or an ibis backend")
    if isinstance(backend, ibis.BaseBackend):
        return backend
    if type(backend).__name__ == "SparkSession":
        return ibis.pyspark.connect(backend)
    raise TypeError(f"cannot make an ibis connection from {type(backend).__name__}")


def requests_table(source: Source, con, by: Sequence[str] = ()) -> ibis.Table:
    """The records as an ibis table on ``con``: Parquet path(s), a DataFrame, or an ibis table.

    A DataFrame is handed over with only the columns the engine reads (the required
    ones, the grouping columns ``by``, and the locators used to name bad rows).
    """
    if isinstance(source, ibis.Table):
        return source
    if isinstance(source, pd.DataFrame):
        missing = [c for c in [*REQUIRED, *by] if c not in source.columns]
        if missing:
            raise ValueError(f"request records lack columns: {', '.join(missing)}")
        wanted = list(dict.fromkeys([*REQUIRED, *by, *(c for c in LOCATORS if c in source.columns)]))
        return ibis.memtable(source[wanted])
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not paths:
        raise ValueError("no Parquet file given")
    for path in paths:
        if "*" not in str(path) and not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such Parquet file")
    try:
        return con.read_parquet([str(p) for p in paths] if len(paths) > 1 else str(paths[0]))
    except Exception as exc:
        if "NANOS" in str(exc):  # Spark reads no nanosecond timestamps
            raise ValueError(
                f"{paths[0]}: timestamps are stored in nanoseconds, which Spark cannot read; write the Parquet "
                "with microsecond timestamps (pandas: to_parquet(path, coerce_timestamps='us'))"
            ) from exc
        raise


# --------------------------------------------------------------------------- the one expression


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


@ibis.udf.scalar.builtin
def unix_micros(timestamp: dt.timestamp) -> dt.int64:
    """Microseconds since 1970-01-01 UTC: Spark SQL's ``unix_micros``, which ibis's SQL
    compiler (sqlglot) writes as ``epoch_us`` for DuckDB."""


def duration_expr(table: ibis.Table):
    """(duration in whole microseconds, event flag) as ibis expressions.

    ``event`` is the publisher's closed flag with a known closing time (as in
    :func:`hotlines.requests.schema.durations`); an open request runs to ``snapshot``.
    The duration is a difference of epoch microseconds: exact, independent of any
    session time zone, and an integer read straight from the stored timestamp. (ibis's
    portable ``delta`` compiles to DuckDB's calendar-aware ``date_diff``, which on
    time-zone-aware columns took ten times longer on 10 million rows.)
    """
    event = table.is_closed.fill_null(False) & table.closed.notnull()
    end = event.ifelse(table.closed, table.snapshot)
    return unix_micros(end) - unix_micros(table.created), event


def event_counts_expr(table: ibis.Table, by: str | Sequence[str] | None = None) -> ibis.Table:
    """Events and removals per group and distinct duration: the one ibis expression that
    DuckDB and Spark both run.

    Columns: grouping columns, ``duration_us``, ``n_removed`` (requests whose follow-up
    ends at that duration) and ``n_events`` (those that closed there).
    """
    keys = _as_list(by)
    missing = [c for c in [*REQUIRED, *keys] if c not in table.columns]
    if missing:
        raise ValueError(f"request records lack columns: {', '.join(missing)}")
    duration_us, event = duration_expr(table)
    narrow = table.select(*keys, duration_us=duration_us, event=event.cast("int64"))
    return narrow.group_by([*keys, "duration_us"]).aggregate(
        n_removed=narrow.count(), n_events=narrow.event.sum()
    )


def _offending_rows(table: ibis.Table, condition, con, limit: int = 5) -> str:
    columns = [c for c in LOCATORS if c in table.columns]
    if not columns:
        return "(the input has no source_file/source_row/request_id columns to name them)"
    rows = con.execute(table.filter(condition).select(*columns).limit(limit))
    names = []
    for row in rows.itertuples(index=False):
        values = row._asdict()
        name = f"{values.get('source_file')} row {values.get('source_row')}" if "source_file" in values else ""
        if "request_id" in values:
            name += f" (request {values['request_id']})"
        names.append(name.strip())
    return "; ".join(names)


def _counts_arrow(source: Source, keys: list[str], backend) -> pa.Table:
    """The executed count table as Arrow (``n_removed`` kept), durations checked."""
    con = source.get_backend() if isinstance(source, ibis.Table) else connect(backend)
    table = requests_table(source, con, keys)
    counts = con.to_pyarrow(event_counts_expr(table, keys))
    duration_us = counts["duration_us"]
    missing = pc.is_null(duration_us)
    negative = pc.fill_null(pc.less(duration_us, 0), False)
    if pc.any(missing).as_py() or pc.any(negative).as_py():
        duration_of_row, _ = duration_expr(table)
        if pc.any(missing).as_py():
            n = pc.sum(pc.filter(counts["n_removed"], missing)).as_py()
            raise ValueError(
                f"field duration: {n} rows have no computable duration (rule: created is known, and closed or "
                f"snapshot is known), e.g. {_offending_rows(table, duration_of_row.isnull(), con)}"
            )
        n = pc.sum(pc.filter(counts["n_removed"], negative)).as_py()
        raise ValueError(
            f"field closed: {n} rows close before they open (rule: closed >= created; validation quarantines "
            f"these), e.g. {_offending_rows(table, duration_of_row < 0, con)}"
        )
    n_censored = pc.subtract(pc.cast(counts["n_removed"], pa.int64()), pc.cast(counts["n_events"], pa.int64()))
    return pa.table(
        {
            **{name: counts[name] for name in keys},
            "duration_us": pc.cast(duration_us, pa.int64()),
            "n_events": pc.cast(counts["n_events"], pa.int64()),
            "n_censored": n_censored,
        }
    )


def _key_column(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        # Arrow-backed strings: no conversion to Python objects for millions of rows
        return pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))
    return pd.Series(values.to_pandas())


class _Sorted:
    """A count table's sort order and groups, computed on integer codes, not on strings.

    Each grouping column is dictionary-encoded; its few distinct values are ranked (Arrow
    orders strings by code point, as Python does) and rows are sorted by those ranks,
    missing keys last, then by duration. Sorting millions of rows on strings directly
    took several times longer.
    """

    def __init__(self, counts: pa.Table, keys: list[str]):
        self.counts, self.keys = counts, keys
        self.dictionaries, self.indices, sort_codes = [], [], []
        for name in keys:
            encoded = pc.dictionary_encode(counts[name].combine_chunks())
            dictionary = encoded.dictionary
            index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            rank = np.empty(len(dictionary), dtype=np.int64)
            rank[pc.array_sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
            code = np.full(len(index), len(dictionary), dtype=np.int64)  # missing: after every value
            present = index >= 0
            code[present] = rank[index[present]]
            self.dictionaries.append(dictionary)
            self.indices.append(index)
            sort_codes.append(code)
        duration = counts["duration_us"].to_numpy().astype(np.int64)
        self.order = self._order(duration, sort_codes, [len(d) + 1 for d in self.dictionaries])
        starts = np.zeros(len(self.order), dtype=bool)
        if len(self.order):
            starts[0] = True
        for code in sort_codes:
            ordered = code[self.order]
            starts[1:] |= ordered[1:] != ordered[:-1]
        self.group = np.cumsum(starts) - 1

    @staticmethod
    def _order(duration: np.ndarray, sort_codes: list[np.ndarray], radices: list[int]) -> np.ndarray:
        if len(duration) == 0:
            return np.zeros(0, dtype=np.int64)
        span = int(duration.max()) + 1
        if duration.min() >= 0 and int(np.prod(radices, dtype=object)) * span < 2**62:
            # one int64 key (group rank, then duration): one argsort instead of a lexsort
            composite = np.zeros(len(duration), dtype=np.int64)
            for code, radix in zip(sort_codes, radices):
                composite = composite * radix + code
            return np.argsort(composite * span + duration, kind="stable")
        return np.lexsort([duration, *reversed(sort_codes)])

    def column(self, name: str) -> np.ndarray:
        """A numeric column in sorted order."""
        return self.counts[name].to_numpy().astype(np.int64)[self.order]

    def keys_at(self, rows: np.ndarray) -> pd.DataFrame:
        """The grouping columns of the given sorted rows."""
        out = {}
        for name, dictionary, index in zip(self.keys, self.dictionaries, self.indices):
            picked = index[self.order[rows]]
            values = dictionary.take(pa.array(np.where(picked < 0, 0, picked), mask=picked < 0)) if len(dictionary) \
                else pa.nulls(len(picked), type=dictionary.type)
            out[name] = _key_column(values)
        return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


def product_limit(
    counts: pd.DataFrame | pa.Table, by: str | Sequence[str] | None = None, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan–Meier table from a count table (grouping columns, ``duration_us``, ``n_events``, ``n_censored``).

    Per group, with n_i at risk and d_i closures at the i-th distinct duration,
    S(t) = prod over t_i <= t of (1 - d_i / n_i), computed as lifelines does, as the
    exponential of a cumulative sum of log(n_i - d_i) - log(n_i); Greenwood's variance
    sum d_i / (n_i (n_i - d_i)) (a term with n_i = d_i counts 0, as in lifelines); the
    pointwise interval exp(-exp(log(-log S) -/+ z sqrt(V) / log S)), set to 1 where
    undefined (S = 1). A time-0 row opens every group, as in lifelines' event table.
    Groups are sorted by key (missing keys last), rows by time.

    >>> counts = pd.DataFrame({"duration_us": [86_400_000_000, 172_800_000_000],
    ...                        "n_events": [1, 1], "n_censored": [1, 0]})
    >>> product_limit(counts)[["time_days", "n_at_risk", "survival"]].round(4).to_dict("list")
    {'time_days': [0.0, 1.0, 2.0], 'n_at_risk': [3, 3, 1], 'survival': [1.0, 0.6667, 0.0]}
    """
    keys = _as_list(by)
    if isinstance(counts, pd.DataFrame):
        counts = pa.Table.from_pandas(counts[[*keys, "duration_us", "n_events", "n_censored"]], preserve_index=False)
    ordered = _Sorted(counts.select([*keys, "duration_us", "n_events", "n_censored"]), keys)
    group = ordered.group
    duration_us = ordered.column("duration_us")
    deaths_int = ordered.column("n_events")
    censored_int = ordered.column("n_censored")
    row = np.arange(len(group))

    # every group opens with a row at time 0 (lifelines' entrance row)
    first = np.flatnonzero(np.diff(group, prepend=-1))
    opening = first[duration_us[first] > 0]
    duration_us = np.insert(duration_us, opening, 0)
    deaths_int = np.insert(deaths_int, opening, 0)
    censored_int = np.insert(censored_int, opening, 0)
    group = np.insert(group, opening, group[opening])
    row = np.insert(row, opening, opening)

    removed_int = deaths_int + censored_int
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    sizes = np.diff(np.append(starts, len(group)))
    totals = np.repeat(np.add.reduceat(removed_int, starts), sizes) if len(group) else removed_int
    cumulative = np.cumsum(removed_int)
    removed_before = cumulative - removed_int - np.repeat(cumulative[starts] - removed_int[starts], sizes)
    at_risk = (totals - removed_before).astype(float)
    deaths = deaths_int.astype(float)

    with np.errstate(divide="ignore", invalid="ignore"):
        log_terms = np.log(at_risk - deaths) - np.log(at_risk)
        variance_terms = deaths / (at_risk * (at_risk - deaths))
    variance_terms[np.isinf(variance_terms)] = 0.0
    # per-group running sums must restart at each group (a sum reaching -inf must not leak)
    by_group = pd.DataFrame({"log": log_terms, "variance": variance_terms}).groupby(group, sort=False).cumsum()
    survival = np.exp(by_group["log"].to_numpy())
    greenwood = by_group["variance"].to_numpy()

    z = norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(survival)
        ci_low = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        ci_high = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    out = ordered.keys_at(row)
    out["time_days"] = duration_us / MICROSECONDS_PER_DAY
    out["n_at_risk"] = at_risk.astype(np.int64)
    out["n_events"] = deaths_int
    out["n_censored"] = censored_int
    out["survival"] = survival
    out["ci_low"] = np.where(np.isnan(ci_low), 1.0, ci_low)
    out["ci_high"] = np.where(np.isnan(ci_high), 1.0, ci_high)
    return out


def event_counts(source: Source, by: str | Sequence[str] | None = None, *, backend="duckdb") -> pd.DataFrame:
    """Run :func:`event_counts_expr` on the backend and check the durations.

    Returns grouping columns, ``duration_us``, ``n_events``, ``n_censored``, sorted by
    group (missing keys last) and duration. Raises ``ValueError`` naming file, row and
    request of the first offending records when a duration is missing (no ``created``,
    or an open request without ``snapshot``) or negative (closed before created).
    """
    keys = _as_list(by)
    ordered = _Sorted(_counts_arrow(source, keys, backend), keys)
    out = ordered.keys_at(np.arange(len(ordered.group)))
    for name in ("duration_us", "n_events", "n_censored"):
        out[name] = ordered.column(name)
    return out


def kaplan_meier(
    source: Source, by: str | Sequence[str] | None = None, *, backend="duckdb", alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan–Meier table per group, aggregated in the engine.

    Same columns and values as :func:`hotlines.requests.survival.kaplan_meier`: grouping
    columns, ``time_days``, ``n_at_risk``, ``n_events``, ``n_censored``, ``survival``,
    ``ci_low``, ``ci_high``. ``backend`` is ``"duckdb"`` (default), ``"spark"``, a
    SparkSession or an ibis connection; the query is the same ibis expression on all.
    An ibis table runs on the backend it is bound to (``backend`` is then not used).
    The count table goes from the engine to Arrow and on to NumPy without a detour
    through Python objects, so a table of millions of distinct durations stays cheap.
    """
    keys = _as_list(by)
    return product_limit(_counts_arrow(source, keys, backend), keys, alpha=alpha)


# --------------------------------------------------------------------------- quantiles


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    if not keys:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()


def quantiles(
    km_table: pd.DataFrame, by: str | Sequence[str] | None = None, *, shares_closed: Iterable[float] = (0.25, 0.5, 0.75)
) -> pd.DataFrame:
    """Time by which a share of requests is closed, per group, from a Kaplan–Meier table.

    For share p the estimate is the first time the survival curve is at or below 1 - p,
    and the limits the first times the ``ci_low`` and ``ci_high`` bands are (the search of
    lifelines' ``qth_survival_time``, with 1 - p raised by
    :data:`hotlines.requests.survival.QUANTILE_TOLERANCE` against rounding; ``inf`` when
    the curve ends above 1 - p, i.e. not reached within the follow-up). Equal to
    :func:`hotlines.requests.survival.km_quantiles`. Columns: grouping columns,
    ``share_closed``, ``survival``, ``estimate_days``, ``ci_low``, ``ci_high``, ``reached``,
    ``n``, ``n_events``.

    >>> km = pd.DataFrame({"time_days": [0.0, 1.0, 2.0], "n_at_risk": [2, 2, 1], "n_events": [0, 1, 1],
    ...                    "n_censored": [0, 0, 0], "survival": [1.0, 0.5, 0.0],
    ...                    "ci_low": [1.0, 0.1, 0.0], "ci_high": [1.0, 0.9, 0.0]})
    >>> quantiles(km, shares_closed=[0.5])[["estimate_days", "ci_low", "ci_high"]].values.tolist()
    [[1.0, 1.0, 2.0]]
    """
    keys = _as_list(by)
    shares = [float(p) for p in shares_closed]
    if not all(0 < p < 1 for p in shares):
        raise ValueError(f"shares_closed must lie strictly between 0 and 1, got {shares}")
    group = _group_ids(km_table, keys)
    bounds = np.flatnonzero(np.diff(group, prepend=-1, append=-1))
    time = km_table["time_days"].to_numpy(dtype=float)
    columns = {name: km_table[name].to_numpy(dtype=float) for name in ("survival", "ci_low", "ci_high")}
    at_risk = km_table["n_at_risk"].to_numpy()
    events = km_table["n_events"].to_numpy()

    def first_time(times: np.ndarray, curve: np.ndarray, q: float) -> float:
        q = q + QUANTILE_TOLERANCE
        if curve[-1] > q:
            return np.inf
        return float(times[np.searchsorted(-curve, -q, side="left")])

    rows = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        segment_time = time[start:stop]
        key = km_table.iloc[start][keys].to_dict() if keys else {}
        for p in shares:
            q = 1.0 - p
            estimate = first_time(segment_time, columns["survival"][start:stop], q)
            rows.append(
                {
                    **key,
                    "share_closed": p,
                    "survival": q,
                    "estimate_days": estimate,
                    "ci_low": first_time(segment_time, columns["ci_low"][start:stop], q),
                    "ci_high": first_time(segment_time, columns["ci_high"][start:stop], q),
                    "reached": bool(np.isfinite(estimate)),
                    "n": int(at_risk[start]),
                    "n_events": int(events[start:stop].sum()),
                }
            )
    out = pd.DataFrame(rows, columns=keys + ["share_closed", "survival", "estimate_days", "ci_low", "ci_high", "reached", "n", "n_events"])
    for name in keys:
        out[name] = out[name].astype(km_table[name].dtype)
    return out
