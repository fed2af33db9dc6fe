"""``hotlines requests``: fetch request records from the portals, validate raw files.

A typer sub-app (``app``), registered by ``hotlines.cli`` as ``hotlines requests``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.table import Table

app = typer.Typer(help="Request records: fetch them from the portals, validate raw files.", no_args_is_help=True)
from hotlines.console import console, errors


def _fail(message: str, code: int = 2) -> None:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command("mappings")
def mappings() -> None:
    """List the mapping files (one per city and dataset structure)."""
    from .mapping import available_mappings

    table = Table(title="request-record mappings")
    frame = available_mappings()
    for column in frame.columns:
        table.add_column(column)
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def _date(value: Optional[str], option: str) -> Optional[dt.datetime]:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date: write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (city local time)")


@app.command("fetch")
def fetch_command(
    city: str = typer.Argument(..., help="City id, e.g. new_york, san_francisco, chicago, boston."),
    dataset: str = typer.Argument(..., help="Dataset id (erm2-nwe9, vw6y-z8j6, v6vf-nfxy, 311-service-requests) or a mapping name."),
    since: Optional[str] = typer.Option(None, "--since", help="First creation date included (local time, YYYY-MM-DD[THH:MM:SS])."),
    until: Optional[str] = typer.Option(None, "--until", help="Creation date excluded: the range is [since, until)."),
    out: Path = typer.Option(Path("data/requests/cache"), "--out", help="Folder for the Parquet file and its sidecar."),
    name: Optional[str] = typer.Option(None, "--name", help="File name (default: <mapping>_<since>_<until>.parquet)."),
    page_size: int = typer.Option(50_000, "--page-size", min=1, help="Rows per request."),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", min=1, help="Stop after this many rows."),
    app_token: Optional[str] = typer.Option(None, "--app-token", envvar="SOCRATA_APP_TOKEN", help="Socrata app token (or $SOCRATA_APP_TOKEN); never recorded."),
    resource_id: Optional[str] = typer.Option(None, "--resource-id", help="CKAN datastore resource id (Boston: one per year)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Use another server (a mirror) instead of the mapping's."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds to wait for each response."),
    attempts: int = typer.Option(6, "--attempts", min=1, help="Attempts per page before giving up (exponential backoff)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing result."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    """Fetch records into a Parquet file with a JSON sidecar; rerun the same command to resume."""
    from .loaders import FetchError, fetch
    from .mapping import MappingError, find_mapping

    try:
        mapping = find_mapping(city, dataset, fetchable=True)
    except MappingError as exc:
        _fail(str(exc))
    start, end = _date(since, "--since"), _date(until, "--until")
    if start and end and start >= end:
        _fail(f"--since {since} is not before --until {until}")
    label = "_".join([mapping.name, start.date().isoformat() if start else "start", end.date().isoformat() if end else "now"])
    destination = out / (name or f"{label}.parquet")
    try:
        result = fetch(
            mapping, destination, since=start, until=end, page_size=page_size, max_rows=max_rows,
            app_token=app_token, resource_id=resource_id, base_url=base_url, timeout=timeout,
            max_attempts=attempts, overwrite=force, progress=not no_progress,
        )
    except (FetchError, MappingError, ValueError) as exc:
        partial = destination.with_name(destination.name + ".partial")
        hint = f"\nCompleted pages are kept in {partial}: rerun the same command to resume." if partial.is_dir() else ""
        _fail(f"{exc}{hint}", code=1)
    except KeyboardInterrupt:
        _fail(f"interrupted; rerun the same command to resume from {destination.name}.partial", code=130)
    note = f" ({result.resumed_pages} page(s) resumed)" if result.resumed_pages else ""
    console.print(f"[green]fetched[/green] {result.rows} rows in {result.pages} page(s){note} -> {result.path}")
    console.print(f"sidecar {result.sidecar.name}; sha256 {result.sha256}")


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


@app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="A raw CSV export or a fetched Parquet file."),
    mapping: Optional[str] = typer.Option(None, "--mapping", help="Mapping name (default: the sidecar's, else detected from the columns)."),
    snapshot: Optional[str] = typer.Option(None, "--snapshot", help="Retrieval time in UTC, e.g. 2024-04-16T07:03:15Z (default: the sidecar's)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the outputs (default: beside the file)."),
    force: bool = typer.Option(False, "--force", help="Replace existing outputs."),
) -> None:
    """Split a raw file into kept canonical records and a quarantine, and summarise why.

    Writes <stem>.kept.parquet, <stem>.quarantine.csv, <stem>.problems.csv and
    <stem>.summary.csv. Exits 0 whatever the data hold; 1 if the file cannot be read.
    """
    from .loaders import read_export
    from .mapping import MappingError

    if snapshot is not None:
        try:
            stamp = pd.Timestamp(snapshot)
        except ValueError:
            _fail(f"--snapshot {snapshot!r} is not a time: write it as 2024-04-16T07:03:15Z")
        if stamp.tzinfo is None:
            _fail(f"--snapshot {snapshot!r} has no time zone: add Z (UTC) or an offset such as -04:00")
    try:
        result = read_export(file, mapping, snapshot=snapshot)
    except FileNotFoundError as exc:
        _fail(str(exc), code=1)
    except (MappingError, ValueError) as exc:
        _fail(str(exc), code=1)

    folder = out or file.parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = file.name.rsplit(".", 1)[0]
    targets = {kind: folder / f"{stem}.{kind}" for kind in ("kept.parquet", "quarantine.csv", "problems.csv", "summary.csv")}
    existing = [p.name for p in targets.values() if p.exists()]
    if existing and not force:
        _fail(f"{', '.join(existing)} already exist in {folder}; nothing was overwritten: pass --force to replace them, or --out elsewhere")
    summary = result.summary()
    # microsecond timestamps: Spark cannot read the nanosecond ones pandas writes by default
    _write_atomic(targets["kept.parquet"], lambda p: result.records.to_parquet(p, index=False, coerce_timestamps="us"))
    _write_atomic(targets["quarantine.csv"], lambda p: result.quarantine.to_csv(p, index=False))
    _write_atomic(targets["problems.csv"], lambda p: result.problems.to_csv(p, index=False))
    _write_atomic(targets["summary.csv"], lambda p: summary.to_csv(p, index=False))

    for note in result.notes:
        console.print(f"note: {note}")
    table = Table(title=f"{file.name} with mapping {result.mapping.name} v{result.mapping.version}")
    for column in ("rule", "action", "rows", "description"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for row in summary.itertuples(index=False):
        table.add_row(row.rule, row.action, f"{row.rows:,}", row.description)
    console.print(table)
    console.print(f"kept {result.kept:,} + quarantined {result.quarantined:,} = read {result.read:,}")
    for path in targets.values():
        console.print(f"  {path}")
