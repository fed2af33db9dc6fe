"""``hotlines requests survival``: Kaplan–Meier tables from Parquet request records.

A typer sub-app; the maintainer registers it under ``hotlines requests``. Run alone:

    python -m hotlines.requests.survival_cli survival records.parquet --by city --by agency --output km.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pandas as pd
import typer
from rich.table import Table

app = typer.Typer(help="Survival analysis of request records (resolution times, censored at the snapshot).",
                  no_args_is_help=True)

from hotlines.console import console, errors

ENGINES = ("duckdb", "spark")


@app.callback()
def main() -> None:
    """Survival analysis of request records."""  # keeps `survival` a subcommand when run alone


def _write(frame: pd.DataFrame, path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    if path.suffix == ".parquet":
        frame.to_parquet(temporary, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(temporary, index=False)
    else:
        raise ValueError(f"{path}: output must end in .csv or .parquet")
    temporary.replace(path)


@app.command("survival")
def survival(
    inputs: List[Path] = typer.Argument(..., help="Parquet file(s) of canonical request records."),
    by: List[str] = typer.Option([], "--by", help="Grouping column (repeat for several, e.g. --by city --by agency)."),
    output: Path = typer.Option(..., "--output", "-o", help="Kaplan–Meier table to write (.csv or .parquet)."),
    quantiles_output: Optional[Path] = typer.Option(
        None, "--quantiles", help="Also write the 25/50/75% resolution-time quantiles with CIs (.csv or .parquet)."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark (local session)."),
    alpha: float = typer.Option(0.05, "--alpha", help="1 - confidence level of the intervals."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
) -> None:
    """Kaplan–Meier table per group (aggregated in DuckDB or Spark), and the median resolution times.

    Open requests are right-censored at their snapshot. Rows that close before they open
    or whose duration cannot be computed stop the run with their file and row named
    (validate and quarantine them first). Exits 2 on a missing input, 1 on bad data.
    """
    from . import engine as engine_module
    from .synthetic import synthetic_metadata

    if engine not in ENGINES:
        errors.print(f"[red]error:[/red] --engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        raise typer.Exit(2)
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        errors.print(f"[red]error:[/red] no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    for path in inputs:
        note = synthetic_metadata(path)
        if note is not None:
            errors.print(f"[yellow]{path}: {note['label']}[/yellow]")
    for path in [output, quantiles_output]:
        if path is not None and path.exists() and not overwrite:
            errors.print(f"[red]error:[/red] {path}: exists; pass --overwrite to replace it")
            raise typer.Exit(2)
    try:
        km = engine_module.kaplan_meier([str(p) for p in inputs], by, backend=engine, alpha=alpha)
    except (ValueError, KeyError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    table = engine_module.quantiles(km, by)
    _write(km, output, overwrite)
    if quantiles_output is not None:
        _write(table, quantiles_output, overwrite)

    medians = table[table["share_closed"] == 0.5]
    view = Table(title=f"Median resolution time (days), Kaplan–Meier, {round(100 * (1 - alpha))}% CI; engine {engine}")
    for name in [*by, "n", "closed", "median", "ci_low", "ci_high"]:
        view.add_column(name, justify="left" if name in by else "right", no_wrap=True)
    def fmt(value: float) -> str:
        return "not reached" if value == float("inf") else f"{value:.3f}"
    for row in medians.itertuples(index=False):
        values = row._asdict()
        view.add_row(*[str(values[name]) for name in by], str(values["n"]), str(values["n_events"]),
                     fmt(values["estimate_days"]), fmt(values["ci_low"]), fmt(values["ci_high"]))
    console.print(view)
    console.print(f"Kaplan–Meier table: {output} ({len(km)} rows)")


if __name__ == "__main__":
    app()
