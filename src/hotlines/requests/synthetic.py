"""SYNTHETIC request records for benchmarks: real samples scaled up by resampling.

The engine's speed and memory goals are stated for millions of rows; the real samples
have thousands. This module bootstraps rows of real canonical records (drawn with
replacement by a seeded ``numpy.random.Generator``), moves each drawn row to a new
creation time drawn uniformly, in whole seconds, within the creation-time range of the
file it came from, and shifts all its timestamps (``created``, ``closed``, ``due``,
``snapshot``) by the same amount. Every duration and every censoring flag is therefore
the original row's, exactly; since the snapshot moves with the row, each synthetic row
carries its own ``snapshot``.

What comes out is **synthetic**: for benchmarks only, never for the book's findings.
It says so three times: the ``dataset`` values are prefixed ``SYNTHETIC:``, a boolean
column ``synthetic`` is True on every row, and the Parquet file's key-value metadata
``hotlines.synthetic`` holds the label, the seed, the method and the source files.
``request_id`` values are new (``synthetic-<n>``); ``source_file`` and ``source_row``
still name the real row each synthetic row was drawn from.

Resampling keeps the distinct durations of the sample: a scaled-up table has no more
distinct (group, duration) pairs than its sample, unlike a real history of the same size.
``stretch_seconds`` trades that fidelity for realism of scale: each duration is
lengthened by a random number of seconds, so nearly every row has its own duration.

>>> import pandas as pd
>>> t0 = pd.Timestamp("2024-04-15 12:00", tz="UTC")
>>> sample = pd.DataFrame({"dataset": ["d", "d"], "request_id": ["1", "2"],
...     "created": [t0, t0 + pd.Timedelta(hours=1)], "closed": [t0 + pd.Timedelta(hours=2), pd.NaT],
...     "is_closed": [True, False], "due": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"),
...     "snapshot": [t0 + pd.Timedelta(hours=5)] * 2, "source_file": ["f.csv", "f.csv"], "source_row": [1, 2]})
>>> big = resample(sample, 4, seed=1)
>>> big["dataset"].unique().tolist(), bool(big["synthetic"].all())
(['SYNTHETIC:d'], True)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .schema import COLUMNS, conform
from .survival import time_to_event

LABEL = "SYNTHETIC: bootstrap resample of real request records, for benchmarks only; never use for findings"
METADATA_KEY = b"hotlines.synthetic"
PREFIX = "SYNTHETIC:"
TIMESTAMPS = ("created", "closed", "due", "snapshot")
MICROSECONDS_PER_SECOND = 1_000_000


def _generator(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _prepared(frame: pd.DataFrame) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The sample as Arrow (microsecond timestamps) and each row's creation-range bounds in µs."""
    missing = [c for c in ("created", "snapshot", "closed", "is_closed", "source_file", "dataset") if c not in frame.columns]
    if missing:
        raise ValueError(f"the sample lacks canonical columns: {', '.join(missing)}")
    if len(frame) == 0:
        raise ValueError("cannot resample an empty sample")
    time_to_event(frame)  # refuses missing or negative durations, naming the rows
    sample = frame.reset_index(drop=True).copy()
    for name in TIMESTAMPS:
        if name in sample.columns:
            sample[name] = sample[name].astype("datetime64[us, UTC]")
    table = pa.Table.from_pandas(sample, preserve_index=False).replace_schema_metadata(None)
    created_us = sample["created"].astype("int64").to_numpy()
    origin = sample["source_file"].astype("string").fillna("").astype(str)
    low = pd.Series(created_us).groupby(origin.to_numpy()).transform("min").to_numpy()
    high = pd.Series(created_us).groupby(origin.to_numpy()).transform("max").to_numpy()
    return table, low, high


def _chunks(frame: pd.DataFrame, n_rows: int, seed, chunk_rows: int, stretch_seconds: int = 0) -> Iterator[pa.Table]:
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    if stretch_seconds < 0:
        raise ValueError("stretch_seconds must not be negative")
    rng = _generator(seed)
    table, low, high = _prepared(frame)
    created_us = pc.cast(table["created"], pa.int64()).to_numpy(zero_copy_only=False)
    done = 0
    while done < n_rows:
        size = min(chunk_rows, n_rows - done)
        drawn = rng.integers(0, table.num_rows, size)
        span_seconds = (high[drawn] - low[drawn]) // MICROSECONDS_PER_SECOND
        new_created = low[drawn] + rng.integers(0, span_seconds + 1) * MICROSECONDS_PER_SECOND
        shift = pa.array(new_created - created_us[drawn], type=pa.duration("us"))
        chunk = table.take(pa.array(drawn))
        for name in TIMESTAMPS:
            if name in chunk.column_names:
                index = chunk.column_names.index(name)
                chunk = chunk.set_column(index, name, pc.add(chunk[name], shift))
        if stretch_seconds:
            stretch = pa.array(rng.integers(0, stretch_seconds + 1, size) * MICROSECONDS_PER_SECOND, type=pa.duration("us"))
            for name in ("closed", "snapshot"):
                chunk = chunk.set_column(chunk.column_names.index(name), name, pc.add(chunk[name], stretch))
        ids = pc.binary_join_element_wise(
            "synthetic-", pc.cast(pa.array(np.arange(done + 1, done + size + 1)), pa.string()), ""
        )
        chunk = chunk.set_column(chunk.column_names.index("request_id"), "request_id", ids) if "request_id" in chunk.column_names else chunk.append_column("request_id", ids)
        dataset = pc.binary_join_element_wise(PREFIX, pc.cast(chunk["dataset"], pa.string()), "")
        chunk = chunk.set_column(chunk.column_names.index("dataset"), "dataset", dataset)
        chunk = chunk.append_column("synthetic", pa.array(np.ones(size, dtype=bool)))
        yield chunk
        done += size


def resample(
    frame: pd.DataFrame,
    n_rows: int,
    *,
    seed: int | np.random.Generator,
    chunk_rows: int = 1_000_000,
    stretch_seconds: int = 0,
) -> pd.DataFrame:
    """``n_rows`` SYNTHETIC records bootstrapped from the canonical ``frame`` (see the module).

    ``stretch_seconds`` > 0 lengthens every duration by a whole number of seconds drawn
    uniformly from 0 to that value (``closed`` and ``snapshot`` move together, so the
    censoring flags stay): durations are then no longer the sample's, but their number of
    distinct values approaches that of a real history, the harder case for the engine's
    count table. Reproducible bit for bit for a given seed, sample and ``chunk_rows``.
    """
    parts = list(_chunks(frame, n_rows, seed, chunk_rows, stretch_seconds))
    if not parts:
        return frame.iloc[0:0].assign(synthetic=pd.Series(dtype=bool))
    out = pa.concat_tables(parts).to_pandas()
    for name in TIMESTAMPS:
        if name in out.columns:
            out[name] = out[name].astype("datetime64[ns, UTC]")
    if all(name in out.columns for name in COLUMNS):
        out = conform(out).assign(synthetic=out["synthetic"].to_numpy())
    return out


def write_parquet(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    n_rows: int,
    *,
    seed: int | np.random.Generator,
    chunk_rows: int = 1_000_000,
    row_group_rows: int = 122_880,
    stretch_seconds: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write ``n_rows`` SYNTHETIC records to a Parquet file, chunk by chunk (bounded memory).

    ``stretch_seconds`` as in :func:`resample`. Row groups hold ``row_group_rows`` rows (DuckDB's own row-group size): DuckDB and
    Spark scan a Parquet file in parallel by row group, so one huge group is read by one
    thread.

    The file carries the ``hotlines.synthetic`` metadata (label, seed, method, source
    files and their row counts). It is written to a temporary file in the same folder
    and renamed into place, so an interruption leaves no half-written file; an existing
    file is refused unless ``overwrite``.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    sources = frame["source_file"].astype("string").fillna("(unknown)").value_counts().sort_index()
    note = {
        "label": LABEL,
        "method": "rows drawn with replacement; each moved to a creation time uniform (whole seconds) within its "
        "source file's creation range, all its timestamps shifted alike, so durations and censoring are kept"
        + (f"; then every duration lengthened by 0 to {stretch_seconds} s (uniform, whole seconds): durations "
           "are not the sample's" if stretch_seconds else ""),
        "seed": seed if isinstance(seed, int) else "numpy Generator (state not recorded)",
        "n_rows": int(n_rows),
        "chunk_rows": int(chunk_rows),
        "row_group_rows": int(row_group_rows),
        "stretch_seconds": int(stretch_seconds),
        "sources": {str(k): int(v) for k, v in sources.items()},
    }
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes the file private; give it ordinary permissions
    writer = None
    try:
        for chunk in _chunks(frame, n_rows, seed, chunk_rows, stretch_seconds):
            if writer is None:
                schema = chunk.schema.with_metadata({METADATA_KEY: json.dumps(note).encode()})
                writer = pq.ParquetWriter(temporary, schema)
            writer.write_table(chunk.replace_schema_metadata(schema.metadata), row_group_size=row_group_rows)
        if writer is None:
            raise ValueError("n_rows is 0: nothing to write")
        writer.close()
        writer = None
        os.replace(temporary, target)
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def synthetic_metadata(path: str | os.PathLike) -> dict | None:
    """The ``hotlines.synthetic`` note of a Parquet file, or None if it is not synthetic.

    Read this before using a Parquet file of request records for anything but a benchmark.
    """
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(METADATA_KEY)
    return None if raw is None else json.loads(raw)
