"""Kaplan–Meier at scale: the engine against a naive pandas + lifelines loop and hand-written DuckDB SQL.

    python benchmarks/requests_scale.py [--large 10000000] [--small 1000000] [--repeats 3] [--stretch 86400] [--spark]

Builds SYNTHETIC request records (bootstrap resamples of the real samples shipped in
``data/requests/raw``, read through the loaders: NYC 1k April 2024, NYC 20k NYPD December
2015, SF 10k 2008–2016 less what validation quarantines) at 1 and 10 million rows as Parquet, once,
in ``--workdir``; generation is not timed. Then runs each variant in its own child
process, several times, interleaved, and prints seconds (median), peak resident memory
of the child (max, from ``os.wait4``) and the ratios the issue sets goals for:

- engine (``hotlines.requests.engine``: one ibis expression run by DuckDB, then the
  product-limit in pandas) on 10 million rows: at most 15 s and 3 GB;
- the naive way on 1 million rows (``pandas.read_parquet`` of the needed columns, then
  one lifelines ``KaplanMeierFitter`` per group, as ``hotlines.requests.survival`` does):
  the engine at least 20 times faster. The goal is checked against this variant; the
  same loop after reading every column is shown beside it;
- hand-written DuckDB SQL for the same aggregation (below, ``HAND_WRITTEN_SQL``), its
  counts fetched as Arrow and fed to the same product-limit: the engine within 1.5
  times of it.

Resampling keeps the sample's durations, so the 10-million-row count table has only
about 25,000 rows. A real history has millions of distinct durations; ``--stretch``
adds a third file (rows marked "S") whose durations are lengthened by a random number
of seconds, to time that harder case too.

Seconds are measured inside the child from reading the file to the finished table,
twice: "cold" is the first call in the fresh process (it pays one-off costs such as
DuckDB's start and ibis compiling its first query), "warm" the median of the next
calls. Interpreter start and imports (including ibis's DuckDB backend module, which
ibis would otherwise import lazily inside the first call) are excluded from both; the bare child's memory
is reported as a baseline. The parent process stays small (it generates data and
compares tables in children or after all measurements), because Linux counts the
parent's resident memory at fork into a child's peak. Every variant's table is
compared with the engine's before any ratio is printed. The synthetic data are for
this benchmark only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BY = ["city", "agency"]
SEED = 20261124

HAND_WRITTEN_SQL = """
SELECT city, agency,
       epoch_us(CASE WHEN coalesce(is_closed, false) AND closed IS NOT NULL THEN closed ELSE snapshot END)
         - epoch_us(created) AS duration_us,
       count(*) AS n_removed,
       count(*) FILTER (WHERE coalesce(is_closed, false) AND closed IS NOT NULL) AS n_events
FROM read_parquet($path)
GROUP BY ALL
"""

VARIANTS = {
    "baseline": "python + imports only",
    "engine": "engine (ibis -> DuckDB)",
    "sql": "hand-written DuckDB SQL",
    "naive": "naive pandas + lifelines loop",
    "naive_all": "same, reading every column",
    "spark": "engine (ibis -> Spark local[2])",
}


# --------------------------------------------------------------------------- the real samples, canonical


def real_samples():
    """Canonical records of the three shipped samples, read through the loaders (data/requests/raw).

    Validation quarantines what cannot be used (e.g. SF's 129 cases closed before they
    opened); the snapshot of each file is its sidecar's (an assumption stated there).
    """
    import pandas as pd

    from hotlines.requests import samples

    results = [samples.load(name) for name in ("nyc_1k", "nyc_20k", "sf_10k")]
    pooled = pd.concat([r.records for r in results], ignore_index=True)
    print(f"real rows read: {sum(r.read for r in results):,}; kept {len(pooled):,}; "
          f"quarantined {sum(r.quarantined for r in results)}")
    return pooled


def generate(path: Path, n_rows: int, stretch_seconds: int) -> None:
    """Write the SYNTHETIC file unless an identical one (same seed, size, stretch) is there."""
    from hotlines.requests import synthetic

    if path.exists():
        note = synthetic.synthetic_metadata(path)
        if (note and note.get("seed") == SEED and note.get("n_rows") == n_rows and note.get("row_group_rows")
                and note.get("stretch_seconds") == stretch_seconds):
            print(f"reusing {path} ({n_rows:,} SYNTHETIC rows, seed {SEED})")
            return
        path.unlink()
    start = time.perf_counter()
    synthetic.write_parquet(real_samples(), path, n_rows, seed=SEED, stretch_seconds=stretch_seconds)
    print(f"generated {path} ({n_rows:,} SYNTHETIC rows, seed {SEED}, durations stretched by up to "
          f"{stretch_seconds} s) in {time.perf_counter() - start:.1f} s (not timed below)")


def synthetic_file(workdir: Path, n_rows: int, stretch_seconds: int = 0) -> Path:
    suffix = f"_stretched{stretch_seconds}" if stretch_seconds else ""
    path = workdir / f"requests_synthetic_{n_rows}{suffix}.parquet"
    subprocess.run([sys.executable, __file__, "--generate", str(n_rows), str(path), str(stretch_seconds)], check=True)
    return path


# --------------------------------------------------------------------------- the variants (run in a child)


def run_variant(name: str, path: str, out: str, warm_runs: int) -> dict:
    import duckdb
    import ibis.backends.duckdb  # noqa: F401  (ibis imports its backend lazily, at the first call: an import)
    import pandas as pd
    import pyarrow.compute as pc

    from hotlines.requests import engine, survival

    if name == "spark":
        session = engine.spark_session("local[2]")
        session.sparkContext.setLogLevel("ERROR")

    def once():
        if name == "baseline":
            return None
        if name == "engine":
            return engine.kaplan_meier(path, BY)
        if name == "spark":
            return engine.kaplan_meier(path, BY, backend=session)
        if name == "sql":
            counts = duckdb.connect().execute(HAND_WRITTEN_SQL, {"path": path}).to_arrow_table()
            counts = counts.append_column("n_censored", pc.subtract(counts["n_removed"], counts["n_events"]))
            return engine.product_limit(counts, BY)
        if name == "naive":
            frame = pd.read_parquet(path, columns=[*BY, "created", "closed", "is_closed", "snapshot"])
            return survival.kaplan_meier(frame, BY)
        if name == "naive_all":
            return survival.kaplan_meier(pd.read_parquet(path), BY)
        raise ValueError(name)

    times = []
    for _ in range(1 + warm_runs):
        start = time.perf_counter()
        table = once()
        times.append(time.perf_counter() - start)
    if table is not None:
        table.to_parquet(out, index=False)
    return {"cold": times[0], "warm": statistics.median(times[1:]), "rows": 0 if table is None else len(table)}


def measure(name: str, path: Path, out: Path) -> dict:
    """Run one variant in a child process; its seconds and its own peak RSS (os.wait4)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", name, str(path), str(out), "--warm-runs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"variant {name} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    result["wall"] = time.perf_counter() - started
    return result


def same_tables(reference: Path, other: Path) -> float:
    import numpy as np
    import pandas as pd

    a, b = pd.read_parquet(reference), pd.read_parquet(other)
    if len(a) != len(b) or list(a.columns) != list(b.columns):
        raise AssertionError(f"{other.name}: {len(b)} rows vs {len(a)}")
    for column in ("n_at_risk", "n_events", "n_censored"):
        if not np.array_equal(a[column].to_numpy(), b[column].to_numpy()):
            raise AssertionError(f"{other.name}: column {column} differs")
    return max(float(np.max(np.abs(a[c].to_numpy() - b[c].to_numpy()))) for c in ("time_days", "survival", "ci_low", "ci_high"))


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spark", action="store_true", help="also run the engine on Spark (local[2]) at the small size")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/hotlines-bench-requests"))
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "PATH", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--warm-runs", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("ROWS", "PATH", "STRETCH"), help=argparse.SUPPRESS)
    parser.add_argument("--stretch", type=int, default=86_400,
                        help="also time 10M rows whose durations are lengthened by up to this many seconds "
                             "(many distinct durations, as in a real history); 0 to skip")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(*args.child, warm_runs=args.warm_runs)))
        return
    if args.generate:
        generate(Path(args.generate[1]), int(args.generate[0]), int(args.generate[2]))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    large, small = synthetic_file(args.workdir, args.large), synthetic_file(args.workdir, args.small)
    plan = [("baseline", small), ("engine", large), ("sql", large)]
    rows_of = {large: f"{args.large:,}", small: f"{args.small:,}"}
    if args.stretch:
        stretched = synthetic_file(args.workdir, args.large, args.stretch)
        rows_of[stretched] = f"{args.large:,} S"
        plan += [("engine", stretched), ("sql", stretched)]
    plan += [("engine", small), ("sql", small), ("naive", small), ("naive_all", small)]
    if args.spark:
        plan.append(("spark", small))
    results: dict[tuple[str, Path], list[dict]] = {}
    for repeat in range(args.repeats):
        for name, path in plan:
            out = args.workdir / f"km_{name}_{path.stem}.parquet"
            results.setdefault((name, path), []).append(measure(name, path, out))

    # every variant must produce the engine's table before its time means anything
    deviations = {}
    for name, path in plan:
        if name not in ("baseline", "engine"):
            deviations[(name, path)] = same_tables(args.workdir / f"km_engine_{path.stem}.parquet",
                                                   args.workdir / f"km_{name}_{path.stem}.parquet")

    def seconds(name, path, kind):
        return statistics.median(r[kind] for r in results[(name, path)])

    def peak(name, path):
        return max(r["peak_mb"] for r in results[(name, path)])

    print()
    print(f"Kaplan–Meier table by {' x '.join(BY)} from SYNTHETIC resamples of the real samples; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; {args.repeats} child processes "
          "per variant (median seconds; max peak RSS)")
    header = (f"{'rows':>12}  {'variant':<34} {'cold s':>7} {'warm s':>7} {'peak MB':>8} {'KM rows':>8}  "
              f"{'max |diff| vs engine':>20}")
    print(header)
    print("-" * len(header))
    for name, path in plan:
        diff = deviations.get((name, path))
        print(f"{rows_of[path]:>12}  {VARIANTS[name]:<34} {seconds(name, path, 'cold'):7.2f} "
              f"{seconds(name, path, 'warm'):7.2f} {peak(name, path):8.0f} {results[(name, path)][0]['rows']:>8,}  "
              f"{'' if diff is None else f'{diff:.1e}':>20}")
    print()
    checks = []
    for kind in ("cold", "warm"):
        engine_large, engine_small = seconds("engine", large, kind), seconds("engine", small, kind)
        naive_ratio = seconds("naive", small, kind) / engine_small
        sql_large = engine_large / seconds("sql", large, kind)
        sql_small = engine_small / seconds("sql", small, kind)
        checks += [
            (f"[{kind}] engine seconds at {args.large:,} rows", f"{engine_large:.2f} s", "<= 15 s", engine_large <= 15),
            (f"[{kind}] naive loop / engine at {args.small:,} rows", f"{naive_ratio:.1f}x", ">= 20x", naive_ratio >= 20),
            (f"[{kind}] engine / hand-written SQL at {args.large:,} rows", f"{sql_large:.2f}x", "<= 1.5x", sql_large <= 1.5),
            (f"[{kind}] engine / hand-written SQL at {args.small:,} rows", f"{sql_small:.2f}x", "<= 1.5x", sql_small <= 1.5),
        ]
        if args.stretch:
            engine_stretched = seconds("engine", stretched, kind)
            sql_stretched = engine_stretched / seconds("sql", stretched, kind)
            checks += [
                (f"[{kind}] engine seconds at {rows_of[stretched]} rows", f"{engine_stretched:.2f} s", "<= 15 s",
                 engine_stretched <= 15),
                (f"[{kind}] engine / hand-written SQL at {rows_of[stretched]} rows", f"{sql_stretched:.2f}x", "<= 1.5x",
                 sql_stretched <= 1.5),
            ]
        if args.spark:
            checks.append((f"[{kind}] Spark local[2] / DuckDB engine at {args.small:,} rows",
                           f"{seconds('spark', small, kind) / engine_small:.1f}x", "(no goal)", None))
    for path in [large] + ([stretched] if args.stretch else []):
        checks.append((f"engine peak memory at {rows_of[path]} rows", f"{peak('engine', path) / 1024:.2f} GB",
                       "<= 3 GB", peak("engine", path) <= 3 * 1024))
    width = max(len(c[0]) for c in checks)
    print(f"{'measure'.ljust(width)}  {'measured':>10}  {'goal':>9}  met")
    for label, value, goal, met in checks:
        print(f"{label.ljust(width)}  {value:>10}  {goal:>9}  {'' if met is None else ('yes' if met else 'NO')}")
    print(f"\npeak memory of the bare child (python + imports, no work): {peak('baseline', small):.0f} MB")
    if args.stretch:
        print(f"S: the same resample with every duration lengthened by 0 to {args.stretch:,} s, so that the count "
              "table has millions of distinct durations, as a real history would")


if __name__ == "__main__":
    main()
